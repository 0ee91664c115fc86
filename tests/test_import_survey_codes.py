"""Survey codes beside heritage identifiers, identifiers from a sequence, a relic's
communes from its location, and database refusals as reports. Survey files are built by
tests/surveyfiles.py; the demo set is loaded (Triệu Việt Vương = code 12223 today)."""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gis_app.errors import ImportFailed
from gis_app.importers.pipeline import ImportOptions, run_import
from gis_app.services import conditions
from gis_app.services.accounts import create_user
from gis_app.services.imports import undo_import
from tests import importflow as flow
from tests import surveyfiles as sf
from tests.test_import import snapshot
from tests.test_import_web import PASSWORD, form_fields, upload

TVV = (105.962, 20.842)  # inside Triệu Việt Vương (2025), formerly Bình Kiều, Phạm Hồng Thái
AN_DAN = (105.969, 20.869)  # the demo relic VN-HY-DT-000006 Đình An Dân
IDENTIFIER = re.compile(r"VN-HY-DT-\d{6}")


def survey(folder: Path, rows: list[tuple[str | None, str, tuple[float, float]]],
           name: str = "khaosat") -> Path:
    """A relic survey shapefile in VN-2000 TM-3 (with .prj): (MA_DT, TEN_DT, lon/lat)."""
    records = [{"MA_DT": code or "", "TEN_DT": title, "LOAI": "Lịch sử", "CAP_XH": "KK"}
               for code, title, _ in rows]
    geoms = [sf.point(*sf.tm3(*where)) for _, _, where in rows]
    return sf.write_shapefile(folder, name, records, geoms)


def do_import(db: Session, path: Path, **kw):
    return run_import(db, path, ImportOptions(layer="sites", preset="khao-sat-di-tich", **kw))


def relic(db: Session, **where: str) -> dict:
    (column, value), = where.items()
    return dict(db.execute(text(f"SELECT * FROM sites WHERE {column} = :v"),
                           {"v": value}).mappings().one())


# --- survey codes ------------------------------------------------------------------------

def test_cli_survey_codes_are_kept_and_relics_get_new_identifiers(runner, db: Session,
                                                                  tmp_path: Path) -> None:
    shp = survey(tmp_path, [("KC-01-000", "Miếu Bình Kiều", TVV),
                            ("KC-01-001", "Chùa Bình Kiều", (105.9625, 20.8425))])
    args = ["import", str(shp), "--layer", "sites", "--preset", "khao-sat-di-tich"]
    before = snapshot(db)
    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Traceback" not in dry.output
    assert "would give: 2 read, 2 inserted, 0 updated" in dry.output
    assert "warning: The column MA_DT holds the survey's own codes, not heritage " \
           "identifiers" in dry.output
    assert snapshot(db) == before
    real = runner.invoke(args=args)
    assert real.exit_code == 0, real.output
    first, second = (relic(db, survey_code=c) for c in ("KC-01-000", "KC-01-001"))
    assert IDENTIFIER.fullmatch(first["heritage_id"])
    assert IDENTIFIER.fullmatch(second["heritage_id"])
    assert first["heritage_id"] != second["heritage_id"]
    assert (first["name_vi"], second["name_vi"]) == ("Miếu Bình Kiều", "Chùa Bình Kiều")
    registered = db.execute(text("SELECT kind FROM heritage_identifiers WHERE id = :h"),
                            {"h": first["heritage_id"]}).scalar_one()
    assert registered == "site"


