"""Vector tiles /tiles/<layer>/{z}/{x}/{y}.mvt, /tiles/{z}/{x}/{y}.mvt and their TileJSON,
decoded with mapbox_vector_tile and compared with what the database holds over the same
tile envelope, on real PostGIS."""
from __future__ import annotations

import json
import math
import os
import random
from urllib.parse import urlsplit

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from gis_app.services import lifecycle
from gis_app.services.accounts import create_user
from tests.factories import make_site

PASSWORD = "a long enough password"
EXTENT = 4096
BUFFER = 64
# A small part of Khoái Châu where the generated relics are put.
AREA = (105.940, 20.820, 105.965, 20.842)


@pytest.fixture(autouse=True)
def tile_cache(app, tmp_path, monkeypatch):
    """Each test gets its own tile cache (the app is shared by the session)."""
    folder = tmp_path / "tiles"
    monkeypatch.setitem(app.config, "TILE_CACHE_DIR", str(folder))
    return folder


def position(lon: float, lat: float, z: int) -> tuple[int, int, float, float]:
    """The tile (x, y) holding a point at zoom z and the point's position in it, in tile
    units (0..4096, y down): Web Mercator as in the OSM slippy-map formulas."""
    n = 2 ** z
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    x, y = int(fx), int(fy)
    return x, y, (fx - x) * EXTENT, (fy - y) * EXTENT


def decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})


def get_tile(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    return decode(response.get_data()) if response.status_code == 200 else {}


def features_by_id(tile: dict, layer: str) -> dict[str, dict]:
    return {f["properties"]["id"]: f for f in tile.get(layer, {}).get("features", [])}


def public_points(db) -> dict[str, tuple[float, float]]:
    """Every relic the public may see, by identifier (published and not sensitive)."""
    return {hid: (x, y) for hid, x, y in db.execute(text(
        "SELECT heritage_id, ST_X(geom), ST_Y(geom) FROM sites "
        "WHERE status = 'published' AND NOT sensitive"))}


def zones_touching(db, z: int, x: int, y: int, margin: float) -> set[str]:
    """Public zones in force today meeting the tile's envelope grown by `margin`."""
    return set(db.scalars(text("""
        SELECT s.heritage_id || '-' || pz.zone
          FROM protection_zones pz JOIN sites s ON s.id = pz.site_id
         WHERE s.status = 'published' AND NOT s.sensitive
           AND (pz.valid_from IS NULL OR pz.valid_from <= current_date)
           AND (pz.valid_to IS NULL OR pz.valid_to >= current_date)
           AND ST_Intersects(pz.geom, ST_Transform(
                 ST_TileEnvelope(:z, :x, :y, margin => :m), 4326))"""),
        {"z": z, "x": x, "y": y, "m": margin}))


@pytest.fixture
def generated(db):
    """200 relics with zones I/II in AREA: most published, some drafts, some sensitive."""
    rng = random.Random(20261203)
    made = {"published": [], "draft": [], "sensitive": []}
    for i in range(200):
        kind = "draft" if i % 10 == 0 else "sensitive" if i % 10 == 1 else "published"
        hid = make_site(db, rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3]),
                        name=f"Đình Thử Ô {i}", status="draft" if kind == "draft" else
                        "published", sensitive=kind == "sensitive",
                        zone_radius_m=rng.choice([None, 30, 60]))
        made[kind].append(hid)
    return made


def test_relic_tiles_hold_exactly_the_public_relics_placed_where_they_are(client, db,
                                                                          generated):
    points = public_points(db)
    hidden = set(generated["draft"]) | set(generated["sensitive"])
    centre = ((AREA[0] + AREA[2]) / 2, (AREA[1] + AREA[3]) / 2)
    checked = 0
    for z in (13, 15, 16):
        cx, cy, _, _ = position(*centre, z)
        for x, y in ((cx, cy), (cx + 1, cy), (cx, cy - 1), (cx - 1, cy + 1)):
            tile = get_tile(client, f"/tiles/sites/{z}/{x}/{y}.mvt")
            got = features_by_id(tile, "sites")
            inside, near = set(), set()
            for hid, (lon, lat) in points.items():
                tx, ty, px, py = position(lon, lat, z)
                # The point's position relative to this tile, in tile units.
                rx, ry = px + (tx - x) * EXTENT, py + (ty - y) * EXTENT
                if 0 <= rx < EXTENT and 0 <= ry < EXTENT:
                    inside.add(hid)
                if -BUFFER - 1 <= rx <= EXTENT + BUFFER + 1 and \
                        -BUFFER - 1 <= ry <= EXTENT + BUFFER + 1:
                    near.add(hid)
                    if hid in got:
                        gx, gy = got[hid]["geometry"]["coordinates"]
                        assert abs(gx - rx) <= 1 and abs(gy - ry) <= 1, (hid, z, x, y)
            assert inside <= set(got) <= near, (z, x, y)
            assert not set(got) & hidden
            checked += len(inside)
    assert checked > 100  # the tiles did hold the generated relics


