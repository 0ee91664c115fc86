"""Issue 17: landscape features (ao, hồ, cây cổ thụ, vườn, bãi sông) as an import target,
linked to their relic like zones, all or nothing and undoable; and a real third-party
file of protected landscapes (../shared/realdata, read in place, never copied)."""
from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from shapely.geometry import LineString
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.errors import ImportFailed
from gis_app.importers.pipeline import ImportOptions, run_import
from gis_app.services.imports import undo_import
from tests import surveyfiles as sf
from tests.factories import make_site
from tests.test_import import snapshot

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
LEGOCITY = REALDATA / "legocity_heritage_geojson" / "heritage.geojson"


def landscapes(db: Session, source_like: str = "import%") -> dict[str, tuple[str, str | None]]:
    rows = db.execute(text(
        "SELECT l.name_vi, l.kind, s.heritage_id FROM landscapes l "
        "LEFT JOIN sites s ON s.id = l.site_id WHERE l.source LIKE :s"), {"s": source_like})
    return {name: (kind, hid) for name, kind, hid in rows}


def test_cli_landscape_survey_links_by_identifier_or_position_and_undoes(
        runner, db: Session, tmp_path: Path) -> None:
    near, inside = (105.955, 20.800), (105.958, 20.800)
    first = make_site(db, *near, name="Đình Phú Hùng", zone_radius_m=None)
    second = make_site(db, *inside, name="Chùa Hàm Tử", zone_radius_m=None)
    x, y = sf.tm3(*near)
    records = [{"MA_DT": first, "TEN_CQ": "Ao đình Phú Hùng", "LOAI_CQ": "Ao"},
               {"MA_DT": None, "TEN_CQ": "Vườn chùa Hàm Tử", "LOAI_CQ": "vuon"},
               {"MA_DT": None, "TEN_CQ": "Bãi bồi ven sông", "LOAI_CQ": "Bãi sông"}]
    geoms = [sf.square(x + 40, y, 15.0), sf.square(*sf.tm3(*inside), 30.0),
             sf.square(x, y - 600, 50.0)]
    shp = sf.write_shapefile(tmp_path, "canhquan", records, geoms)
    args = ["import", str(shp), "--layer", "landscapes", "--preset", "khao-sat-canh-quan"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "3 read, 3 inserted" in result.output
    assert landscapes(db) == {"Ao đình Phú Hùng": ("pond", first),
                              "Vườn chùa Hàm Tử": ("garden", second),
                              "Bãi bồi ven sông": ("river_bank", None)}
    again = runner.invoke(args=args)
    assert "3 read, 0 inserted, 0 updated" in again.output, again.output
    import_id = db.execute(text("SELECT min(id) FROM imports WHERE layer = 'landscapes' "
                                "AND file_name = 'canhquan.shp'")).scalar_one()
    undo_import(db, import_id, None)
    assert landscapes(db) == {}


def test_a_landscape_over_two_relics_or_naming_an_unknown_one_is_a_row_error(
        db: Session, tmp_path: Path) -> None:
    make_site(db, 105.955, 20.800, name="Đình A", zone_radius_m=None)
    make_site(db, 105.9555, 20.800, name="Đình B", zone_radius_m=None)
    x, y = sf.tm3(105.95525, 20.800)
    records = [{"MA_KS": None, "TEN_CQ": "Hồ chung", "LOAI_CQ": "Hồ"},
               {"MA_KS": "KS-404", "TEN_CQ": "Cây đa", "LOAI_CQ": "Cây cổ thụ"}]
    shp = sf.write_shapefile(tmp_path, "cq", records, [sf.square(x, y, 120.0),
                                                       sf.square(x, y + 500, 10.0)])
    before = snapshot(db)
    with pytest.raises(ImportFailed) as failed:
        run_import(db, shp, ImportOptions(layer="landscapes", preset="khao-sat-canh-quan"))
    assert snapshot(db) == before
    errors = {e["row"]: e["en"] for e in failed.value.details["report"]["errors"]}
    assert errors[1].startswith("The landscape feature Hồ chung in row 1 contains 2 relic "
                                "points (")
    assert errors[2].startswith("No relic has the survey code KS-404")


def test_real_protected_landscapes_file_reports_its_kinds_once_then_imports(
        runner, db: Session, tmp_path: Path) -> None:
    assert LEGOCITY.exists(), f"the real-data fixture is missing: {LEGOCITY}"
    frame = pyogrio.read_dataframe(LEGOCITY)
    preset = tmp_path / "legocity.toml"
    preset.write_text('layer = "landscapes"\n[fields]\nname_vi = ["Ten"]\n'
                      'kind = ["Kieu_BT"]\n', encoding="utf-8")
    args = ["import", str(LEGOCITY), "--layer", "landscapes", "--preset", str(preset)]
    with pytest.raises(ImportFailed) as failed:
        run_import(db, LEGOCITY, ImportOptions(layer="landscapes", preset_path=str(preset)))
    report = failed.value.details["report"]
    # Each kind of protected area is one entry, counted; together they are every feature.
    kinds = frame["Kieu_BT"].str.strip().value_counts().to_dict()
    assert {e["value"]: e["count"] for e in report["unknown_values"]} == kinds
    assert report["error_count"] == len(kinds)
    values = [arg for kind in kinds for arg in ("--value", "kind", f"{kind}=other")]
    result = runner.invoke(args=[*args, *values])
    assert result.exit_code == 0, result.output
    assert f"{len(frame)} read, {len(frame)} inserted" in result.output
    assert "Features outside Khoái Châu district" in result.output
    stored = landscapes(db, "import #% heritage.geojson")
    assert set(stored) == set(frame["Ten"])
    assert {kind for kind, _hid in stored.values()} == {"other"}


def test_cli_facility_survey_takes_points_and_areas(runner, db: Session,
                                                    tmp_path: Path) -> None:
    relic = make_site(db, 105.955, 20.800, name="Đền Tân Dân", zone_radius_m=None)
    x, y = sf.tm3(105.955, 20.800)
    records = [{"MA_DT": relic, "TEN_HM": "Bãi xe đền Tân Dân", "LOAI_HM": "Bãi đỗ xe"},
               {"MA_DT": relic, "TEN_HM": "Nhà vệ sinh", "LOAI_HM": "WC"},
               {"MA_DT": None, "TEN_HM": "Khuôn viên đền", "LOAI_HM": "Tài sản"},
               {"MA_DT": None, "TEN_HM": "Mốc giới số 1", "LOAI_HM": "Cột mốc"}]
    geoms = [sf.square(x + 80, y, 20.0), sf.point(x + 30, y), sf.square(x, y, 60.0),
             sf.point(x - 100, y - 100)]
    gpkg = sf.write_vector(tmp_path / "hatang.gpkg", records, geoms, epsg=9209)
    result = runner.invoke(args=["import", str(gpkg), "--layer", "facilities",
                                 "--preset", "khao-sat-ha-tang"])
    assert result.exit_code == 0, result.output
    assert "4 read, 4 inserted" in result.output
    rows = db.execute(text(
        "SELECT f.name_vi, f.kind, s.heritage_id, GeometryType(f.geom) FROM facilities f "
        "LEFT JOIN sites s ON s.id = f.site_id WHERE f.source LIKE 'import%'")).all()
    assert {r[0]: tuple(r[1:]) for r in rows} == {
        "Bãi xe đền Tân Dân": ("parking", relic, "MULTIPOLYGON"),
        "Nhà vệ sinh": ("toilet", relic, "POINT"),
        "Khuôn viên đền": ("asset", relic, "MULTIPOLYGON"),
        "Mốc giới số 1": ("boundary_marker", None, "POINT")}
    line = sf.write_vector(tmp_path / "line.gpkg", [{"TEN_HM": "Đường", "LOAI_HM": "Đường"}],
                           [LineString(sf.square(x, y).exterior.coords)], epsg=9209)
    with pytest.raises(ImportFailed) as failed:
        run_import(db, line, ImportOptions(layer="facilities", preset="khao-sat-ha-tang"))
    (error,) = failed.value.details["report"]["errors"]
    assert "this layer needs a point or a polygon" in error["en"]