def test_reimport_of_the_same_survey_updates_by_survey_code(db: Session, tmp_path: Path) -> None:
    rows = [("KC-02-000", "Đình Thọ Bình", (105.95, 20.83)),
            ("KC-02-001", "Miếu Thọ Bình", (105.951, 20.831))]
    first = do_import(db, survey(tmp_path / "a", rows))
    assert first.counts["inserted"] == 2
    ids = {c: relic(db, survey_code=c)["heritage_id"] for c, _, _ in rows}
    again = do_import(db, survey(tmp_path / "b", rows))
    assert (again.counts["inserted"], again.counts["updated"], again.counts["unchanged"]) \
        == (0, 0, 2)
    rows[1] = ("KC-02-001", "Miếu Thọ Bình (Đức Ông)", rows[1][2])
    fixed = do_import(db, survey(tmp_path / "c", rows))
    assert (fixed.counts["inserted"], fixed.counts["updated"]) == (0, 1)
    moved = relic(db, survey_code="KC-02-001")
    assert moved["heritage_id"] == ids["KC-02-001"]
    assert moved["name_vi"] == "Miếu Thọ Bình (Đức Ông)"
    count = db.execute(text("SELECT count(*) FROM sites WHERE survey_code LIKE 'KC-02-%'"))
    assert count.scalar_one() == 2


def test_identifier_column_values_that_are_not_usable_are_row_errors(db: Session,
                                                                     tmp_path: Path) -> None:
    retired = db.execute(text("""
        SELECT mint_heritage_identifier('site', 'test')""")).scalar_one()
    db.execute(text("UPDATE heritage_identifiers SET retired_at = now(), note = 'gộp vào "
                    "di tích khác' WHERE id = :h"), {"h": retired})
    rows = [("VN-HY-HV-000001", "Đình A", (105.95, 20.83)),   # an artifact's identifier
            ("VN-HY-DT-12", "Đình B", (105.951, 20.83)),      # malformed
            (retired, "Đình C", (105.952, 20.83)),            # retired
            ("VN-HN-DT-000001", "Đình D", (105.953, 20.83)),  # another province
            ("KC-03-000", "Đình E", (105.954, 20.83))]        # a survey code: fine
    before = snapshot(db)
    with pytest.raises(ImportFailed) as caught:
        do_import(db, survey(tmp_path, rows), dry_run=True)
    errors = {e["row"]: e for e in caught.value.details["report"]["errors"]}
    # Cell by cell first; the register is consulted once every cell reads.
    assert sorted(errors) == [1, 2, 4]
    assert "VN-HY-HV-000001 is the identifier of an artifact, not of a relic" in errors[1]["en"]
    assert "'VN-HY-DT-12' starts like a heritage identifier but is not one: expected " \
           "VN-HY-DT- and six digits" in errors[2]["en"]
    assert "another province (HN)" in errors[4]["en"]
    with pytest.raises(ImportFailed) as caught:
        do_import(db, survey(tmp_path / "b", rows[2:3] + rows[4:]))
    (error,) = caught.value.details["report"]["errors"]
    assert error["row"] == 1 and f"{retired} was retired on" in error["en"]
    assert "gộp vào di tích khác" in error["vi"] and "không bao giờ" in error["vi"]
    assert snapshot(db) == before


def test_well_formed_unknown_identifier_is_registered_with_a_warning(db: Session,
                                                                     tmp_path: Path) -> None:
    result = do_import(db, survey(tmp_path, [("vn-hy-dt-777001", "Đình Hàm Tử", (105.93,
                                                                               20.85))]))
    assert result.counts["inserted"] == 1
    warning = next(w for w in result.report["warnings"] if "not yet in the register" in w["en"])
    assert warning["rows"] == [1] and "VN-HY-DT-777001" in warning["en"]
    assert relic(db, heritage_id="VN-HY-DT-777001")["survey_code"] is None


