"""The tile and download caches on disk are keyed by the data stamp (the newest
revision's id and time), not the bare data version: two databases that reached the same
version number with different data (a restore of an older backup, a recreated database)
never serve each other's cached files, even when they share the cache folders.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app import create_app
from gis_app.config import Config
from gis_app.services import data_version, migrations
from tests.conftest import fresh_database
from tests.factories import make_site

PREFIX = os.environ.get("GIS_TEST_DB", "heritage_test")
POINT = (105.95, 20.83)  # lon, lat: the one relic of each database
Z = 14
# The revision id both databases are brought to.
SAME_VERSION = 500_000


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _database(suffix: str, relic_name: str) -> str:
    """A migrated database holding one published relic at POINT named `relic_name`,
    whose newest revision is SAME_VERSION."""
    url = fresh_database(f"{PREFIX}_{suffix}")
    migrations.upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as db, db.begin():
            hid = make_site(db, *POINT, name="tạm", zone_radius_m=None)
            db.execute(text("SELECT setval(pg_get_serial_sequence('revisions', 'id'), :v)"),
                       {"v": SAME_VERSION - 1})
            db.execute(text("UPDATE sites SET name_vi = :n WHERE heritage_id = :h"),
                       {"n": relic_name, "h": hid})
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="module")
def two_databases() -> dict[str, str]:
    return {"Đình Thứ Nhất": _database("stamp_a", "Đình Thứ Nhất"),
            "Chùa Thứ Hai": _database("stamp_b", "Chùa Thứ Hai")}


def _state(url: str) -> tuple[int, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return data_version.current(conn), data_version.stamp(conn)
    finally:
        engine.dispose()


def _client(url: str, caches: Path):
    return create_app(Config(
        DATABASE_URL=url, SECRET_KEY="stamp-test", TESTING=True, RATELIMIT_ENABLED=False,
        TILE_CACHE_DIR=str(caches / "tiles"),
        DOWNLOAD_CACHE_DIR=str(caches / "downloads"))).test_client()


def test_the_two_databases_share_a_version_number_but_not_a_stamp(two_databases):
    (version_a, stamp_a), (version_b, stamp_b) = map(_state, two_databases.values())
    assert version_a == version_b == SAME_VERSION
    assert stamp_a != stamp_b


def test_a_cached_tile_of_one_database_is_never_served_for_another(two_databases,
                                                                     tmp_path):
    x, y = _tile(*POINT, Z)
    path = f"/tiles/sites/{Z}/{x}/{y}.mvt"
    answers = {}
    for name, url in two_databases.items():
        client = _client(url, tmp_path)  # both apps share the cache folder
        first = client.get(path)
        assert first.status_code == 200
        assert name.encode() in first.get_data()
        # Within one data state the tile is the cached one, with the same tag.
        again = client.get(path)
        assert again.get_data() == first.get_data()
        assert again.headers["ETag"] == first.headers["ETag"]
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}) \
            .status_code == 304
        answers[name] = first
    one, two = answers.values()
    assert "Đình Thứ Nhất".encode() not in two.get_data()
    assert one.headers["ETag"] != two.headers["ETag"]
    # The cache keeps one data state per layer: the second database's tile replaced it.
    (cached,) = (tmp_path / "tiles").glob(f"public/sites/*/{Z}/{x}/{y}.mvt")
    assert cached.read_bytes() == two.get_data()


def test_a_cached_download_of_one_database_is_never_served_for_another(two_databases,
                                                                         tmp_path):
    answers = {}
    for name, url in two_databases.items():
        client = _client(url, tmp_path)
        first = client.get("/data/sites.geojson")
        assert first.status_code == 200
        names = [f["properties"]["name_vi"] for f in first.get_json()["features"]]
        assert names == [name]
        again = client.get("/data/sites.geojson",
                           headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304
        answers[name] = first
    one, two = answers.values()
    assert one.headers["ETag"] != two.headers["ETag"]
    assert len(list((tmp_path / "downloads").glob("v*/sites-4326.geojson"))) == 2
