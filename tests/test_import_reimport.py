"""A re-import that would change a published relic becomes change proposals for review,
never a silent overwrite; drafts are still updated in place; undoing the import removes
its proposals (pipeline.py::_propose_published, services/proposals.py, services/imports.py).
Imports through the CLI (click runner), review through the real pages."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.services.accounts import create_user
from tests import surveyfiles as sf
from tests.conftest import AuthActions
from tests.factories import make_site
from tests.test_editor import tokens

PASSWORD = "a long enough password"
HERE = (105.9563, 20.8400)
MOVED = (105.9571, 20.8406)  # ~100 m away


def survey_file(folder: Path, rows: list[tuple[str, str, tuple[float, float]]]) -> Path:
    """A relic survey shapefile (VN-2000 TM-3, UTF-8) with (identifier, name, lon/lat)."""
    records = [{"MA_DT": hid, "TEN_DT": name} for hid, name, _at in rows]
    geoms = [sf.point(*sf.tm3(*at)) for _hid, _name, at in rows]
    return sf.write_shapefile(folder, "dt", records, geoms, cpg="UTF-8")


def run_cli_import(runner, path: Path, *extra: str):
    return runner.invoke(args=["import", str(path), "--layer", "sites", "--preset",
                               "khao-sat-di-tich", *extra])


def relic(db: Session, hid: str) -> tuple[str, float, float, str]:
    return db.execute(text("SELECT name_vi, ST_X(geom), ST_Y(geom), status FROM sites "
                           "WHERE heritage_id = :h"), {"h": hid}).one()


def proposals_on(db: Session, hid: str) -> list[tuple]:
    return db.execute(text("""
        SELECT p.id, p.status, p.changes, u.username, p.note FROM change_proposals p
          JOIN sites s ON s.id = p.record_id LEFT JOIN users u ON u.id = p.author_id
         WHERE s.heritage_id = :h ORDER BY p.id"""), {"h": hid}).all()


def last_import(db: Session) -> int:
    return db.scalar(text("SELECT max(id) FROM imports"))


def signed_in(app, db: Session, name: str, role: str):
    create_user(db, name, PASSWORD, role)
    db.flush()
    client = app.test_client()
    assert AuthActions(client).login(name, PASSWORD).status_code == 302
    return client


def test_a_published_relic_is_proposed_not_overwritten_and_approval_applies_it(
        app, client, runner, db: Session, tmp_path: Path) -> None:
    published = make_site(db, *HERE, name="Đình Cũ", zone_radius_m=None)
    draft = make_site(db, 105.9600, 20.8420, name="Chùa Nháp", status="draft",
                      zone_radius_m=None)
    create_user(db, "surveyor", PASSWORD, "district_reviewer")
    db.flush()
    path = survey_file(tmp_path / "a", [(published, "Đình Mới Khảo Sát", MOVED),
                                        (draft, "Chùa Nháp (sửa tên)", (105.9600, 20.8420))])

    result = run_cli_import(runner, path, "--user", "surveyor")
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output and "1 proposed" in result.output
    assert "1 published relic(s) are not changed: what the file changes becomes proposals " \
           "for review" in result.output

    # The draft is updated in place; the published relic and its public page are not.
    assert relic(db, draft)[0] == "Chùa Nháp (sửa tên)"
    name, lon, lat, status = relic(db, published)
    assert (name, status) == ("Đình Cũ", "published")
    assert abs(lon - HERE[0]) < 1e-9 and abs(lat - HERE[1]) < 1e-9
    page = client.get(f"/sites/{published}").get_data(as_text=True)
    assert "Đình Cũ" in page and "Đình Mới Khảo Sát" not in page

    # One pending proposal with exactly the two fields that differ, by the importer.
    [(proposal_id, state, changes, author, note)] = proposals_on(db, published)
    import_id = last_import(db)
    assert (state, author, note) == ("pending", "surveyor", f"import #{import_id}: dt.shp")
    assert sorted(changes) == ["name_vi", "position"]
    assert changes["name_vi"] == ["Đình Cũ", "Đình Mới Khảo Sát"]
    assert abs(changes["position"][1][0] - MOVED[0]) < 1e-6
    assert abs(changes["position"][1][1] - MOVED[1]) < 1e-6
    assert proposals_on(db, draft) == []

    # The import's page says so, in Vietnamese.
    reviewer = signed_in(app, db, "rv-import", "district_reviewer")
    shown = reviewer.get(f"/officials/imports/{import_id}").get_data(as_text=True)
    assert "Di tích đã công bố: chuyển thành đề xuất chờ duyệt" in shown
    assert 'data-count="proposed">1<' in shown

    # Running the same file again proposes nothing new.
    again = run_cli_import(runner, survey_file(tmp_path / "b", [
        (published, "Đình Mới Khảo Sát", MOVED)]), "--user", "surveyor")
    assert again.exit_code == 0, again.output
    assert "0 proposed" in again.output and "1 unchanged" in again.output
    assert len(proposals_on(db, published)) == 1

    # The reviewer meets it in the queue and approves it on its page.
    assert "Đình Cũ" in reviewer.get("/officials/review").get_data(as_text=True)
    diff = reviewer.get(f"/officials/review/{proposal_id}").get_data(as_text=True)
    assert "Đình Mới Khảo Sát" in diff and f"{MOVED[1]:.6f} B, {MOVED[0]:.6f} Đ" in diff
    approved = reviewer.post(f"/officials/review/{proposal_id}/approve", data=tokens(diff))
    assert approved.status_code == 303
    name, lon, lat, _status = relic(db, published)
    assert name == "Đình Mới Khảo Sát"
    assert abs(lon - MOVED[0]) < 1e-6 and abs(lat - MOVED[1]) < 1e-6
    assert "Đình Mới Khảo Sát" in client.get(f"/sites/{published}").get_data(as_text=True)

    # Its proposal approved, the first import can no longer be undone: said, nothing lost.
    refused = runner.invoke(args=["imports", "undo", str(import_id)])
    assert refused.exit_code != 0
    assert (f"Import #{import_id} cannot be undone: a reviewer already approved what it "
            f"proposed (#{proposal_id} ({published}))") in refused.output
    assert "Traceback" not in refused.output
    assert relic(db, published)[0] == "Đình Mới Khảo Sát"
    assert proposals_on(db, published)[0][1] == "approved"


def test_undo_removes_the_proposals_the_import_made(runner, db: Session,
                                                    tmp_path: Path) -> None:
    published = make_site(db, *HERE, name="Đền Gốc", zone_radius_m=None)
    result = run_cli_import(runner, survey_file(tmp_path, [(published, "Đền Đổi Tên", HERE)]))
    assert result.exit_code == 0, result.output
    # Without --user the proposal has no author; its note names the import.
    [(_pid, state, changes, author, note)] = proposals_on(db, published)
    assert (state, author, list(changes)) == ("pending", None, ["name_vi"])
    import_id = last_import(db)
    assert note.startswith(f"import #{import_id}: ")

    undone = runner.invoke(args=["imports", "undo", str(import_id), "--lang", "vi"])
    assert undone.exit_code == 0, undone.output
    assert "1 proposals deleted" in undone.output
    assert proposals_on(db, published) == []
    assert relic(db, published)[0] == "Đền Gốc"


def test_a_dry_run_counts_the_proposals_and_makes_none(runner, db: Session,
                                                       tmp_path: Path) -> None:
    published = make_site(db, *HERE, name="Miếu Gốc", zone_radius_m=None)
    result = run_cli_import(runner, survey_file(tmp_path, [(published, "Miếu Mới", MOVED)]),
                            "--dry-run", "--lang", "vi")
    assert result.exit_code == 0, result.output
    assert "would give: 1 read, 0 inserted, 0 updated, 1 proposed" in result.output
    assert "1 di tích đã công bố không bị sửa" in result.output
    assert proposals_on(db, published) == []
    assert relic(db, published)[0] == "Miếu Gốc"
