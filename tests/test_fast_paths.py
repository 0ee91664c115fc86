"""The lean read path (db.Database.lean) answers what the slow path answers.

The public's GeoJSON and single zone checks run on an autocommit psycopg connection
with prepared statements instead of an ORM session; public GeoJSON carries an ETag of
(layer, query, data version) and a repeat costs a 304. Each fast answer is compared
with the slow one (the ORM session's) on the same generated data and inputs.
"""
from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest
from shapely.geometry import Point, box, mapping
from sqlalchemy import text

from gis_app import create_app
from gis_app.db import EXT, PUBLIC_STATEMENT_TIMEOUT_MS
from gis_app.services import features, zone_check
from gis_app.services.accounts import create_user
from layers import get_layer
from tests.conftest import test_config as config_for
from tests.factories import make_site

AREA = (105.86, 20.74, 106.02, 20.93)  # Khoái Châu, roughly
PASSWORD = "fast-path-password-1"


@pytest.fixture
def generated(db) -> list[tuple[float, float]]:
    """250 relics in the district: most published, some drafts and sensitive ones
    (which the public must not get), some with an English name, some without."""
    rng = random.Random(20261203)
    points = []
    for i in range(250):
        lon, lat = rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3])
        make_site(db, lon, lat, name=f"Đình sinh thử {i}",
                  status="draft" if i % 9 == 0 else "published", sensitive=i % 13 == 0,
                  zone_radius_m=rng.choice([None, 40, 150]))
        points.append((lon, lat))
    db.execute(text("UPDATE sites SET name_en = 'Communal house ' || id "
                    "WHERE name_vi LIKE 'Đình sinh thử %' AND id % 2 = 0"))
    db.flush()
    return points


def _boxes(seed: int) -> list[tuple[float, float, float, float]]:
    rng = random.Random(seed)
    out = []
    for size in (0.004, 0.03, 0.15):
        for _ in range(4):
            x = rng.uniform(AREA[0] - 0.01, AREA[2] - size)
            y = rng.uniform(AREA[1] - 0.01, AREA[3] - size)
            out.append((round(x, 6), round(y, 6), round(x + size, 6), round(y + size, 6)))
    return out


def _slow(db, layer_name: str, bbox, limit: int, offset: int, next_href: str) -> str:
    return features.layer_geojson(db, get_layer(layer_name), features.BBox(*bbox),
                                  features.Page(limit, offset), None, next_href=next_href)


def test_public_geojson_is_the_slow_answer_byte_for_byte(client, db, generated):
    compared = features_seen = 0
    for layer in ("sites", "protection_zones"):
        for bbox in _boxes(7):
            for limit, offset in ((1000, 0), (7, 0), (7, 7), (5, 10_000)):
                response = client.get(f"/api/layers/{layer}.geojson", query_string={
                    "bbox": ",".join(map(str, bbox)), "limit": limit, "offset": offset})
                assert response.status_code == 200
                lean = response.get_data(as_text=True)
                body = json.loads(lean)
                next_href = body["links"][0]["href"] if body["links"] else ""
                assert lean == _slow(db, layer, bbox, limit, offset, next_href), \
                    (layer, bbox, limit, offset)
                compared += 1
                features_seen += len(body["features"])
    assert compared == 2 * 12 * 4 and features_seen > 500


def test_public_geojson_is_compact_and_leaves_out_empty_properties(client, db, generated):
    body = client.get("/api/layers/sites.geojson",
                      query_string={"bbox": ",".join(map(str, AREA))}).get_data(as_text=True)
    assert '" : ' not in body and ", " not in body.split('"features"')[0]
    sites = {f["properties"]["name_vi"]: f for f in json.loads(body)["features"]}
    named = [f for f in sites.values() if "name_en" in f["properties"]]
    unnamed = [f for f in sites.values() if f["properties"]["name_vi"].startswith("Đình sinh")
               and "name_en" not in f["properties"]]
    assert named and unnamed, "both kinds of relic are in the district"
    assert all(f["properties"]["name_en"] for f in named)
    assert all(None not in f["properties"].values() for f in sites.values())
    # Drafts and sensitive relics stay out of the public's answer.
    assert not any(name.endswith((" 0", " 9", " 13")) for name in sites)


def test_officials_keep_the_session_path_uncached_and_see_drafts(client, db, auth,
                                                                 generated):
    create_user(db, "fast-reviewer", PASSWORD, "district_reviewer")
    query = {"bbox": ",".join(map(str, AREA)), "limit": 10000}
    public = client.get("/api/layers/sites.geojson", query_string=query)
    assert public.headers["Cache-Control"] == "public, max-age=60" and public.headers["ETag"]
    auth.login("fast-reviewer", PASSWORD)
    official = client.get("/api/layers/sites.geojson", query_string=query)
    assert official.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in official.headers
    names = {f["properties"]["name_vi"] for f in official.get_json()["features"]}
    assert "Đình sinh thử 9" in names  # a draft
    assert "Đình sinh thử 9" not in {f["properties"]["name_vi"]
                                      for f in public.get_json()["features"]}
    # The same request with an old tag is answered in full, never 304, for officials.
    again = client.get("/api/layers/sites.geojson", query_string=query,
                       headers={"If-None-Match": public.headers["ETag"]})
    assert again.status_code == 200 and again.get_json()["features"]


