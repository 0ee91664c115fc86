"""Open-data downloads, catalogue, data dictionary and DCAT-AP (/data).

Every download is read back with pyogrio (GDAL) and compared with the database queried
directly: ids, counts, names with diacritics, geometries to 0.01 m, the CRS."""
from __future__ import annotations

import gzip
import html
import io
import json
import os
import random
import time
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from sqlalchemy import text

from gis_app.clock import today_in_vietnam
from layers import all_layers
from tests.factories import make_site

KNOWN = (105.96, 20.83)  # lon, lat; EPSG:9209 E 547 679.957 N 2 304 201.899 (domain/crs.md)
TO_VN2000 = pyproj.Transformer.from_crs(4326, 9209, always_xy=True)


@pytest.fixture
def cache_dir(app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "downloads"
    monkeypatch.setitem(app.config, "DOWNLOAD_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def generated(db) -> dict[str, list[str]]:
    """Relics over the district: published ones, drafts and sensitive ones, Vietnamese
    names, one at the known point; returns their heritage ids by kind."""
    rng = random.Random(14)
    out: dict[str, list[str]] = {"published": [], "draft": [], "sensitive": []}
    out["published"].append(make_site(db, *KNOWN, name="Đền Đa Hòa thử tải về",
                                      rank="national"))
    for i in range(150):
        kind = rng.choices(["published", "draft", "sensitive"], [8, 1, 1])[0]
        lon, lat = rng.uniform(105.88, 106.02), rng.uniform(20.78, 20.90)
        hid = make_site(db, lon, lat, name=f"Đình làng Ứng Hòa số {i} – Khoái Châu",
                        rank=rng.choice(["national", "provincial", "inventoried"]),
                        status="draft" if kind == "draft" else "published",
                        sensitive=kind == "sensitive", zone_radius_m=40 if i % 5 == 0 else None)
        out[kind].append(hid)
    db.flush()  # the app's sessions share the test's connection
    return out


def public_sites(db) -> dict[str, tuple[str, float, float]]:
    """The relics the public may see, straight from the table."""
    rows = db.execute(text("""SELECT heritage_id, name_vi, ST_X(geom), ST_Y(geom) FROM sites
                               WHERE status = 'published' AND NOT sensitive""")).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def public_zones(db) -> dict[str, shapely.Geometry]:
    rows = db.execute(text("""
        SELECT s.heritage_id || '-' || z.zone, ST_AsBinary(z.geom)
          FROM protection_zones z JOIN sites s ON s.id = z.site_id
         WHERE s.status = 'published' AND NOT s.sensitive
           AND (z.valid_from IS NULL OR z.valid_from <= :today)
           AND (z.valid_to IS NULL OR z.valid_to >= :today)"""),
        {"today": today_in_vietnam()}).all()
    return {r[0]: shapely.from_wkb(bytes(r[1])) for r in rows}


def fetch(client, url: str, tmp_path: Path, name: str) -> Path:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    path = tmp_path / name
    path.write_bytes(response.get_data())
    return path


def read_back(path: Path, layer: str | None = None):
    """The file as GDAL reads it (a zip through /vsizip/)."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            shp = [n for n in archive.namelist() if n.endswith(".shp") and
                   (layer is None or n.startswith(layer))]
        return pyogrio.read_dataframe(f"/vsizip/{path}/{shp[0]}")
    return pyogrio.read_dataframe(path, layer=layer)


def in_vn2000(lon: float, lat: float) -> shapely.Point:
    return shapely.Point(*TO_VN2000.transform(lon, lat))


FORMATS_4326 = [("sites.geojson", None), ("sites.gpkg", "sites"), ("sites.shp.zip", None),
                ("sites.csv", None), ("sites.kml", None)]


@pytest.mark.parametrize("filename,layer", FORMATS_4326)
def test_sites_download_in_wgs84_matches_the_database(client, db, generated, cache_dir,
                                                      tmp_path, filename, layer):
    truth = public_sites(db)
    frame = read_back(fetch(client, f"/data/{filename}", tmp_path, filename), layer)
    if filename.endswith(".csv"):  # GDAL reads the WKT column; id is a text column
        frame = frame.set_crs(4326, allow_override=True) if frame.crs is None else frame
    ids = list(frame["id"]) if "id" in frame.columns else list(frame.index)
    assert sorted(ids) == sorted(truth)
    assert not set(ids) & set(generated["draft"] + generated["sensitive"])
    assert frame.crs is None or frame.crs.to_epsg() == 4326
    names = dict(zip(ids, frame["name_vi"], strict=True))
    assert names[generated["published"][0]] == "Đền Đa Hòa thử tải về"
    assert all(names[h] == truth[h][0] for h in ids)
    for hid, geom in zip(ids, frame.geometry, strict=True):
        _, lon, lat = truth[hid]
        assert in_vn2000(geom.x, geom.y).distance(in_vn2000(lon, lat)) < 0.01, hid


def test_csv_carries_wkt_and_lon_lat(client, db, generated, cache_dir, tmp_path):
    body = client.get("/data/sites.csv").get_data(as_text=True)
    header = body.splitlines()[0].split(",")
    assert header[0] == "WKT" and "lon" in header and "lat" in header
    truth = public_sites(db)
    path = tmp_path / "s.csv"
    path.write_text(body, encoding="utf-8")
    table = pyogrio.read_dataframe(path, read_geometry=False)
    for hid, lon, lat in zip(table["id"], table["lon"], table["lat"], strict=True):
        assert abs(float(lon) - truth[hid][1]) < 1e-7 and abs(float(lat) - truth[hid][2]) < 1e-7


def test_vn2000_shapefile_reads_back_as_9209_within_a_centimetre(client, db, generated,
                                                                  cache_dir, tmp_path):
    path = fetch(client, "/data/sites.shp.zip?crs=9209", tmp_path, "vn.zip")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {"sites.shp", "sites.shx", "sites.dbf", "sites.prj", "sites.cpg",
                "LICENCE.txt", "dictionary.json"} <= names
        assert archive.read("sites.cpg").decode().strip() == "UTF-8"
        prj = archive.read("sites.prj").decode()
        dictionary = json.loads(archive.read("dictionary.json"))
        licence = archive.read("LICENCE.txt").decode()
    assert "D_Vietnam_2000" in prj and "TOWGS84" not in prj
    assert pyproj.CRS.from_wkt(prj).to_epsg() == 9209
    assert "CC BY 4.0" in licence and "Phòng Văn hóa – Thông tin huyện Khoái Châu" in licence
    frame = read_back(path)
    assert frame.crs.to_epsg() == 9209
    # Every DBF field is ≤ 10 characters and is the dictionary's Shapefile name.
    shp_names = {f["shapefile_name"]: f["name"] for f in dictionary["fields"]}
    columns = [c for c in frame.columns if c != "geometry"]
    assert all(len(c) <= 10 for c in columns) and set(columns) == set(shp_names)
    assert shp_names["rankdec_no"] == "ranking_decision_no"
    truth = public_sites(db)
    assert sorted(frame["id"]) == sorted(truth)
    known = frame[frame["id"] == generated["published"][0]].geometry.iloc[0]
    assert known.distance(shapely.Point(547679.957, 2304201.899)) < 0.01
    # Read back as QGIS does (the .prj's CRS, pyproj's transform), the point is where
    # the database has it.
    back = pyproj.Transformer.from_crs(frame.crs, 4326, always_xy=True)
    lon, lat = back.transform(known.x, known.y)
    assert in_vn2000(lon, lat).distance(in_vn2000(*KNOWN)) < 0.01
    for hid, geom in zip(frame["id"], frame.geometry, strict=True):
        assert geom.distance(in_vn2000(truth[hid][1], truth[hid][2])) < 0.01


@pytest.mark.parametrize("filename", ["protection_zones.gpkg", "protection_zones.geojson"])
def test_vn2000_zones_match_the_database_polygons(client, db, generated, cache_dir, tmp_path,
                                                  filename):
    frame = read_back(fetch(client, f"/data/{filename}?crs=9209", tmp_path, filename))
    assert frame.crs.to_epsg() == 9209
    truth = public_zones(db)
    assert sorted(frame["id"]) == sorted(truth)
    for zid, geom in zip(frame["id"], frame.geometry, strict=True):
        expected = shapely.transform(truth[zid], lambda xy: np.column_stack(
            TO_VN2000.transform(xy[:, 0], xy[:, 1])))
        assert geom.hausdorff_distance(expected) < 0.01, zid


def test_geojson_says_licence_and_dictionary(client, db, generated, cache_dir):
    body = json.loads(client.get("/data/sites.geojson").get_data())
    assert body["license"] == "CC BY 4.0"
    assert body["attribution"] == "Phòng Văn hóa – Thông tin huyện Khoái Châu"
    fields = {f["name"]: f for f in body["data_dictionary"]["fields"]}
    ranks = {v["code"]: (v["vi"], v["en"]) for v in fields["rank"]["values"]}
    assert ranks["national"] == ("Di tích quốc gia", "National relic")
    feature = next(f for f in body["features"] if f["properties"]["id"] ==
                   generated["published"][0])
    assert feature["properties"]["types"] == "historical"


def test_whole_dataset_geopackage_has_every_layer_as_the_public_sees_it(
        client, db, generated, cache_dir, tmp_path):
    path = fetch(client, "/data/all.gpkg", tmp_path, "all.gpkg")
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == set(all_layers()) | {"data_dictionary"}
    counts = client.get("/api/layers").get_json()["layers"]  # the public map's counts
    for item in counts:
        assert pyogrio.read_info(path, layer=item["name"])["features"] == item["count"]
    assert sorted(pyogrio.read_dataframe(path, layer="sites")["id"]) == sorted(public_sites(db))
    dictionary = pyogrio.read_dataframe(path, layer="data_dictionary")
    zone_rows = dictionary[(dictionary["layer"] == "protection_zones")
                           & (dictionary["field"] == "zone")]
    assert "Khu vực bảo vệ I" in set(zone_rows["code_vi"])
    meta = pyogrio.read_info(path, layer="data_dictionary")["dataset_metadata"]
    assert meta["license"] == "CC BY 4.0"


def test_whole_dataset_shapefiles_split_mixed_facilities(client, db, cache_dir, tmp_path):
    db.execute(text("""INSERT INTO facilities (kind, name_vi, geom) VALUES
        ('parking', 'Bãi đỗ xe thử', ST_SetSRID(ST_MakePoint(105.95, 20.84), 4326)),
        ('exhibition', 'Nhà trưng bày thử',
         ST_Multi(ST_MakeEnvelope(105.95, 20.84, 105.951, 20.841, 4326)))"""))
    db.flush()
    path = fetch(client, "/data/all.shp.zip", tmp_path, "all.zip")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert {"facilities_points.shp", "facilities_polygons.shp", "sites.shp",
            "protection_zones.shp", "dictionary.json", "LICENCE.txt"} <= names
    points = pyogrio.read_dataframe(f"/vsizip/{path}/facilities_points.shp")
    polygons = pyogrio.read_dataframe(f"/vsizip/{path}/facilities_polygons.shp")
    assert "Bãi đỗ xe thử" in set(points["name_vi"])
    assert "Nhà trưng bày thử" in set(polygons["name_vi"])


def test_a_download_is_prepared_once_per_data_version(client, db, generated, cache_dir):
    first = client.get("/data/sites.gpkg")
    etag = first.headers["ETag"]
    files = list(cache_dir.glob("v*/sites-4326.gpkg"))
    assert len(files) == 1
    built_at = files[0].stat().st_mtime_ns
    again = client.get("/data/sites.gpkg")
    assert again.get_data() == first.get_data() and again.headers["ETag"] == etag
    assert files[0].stat().st_mtime_ns == built_at  # served from disk, not rebuilt
    assert client.get("/data/sites.gpkg", headers={"If-None-Match": etag}).status_code == 304
    assert 'attachment; filename=sites.gpkg' in first.headers["Content-Disposition"]
    # A change of the data makes a new version: a new file with the new relic.
    new = make_site(db, 105.93, 20.85, name="Chùa mới công bố", zone_radius_m=None)
    changed = client.get("/data/sites.gpkg", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    frame = pyogrio.read_dataframe(io.BytesIO(changed.get_data()))
    assert new in set(frame["id"])


def test_old_versions_are_removed_and_dead_workers_locks_taken_over(app, client, db, cache_dir):
    from gis_app.services import downloads

    old = cache_dir / "v1"
    old.mkdir(parents=True)
    (old / "sites-4326.gpkg").write_bytes(b"old")
    stale = time.time() - downloads.KEEP_OLD_VERSIONS - 5
    os.utime(old, (stale, stale))
    assert client.get("/data/roads.csv").status_code == 200
    assert not old.exists()
    # A lock left by a dead worker is taken over, not waited on for ever.
    current = next(cache_dir.glob("v*"))
    lock = current / "rivers-4326.csv.lock"
    lock.write_text("")
    os.utime(lock, (time.time() - downloads.STALE_LOCK - 5,) * 2)
    assert client.get("/data/rivers.csv").status_code == 200
    assert not lock.exists()


def test_text_downloads_are_compressed_once(client, db, generated, cache_dir):
    plain = client.get("/data/sites.geojson")
    packed = client.get("/data/sites.geojson", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert packed.headers["ETag"] != plain.headers["ETag"]
    assert list(cache_dir.glob("v*/sites-4326.geojson.gz"))


@pytest.mark.parametrize("url,status,message", [
    ("/data/temples.gpkg", 404, "Không có lớp 'temples'"),
    ("/data/sites.xlsx", 404, "Không có tệp tải về 'sites.xlsx'"),
    ("/data/all.csv", 404, "all.<định dạng>.zip"),
    ("/data/sites.gpkg?crs=3857", 400, "crs phải là 4326"),
    ("/data/sites.kml?crs=9209", 400, "KML luôn dùng WGS 84"),
    ("/data/nothing/dictionary", 404, "Không có lớp 'nothing'"),
])
def test_bad_download_requests_say_what_to_do(client, cache_dir, url, status, message):
    response = client.get(url)
    assert response.status_code == status
    assert message in html.unescape(response.get_data(as_text=True))


def test_catalogue_lists_layers_counts_formats_and_licence(client, db, generated, cache_dir):
    page = client.get("/data").get_data(as_text=True)
    assert "<h1>Dữ liệu mở</h1>" in page
    assert 'href="https://creativecommons.org/licenses/by/4.0/" rel="license">CC BY 4.0' in page
    assert "Phòng Văn hóa – Thông tin huyện Khoái Châu" in page
    count = len(public_sites(db))
    assert f"{count:,}".replace(",", ".") + " đối tượng" in page
    for name in all_layers():
        assert f'href="/data/{name}.gpkg"' in page
        assert f'href="/data/{name}.shp.zip?crs=9209"' in page
        assert f'href="/data/{name}/dictionary"' in page
    assert 'href="/data/all.gpkg"' in page and 'href="/data/catalog.jsonld"' in page
    assert 'href="/ogc/"' in page
    section = page.split('id="sites"')[1].split("</section>")[0]
    assert " KB)" not in section  # nothing prepared yet: no size
    client.get("/data/sites.gpkg")
    page = client.get("/data?lang=en").get_data(as_text=True)
    section = page.split('id="sites"')[1].split("</section>")[0]
    assert "<h2>Relics</h2>" in section and " KB)" in section
    assert "Open data" in page and "Data dictionary" in section


def test_home_page_links_the_catalogue(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/data">Dữ liệu mở</a>' in page


def test_dcat_catalog_describes_every_layer_and_file(client, db, generated, cache_dir):
    response = client.get("/data/catalog.jsonld")
    assert response.mimetype == "application/ld+json"
    body = response.get_json()
    assert body["@type"] == "dcat:Catalog"
    datasets = {d["dct:identifier"]: d for d in body["dcat:dataset"]}
    assert set(datasets) == set(all_layers()) | {"all"}
    sites = datasets["sites"]
    assert {t["@language"]: t["@value"] for t in sites["dct:title"]} == \
        {"vi": "Di tích", "en": "Relics"}
    assert sites["dct:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
    assert sites["dct:publisher"]["foaf:name"] == "Phòng Văn hóa – Thông tin huyện Khoái Châu"
    assert "POLYGON((" in sites["dct:spatial"]["dcat:bbox"]["@value"]
    types = {d["dcat:downloadURL"]["@id"].rsplit("/", 1)[1]: d["dcat:mediaType"]["@id"]
             for d in sites["dcat:distribution"]}
    assert types["sites.gpkg"].endswith("application/geopackage+sqlite3")
    assert types["sites.shp.zip?crs=9209"].endswith("application/zip")
    assert types["sites.kml"].endswith("application/vnd.google-earth.kml+xml")
    # Every distribution URL answers with that file.
    url = next(d["dcat:downloadURL"]["@id"] for d in sites["dcat:distribution"]
               if d["dcat:downloadURL"]["@id"].endswith("/sites.csv"))
    assert client.get(url.replace("http://localhost", "")).mimetype == "text/csv"


def test_data_dictionary_page_and_json(client, cache_dir):
    page = client.get("/data/protection_zones/dictionary").get_data(as_text=True)
    assert "Từ điển dữ liệu" in page
    assert "Khu vực bảo vệ II" in page and "Protection zone II" in page
    assert "<code>site_vi</code>" in page  # the Shapefile name of site_name_vi
    body = client.get("/data/sites/dictionary.json").get_json()
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["types"]["type"] == "list" and fields["types"]["vocabulary"] == "relic_type"
    assert fields["id"]["label"]["en"] == "Public feature id (stable)"


def test_workers_asking_at_once_build_the_file_once(engine, tmp_path, caplog):
    """Four workers (threads with their own database sessions, as gunicorn's workers
    have) ask for the same file at once: one builds it, the others wait and get it."""
    import logging
    import threading

    from sqlalchemy.orm import Session

    from gis_app.services import downloads

    wanted = downloads.read_download("communes.gpkg", "9209")
    start = threading.Barrier(4)
    results: list = []

    def worker() -> None:
        with Session(engine) as session:
            start.wait()
            results.append(downloads.prepare(session, tmp_path, wanted, licence="CC BY 4.0",
                                             licence_url="https://example.org/l",
                                             attribution="Test"))

    caplog.set_level(logging.INFO, logger="gis_app.services.downloads")
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 4 and len({r.path for r in results}) == 1
    built = [r for r in caplog.records if r.getMessage().startswith("prepared download")]
    assert len(built) == 1
    assert [p.name for p in results[0].path.parent.iterdir()] == ["communes-9209.gpkg"]
    assert pyogrio.read_info(results[0].path, layer="communes")["crs"] == "EPSG:9209"


def test_catalogue_on_a_phone(live_server, phone_page, page_watch):
    phone_page.goto(f"{live_server}/data")
    assert phone_page.get_by_role("heading", name="Dữ liệu mở", level=1).is_visible()
    assert phone_page.get_by_role("heading", name="Di tích", level=2, exact=True).is_visible()
    # Nothing wider than the phone: no sideways scrolling.
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    link = phone_page.locator("#sites").get_by_role("link", name="Từ điển dữ liệu")
    link.click()
    phone_page.wait_for_url("**/data/sites/dictionary")
    assert phone_page.get_by_text("Di tích quốc gia đặc biệt").first.is_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not page_watch.off_host and not page_watch.console_errors


def test_command_prepares_files_ahead_of_visitors(app, runner, client, db, generated,
                                                  cache_dir):
    result = runner.invoke(args=["downloads", "prepare", "--layer", "sites"])
    assert result.exit_code == 0, result.output
    assert "sites.gpkg" in result.output and "sites.shp.zip?crs=9209" in result.output
    prepared = next(cache_dir.glob("v*/sites-4326.gpkg"))
    built_at = prepared.stat().st_mtime_ns
    frame = pyogrio.read_dataframe(io.BytesIO(client.get("/data/sites.gpkg").get_data()))
    assert sorted(frame["id"]) == sorted(public_sites(db))
    assert prepared.stat().st_mtime_ns == built_at  # the visitor got the prepared file
    refused = runner.invoke(args=["downloads", "prepare", "--layer", "temples"])
    assert refused.exit_code == 1 and "No such layer: temples" in refused.output


def test_system_ogr2ogr_reads_the_vn2000_shapefile_back_to_the_point(client, db, generated,
                                                                     cache_dir, tmp_path):
    """What a surveyor's QGIS or ogr2ogr does with the file: Debian's own GDAL/PROJ (not
    the wheel's that wrote it) identifies the .prj and reprojects to WGS 84."""
    import shutil
    import subprocess

    ogr2ogr = shutil.which("ogr2ogr")
    assert ogr2ogr, "ogr2ogr not found: apt-get install -y gdal-bin (make test installs it)"
    path = fetch(client, "/data/sites.shp.zip?crs=9209", tmp_path, "vn.zip")
    done = subprocess.run([ogr2ogr, "-f", "CSV", "/vsistdout/", f"/vsizip/{path}/sites.shp",
                           "-t_srs", "EPSG:4326", "-lco", "GEOMETRY=AS_WKT",
                           "-where", f"id = '{generated['published'][0]}'"],
                          capture_output=True, text=True, timeout=60, check=True)
    wkt = done.stdout.splitlines()[1].split('"')[1]
    point = shapely.from_wkt(wkt)
    assert in_vn2000(point.x, point.y).distance(in_vn2000(*KNOWN)) < 0.01
    info = subprocess.run(["gdalsrsinfo", "-e", f"/vsizip/{path}/sites.prj"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    assert "EPSG:9209" in info
