"""Undoing an import never deletes later work: a relic it created that has since received
condition assessments, photos or zones from a later import makes the undo refuse, on the
web page and on the command line, naming what depends on what; the database stays as it
was. No foreign key cascades into someone's records, and no path deletes an assessment."""
from __future__ import annotations

import html as html_lib
import re
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import Polygon
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app.importers.pipeline import ImportOptions, run_import
from gis_app.services import conditions
from gis_app.services.accounts import create_user
from gis_app.services.imports import DEPENDENTS
from tests import surveyfiles as sf
from tests.factories import png

PASSWORD = "a long enough password"
RELIC = "VN-HY-DT-000950"
OTHER_RELIC = "VN-HY-DT-000951"


def import_relics(db: Session, folder: Path, actor_id: int | None = None) -> int:
    """A survey of two relics (VN-2000 points, .prj) imported into `sites`; the import id."""
    records = [{"MA_DT": RELIC, "TEN_DT": "Đình Phù Sa", "CAP_XH": "Cấp tỉnh"},
               {"MA_DT": OTHER_RELIC, "TEN_DT": "Chùa Phù Sa", "CAP_XH": "Cấp tỉnh"}]
    geoms = [sf.point(*sf.REF_TM3), sf.point(sf.REF_TM3[0] + 300, sf.REF_TM3[1])]
    shp = sf.write_shapefile(folder / "sites", "dt", records, geoms)
    return run_import(db, shp, ImportOptions(layer="sites", preset="khao-sat-di-tich"),
                      actor_id=actor_id).import_id


def import_zone(db: Session, folder: Path, heritage_id: str) -> int:
    """Zone I of `heritage_id` (a 40 m square in VN-2000), zipped; the import id."""
    x, y = sf.REF_TM3
    ring = Polygon([(x - 20, y - 20), (x + 20, y - 20), (x + 20, y + 20), (x - 20, y + 20)])
    shp = sf.write_shapefile(folder / "zones", "kvbv", sf.zone_records([heritage_id]), [ring])
    archive = sf.zip_files(folder / "kvbv.zip", sf.shapefile_parts(shp))
    return run_import(db, archive, ImportOptions(layer="protection_zones",
                                                 preset="khoanh-vung-bao-ve")).import_id


def site_id(db: Session, heritage_id: str) -> int | None:
    return db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": heritage_id})


def snapshot(db: Session) -> dict[str, object]:
    """What a refused undo must leave exactly as it was."""
    return {table: db.execute(text(f"SELECT count(*), md5(string_agg(t::text, ',' ORDER BY "
                                   f"t::text)) FROM {table} t")).one()
            for table in ("sites", "protection_zones", "condition_assessments",
                          "condition_photos", "heritage_identifiers", "revisions", "imports")}


@pytest.fixture
def reviewer(client, db: Session, auth):
    user = create_user(db, "thamdinh_undo", PASSWORD, "district_reviewer",
                       display_name="Lê Văn Thẩm Định")
    assert auth.login("thamdinh_undo", PASSWORD).status_code == 302
    return user