def test_a_repeated_box_is_a_304_until_the_data_changes(client, db, generated):
    query = {"bbox": "105.9,20.8,105.96,20.86", "limit": 500}
    first = client.get("/api/layers/sites.geojson", query_string=query)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('W/"')
    repeat = client.get("/api/layers/sites.geojson", query_string=query,
                        headers={"If-None-Match": tag})
    assert repeat.status_code == 304 and repeat.get_data() == b""
    assert repeat.headers["ETag"] == tag
    # Another box, page or layer is another answer.
    for other_layer, other in (("sites", dict(query, limit=499)),
                               ("sites", dict(query, bbox="105.9,20.8,105.96,20.87")),
                               ("protection_zones", query)):
        answer = client.get(f"/api/layers/{other_layer}.geojson", query_string=other,
                            headers={"If-None-Match": tag})
        assert answer.status_code == 200 and answer.headers["ETag"] != tag
    # An edit (any audited change) makes the old copy stale: the new name is served.
    feature = first.get_json()["features"][0]
    db.execute(text("UPDATE sites SET name_vi = 'Đình đã sửa tên' WHERE heritage_id = :h"),
               {"h": feature["id"]})
    db.flush()
    after = client.get("/api/layers/sites.geojson", query_string=query,
                       headers={"If-None-Match": tag})
    assert after.status_code == 200 and after.headers["ETag"] != tag
    renamed = [f for f in after.get_json()["features"] if f["id"] == feature["id"]]
    assert renamed[0]["properties"]["name_vi"] == "Đình đã sửa tên"


def test_a_compressed_answer_revalidates_with_its_tag(client, generated):
    query = {"bbox": ",".join(map(str, AREA))}
    first = client.get("/api/layers/sites.geojson", query_string=query,
                       headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    repeat = client.get("/api/layers/sites.geojson", query_string=query,
                        headers={"Accept-Encoding": "gzip",
                                 "If-None-Match": first.headers["ETag"]})
    assert repeat.status_code == 304


def _parcels(points: list[tuple[float, float]]) -> list[dict]:
    """Parcels on relics (touching zones), beside them, far from any, and a point."""
    rng = random.Random(5)
    out = []
    for lon, lat in points[:40]:
        dx, dy = rng.uniform(-0.002, 0.002), rng.uniform(-0.002, 0.002)
        out.append(mapping(box(lon + dx - 0.0004, lat + dy - 0.0003,
                               lon + dx + 0.0004, lat + dy + 0.0003)))
    out.append(mapping(box(105.70, 20.60, 105.701, 20.601)))  # outside: the nearest relic
    out.append(mapping(Point(*points[1])))
    return out


def test_a_visitors_zone_check_is_the_slow_answer(client, db, generated):
    parcels = _parcels(generated)
    hits = 0
    for parcel in parcels:
        response = client.post("/api/zone-check", json=parcel)
        assert response.status_code == 200, response.get_data(as_text=True)
        lean = response.get_json()["results"]
        shape = zone_check.read_geometry(parcel)[0]
        slow = [zone_check.check_parcel(db, shape).as_dict()]
        assert lean == json.loads(json.dumps(slow)), parcel
        hits += len(lean[0]["hits"])
    assert hits > 10  # the parcels on relics did touch zones
    # Several parcels at once: one result each, in order, as the slow path gives them.
    many = client.post("/api/zone-check", json={"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": p, "properties": {}} for p in parcels[:6]]})
    assert many.get_json()["results"] == json.loads(json.dumps(
        [zone_check.check_parcel(db, s).as_dict()
         for s in zone_check.read_geometry({"type": "FeatureCollection", "features": [
             {"type": "Feature", "geometry": p} for p in parcels[:6]]})]))


def test_a_visitors_zone_check_leaves_out_draft_relics(client, db, generated):
    draft = generated[9]  # i % 9 == 0: a draft (generated's 10th relic)
    parcel = mapping(Point(*draft).buffer(0.0002))
    results = client.post("/api/zone-check", json=parcel).get_json()["results"][0]
    assert all("Đình sinh thử 9" != h["site_name_vi"] for h in results["hits"])


# --- the lean path's own connections (no test transaction to borrow) -----------------

def test_the_lean_pool_is_autocommit_and_bounded_for_visitors(database_url):
    app = create_app(config_for(database_url))
    database = app.extensions[EXT]
    with database.lean() as conn:
        assert conn.autocommit
        timeout = conn.execute("SHOW statement_timeout").fetchone()[0]
        assert timeout == f"{PUBLIC_STATEMENT_TIMEOUT_MS // 1000}s"
        assert conn.execute("SHOW jit").fetchone()[0] == "off"
    # Over committed (demo) data, the lean answer equals a session's.
    client = app.test_client()
    lean = client.get("/api/layers/protection_zones.geojson").get_data(as_text=True)
    with app.app_context():
        with database.session() as session:
            slow = features.layer_geojson(session, get_layer("protection_zones"), None,
                                          features.Page(5000, 0), None)
    assert lean == slow and json.loads(lean)["features"]
    database.dispose()


def test_visitors_read_layers_from_the_replica_and_check_zones_on_the_primary(
        database_url):
    replica_down = replace(config_for(database_url),
                           READ_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/x")
    client = create_app(replica_down).test_client()
    layer = client.get("/api/layers/sites.geojson?lang=en")
    assert layer.status_code == 503 and layer.get_json()["error"] == "unavailable"
    assert "cannot be reached" in layer.get_json()["message"]
    check = client.post("/api/zone-check", json=mapping(Point(105.95, 20.85).buffer(0.001)))
    assert check.status_code == 200 and check.get_json()["results"][0]["nearest"]


def test_visitors_hear_the_database_is_down_on_the_lean_path(database_url):
    down = replace(config_for(database_url),
                   DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/heritage")
    client = create_app(down).test_client()
    for response in (client.get("/api/layers/sites.geojson?bbox=105.9,20.8,106,20.9"),
                     client.post("/api/zone-check", json=mapping(Point(105.95, 20.85)))):
        assert response.status_code == 503
        assert response.get_json()["error"] == "unavailable"
