"""Issue 17: a protection zone finds its relic by heritage identifier, by the relic's
survey code (in the identifier column or its own), or, in a file with neither, by the
relic point it contains. Files are VN-2000 TM-3 shapefiles (tests/surveyfiles.py); the
place used here (around 105.955 E, 20.80 N) is kilometres from every demo relic."""
from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import Polygon
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.errors import ImportFailed
from gis_app.importers.pipeline import ImportOptions, run_import
from gis_app.services.imports import undo_import
from tests import surveyfiles as sf
from tests.test_import import snapshot

PLACES = [(105.955, 20.800), (105.958, 20.800), (105.961, 20.800)]  # ~310 m apart


def relic_file(folder: Path, codes: list[object]) -> Path:
    """A relic list numbered by the survey (MA_DT 1, 2, ... as DBF numbers)."""
    records = [{"MA_DT": code, "TEN_DT": f"Đình khảo sát {code}",
                "LOAI": "Lịch sử - văn hoá", "CAP_XH": "Chưa xếp hạng"} for code in codes]
    geoms = [sf.point(*sf.tm3(*PLACES[i])) for i in range(len(codes))]
    return sf.write_shapefile(folder, "ditich", records, geoms)


def ring(x: float, y: float, inner: float, outer: float) -> Polygon:
    """A zone II drawn as a ring around zone I (the relic point is in the hole)."""
    square = sf.square(x, y, outer)
    return Polygon(square.exterior.coords, [sf.square(x, y, inner).exterior.coords])


def zones_by_relic(db: Session) -> dict[str, list[str]]:
    rows = db.execute(text(
        "SELECT s.survey_code, array_agg(z.zone ORDER BY z.zone) FROM protection_zones z "
        "JOIN sites s ON s.id = z.site_id WHERE s.name_vi LIKE 'Đình khảo sát %' "
        "AND z.valid_to IS NULL GROUP BY s.survey_code")).all()
    return {code: list(zones) for code, zones in rows}


def zone_file(folder: Path, records: list[dict[str, object]], places: list[int],
              name: str = "kvbv") -> Path:
    """Zones I (a 20 m square) and II (a ring to 60 m) around PLACES[i]."""
    geoms = []
    for record, i in zip(records, places, strict=True):
        x, y = sf.tm3(*PLACES[i])
        geoms.append(sf.square(x, y, 20.0) if record["KVBV"] in ("I", "KV1")
                     else ring(x, y, 20.0, 60.0))
    return sf.write_shapefile(folder, name, records, geoms)


def test_cli_zones_numbered_like_the_relic_survey_find_their_relics(
        runner, db: Session, tmp_path: Path) -> None:
    relics = runner.invoke(args=["import", str(relic_file(tmp_path / "a", [1, 2])),
                                 "--layer", "sites", "--preset", "khao-sat-di-tich"])
    assert relics.exit_code == 0, relics.output
    shp = zone_file(tmp_path / "b", [{"MA_DT": 1, "KVBV": "KV1"}, {"MA_DT": 1, "KVBV": "II"},
                                     {"MA_DT": 2, "KVBV": "KV1"}], [0, 0, 1])
    result = runner.invoke(args=["import", str(shp), "--layer", "protection_zones",
                                 "--preset", "khoanh-vung-bao-ve"])
    assert result.exit_code == 0, result.output
    assert "3 inserted" in result.output
    assert "holds the survey's own relic codes" in result.output
    assert zones_by_relic(db) == {"1": ["I", "II"], "2": ["I"]}


def test_a_survey_code_column_of_its_own_links_the_zone(db: Session, tmp_path: Path) -> None:
    run_import(db, relic_file(tmp_path / "a", ["KS-07", "KS-08"]),
               ImportOptions(layer="sites", preset="khao-sat-di-tich"))
    shp = zone_file(tmp_path / "b", [{"MA_KS": "KS-08", "KVBV": "I"}], [1])
    result = run_import(db, shp, ImportOptions(layer="protection_zones",
                                               preset="khoanh-vung-bao-ve"))
    assert result.report["links"] == {"id": 0, "code": 1, "contains": 0}
    assert zones_by_relic(db) == {"KS-08": ["I"]}
    # Undone, the zone is gone and the relic stays.
    undo_import(db, result.import_id, None)
    assert zones_by_relic(db) == {}


def test_zones_without_any_relic_column_are_linked_by_the_point_they_contain(
        db: Session, tmp_path: Path) -> None:
    run_import(db, relic_file(tmp_path / "a", ["A", "B"]),
               ImportOptions(layer="sites", preset="khao-sat-di-tich"))
    shp = zone_file(tmp_path / "b", [{"KVBV": "I"}, {"KVBV": "II"}, {"KVBV": "I"}],
                    [0, 0, 1])
    result = run_import(db, shp, ImportOptions(layer="protection_zones",
                                               preset="khoanh-vung-bao-ve"))
    assert result.counts["inserted"] == 3
    assert result.report["links"] == {"id": 0, "code": 0, "contains": 3}
    assert any("linked to the one relic point it contains" in w["en"]
               for w in result.report["warnings"])
    assert zones_by_relic(db) == {"A": ["I", "II"], "B": ["I"]}


def test_empty_and_ambiguous_containment_and_codes_are_row_errors_naming_the_zone(
        db: Session, tmp_path: Path) -> None:
    run_import(db, relic_file(tmp_path / "a", ["A", "B", "B2"]),
               ImportOptions(layer="sites", preset="khao-sat-di-tich"))
    db.execute(text("UPDATE sites SET survey_code = 'B' WHERE survey_code = 'B2'"))
    x, y = sf.tm3(*PLACES[0])
    empty = sf.square(x, y - 500.0, 20.0)          # 500 m south of every relic
    both = sf.square(*sf.tm3(105.9565, 20.800), 200.0)  # over relics A and B
    records = [{"KVBV": "I", "MA_KS": None}, {"KVBV": "vùng đệm", "MA_KS": None},
               {"KVBV": "I", "MA_KS": "B"}, {"KVBV": "II", "MA_KS": "Z-9"}]
    geoms = [empty, both, sf.square(x, y, 20.0), sf.square(x, y, 60.0)]
    shp = sf.write_shapefile(tmp_path / "b", "kvbv", records, geoms)
    before = snapshot(db)
    with pytest.raises(ImportFailed) as failed:
        run_import(db, shp, ImportOptions(layer="protection_zones",
                                          preset="khoanh-vung-bao-ve"))
    assert snapshot(db) == before
    errors = {e["row"]: e["en"] for e in failed.value.details["report"]["errors"]}
    assert errors[1].startswith("Zone I in row 1 contains no relic point; give the relic's "
                                "heritage identifier or survey code")
    assert errors[2].startswith("The buffer zone in row 2 contains 2 relic points (")
    assert "Đình khảo sát A" in errors[2] and "Đình khảo sát B" in errors[2]
    assert errors[3].startswith("Several relics have the survey code B (")
    assert errors[4].startswith("No relic has the survey code Z-9; import the relic survey "
                                "first")
    assert len(errors) == 4
