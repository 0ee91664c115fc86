"""The zone check: answers compared with direct PostGIS ST_Intersects / ST_Area on
generated parcels (inside, straddling, touching a boundary, far away), validation of
bad parcels, dates, CRS, and what the public may see."""
from __future__ import annotations

import json
from datetime import date

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box, mapping
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.errors import InputError
from gis_app.services.zone_check import check_parcel, read_geometry
from tests.factories import make_site

LON, LAT = 105.93, 20.79  # a quiet corner of the district, away from the demo relics


@pytest.fixture
def relic(db: Session) -> str:
    """A published relic with square zones: I is 100 m wide, II 300 m, centred on it."""
    hid = make_site(db, LON, LAT, name="Đình Kiểm Tra", zone_radius_m=None)
    for zone, half in (("I", 50), ("II", 150)):
        db.execute(text("""
            INSERT INTO protection_zones (site_id, zone, geom, accuracy, valid_from)
            SELECT id, :z, ST_Multi(ST_Transform(ST_Expand(ST_Transform(geom, 32648), :h),
                                                 4326)), 'surveyed', DATE '2021-01-01'
              FROM sites WHERE heritage_id = :hid"""), {"z": zone, "h": half, "hid": hid})
    return hid


def reference(db: Session, parcel: shapely.Geometry, hid: str) -> dict[str, float]:
    """Overlap areas by zone straight from PostGIS: the floor the service must match."""
    rows = db.execute(text("""
        SELECT z.zone, ST_Area(ST_Intersection(z.geom, ST_GeomFromText(:p, 4326))::geography)
          FROM protection_zones z JOIN sites s ON s.id = z.site_id
         WHERE s.heritage_id = :h AND ST_Intersects(z.geom, ST_GeomFromText(:p, 4326))"""),
        {"p": parcel.wkt, "h": hid}).all()
    return {zone: area for zone, area in rows}


def metres(dx: float, dy: float) -> tuple[float, float]:
    """lon/lat of the point dx, dy metres east/north of the relic."""
    to_utm = Transformer.from_crs(4326, 32648, always_xy=True)
    back = Transformer.from_crs(32648, 4326, always_xy=True)
    x, y = to_utm.transform(LON, LAT)
    return back.transform(x + dx, y + dy)


def square(cx: float, cy: float, half: float) -> Polygon:
    corners = [metres(cx + sx * half, cy + sy * half)
               for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    return Polygon(corners)


def test_inside_zone_one_reports_both_zones_with_areas(db: Session, relic: str) -> None:
    parcel = square(0, 0, 10)
    result = check_parcel(db, parcel)
    hits = {h.zone: h for h in result.hits if h.heritage_id == relic}
    assert set(hits) == {"I", "II"}  # zone II surrounds zone I here
    ref = reference(db, parcel, relic)
    assert hits["I"].overlap_m2 == pytest.approx(ref["I"], abs=0.01)
    assert hits["I"].overlap_pct == pytest.approx(100, abs=0.01)
    assert result.parcel_area_m2 == pytest.approx(400, rel=0.01)  # 20 m × 20 m
    assert hits["I"].relic_distance_m == 0
    assert "Điều 32" in hits["I"].rules["ref"] and "intact" in hits["I"].rules["en"]
    assert result.nearest is None


def test_straddling_zone_boundary(db: Session, relic: str) -> None:
    parcel = square(50, 0, 20)  # half inside zone I, half in zone II only
    result = check_parcel(db, parcel)
    hits = {h.zone: h for h in result.hits if h.heritage_id == relic}
    ref = reference(db, parcel, relic)
    assert hits["I"].overlap_pct == pytest.approx(50, abs=1)
    assert hits["I"].overlap_m2 == pytest.approx(ref["I"], abs=0.01)
    assert hits["II"].overlap_m2 == pytest.approx(ref["II"], abs=0.01)


def test_touching_the_boundary_counts(db: Session, relic: str) -> None:
    wkt = db.scalar(text("""
        SELECT ST_AsText(z.geom) FROM protection_zones z JOIN sites s ON s.id = z.site_id
         WHERE s.heritage_id = :h AND z.zone = 'II'"""), {"h": relic})
    ring = shapely.from_wkt(wkt).geoms[0].exterior.coords
    # The eastern edge of zone II, shared exactly by a triangle lying east of it.
    (ax, ay), (bx, by) = max(zip(ring[:-1], ring[1:]), key=lambda e: e[0][0] + e[1][0])
    parcel = Polygon([(ax, ay), (bx, by), ((ax + bx) / 2 + 0.0005, (ay + by) / 2)])
    result = check_parcel(db, parcel)
    hits = [h for h in result.hits if h.heritage_id == relic]
    assert [h.zone for h in hits] == ["II"]
    assert hits[0].overlap_m2 == pytest.approx(0, abs=0.01)


def test_far_away_gives_the_nearest_relic(db: Session, relic: str) -> None:
    parcel = square(-600, 0, 10)
    result = check_parcel(db, parcel)
    assert result.hits == []
    assert result.nearest["heritage_id"] == relic
    expected = db.scalar(text("SELECT ST_Distance(geom::geography, ST_GeomFromText(:p, 4326)"
                              "::geography) FROM sites WHERE heritage_id = :h"),
                         {"p": parcel.wkt, "h": relic})
    assert result.nearest["distance_m"] == pytest.approx(expected, abs=0.01)
    assert 585 < result.nearest["distance_m"] < 595


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cx=st.floats(-250, 250), cy=st.floats(-250, 250), half=st.floats(1, 120))
def test_random_parcels_match_postgis(db: Session, relic: str, cx: float, cy: float,
                                      half: float) -> None:
    parcel = square(cx, cy, half)
    result = check_parcel(db, parcel)
    got = {h.zone: h.overlap_m2 for h in result.hits if h.heritage_id == relic}
    ref = reference(db, parcel, relic)
    assert set(got) == set(ref)
    for zone, area in ref.items():
        assert got[zone] == pytest.approx(area, abs=0.01)