def test_rows_without_codes_warn_about_likely_duplicates(db: Session, tmp_path: Path) -> None:
    # 20 m from the demo's Đình An Dân, written without diacritics and in capitals.
    near = (AN_DAN[0] + 0.0002, AN_DAN[1])
    result = do_import(db, survey(tmp_path / "a", [(None, "ĐÌNH AN DÂN", near),
                                                   (None, "Đình Ngọc Nha", (105.97, 20.86))]))
    assert result.counts["inserted"] == 2
    (warning,) = [w for w in result.report["warnings"] if "already recorded" in w["en"]]
    assert warning["rows"] == [1]
    assert "VN-HY-DT-000006 Đình An Dân, 21 m away" in warning["en"]
    assert "VN-HY-DT-000006 Đình An Dân" in warning["vi"]
    ngoc_nha = relic(db, name_vi="Đình Ngọc Nha")["heritage_id"]
    # The same file again: no silent copies, each row points at its twin.
    again = do_import(db, survey(tmp_path / "b", [(None, "ĐÌNH AN DÂN", near),
                                                  (None, "Đình Ngọc Nha", (105.97, 20.86))]))
    twins = [w for w in again.report["warnings"] if "already recorded" in w["en"]]
    assert sorted(w["rows"][0] for w in twins) == [1, 1, 2]
    assert any(ngoc_nha in w["en"] and w["rows"] == [2] for w in twins)


def test_a_survey_code_column_can_be_mapped_directly(db: Session, tmp_path: Path) -> None:
    records = [{"TEN_DT": "Đình Đông Kết", "SO_KS": "ĐK-7"}]
    shp = sf.write_shapefile(tmp_path, "ks", records, [sf.point(*sf.tm3(105.99, 20.85))])
    result = do_import(db, shp, mapping={"survey_code": "SO_KS"})
    assert result.report["mapping"]["columns"]["survey_code"] == "SO_KS"
    assert relic(db, survey_code="ĐK-7")["name_vi"] == "Đình Đông Kết"


# --- identifiers from a sequence -----------------------------------------------------

def test_two_overlapping_transactions_mint_different_identifiers(engine: Engine) -> None:
    """Each connection mints while the other's transaction is still open; with max()+1
    both would take the same number (and the second would wait on the first's row)."""
    minted: dict[str, list[str]] = {"a": [], "b": []}
    first_done = threading.Event()
    second_done = threading.Event()
    failures: list[BaseException] = []

    def mint(name: str, wait_for: threading.Event | None, then: threading.Event) -> None:
        try:
            with engine.connect() as conn:
                trans = conn.begin()
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                if wait_for is not None:
                    assert wait_for.wait(10)
                for kind in ("site", "artifact", "intangible"):
                    minted[name].append(conn.execute(
                        text("SELECT mint_heritage_identifier(:k)"), {"k": kind}).scalar_one())
                then.set()
                # Keep the transaction open until the other one has minted too.
                assert (second_done if name == "a" else first_done).wait(10)
                trans.rollback()  # identifiers are permanent: leave none behind
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)
            then.set()

    a = threading.Thread(target=mint, args=("a", None, first_done))
    b = threading.Thread(target=mint, args=("b", first_done, second_done))
    a.start()
    b.start()
    a.join(30)
    b.join(30)
    assert not failures, failures
    assert [h[:9] for h in minted["a"]] == ["VN-HY-DT-", "VN-HY-HV-", "VN-HY-PVT"]
    assert set(minted["a"]).isdisjoint(minted["b"])


def test_minting_skips_identifiers_already_held(db: Session) -> None:
    last = db.execute(text("SELECT last_value FROM heritage_identifier_site_seq")).scalar_one()
    taken = [f"VN-HY-DT-{last + i:06d}" for i in (1, 2)]
    for hid in taken:
        db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:h, 'site') "
                        "ON CONFLICT DO NOTHING"), {"h": hid})
    minted = db.execute(text("SELECT mint_heritage_identifier('site')")).scalar_one()
    assert minted not in taken
    assert int(minted[-6:]) > last + 2


