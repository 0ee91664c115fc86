"""Real OGC API clients against the served app: GDAL's OAPIF driver (ogrinfo, ogr2ogr
of Debian's gdal-bin 3.6) and OWSLib's Features client read the collections and items
that direct SQL says the public may see."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pyproj import Geod, Transformer
from shapely.geometry import shape
from sqlalchemy import text

PUBLIC_SITES = ("SELECT heritage_id, ST_X(geom), ST_Y(geom) FROM sites "
                "WHERE status = 'published' AND NOT sensitive ORDER BY id")
PUBLIC_ZONES = ("SELECT s.heritage_id || '-' || z.zone FROM protection_zones z "
                "JOIN sites s ON s.id = z.site_id WHERE s.status = 'published' "
                "AND NOT s.sensitive AND (z.valid_from IS NULL OR z.valid_from <= :today) "
                "AND (z.valid_to IS NULL OR z.valid_to >= :today) ORDER BY z.id")


def _gdal(*args: str) -> str:
    if shutil.which(args[0]) is None:
        pytest.fail(f"{args[0]} not found: apt-get install -y gdal-bin")
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ogrinfo_lists_every_collection_and_reads_the_public_relics(live_server, engine):
    listing = _gdal("ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/ogc/")
    for name in ("sites", "protection_zones", "communes", "roads", "rivers"):
        assert f": {name} (" in listing, listing
    with engine.connect() as conn:
        expected = conn.execute(text(PUBLIC_SITES)).all()
    summary = _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server}/ogc/", "sites")
    assert f"Feature Count: {len(expected)}" in summary
    full = _gdal("ogrinfo", "-ro", "-al", "-q", f"OAPIF:{live_server}/ogc/", "sites")
    ids = [line.split("=", 1)[1].strip() for line in full.splitlines()
           if line.strip().startswith("id (String) =")]
    assert ids == [row[0] for row in expected]


def test_ogr2ogr_copies_zones_with_their_geometry_and_a_spatial_filter(live_server, engine,
                                                                       tmp_path: Path):
    from gis_app.clock import today_in_vietnam

    with engine.connect() as conn:
        expected = list(conn.scalars(text(PUBLIC_ZONES), {"today": today_in_vietnam()}))
        area = conn.scalar(text(
            "SELECT sum(ST_Area(z.geom::geography)) FROM protection_zones z JOIN sites s "
            "ON s.id = z.site_id WHERE s.status = 'published' AND NOT s.sensitive "
            "AND (z.valid_from IS NULL OR z.valid_from <= :today) "
            "AND (z.valid_to IS NULL OR z.valid_to >= :today)"), {"today": today_in_vietnam()})
        x, y = conn.execute(text(PUBLIC_SITES)).first()[1:]
    out = tmp_path / "zones.geojson"
    _gdal("ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live_server}/ogc/",
          "protection_zones")
    copied = json.loads(out.read_text())
    assert [f["properties"]["id"] for f in copied["features"]] == expected
    geod = Geod(ellps="WGS84")
    copied_area = sum(abs(geod.geometry_area_perimeter(shape(f["geometry"]))[0])
                      for f in copied["features"])
    assert copied_area == pytest.approx(area, rel=1e-4)
    # -spat becomes a bbox query: only the zones there come back.
    near = tmp_path / "near.geojson"
    _gdal("ogr2ogr", "-f", "GeoJSON", "-spat", str(x - 0.002), str(y - 0.002),
          str(x + 0.002), str(y + 0.002), str(near), f"OAPIF:{live_server}/ogc/",
          "protection_zones")
    near_ids = {f["properties"]["id"] for f in json.loads(near.read_text())["features"]}
    assert near_ids and near_ids < set(expected)


def test_ogr2ogr_reads_vn2000_coordinates_the_server_transformed(live_server, engine,
                                                                 tmp_path: Path):
    with engine.connect() as conn:
        hid, x, y = conn.execute(text(PUBLIC_SITES)).first()
    out = tmp_path / "tm3.json"
    url = (f"{live_server}/ogc/collections/sites/items/{hid}"
           f"?crs=http://www.opengis.net/def/crs/EPSG/0/9209")
    _gdal("ogr2ogr", "-f", "GeoJSON", "-lco", "RFC7946=NO", "-lco", "COORDINATE_PRECISION=3",
          str(out), url)
    e, n = Transformer.from_crs(4326, 9209, always_xy=True).transform(x, y)
    got = json.loads(out.read_text())["features"][0]["geometry"]["coordinates"]
    assert abs(got[0] - e) < 0.01 and abs(got[1] - n) < 0.01


def test_owslib_reads_collections_and_items(live_server, engine):
    from owslib.ogcapi.features import Features

    api = Features(f"{live_server}/ogc/")
    assert "sites" in api.feature_collections()
    assert api.collection("sites")["id"] == "sites"
    with engine.connect() as conn:
        expected = conn.execute(text(PUBLIC_SITES)).all()
    page = api.collection_items("sites", limit=3)
    assert [f["id"] for f in page["features"]] == [row[0] for row in expected[:3]]
    assert page["numberMatched"] == len(expected)
    one = api.collection_item("sites", expected[-1][0])
    assert one["geometry"]["coordinates"] == pytest.approx(list(expected[-1][1:]), abs=1e-7)
    national = api.collection_items("sites", rank="national")
    with engine.connect() as conn:
        assert [f["id"] for f in national["features"]] == list(conn.scalars(text(
            "SELECT heritage_id FROM sites WHERE status = 'published' AND NOT sensitive "
            "AND rank = 'national' ORDER BY id")))