def test_relic_properties_keep_vietnamese_and_the_permanent_id(client, db):
    hid = make_site(db, 105.9512, 20.8311, name="Đền Thử Thuộc Tính", rank="national")
    x, y, _, _ = position(105.9512, 20.8311, 16)
    feature = features_by_id(get_tile(client, f"/tiles/sites/16/{x}/{y}.mvt"), "sites")[hid]
    props = feature["properties"]
    assert props["name_vi"] == "Đền Thử Thuộc Tính"
    assert props["heritage_id"] == hid
    assert props["rank"] == "national"
    assert json.loads(props["types"]) == ["historical"]
    assert feature["geometry"]["type"] == "Point"


def test_zone_tiles_hold_the_public_zones_over_the_tile(client, db, generated):
    hidden = set(generated["draft"]) | set(generated["sensitive"])
    centre = ((AREA[0] + AREA[2]) / 2, (AREA[1] + AREA[3]) / 2)
    checked = 0
    for z in (13, 15, 16):
        cx, cy, _, _ = position(*centre, z)
        for x, y in ((cx, cy), (cx - 1, cy), (cx, cy + 1)):
            got = features_by_id(get_tile(client, f"/tiles/protection_zones/{z}/{x}/{y}.mvt"),
                                 "protection_zones")
            core = zones_touching(db, z, x, y, 0)
            grown = zones_touching(db, z, x, y, BUFFER / EXTENT)
            assert core <= set(got) <= grown, (z, x, y)
            assert not {i.rsplit("-", 1)[0] for i in got} & hidden
            for fid, feature in got.items():
                assert feature["properties"]["zone"] == fid.rsplit("-", 1)[1]
                assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
            checked += len(core)
    assert checked > 50


def test_drafts_and_sensitive_relics_only_for_reviewers(client, auth, db):
    create_user(db, "tiles-reviewer", PASSWORD, "district_reviewer")
    draft = make_site(db, 105.9531, 20.8322, name="Đình Nháp", status="draft")
    secret = make_site(db, 105.9532, 20.8323, name="Miếu Kín", sensitive=True)
    public = make_site(db, 105.9533, 20.8321, name="Đình Công Khai")
    x, y, _, _ = position(105.9532, 20.8322, 15)
    for path in (f"/tiles/sites/15/{x}/{y}.mvt", f"/tiles/15/{x}/{y}.mvt"):
        seen = features_by_id(get_tile(client, path), "sites")
        assert public in seen and draft not in seen and secret not in seen
        zones = features_by_id(get_tile(client, f"/tiles/15/{x}/{y}.mvt"),
                               "protection_zones")
        assert f"{public}-I" in zones and f"{draft}-I" not in zones

    auth.login("tiles-reviewer", PASSWORD)
    response = client.get(f"/tiles/sites/15/{x}/{y}.mvt")
    assert response.headers["Cache-Control"] == "private, no-store"
    seen = features_by_id(decode(response.get_data()), "sites")
    assert {draft, secret, public} <= set(seen)
    assert seen[secret]["properties"]["name_vi"] == "Miếu Kín"