def test_new_artifacts_take_identifiers_from_the_sequence(db: Session) -> None:
    from gis_app.services import artifacts

    user = create_user(db, "hv-seq", PASSWORD, "district_reviewer")
    site_id = relic(db, heritage_id="VN-HY-DT-000001")["id"]
    last = db.execute(text("SELECT last_value FROM heritage_identifier_artifact_seq")
                      ).scalar_one()
    db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:h, 'artifact')"),
               {"h": f"VN-HY-HV-{last + 1:06d}"})
    made = [artifacts.create_artifact(db, user, name_vi=f"Bia {n}", kind="object",
                                      holding_site_id=site_id) for n in (1, 2)]
    ids = db.execute(text("SELECT heritage_id FROM artifacts WHERE id = ANY(:i) ORDER BY id"),
                     {"i": made}).scalars().all()
    assert ids[0] != ids[1]
    assert all(int(h[-6:]) > last + 1 for h in ids)


# --- communes from the location ----------------------------------------------------------

def test_an_imported_relic_is_in_its_commune_for_the_filter_and_the_editor(
        client, auth, db: Session, tmp_path: Path) -> None:
    create_user(db, "ks-reviewer", PASSWORD, "district_reviewer")
    editor = create_user(db, "ks-editor", PASSWORD, "commune_editor", unit_codes=("12223",))
    db.flush()
    shp = survey(tmp_path / "src", [("KC-05-000", "Miếu Bình Kiều Thượng", TVV)])
    archive = sf.zip_files(tmp_path / "khaosat.zip", sf.shapefile_parts(shp))
    auth.login("ks-reviewer", PASSWORD)
    preview = upload(client, auth, archive, layer="sites", preset="khao-sat-di-tich")
    assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]
    html = preview.get_data(as_text=True)
    assert "KC-05-000" in html
    confirmed = client.post(flow.form_action(html, flow.CONFIRM),
                            data=form_fields(html, flow.CONFIRM))
    assert confirmed.status_code == 302
    site = relic(db, survey_code="KC-05-000")
    history = db.execute(text("""
        SELECT u.name, h.valid_from, h.valid_to FROM site_admin_units h
          JOIN admin_units u ON u.id = h.admin_unit_id
         WHERE h.site_id = :s ORDER BY h.valid_from"""), {"s": site["id"]}).all()
    assert [name for name, *_ in history] == ["Bình Kiều", "Phạm Hồng Thái", "Triệu Việt Vương"]
    assert history[-1].valid_to is None
    found = client.get("/api/sites?commune=Triệu Việt Vương").get_json()
    assert site["heritage_id"] in [f["properties"]["heritage_id"] for f in found["features"]]
    former = client.get("/api/sites?commune=Bình Kiều").get_json()
    assert site["heritage_id"] in [f["properties"]["heritage_id"] for f in former["features"]]
    assert conditions.can_view_site(db, editor, site["id"])
    client.get("/logout")
    auth.login("ks-editor", PASSWORD)
    page = client.get(f"/officials/conditions/sites/{site['id']}")
    assert page.status_code == 200
    assert "Miếu Bình Kiều Thượng" in page.get_data(as_text=True)
    # Undoing the import removes the relic and the units it was given.
    run_id = int(confirmed.headers["Location"].rsplit("/", 1)[1])
    undo_import(db, run_id, None)
    left = db.execute(text("SELECT count(*) FROM site_admin_units WHERE site_id = :s"),
                      {"s": site["id"]}).scalar_one()
    assert left == 0


def test_a_relic_moved_by_a_reimport_changes_commune(db: Session, tmp_path: Path) -> None:
    do_import(db, survey(tmp_path / "a", [("KC-06-000", "Miếu Đa Hòa", TVV)]))
    site = relic(db, survey_code="KC-06-000")
    assert db.execute(text("SELECT name FROM admin_units WHERE id = :u"),
                      {"u": site["admin_unit_id"]}).scalar_one() == "Triệu Việt Vương"
    moved = do_import(db, survey(tmp_path / "b", [("KC-06-000", "Miếu Đa Hòa", (105.93, 20.894))]))
    assert moved.counts["updated"] == 1
    names = db.execute(text("""
        SELECT u.name FROM site_admin_units h JOIN admin_units u ON u.id = h.admin_unit_id
         WHERE h.site_id = :s ORDER BY h.valid_from"""), {"s": site["id"]}).scalars().all()
    assert names == ["Bình Minh", "Mễ Sở"]
    assert relic(db, survey_code="KC-06-000")["admin_unit_id"] != site["admin_unit_id"]


