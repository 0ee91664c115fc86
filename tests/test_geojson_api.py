"""GET /api/layers and /api/layers/<name>.geojson against real PostGIS."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from gis_app.errors import InputError
from gis_app.services.features import read_bbox
from layers import all_layers
from tests.factories import make_site

# Khoái Châu, a little larger.
AREA = (105.80, 20.70, 106.10, 20.98)


def _ids(client, layer: str, bbox: tuple[float, ...], limit: int = 10000) -> set[int]:
    response = client.get(f"/api/layers/{layer}.geojson",
                          query_string={"bbox": ",".join(map(str, bbox)), "limit": limit})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    return {f["id"] for f in body["features"]}


def _random_box(rng: random.Random, size: float) -> tuple[float, float, float, float]:
    x = rng.uniform(AREA[0], AREA[2] - size)
    y = rng.uniform(AREA[1], AREA[3] - size)
    return (round(x, 6), round(y, 6), round(x + size, 6), round(y + size, 6))


def test_bbox_returns_exactly_what_st_intersects_returns(client, db):
    rng = random.Random(20261125)
    for _ in range(300):
        make_site(db, rng.uniform(*AREA[0::2]), rng.uniform(*AREA[1::2]),
                  zone_radius_m=rng.choice([None, 40, 120]))
    for size in (0.005, 0.03, 0.12):
        for _ in range(12):
            box = _random_box(rng, size)
            for layer, table in (("sites", "sites"), ("protection_zones", "protection_zones")):
                # Features are identified by the relic's identifier (and the zone).
                key = "t.heritage_id" if table == "sites" else "s.heritage_id || '-' || t.zone"
                expected = set(db.scalars(text(f"""
                    SELECT {key} FROM {table} t
                      {"JOIN sites s ON s.id = t.site_id" if table != "sites" else ""}
                     WHERE ST_Intersects(t.geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))
                       AND {"s" if table != "sites" else "t"}.status = 'published'
                       AND NOT {"s" if table != "sites" else "t"}.sensitive"""),
                    dict(zip("abcd", box))))
                assert _ids(client, layer, box) == expected, (layer, box)


def test_bbox_edges_a_zone_whose_bounding_box_meets_the_box_but_not_the_zone(client, db):
    """Only features across the box's edge get the exact test (a feature whose bounding
    box lies inside the box meets it for certain): a round zone whose bounding box
    reaches into the box's corner while the circle stays outside is left out; one across
    the edge and one inside are in."""
    x, y = 105.95, 20.85
    outside = make_site(db, x, y, zone_radius_m=100)  # zone I radius 100/104000 degrees
    r = 100 / 104000
    # A box whose lower-left corner is 0.8 r right of and above the centre: it meets
    # the zone's bounding box (which reaches r) but not the circle (r / sqrt 2 at 45°).
    box = (x + 0.8 * r, y + 0.8 * r, x + 0.02, y + 0.02)
    across = make_site(db, x + 0.01, box[1], zone_radius_m=100)  # across the lower edge
    inside = make_site(db, x + 0.01, y + 0.01, zone_radius_m=100)
    ids = _ids(client, "protection_zones", box)
    assert f"{outside}-I" not in ids
    assert {f"{across}-I", f"{across}-II", f"{inside}-I", f"{inside}-II"} <= ids
    # Zone II (three times wider) does reach into the corner.
    assert f"{outside}-II" in ids


def test_features_carry_properties_and_geometry(client):
    body = client.get("/api/layers/sites.geojson").get_json()
    da_hoa = [f for f in body["features"] if f["properties"]["name_vi"] == "Đền Đa Hòa"]
    assert len(da_hoa) == 1
    feature = da_hoa[0]
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert 105.8 < lon < 106.1 and 20.7 < lat < 21.0
    assert feature["properties"]["rank"] == "special_national"
    assert feature["properties"]["heritage_id"].startswith("VN-HY-DT-")


def test_drafts_and_sensitive_sites_are_not_public(client, db):
    draft = make_site(db, 105.95, 20.85, name="Bản nháp", status="draft")
    secret = make_site(db, 105.951, 20.851, name="Khảo cổ mật", sensitive=True)
    shown = make_site(db, 105.952, 20.852, name="Công bố")
    names = {f["properties"]["heritage_id"]
             for f in client.get("/api/layers/sites.geojson",
                                 query_string={"bbox": "105.94,20.84,105.96,20.86"})
             .get_json()["features"]}
    assert shown in names
    assert draft not in names and secret not in names
    zones = client.get("/api/layers/protection_zones.geojson",
                       query_string={"bbox": "105.94,20.84,105.96,20.86"}).get_json()
    zone_sites = {f["properties"]["heritage_id"] for f in zones["features"]}
    assert shown in zone_sites and draft not in zone_sites and secret not in zone_sites


def test_limit_and_offset_page_through_all_features(client, db):
    for i in range(25):
        make_site(db, 105.90 + i * 0.001, 20.80, zone_radius_m=None)
    bbox = "105.899,20.799,105.93,20.801"
    seen: list[int] = []
    url = f"/api/layers/sites.geojson?bbox={bbox}&limit=10"
    while url:
        body = client.get(url).get_json()
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
    assert len(seen) == 25 and len(set(seen)) == 25


@pytest.mark.parametrize("query, fragment", [
    ({"bbox": "1,2,3"}, "4 comma-separated numbers"),
    ({"bbox": "a,b,c,d"}, "must be numbers"),
    ({"bbox": "106,21,105,20"}, "minx <= maxx"),
    ({"bbox": "547679,2304201,547800,2304300"}, "WGS84 degrees"),
    ({"bbox": "nan,1,2,3"}, "finite"),
    ({"limit": "0"}, "limit must be between 1 and"),
    ({"limit": "ten"}, "limit must be a whole number"),
    ({"limit": "999999999"}, "limit must be between"),
    ({"offset": "-1"}, "offset must be between"),
])
def test_bad_parameters_get_a_400_with_a_clear_message(client, query, fragment):
    response = client.get("/api/layers/sites.geojson", query_string={**query, "lang": "en"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_input"
    assert fragment in body["message"]


def test_errors_are_in_vietnamese_by_default(client):
    response = client.get("/api/layers/sites.geojson?bbox=1,2,3")
    assert response.status_code == 400
    assert "cần 4 số" in response.get_json()["message"]


def test_unknown_layer_is_a_404_naming_the_layers(client):
    response = client.get("/api/layers/nope.geojson?lang=en")
    assert response.status_code == 404
    assert "protection_zones" in response.get_json()["message"]


def test_layer_index_describes_every_declared_layer(client):
    body = client.get("/api/layers").get_json()
    by_name = {layer["name"]: layer for layer in body["layers"]}
    assert set(by_name) == set(all_layers())
    sites = by_name["sites"]
    assert sites["title"] == {"vi": "Di tích", "en": "Relics"}
    assert sites["geometry_type"] == "Point"
    assert sites["count"] >= 2
    minx, miny, maxx, maxy = sites["bbox"]
    assert 105.8 < minx <= maxx < 106.1 and 20.7 < miny <= maxy < 21.0
    assert by_name["protection_zones"]["count"] >= 2 * sites["count"]


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_bbox_parser_never_crashes(value):
    try:
        box = read_bbox(value)
    except InputError as error:
        assert error.message_en and error.message_vi
    else:
        assert box is None or (box.minx <= box.maxx and box.miny <= box.maxy)
