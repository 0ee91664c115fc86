"""Issue 17, last part: an inventory of intangible heritage as an import target (preset
khao-sat-phi-vat-the). Its places practised (polygons, optional), the relics where it is
practised (identifiers or survey codes, ';'-separated) and a festival date on the same
row (lunar month/day or a solar date) — all or nothing, re-importable, undoable."""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.errors import ImportFailed
from gis_app.importers.pipeline import ImportOptions, run_import
from gis_app.services import intangible
from gis_app.services.accounts import create_user
from gis_app.services.imports import undo_import
from tests import importflow as flow
from tests import surveyfiles as sf
from tests.factories import make_site
from tests.test_import import snapshot
from tests.test_import_web import reviewer, uploads  # noqa: F401 (fixtures)

PRESET = ["--layer", "intangible_heritage", "--preset", "khao-sat-phi-vat-the"]
COLUMNS = ["MA_DS", "TEN_DS", "LOAI_HINH", "CONG_DONG", "MA_DT", "TEN_LH", "THANG_AL",
           "NGAY_AL", "NGAY_DL", "SO_NGAY", "SO_QD", "NGAY_QD"]


def write_csv(folder: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    """An inventory as a survey office keeps it: a table without coordinates."""
    path = folder / f"{name}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return path


def heritage(db: Session) -> dict[str, dict[str, Any]]:
    """Imported intangible heritage by name: identifier, status, type, community, whether
    it has places, its relics and its festival dates."""
    rows = db.execute(text("""
        SELECT i.name_vi, i.heritage_id, i.status, i.ich_type, i.community,
               i.national_listing_decision_no, i.national_listing_date,
               ST_GeometryType(i.geom) AS places,
               (SELECT array_agg(s.heritage_id ORDER BY s.heritage_id)
                  FROM intangible_sites x JOIN sites s ON s.id = x.site_id
                 WHERE x.intangible_id = i.id) AS relics,
               (SELECT array_agg(concat_ws(' ', e.name_vi, e.lunar_day || '/' || e.lunar_month
                                           || ' AL', e.solar_date, e.duration_days || 'd')
                                 ORDER BY e.id)
                  FROM heritage_events e WHERE e.intangible_id = i.id) AS events
          FROM intangible_heritage i WHERE i.source LIKE 'import%'""")).mappings()
    return {r["name_vi"]: dict(r) for r in rows}


def relic_with_code(db: Session, lon: float, name: str, code: str) -> str:
    hid = make_site(db, lon, 20.80, name=name, zone_radius_m=None)
    db.execute(text("UPDATE sites SET survey_code = :c WHERE heritage_id = :h"),
               {"c": code, "h": hid})
    return hid


def test_cli_inventory_table_makes_drafts_with_relics_and_festivals_reimport_and_undo(
        runner, db: Session, tmp_path: Path) -> None:
    temple = make_site(db, 105.955, 20.80, name="Đền Đa Hòa", zone_radius_m=None)
    communal_house = relic_with_code(db, 105.960, "Đình Phú Hùng", "KC-07")
    path = write_csv(tmp_path, "kiemke_pvt", [
        {"TEN_DS": "Lễ hội Đa Hòa", "LOAI_HINH": "Lễ hội truyền thống",
         "CONG_DONG": "Nhân dân xã Bình Minh", "MA_DT": f"{temple}; KC-07",
         "THANG_AL": "2", "NGAY_AL": "10", "SO_NGAY": "3",
         "SO_QD": "123/QĐ-BVHTTDL", "NGAY_QD": "15/03/2019"},
        {"TEN_DS": "Hát trống quân Phú Hùng", "LOAI_HINH": "Nghệ thuật trình diễn dân gian",
         "MA_DT": communal_house, "TEN_LH": "Hội thi hát trống quân",
         "NGAY_DL": "02/09/2024"},
        {"TEN_DS": "Nghề mộc Kim Chung", "LOAI_HINH": "Nghề thủ công"},
    ])
    result = runner.invoke(args=["import", str(path), *PRESET])
    assert result.exit_code == 0, result.output
    assert "3 read, 3 inserted, 0 updated, 3 relics_linked, 0 events_updated, " \
           "2 events_added" in result.output
    found = heritage(db)
    assert set(found) == {"Lễ hội Đa Hòa", "Hát trống quân Phú Hùng", "Nghề mộc Kim Chung"}
    festival = found["Lễ hội Đa Hòa"]
    assert festival["heritage_id"].startswith("VN-HY-PVT-")
    assert (festival["status"], festival["ich_type"], festival["community"]) == (
        "draft", "traditional_festival", "Nhân dân xã Bình Minh")
    assert festival["national_listing_decision_no"] == "123/QĐ-BVHTTDL"
    assert festival["national_listing_date"].isoformat() == "2019-03-15"
    assert festival["relics"] == sorted([temple, communal_house])
    assert festival["events"] == ["Lễ hội Đa Hòa 10/2 AL 3d"]
    assert festival["places"] is None
    singing = found["Hát trống quân Phú Hùng"]
    assert singing["ich_type"] == "folk_performing_arts"
    assert singing["relics"] == [communal_house]
    assert singing["events"] == ["Hội thi hát trống quân 2024-09-02 1d"]
    craft = found["Nghề mộc Kim Chung"]
    assert (craft["ich_type"], craft["relics"], craft["events"]) == (
        "traditional_crafts", None, None)

    again = runner.invoke(args=["import", str(path), *PRESET])
    assert again.exit_code == 0, again.output
    assert "3 read, 0 inserted, 0 updated, 0 relics_linked, 0 events_updated, " \
           "0 events_added" in again.output
    assert heritage(db) == found

    first = db.execute(text("SELECT min(id) FROM imports WHERE layer = 'intangible_heritage' "
                            "AND file_name = 'kiemke_pvt.csv'")).scalar_one()
    undone = runner.invoke(args=["imports", "undo", str(first)])
    assert undone.exit_code == 0, undone.output
    assert heritage(db) == {}
    assert db.execute(text("SELECT count(*) FROM heritage_events e JOIN intangible_heritage i "
                           "ON i.id = e.intangible_id WHERE i.source LIKE 'import%'")
                      ).scalar_one() == 0
    retired = db.execute(text("SELECT retired_at IS NOT NULL FROM heritage_identifiers "
                              "WHERE id = :h"), {"h": festival["heritage_id"]}).scalar_one()
    assert retired


def test_bad_lunar_dates_and_unknown_relics_are_row_errors_and_nothing_is_written(
        db: Session, tmp_path: Path) -> None:
    make_site(db, 105.955, 20.80, name="Đền Đa Hòa", zone_radius_m=None)
    relic_with_code(db, 105.960, "Đình A", "KS-02")
    relic_with_code(db, 105.962, "Đình B", "KS-02")
    path = write_csv(tmp_path, "loi", [
        {"TEN_DS": "Hội làng A", "LOAI_HINH": "Lễ hội", "THANG_AL": "1", "NGAY_AL": "31"},
        {"TEN_DS": "Hội làng B", "LOAI_HINH": "Lễ hội", "THANG_AL": "13", "NGAY_AL": "5"},
        {"TEN_DS": "Hội làng C", "LOAI_HINH": "Lễ hội", "NGAY_AL": "5"},
        {"TEN_DS": "Hát ví", "LOAI_HINH": "Diễn xướng dân gian", "MA_DT": "KS-404"},
        {"TEN_DS": "Hát chèo", "LOAI_HINH": "Diễn xướng dân gian", "MA_DT": "KS-02"},
        {"TEN_DS": "Múa rối", "LOAI_HINH": "Múa"},
        {"MA_DS": "VN-HY-DT-000001", "TEN_DS": "Hát xẩm", "LOAI_HINH": "Diễn xướng dân gian"},
        {"MA_DS": "PVT-12", "TEN_DS": "Hát văn", "LOAI_HINH": "Diễn xướng dân gian"},
    ])
    before = snapshot(db)
    count = db.execute(text("SELECT count(*) FROM intangible_heritage")).scalar_one()
    with pytest.raises(ImportFailed) as failed:
        run_import(db, path, ImportOptions(layer="intangible_heritage",
                                           preset="khao-sat-phi-vat-the"))
    assert snapshot(db) == before
    assert db.execute(text("SELECT count(*) FROM intangible_heritage")).scalar_one() == count
    report = failed.value.details["report"]
    errors = {e["row"]: (e["en"], e["vi"]) for e in report["errors"]}
    assert errors[1] == ("Lunar day: give a number from 1 to 30.",
                         "Ngày âm lịch: hãy nhập số từ 1 đến 30.")
    assert errors[2] == ("Lunar month: give a number from 1 to 12.",
                         "Tháng âm lịch: hãy nhập số từ 1 đến 12.")
    assert errors[3][0] == "Give both the lunar day and the lunar month (or neither)."
    assert errors[6][0].startswith("'Múa' is not a known type")
    assert errors[7][0].startswith("VN-HY-DT-000001 is the identifier of a relic, not of an "
                                   "intangible heritage")
    assert errors[8] == (
        "'PVT-12' is not an intangible heritage identifier (VN-HY-PVT- and six digits); "
        "correct it, or leave the cell empty for a new identifier.",
        "'PVT-12' không phải mã định danh di sản phi vật thể (VN-HY-PVT- và sáu chữ số); "
        "hãy sửa, hoặc để trống để được cấp mã mới.")
    # Rows with a bad cell stop the import before the relics are looked up; a file whose
    # dates are right is checked for its relics.
    fixed = write_csv(tmp_path, "loi2", [
        {"TEN_DS": "Hát ví", "LOAI_HINH": "Diễn xướng dân gian", "MA_DT": "KS-404"},
        {"TEN_DS": "Hát chèo", "LOAI_HINH": "Diễn xướng dân gian", "MA_DT": "KS-02"},
    ])
    with pytest.raises(ImportFailed) as failed:
        run_import(db, fixed, ImportOptions(layer="intangible_heritage",
                                            preset="khao-sat-phi-vat-the"))
    assert snapshot(db) == before
    errors = {e["row"]: (e["en"], e["vi"]) for e in failed.value.details["report"]["errors"]}
    assert errors[1] == (
        "No relic in the register has the heritage identifier or survey code KS-404; "
        "correct it (several relics are separated by ';') or import the relic first.",
        "Không có di tích nào trong danh mục mang mã định danh hoặc mã khảo sát KS-404; "
        "hãy sửa lại (nhiều di tích cách nhau bằng dấu ';') hoặc nhập di tích trước.")
    assert errors[2][0].startswith("Several relics have the survey code KS-02 (VN-HY-DT-")


def test_places_practised_update_the_heritage_matched_by_identifier_or_name(
        db: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "dau", [
        {"TEN_DS": "Lễ hội Chử Đồng Tử", "LOAI_HINH": "Lễ hội", "THANG_AL": "2",
         "NGAY_AL": "10"},
        {"TEN_DS": "Hát trống quân", "LOAI_HINH": "Diễn xướng dân gian"},
    ])
    run_import(db, path, ImportOptions(layer="intangible_heritage",
                                       preset="khao-sat-phi-vat-the"))
    festival_id = heritage(db)["Lễ hội Chử Đồng Tử"]["heritage_id"]
    x, y = sf.tm3(105.955, 20.80)
    gpkg = sf.write_vector(tmp_path / "noi_thuc_hanh.gpkg", [
        {"MA_DS": festival_id, "TEN_DS": "Lễ hội Chử Đồng Tử", "LOAI_HINH": "Lễ hội",
         "CONG_DONG": "Xã Bình Minh", "THANG_AL": 2, "NGAY_AL": 12, "SO_NGAY": 4},
        {"MA_DS": None, "TEN_DS": "Hát trống quân", "LOAI_HINH": "Diễn xướng dân gian",
         "CONG_DONG": "Thôn Phú Hùng", "THANG_AL": None, "NGAY_AL": None, "SO_NGAY": None},
    ], [sf.square(x, y, 200.0), sf.square(x + 1000, y, 150.0)], epsg=9209)
    result = run_import(db, gpkg, ImportOptions(layer="intangible_heritage",
                                                preset="khao-sat-phi-vat-the", crs="EPSG:9209"))
    assert result.counts["inserted"] == 0 and result.counts["updated"] == 2
    assert (result.counts["events_updated"], result.counts["events_added"]) == (1, 0)
    found = heritage(db)
    assert found["Lễ hội Chử Đồng Tử"]["heritage_id"] == festival_id
    assert found["Lễ hội Chử Đồng Tử"]["places"] == "ST_MultiPolygon"
    assert found["Lễ hội Chử Đồng Tử"]["events"] == ["Lễ hội Chử Đồng Tử 12/2 AL 4d"]
    assert (found["Hát trống quân"]["community"], found["Hát trống quân"]["places"]) == (
        "Thôn Phú Hùng", "ST_MultiPolygon")
    undo_import(db, result.import_id, None)
    after = heritage(db)
    assert (after["Hát trống quân"]["community"], after["Hát trống quân"]["places"]) == (
        None, None)
    assert after["Lễ hội Chử Đồng Tử"]["events"] == ["Lễ hội Chử Đồng Tử 10/2 AL 1d"]


@pytest.mark.usefixtures("reviewer", "uploads")  # a district reviewer signed in
def test_web_import_of_an_inventory_without_coordinates_previews_then_confirms(
        client, db: Session, tmp_path: Path) -> None:
    temple = make_site(db, 105.955, 20.80, name="Đền Đa Hòa", zone_radius_m=None)
    path = write_csv(tmp_path, "kiemke_web", [
        {"TEN_DS": "Lễ hội Đa Hòa", "LOAI_HINH": "Lễ hội truyền thống", "MA_DT": temple,
         "THANG_AL": "2", "NGAY_AL": "10"}])
    page = client.get(flow.LIST).get_data(as_text=True)
    assert "Di sản văn hóa phi vật thể" in page  # the layer choice
    response = flow.upload_and_preview(client, path, layer="intangible_heritage",
                                       preset="khao-sat-phi-vat-the")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert re.search(r'Sẽ thêm mới</dt>\s*<dd data-count="inserted">1</dd>', html), html
    assert heritage(db) == {}  # a preview writes nothing
    confirmed = client.post(flow.form_action(html, flow.CONFIRM),
                            data=flow.form_fields(html, flow.CONFIRM))
    assert confirmed.status_code == 302
    done = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "đã xong: thêm 1" in done
    found = heritage(db)["Lễ hội Đa Hòa"]
    assert (found["relics"], found["events"]) == ([temple], ["Lễ hội Đa Hòa 10/2 AL 1d"])


def test_undo_is_refused_while_a_festival_date_added_by_hand_depends_on_the_import(
        runner, db: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "mot", [{"TEN_DS": "Hội vật Phú Hùng", "LOAI_HINH": "Lễ hội"}])
    result = run_import(db, path, ImportOptions(layer="intangible_heritage",
                                                preset="khao-sat-phi-vat-the"))
    hid = heritage(db)["Hội vật Phú Hùng"]["heritage_id"]
    user = create_user(db, "thamdinh2", "mat-khau-du-dai-1", "district_reviewer")
    intangible.add_event(db, user, hid, {"name_vi": "Hội vật mùa xuân", "lunar_month": "1",
                                         "lunar_day": "6"})
    refused = runner.invoke(args=["imports", "undo", str(result.import_id)])
    assert refused.exit_code != 0
    assert f"Import #{result.import_id} cannot be undone: records in heritage_events " \
           f"added after it depend on what it created." in refused.output
    assert "Traceback" not in refused.output
    assert heritage(db)["Hội vật Phú Hùng"]["events"] == ["Hội vật mùa xuân 6/1 AL 1d"]