def test_a_relic_outside_every_commune_is_warned(db: Session, tmp_path: Path) -> None:
    # Hà Nội, across the Red River: in Vietnam, outside every unit of the demo set.
    result = do_import(db, survey(tmp_path, [("KC-07-000", "Đình Bát Tràng", (105.91, 20.97))]))
    warning = next(w for w in result.report["warnings"] if "no commune of today" in w["en"])
    assert warning["rows"] == [1]
    assert relic(db, survey_code="KC-07-000")["admin_unit_id"] is None


# --- the database refuses: a report, not a traceback -------------------------------------

@pytest.fixture
def refusing_rule(db: Session) -> str:
    """A database rule the importer does not check in advance (rolled back after)."""
    db.execute(text("ALTER TABLE sites ADD CONSTRAINT ck_sites_test_refused "
                    "CHECK (name_vi <> 'Đình bị từ chối') NOT VALID"))
    return "ck_sites_test_refused"


def test_a_database_refusal_is_a_report_with_the_row(runner, db: Session, tmp_path: Path,
                                                     refusing_rule: str) -> None:
    shp = survey(tmp_path, [("KC-08-000", "Đình được nhận", (105.95, 20.83)),
                            ("KC-08-001", "Đình bị từ chối", (105.951, 20.83))])
    before = snapshot(db)
    result = runner.invoke(args=["import", str(shp), "--layer", "sites", "--preset",
                                 "khao-sat-di-tich", "--dry-run"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"error (row 2): The row was refused by the database rule {refusing_rule} of the " \
           f"table sites" in result.output
    assert "Nothing was changed" in result.output
    assert snapshot(db) == before


def test_a_database_refusal_on_the_web_is_a_page_not_a_500(client, auth, db: Session,
                                                           tmp_path: Path,
                                                           refusing_rule: str) -> None:
    create_user(db, "ks-web", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("ks-web", PASSWORD)
    shp = survey(tmp_path / "src", [("KC-09-000", "Đình bị từ chối", (105.95, 20.83))])
    archive = sf.zip_files(tmp_path / "khaosat.zip", sf.shapefile_parts(shp))
    before = snapshot(db)
    response = upload(client, auth, archive, layer="sites", preset="khao-sat-di-tich")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "cơ sở dữ liệu từ chối" in html
    assert f"Dòng này bị cơ sở dữ liệu từ chối theo quy tắc {refusing_rule}" in html
    assert snapshot(db) == before


# --- survey codes on the officials' pages --------------------------------------------

def test_officials_see_and_find_the_survey_code_the_public_does_not(client, auth, db: Session,
                                                                     tmp_path: Path) -> None:
    do_import(db, survey(tmp_path, [("KC-10-042", "Miếu Tân Châu", (105.99, 20.84))]))
    hid = relic(db, survey_code="KC-10-042")["heritage_id"]
    db.execute(text("UPDATE sites SET status = 'published' WHERE heritage_id = :h"), {"h": hid})
    public_page = client.get(f"/sites/{hid}").get_data(as_text=True)
    assert "Miếu Tân Châu" in public_page and "KC-10-042" not in public_page
    assert "KC-10-042" not in client.get("/sites?q=Tan Chau").get_data(as_text=True)
    assert hid not in client.get("/sites?q=kc-10-042").get_data(as_text=True)
    create_user(db, "ks-reader", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("ks-reader", PASSWORD)
    page = client.get(f"/sites/{hid}").get_data(as_text=True)
    assert re.search(r"Mã khảo sát</dt><dd><code>KC-10-042</code>", page)
    found = client.get("/sites?q=kc-10-042").get_data(as_text=True)
    assert hid in found and "mã khảo sát <code>KC-10-042</code>" in found
