"""The lean read path (db.Database.lean) answers what the slow path answers.

The public's GeoJSON, OGC API items and single zone checks run on an autocommit psycopg
connection with prepared statements instead of an ORM session; public GeoJSON carries
an ETag of (layer, query, data version) and a repeat costs a 304. Each fast answer is
compared with the slow one (the ORM session's) on the same generated data and inputs.
"""
from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from shapely.geometry import Point, box, mapping
from sqlalchemy import event, text

from gis_app import create_app
from gis_app.db import EXT, PUBLIC_STATEMENT_TIMEOUT_MS
from gis_app.ogc.crs import BY_URI
from gis_app.ogc.query import ItemsQuery, read_items
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


EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
# Queries an OGC client sends: boxes (also in EPSG:4326's latitude-first order), pages
# by offset, CQL2 filters in text and JSON, projected output, dates on zones.
OGC_QUERIES = [
    ("sites", {"bbox": "105.9,20.8,105.96,20.86"}),
    ("sites", {"bbox": ",".join(map(str, AREA)), "limit": 7}),
    ("sites", {"bbox": ",".join(map(str, AREA)), "limit": 7, "offset": 14}),
    ("sites", {"bbox": "20.8,105.9,20.9,106.0", "bbox-crs": EPSG + "4326", "limit": 50}),
    ("sites", {"filter": "name_vi LIKE 'Đình sinh thử 1%' AND rank <> 'national'"}),
    ("sites", {"filter": json.dumps({"op": "s_intersects", "args": [
        {"property": "geometry"}, {"type": "Polygon", "coordinates": [[
            [105.9, 20.8], [106.0, 20.8], [106.0, 20.9], [105.9, 20.8]]]}]}),
               "filter-lang": "cql2-json", "limit": 30}),
    ("sites", {"crs": EPSG + "9209", "bbox": "105.9,20.8,106.0,20.9", "limit": 40}),
    ("sites", {"crs": EPSG + "4326", "limit": 3, "offset": 5}),
    ("protection_zones", {"bbox": "105.9,20.8,105.96,20.86", "datetime": "2020-01-01/.."}),
    ("protection_zones", {"crs": EPSG + "9209", "limit": 25, "offset": 25}),
    ("protection_zones", {"filter": "zone = 'II'", "limit": 10}),
]


def _session_statements(connection, seen: list[str]):
    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)
    event.listen(connection, "before_cursor_execute", record)
    return record


@time_machine.travel(datetime(2026, 12, 3, 3, 0, tzinfo=UTC), tick=False)
def test_a_visitors_ogc_items_are_the_session_answer_byte_for_byte(
        app, client, db, auth, connection, generated):
    create_user(db, "ogc-fast-reviewer", PASSWORD, "district_reviewer")
    auth.login("ogc-fast-reviewer", PASSWORD)
    visitor = app.test_client()
    pages = features_seen = 0
    for collection, query in OGC_QUERIES:
        url = f"/ogc/collections/{collection}/items"
        params = {"f": "json", **query}
        for _ in range(3):  # the page, then the next links (`after`) as a client follows
            seen: list[str] = []
            record = _session_statements(connection, seen)
            try:
                lean = visitor.get(url, query_string=params)
            finally:
                event.remove(connection, "before_cursor_execute", record)
            official = client.get(url, query_string=params)
            assert lean.status_code == official.status_code == 200, \
                (collection, params, lean.get_data(as_text=True))
            # The visitor's page and its data version were read on the lean path.
            assert not [s for s in seen if "revisions" in s or "keys AS" in s], seen
            assert lean.get_data() == official.get_data(), (collection, params)
            for header in ("ETag", "Content-Crs", "Content-Type", "Cache-Control"):
                assert lean.headers.get(header) == official.headers.get(header), header
            # A visitor's repeat costs a 304 with the same tag.
            again = visitor.get(url, query_string=params,
                                headers={"If-None-Match": lean.headers["ETag"]})
            assert again.status_code == 304 and again.headers["ETag"] == lean.headers["ETag"]
            body = lean.get_json()
            pages += 1
            features_seen += len(body["features"])
            nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
            if not nxt:
                break
            parts = urlsplit(nxt[0])
            url, params = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert pages > len(OGC_QUERIES) and features_seen > 300
    # Nothing the public may not see: no drafts (every 9th relic from the first).
    names = {f["properties"].get("name_vi") for f in visitor.get(
        "/ogc/collections/sites/items", query_string={"f": "json", "limit": 1000}
    ).get_json()["features"]}
    assert "Đình sinh thử 1" in names and "Đình sinh thử 9" not in names


def test_a_visitors_bad_ogc_filter_is_the_same_400(app, client, db, auth):
    create_user(db, "ogc-fast-reviewer", PASSWORD, "district_reviewer")
    auth.login("ogc-fast-reviewer", PASSWORD)
    query = {"f": "json", "filter": "no_such_property = 1"}
    lean = app.test_client().get("/ogc/collections/sites/items", query_string=query)
    official = client.get("/ogc/collections/sites/items", query_string=query)
    assert lean.status_code == official.status_code == 400
    assert lean.get_json() == official.get_json()
    assert "no_such_property" in lean.get_json()["description"]


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
    # OGC items too, twice (the second runs the statement prepared by the first).
    crs = BY_URI[EPSG + "9209"]
    with app.app_context():
        with database.session() as session:
            page = read_items(session, get_layer("protection_zones"),
                              ItemsQuery(limit=50, offset=10, crs=crs))
    for _ in range(2):
        ogc = client.get("/ogc/collections/protection_zones/items", query_string={
            "f": "json", "limit": 50, "offset": 10, "crs": crs.uri}).get_json()
        assert ogc["features"] == json.loads(page.features) and ogc["features"]
        assert ogc["numberReturned"] == page.returned
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
                     client.get("/ogc/collections/sites/items?f=json&bbox=105.9,20.8,106,20.9"),
                     client.post("/api/zone-check", json=mapping(Point(105.95, 20.85)))):
        assert response.status_code == 503
        assert response.get_json()["error"] == "unavailable"
