"""Real files made by others (../shared/realdata, read in place, never copied into the
project) get through the importer as a new user would bring them: the VN-2000 buildings
shapefile of Hồ Chí Minh City's district 1 (footprint polygons, an ArcGIS .prj without
TOWGS84, text already damaged) and the 2025 provinces KML (SchemaData attributes,
mixed polygon types). Both are outside Khoái Châu, which the report says; here only
the dry run is checked, so the shared test database keeps nothing."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from gis_app.cli import import_command

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
BUILDINGS = REALDATA / "hcmc_q1_buildings_vn2000"
PROVINCES_KML = REALDATA / "vn34_provinces_2025" / "diaphantinhvn_merged.kml"

pytestmark = pytest.mark.skipif(not REALDATA.exists(),
                                reason="../shared/realdata is not beside the project")


def test_vn2000_building_footprints_import_as_relic_points(runner, tmp_path):
    archive = tmp_path / "nha_quan1.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for part in sorted(BUILDINGS.glob("Nha_Quan1_VN2000.*")):
            out.write(part, part.name)
    result = runner.invoke(import_command, [str(archive), "--layer", "sites", "--map",
                                            "name_vi=LOAIDOITUO", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "EPSG:9210 VN-2000 / TM-3 105-45" in result.output
    assert "repaired 3556: Footprints (polygons) placed at a point inside them." \
        in result.output
    assert "Features outside Khoái Châu district" in result.output
    assert "would give: 3556 read, 3556 inserted" in result.output


def test_the_provinces_kml_imports_with_its_schema_data_names(runner):
    result = runner.invoke(import_command, [str(PROVINCES_KML), "--layer", "sites", "--map",
                                            "name_vi=ten_tinh", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "fields: name_vi <- ten_tinh" in result.output
    assert "coordinates: EPSG:4326 WGS 84 (format)" in result.output  # no .prj in a KML
    assert "would give: 34 read, 34 inserted" in result.output


def test_a_utf8_csv_keeps_its_vietnamese_column_names(runner):
    """The 2025 commune-merger table has Vietnamese headers ("Tỉnh", "Phường, xã mới");
    read byte for byte they looked like "Tá»nh" and could not be mapped. It has no
    coordinates, which the importer then says plainly."""
    merger = REALDATA / "vn2025_commune_merger_csv" / "data.csv"
    result = runner.invoke(import_command, [str(merger), "--layer", "sites", "--map",
                                            "name_vi=Phường, xã mới", "--dry-run"])
    assert "the file has no field" not in result.output
    assert "Tá»" not in result.output
    assert result.exit_code == 1 and "data.csv has no coordinate columns" in result.output
    assert "its columns are: Tỉnh, Phường, xã mới, Phường, xã trước sáp nhập." in result.output