def test_web_undo_refuses_when_an_assessment_and_a_photo_were_added(
        client, db: Session, reviewer, tmp_path: Path) -> None:
    import_id = import_relics(db, tmp_path, reviewer.id)
    conditions.record_assessment(
        db, reviewer, site_id(db, RELIC), assessed_on=date(2026, 11, 20), overall="fair",
        element_scores={}, threats=["damp"], trend=None, notes="Tường ẩm sau mưa",
        photos=[("tuong.png", png(), "Tường phía đông", "Lê Văn Thẩm Định", "CC BY 4.0")],
        media_dir=tmp_path / "media")
    db.flush()
    before = snapshot(db)

    action = f"/officials/imports/{import_id}/undo"
    # The confirmation page says at once why it cannot be done, and offers no button.
    asked = html_lib.unescape(client.get(action).get_data(as_text=True))
    assert f"Không hoàn tác được lần nhập số {import_id}" in asked
    assert "Có, hoàn tác" not in asked
    page = client.get(f"/officials/imports/{import_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(action, data={"csrf_token": token}, follow_redirects=True)

    html = html_lib.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert (f"Không hoàn tác được lần nhập số {import_id} vì có dữ liệu được thêm sau đó"
            in html)
    assert (f"di tích {RELIC} có 1 đánh giá hiện trạng và 1 ảnh hiện trạng được thêm sau "
            f"lần nhập số {import_id}") in html
    assert "đánh giá hiện trạng không bao giờ bị xóa" in html
    refusal = html[html.index(f"Không hoàn tác được lần nhập số {import_id}"):]
    refusal = refusal[:refusal.index("Chưa có gì bị thay đổi.")]
    assert OTHER_RELIC not in refusal  # nothing was added to the other relic
    assert "Chưa có gì bị thay đổi." in html
    assert snapshot(db) == before
    assert site_id(db, RELIC) is not None and site_id(db, OTHER_RELIC) is not None

    english = client.post(f"{action}?lang=en", data={"csrf_token": token},
                          follow_redirects=True).get_data(as_text=True)
    assert (f"relic {RELIC} has 1 condition assessment and 1 photo added after import "
            f"#{import_id}") in html_lib.unescape(english)
    assert snapshot(db) == before


def test_cli_undo_names_the_later_zone_import_and_works_in_order(
        runner, db: Session, tmp_path: Path) -> None:
    sites_import = import_relics(db, tmp_path)
    zones_import = import_zone(db, tmp_path, RELIC)
    before = snapshot(db)

    result = runner.invoke(args=["imports", "undo", str(sites_import)])
    assert result.exit_code != 0
    assert (f"Import #{sites_import} cannot be undone: later work depends on the records "
            f"it created: import #{zones_import} added 1 protection zone to {RELIC}: undo "
            f"import #{zones_import} first. Nothing was changed.") in result.output
    assert "Traceback" not in result.output
    assert snapshot(db) == before

    result = runner.invoke(args=["imports", "undo", str(sites_import), "--lang", "vi"])
    assert result.exit_code != 0
    assert (f"lần nhập số {zones_import} đã thêm 1 khu vực bảo vệ cho di tích {RELIC}: hãy "
            f"hoàn tác lần nhập số {zones_import} trước") in result.output
    assert snapshot(db) == before

    result = runner.invoke(args=["imports", "undo", str(zones_import)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["imports", "undo", str(sites_import)])
    assert result.exit_code == 0, result.output
    # The two relics go, with the commune rows the import wrote for them.
    assert f"import #{sites_import} undone: " in result.output
    assert site_id(db, RELIC) is None and site_id(db, OTHER_RELIC) is None


def test_deleting_a_relic_with_an_assessment_in_sql_is_refused(db: Session,
                                                               tmp_path: Path) -> None:
    import_relics(db, tmp_path)
    relic = site_id(db, RELIC)
    db.execute(text("""INSERT INTO condition_assessments (site_id, assessed_on, overall)
                       VALUES (:s, DATE '2026-11-01', 'good')"""), {"s": relic})
    with pytest.raises(IntegrityError, match="condition_assessments"), db.begin_nested():
        db.execute(text("DELETE FROM sites WHERE id = :s"), {"s": relic})
    with pytest.raises(IntegrityError, match="never overwritten or deleted"), db.begin_nested():
        db.execute(text("DELETE FROM condition_assessments WHERE site_id = :s"), {"s": relic})
    assert db.scalar(text("SELECT count(*) FROM condition_assessments WHERE site_id = :s"),
                     {"s": relic}) == 1


def test_the_append_only_trigger_refuses_a_cascaded_delete(db: Session, tmp_path: Path) -> None:
    """Even if someone put a cascade back, the trigger stops it at the assessment."""
    import_relics(db, tmp_path)
    relic = site_id(db, RELIC)
    db.execute(text("""INSERT INTO condition_assessments (site_id, assessed_on, overall)
                       VALUES (:s, DATE '2026-11-01', 'good')"""), {"s": relic})
    db.execute(text("""
        ALTER TABLE condition_assessments
          DROP CONSTRAINT fk_condition_assessments_site_id_sites,
          ADD CONSTRAINT fk_condition_assessments_site_id_sites FOREIGN KEY (site_id)
              REFERENCES sites (id) ON DELETE CASCADE"""))  # rolled back with the test
    with pytest.raises(IntegrityError, match="never overwritten or deleted"), db.begin_nested():
        db.execute(text("DELETE FROM sites WHERE id = :s"), {"s": relic})
    assert site_id(db, RELIC) == relic


def test_no_foreign_key_cascades_into_heritage_records(db: Session) -> None:
    """Every key pointing at a relic, an artifact, an intangible heritage or an assessment
    restricts deletes (but site_admin_units, derived from the location), and the undo's
    list of dependents covers every key pointing at a relic."""
    keys = db.execute(text("""
        SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent,
               confdeltype FROM pg_constraint
         WHERE contype = 'f' AND confrelid::regclass::text IN
               ('sites', 'artifacts', 'intangible_heritage', 'condition_assessments')""")).all()
    cascading = sorted((k.child, k.parent) for k in keys
                       if k.confdeltype not in ("r", "a") and k.child != k.parent)
    assert cascading == [("site_admin_units", "sites")]
    on_sites = {k.child for k in keys if k.parent == "sites"} - {"site_admin_units"}
    assert on_sites <= {dep.table for dep in DEPENDENTS["sites"]}