def test_etag_gives_304_and_a_published_relic_changes_etag_and_tile(client, db):
    reviewer = create_user(db, "tiles-publisher", PASSWORD, "district_reviewer")
    draft = make_site(db, 105.9541, 20.8331, name="Đình Sắp Công Bố", status="draft")
    x, y, _, _ = position(105.9541, 20.8331, 16)
    path = f"/tiles/sites/16/{x}/{y}.mvt"
    first = client.get(path)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert draft not in features_by_id(decode(first.get_data()), "sites")

    lifecycle.publish(db, reviewer, [draft])
    db.flush()
    after = client.get(path, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    feature = features_by_id(decode(after.get_data()), "sites")[draft]
    assert feature["properties"]["name_vi"] == "Đình Sắp Công Bố"


def test_tilejson_hands_out_versioned_urls_that_are_cached_for_good(client, db):
    make_site(db, 105.9551, 20.8341, name="Đình Theo TileJSON")
    response = client.get("/tiles/protection_zones.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["tilejson"] == "3.0.0"
    assert body["name"] == "Khu vực bảo vệ di tích"
    assert body["minzoom"] == 12 and body["maxzoom"] == 22
    assert [v["id"] for v in body["vector_layers"]] == ["protection_zones"]
    assert {"id", "zone", "heritage_id"} <= set(body["vector_layers"][0]["fields"])
    template = body["tiles"][0]
    assert "/tiles/protection_zones/{z}/{x}/{y}.mvt?v=" in template
    x, y, _, _ = position(105.9551, 20.8341, 16)
    url = template.replace("{z}", "16").replace("{x}", str(x)).replace("{y}", str(y))
    parts = urlsplit(url)
    tile = client.get(f"{parts.path}?{parts.query}")
    assert tile.status_code == 200
    assert tile.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "protection_zones" in decode(tile.get_data())

    combined = client.get("/tiles.json?lang=en").get_json()
    assert combined["name"] == "Heritage map of Khoái Châu"
    names = [v["id"] for v in combined["vector_layers"]]
    assert {"sites", "protection_zones", "communes", "rivers"} <= set(names)
    assert combined["tiles"][0].split("?")[0].endswith("/tiles/{z}/{x}/{y}.mvt")


def test_combined_tile_holds_each_layer_from_its_min_zoom(client, db):
    make_site(db, 105.9561, 20.8351, name="Đình Ô Gộp")
    x, y, _, _ = position(105.9561, 20.8351, 11)
    low = get_tile(client, f"/tiles/11/{x}/{y}.mvt")
    assert "communes" in low and "sites" in low
    assert "protection_zones" not in low  # zones start at zoom 12
    x, y, _, _ = position(105.9561, 20.8351, 16)
    high = get_tile(client, f"/tiles/16/{x}/{y}.mvt")
    assert {"communes", "sites", "protection_zones"} <= set(high)


def test_empty_tile_is_204_and_the_cache_keeps_rendered_tiles(client, db, tile_cache):
    empty = client.get("/tiles/sites/10/300/400.mvt")  # the Atlantic
    assert empty.status_code == 204 and empty.get_data() == b""
    hid = make_site(db, 105.9571, 20.8361, name="Đình Trong Bộ Đệm")
    x, y, _, _ = position(105.9571, 20.8361, 14)
    first = client.get(f"/tiles/sites/14/{x}/{y}.mvt")
    cached = list(tile_cache.glob(f"public/sites/*/14/{x}/{y}.mvt"))
    assert len(cached) == 1 and cached[0].read_bytes() == first.get_data()
    assert hid in features_by_id(decode(client.get(f"/tiles/sites/14/{x}/{y}.mvt")
                                        .get_data()), "sites")


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/tiles/sites/abc/1/2.mvt", 400, "với các số nguyên"),
    ("/tiles/sites/23/0/0.mvt", 400, "từ 0 đến 22"),
    ("/tiles/sites/-1/0/0.mvt", 400, "từ 0 đến 22"),
    ("/tiles/sites/3/8/0.mvt", 400, "x và y đi từ 0 đến 7"),
    ("/tiles/sites/3/1.5/0.mvt", 400, "với các số nguyên"),
    ("/tiles/99999999999999999999/0/0.mvt", 400, "từ 0 đến 22"),
    ("/tiles/protection_zones/5/25/14.mvt", 404, "từ mức thu phóng 12"),
    ("/tiles/no_such_layer/1/1/1.mvt", 404, "Không có lớp 'no_such_layer'"),
    ("/tiles/no_such_layer.json", 404, "Không có lớp 'no_such_layer'"),
    ("/tiles/sites/1/1/1/1.mvt", 404, "Không có trang nào"),
])
def test_bad_tile_addresses_are_told_what_to_send(client, path, status, message):
    response = client.get(path)
    assert response.status_code == status
    body = response.get_json()
    assert message in body["message"], body


def test_an_edit_without_a_revision_reaches_tiles_when_the_cached_tile_ages_out(
        client, db, tile_cache):
    """The basemap keeps no revisions, so the data version does not move when a river is
    renamed: the cached tile is served until it is TILE_CACHE_SECONDS old."""
    river_id, lon, lat = db.execute(text(
        "SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
        "FROM basemap_features WHERE kind = 'river' ORDER BY id LIMIT 1")).one()
    x, y, _, _ = position(lon, lat, 14)
    path = f"/tiles/rivers/14/{x}/{y}.mvt"

    def names() -> set[str]:
        return {f["properties"].get("name_vi") for f in
                get_tile(client, path)["rivers"]["features"]}

    assert "Sông Thử Đổi Tên" not in names()
    db.execute(text("UPDATE basemap_features SET name_vi = 'Sông Thử Đổi Tên' WHERE id = :i"),
               {"i": river_id})
    db.flush()
    assert "Sông Thử Đổi Tên" not in names()  # the cached tile, same data version
    (cached,) = tile_cache.glob(f"public/rivers/*/14/{x}/{y}.mvt")
    old = cached.stat().st_mtime - client.application.config["TILE_CACHE_SECONDS"] - 1
    os.utime(cached, (old, old))
    assert "Sông Thử Đổi Tên" in names()