def test_point_parcel(db: Session, relic: str) -> None:
    result = check_parcel(db, Point(*metres(100, 0)))
    assert [h.zone for h in result.hits if h.heritage_id == relic] == ["II"]
    assert result.hits[0].overlap_pct == 0


def test_zones_valid_on_a_date(db: Session, relic: str) -> None:
    parcel = square(0, 0, 10)
    assert check_parcel(db, parcel, date(2020, 6, 1)).hits == []
    assert len(check_parcel(db, parcel, date(2022, 6, 1)).hits) == 2


def test_vn2000_coordinates(db: Session, relic: str) -> None:
    to_tm3 = Transformer.from_crs(4326, 9209, always_xy=True)
    ring = [to_tm3.transform(*metres(dx, dy)) for dx, dy in
            ((-5, -5), (5, -5), (5, 5), (-5, 5), (-5, -5))]
    (parcel,) = read_geometry({"type": "Polygon", "coordinates": [ring]}, "EPSG:9209")
    assert parcel.centroid.distance(Point(LON, LAT)) < 1e-6
    assert {h.zone for h in check_parcel(db, parcel).hits} == {"I", "II"}


@pytest.mark.parametrize("geometry, message", [
    ({"type": "Polygon", "coordinates": [[[105.93, 20.79], [105.94, 20.80], [105.94, 20.79],
                                          [105.93, 20.80], [105.93, 20.79]]]},
     "invalid .*Self-intersection"),
    ({"type": "Polygon", "coordinates": []}, "empty"),
    ({"type": "Polygon", "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86],
                                          [2.35, 48.85]]]}, "outside Vietnam"),
    (mapping(box(105.5, 20.5, 106.0, 21.0)), "at most 50 km²"),
    ({"type": "Circle", "radius": 5}, "not a GeoJSON geometry"),
    ({"type": "FeatureCollection", "features": []}, "no features"),
])
def test_bad_parcels_are_refused(geometry: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_geometry(geometry)


def test_api_answers_and_explains_errors(client, db: Session, relic: str) -> None:
    parcel = square(0, 0, 10)
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": mapping(parcel)},
        {"type": "Feature", "properties": {}, "geometry": mapping(square(-600, 0, 10))}]}
    response = client.post("/api/zone-check?date=2025-01-01", json=fc)
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert {h["zone"] for h in first["hits"] if h["heritage_id"] == relic} == {"I", "II"}
    assert second["hits"] == [] and second["nearest"]["heritage_id"] == relic
    bad = client.post("/api/zone-check?date=25/01/2025", json=mapping(parcel))
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_json()["message"]
    garbage = client.post("/api/zone-check", data="not json",
                          headers={"Content-Type": "application/json", "Accept-Language": "en"})
    assert garbage.status_code == 400 and "GeoJSON" in garbage.get_json()["message"]
    crs = client.post("/api/zone-check?crs=EPSG:99999", json=mapping(parcel),
                      headers={"Accept-Language": "en"})
    assert crs.status_code == 400 and "EPSG:9209" in crs.get_json()["message"]


def test_public_does_not_learn_of_sensitive_relics(client, db: Session) -> None:
    hid = make_site(db, LON, LAT, name="Di chỉ khảo cổ", sensitive=True)
    response = client.post("/api/zone-check", json=mapping(square(0, 0, 10)))
    body = json.dumps(response.get_json())
    assert hid not in body and "Di chỉ khảo cổ" not in body


def test_openapi_documents_the_zone_check(client) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    operation = doc["paths"]["/api/zone-check"]["post"]
    assert {p["name"] for p in operation["parameters"]} == {"crs", "date"}
    assert "sites" in doc["paths"]["/api/layers/{name}.geojson"]["get"]["parameters"][0][
        "schema"]["enum"]
