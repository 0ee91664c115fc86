"""The planners' page (/planning): rendering, the parcel upload, and checks in Chromium
(drawn, typed in VN-2000, typed lat/lon on a phone)."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from pyproj import Geod
from shapely.geometry import Polygon
from sqlalchemy import create_engine, text

from tests.surveyfiles import shapefile_parts, tm3, write_shapefile, zip_files

DA_HOA = "VN-HY-DT-000001"
GEOD = Geod(ellps="WGS84")
# A parcel of about 45 × 45 m in Hưng Yên (lon, lat), the reference for the upload.
PARCEL_LONLAT = [(105.9600, 20.8300), (105.9604, 20.8300), (105.9604, 20.8304),
                 (105.9600, 20.8304)]


def _demo(database_url: str, sql: str, **params: object) -> list:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


# --- the page and the upload route (Flask test client) ------------------------------

@pytest.mark.parametrize(("lang", "title", "crs_label"), [
    ("vi", "Kiểm tra thửa đất với khu vực bảo vệ di tích", "WGS84 (vĩ độ, kinh độ)"),
    ("en", "Check a parcel against protection zones", "WGS84 (latitude, longitude)"),
])
def test_planning_page_renders_in_both_languages(client, lang, title, crs_label):
    response = client.get(f"/planning?lang={lang}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert f"<h1 id=\"planning-title\">{title}</h1>" in html
    assert crs_label in html
    assert '<option value="EPSG:9209">VN-2000 TM-3 105°30′ Hưng Yên (x, y m)</option>' in html
    # Every input has a label; the report form posts with a CSRF token; no CDN.
    for input_id in ("planning-date", "coords-crs", "coords-text", "parcel-file"):
        assert f'<label for="{input_id}">' in html
    assert re.search(r'<form id="report-form"[^>]*method="post" action="/planning/report"', html)
    assert re.search(r'name="csrf_token" value="[^"]+"', html)
    assert "/api/openapi.json" in html  # the <noscript> way
    assert "vendor/leaflet-geoman-free-2.20.2/leaflet-geoman.min.js" in html
    assert not re.search(r'(src|href)="(https?:)?//(?!localhost/)', html)  # own host: canonical


def _csrf(client) -> str:
    html = client.get("/planning").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _upload(client, name: str, data: bytes, lang: str = "vi"):
    return client.post(f"/planning/upload?lang={lang}",
                       data={"csrf_token": _csrf(client), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_upload_reads_a_zipped_vn2000_shapefile_as_lonlat(client, tmp_path: Path):
    ring = [tm3(lon, lat) for lon, lat in PARCEL_LONLAT]
    shp = write_shapefile(tmp_path / "src", "thua_dat", [{"SO_THUA": 12}], [Polygon(ring)],
                          epsg=9209)
    archive = zip_files(tmp_path / "thua_dat.zip", shapefile_parts(shp))

    response = _upload(client, "thua_dat.zip", archive.read_bytes())

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["crs"]["crs"].startswith("EPSG:9209")
    assert body["crs"]["how"] == "prj"
    features = body["parcels"]["features"]
    assert len(features) == 1 and features[0]["properties"] == {"row": 1}
    coords = features[0]["geometry"]["coordinates"][0]
    # The ring comes back in lon/lat; pyogrio may reorient it, so match corner by corner.
    for lon, lat in PARCEL_LONLAT:
        nearest = min(GEOD.inv(lon, lat, x, y)[2] for x, y in coords)
        assert nearest < 0.05, (lon, lat, nearest)


def test_upload_of_an_empty_file_says_so(client):
    response = _upload(client, "thua.geojson", b"")
    assert response.status_code == 422
    assert response.get_json() == {"error": "import_failed",
                                   "message": "Tệp thua.geojson rỗng (0 byte); hãy tải lên lại."}


def test_upload_of_a_zip_without_dbf_names_the_missing_part(client, tmp_path: Path):
    shp = write_shapefile(tmp_path / "src", "thua", [{"SO_THUA": 1}],
                          [Polygon([tm3(lon, lat) for lon, lat in PARCEL_LONLAT])])
    parts = [p for p in shapefile_parts(shp) if p.suffix != ".dbf"]
    archive = zip_files(tmp_path / "thua.zip", parts)

    response = _upload(client, "thua.zip", archive.read_bytes(), lang="en")

    assert response.status_code == 422
    message = response.get_json()["message"]
    assert message == ("Incomplete shapefile: thua.shp has no .dbf. Zip the .shp, .shx, .dbf "
                       "and .prj files directly.")


def test_upload_of_more_than_1000_parcels_is_refused(client):
    features = [{"type": "Feature", "properties": {},
                 "geometry": {"type": "Point", "coordinates": [105.9 + i * 1e-5, 20.8]}}
                for i in range(1001)]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    response = _upload(client, "nhieu_thua.geojson", data)
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "Tệp có 1.001 đối tượng; mỗi lần chỉ kiểm tra được tối đa 1.000 thửa. "
        "Hãy chỉ giữ lại các thửa của dự án.")


def test_upload_larger_than_5_mb_is_refused(client):
    response = _upload(client, "lon.geojson", b" " * (6 * 1024 * 1024), lang="en")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("The file is larger than 5 MB")


def test_upload_without_a_file_asks_for_one(client):
    response = client.post("/planning/upload", data={"csrf_token": _csrf(client)},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("Hãy chọn tệp thửa đất")


# --- in Chromium --------------------------------------------------------------------

def _no_trouble(watch) -> None:
    assert watch.off_host == []
    assert watch.console_errors == []
    assert watch.failed == []


def _open(page, live_server: str, query: str = "") -> None:
    page.goto(f"{live_server}/planning{query}")
    page.wait_for_function("() => window.HeritageMap && HeritageMap.map && HeritageMap.map.pm")


def _screen_point(page, lat: float, lon: float, dx: int, dy: int) -> tuple[float, float]:
    """Where (lat, lon) is on the screen, shifted by (dx, dy) pixels."""
    x, y = page.evaluate(
        f"() => {{ const m = HeritageMap.map; const p = m.latLngToContainerPoint([{lat}, {lon}]);"
        f" const r = m.getContainer().getBoundingClientRect();"
        f" return [r.left + p.x + {dx}, r.top + p.y + {dy}]; }}")
    return x, y


def _result(page) -> str:
    page.wait_for_selector("#planning-results[data-state=done]", timeout=15000)
    return page.locator("#planning-results").inner_text()


@pytest.mark.browser
def test_draw_a_polygon_over_zone_i_with_the_mouse(page, page_watch, live_server, database_url):
    # A small square well inside zone I of Đền Đa Hòa, from the database.
    (lon, lat), = _demo(database_url, """
        SELECT ST_X(c), ST_Y(c) FROM (
          SELECT ST_PointOnSurface(z.geom) AS c FROM protection_zones z
            JOIN sites s ON s.id = z.site_id
           WHERE s.heritage_id = :h AND z.zone = 'I') q""", h=DA_HOA)
    _open(page, live_server)
    page.evaluate(f"() => HeritageMap.map.setView([{lat}, {lon}], 18, {{animate: false}})")
    page.get_by_role("button", name="Vẽ vùng").click()
    # Real mouse clicks on the map: four corners, then the first corner again to finish.
    corners = [(-30, -30), (30, -30), (30, 30), (-30, 30), (-30, -30)]
    for dx, dy in corners:
        page.mouse.click(*_screen_point(page, lat, lon, dx, dy))
        page.wait_for_timeout(150)

    result = _result(page)
    table = page.locator("table.planning-hits").inner_text()
    assert "Đền Đa Hòa" in table
    assert "Khu vực bảo vệ I" in table
    assert "Khu vực bảo vệ I: phải giữ nguyên trạng về mặt bằng và không gian" in result
    assert "Căn cứ pháp lý: Luật Di sản văn hóa 28/2001/QH10" in result
    # The relic links to its page; the report form carries the drawn geometry.
    links = page.locator("table.planning-hits a", has_text="Đền Đa Hòa")
    assert links.count() == 2  # zone I and zone II, which surrounds it
    assert {links.nth(i).get_attribute("href") for i in range(2)} == {f"/sites/{DA_HOA}"}
    assert "Khu vực bảo vệ II" in table
    geometry = page.locator("#planning-results form.report-form input[name=geometry]")
    assert '"type":"Polygon"' in geometry.get_attribute("value")
    assert page.get_by_role("button", name="Báo cáo").is_visible()


    # A point, placed with a click, replaces the polygon.
    page.get_by_role("button", name="Đặt điểm").click()
    page.mouse.click(*_screen_point(page, lat, lon, 40, 0))
    page.wait_for_function("() => document.querySelector('#planning-results[data-state=done]')"
                           " && document.querySelector('.planning-result p.muted')"
                           ".textContent.startsWith('điểm')")
    assert "Khu vực bảo vệ I" in page.locator("table.planning-hits").inner_text()
    geometry = page.locator("#planning-results form.report-form input[name=geometry]")
    assert '"type":"Point"' in geometry.get_attribute("value")
    assert page.locator(".leaflet-marker-icon").count() == 1  # the vendored marker image

    # The report of the point: a reference number, the zone, the rules, the inline map.
    page.get_by_role("button", name="Báo cáo").click()
    page.wait_for_url(re.compile(r".*/planning/report/[0-9a-f]{32}$"))
    token = page.url.rsplit("/", 1)[1]
    try:
        report = page.locator("main").inner_text()
        assert re.search(r"Số phiếu\s+KTBV-\d{4}-\d{6}", report)
        assert page.url in report  # the link to open it again is printed
        assert "Đền Đa Hòa" in report and "Khu vực bảo vệ I" in report
        assert "phải giữ nguyên trạng về mặt bằng và không gian" in report
        assert page.locator("main svg").count() >= 1  # the inline map
    finally:
        engine = create_engine(database_url)
        with engine.begin() as conn:  # the live server's database is committed
            conn.execute(text("DELETE FROM zone_checks WHERE token = :t"), {"t": token})
        engine.dispose()
    _no_trouble(page_watch)


@pytest.mark.browser
def test_typed_vn2000_point_far_from_relics_names_the_nearest(page, page_watch, live_server,
                                                                database_url):
    lon, lat = 106.02, 20.72  # in Hưng Yên, kilometres from the demo relics
    (name, distance), = _demo(database_url, """
        SELECT name_vi, ST_Distance(geom::geography,
                                    ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
          FROM sites WHERE status = 'published' AND NOT sensitive
         ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 1""",
                              lon=lon, lat=lat)
    assert distance > 1000
    easting, northing = tm3(lon, lat)
    _open(page, live_server)
    page.get_by_label("Hệ tọa độ").select_option("EPSG:9209")
    # As survey tables write it: X (northing, 7 digits) first, then Y (easting).
    page.get_by_label("Các điểm, mỗi dòng một điểm").fill(f"{northing:.3f} {easting:.3f}")
    page.get_by_role("button", name="Kiểm tra các tọa độ này").click()

    result = _result(page)
    assert "Thửa đất không chạm khu vực bảo vệ nào." in result
    nearest = page.locator(".planning-nearest").inner_text()
    assert nearest.startswith(f"Di tích gần nhất: {name}, cách ")
    # Vietnamese number format: thousands with ".", decimals with ",".
    shown = re.search(r"cách ([\d.,]+) m", nearest).group(1)
    assert abs(float(shown.replace(".", "").replace(",", ".")) - distance) < 1.0
    assert "." in shown
    form = page.locator("#planning-results form.report-form")
    assert form.locator("input[name=crs]").get_attribute("value") == "EPSG:9209"
    assert '"type":"Point"' in form.locator("input[name=geometry]").get_attribute("value")
    _no_trouble(page_watch)


@pytest.mark.browser
def test_phone_typed_latlon_inside_zone_i_in_english(phone_page, page_watch, live_server,
                                                     database_url):
    (lon, lat), = _demo(database_url, """
        SELECT ST_X(c), ST_Y(c) FROM (
          SELECT ST_PointOnSurface(z.geom) AS c FROM protection_zones z
            JOIN sites s ON s.id = z.site_id
           WHERE s.heritage_id = :h AND z.zone = 'I') q""", h=DA_HOA)
    page = phone_page
    _open(page, live_server, "?lang=en")
    # Map on top, panel below; nothing wider than the phone.
    map_box = page.locator("#planning-map").bounding_box()
    panel_box = page.locator(".planning-panel").bounding_box()
    assert map_box["y"] < panel_box["y"] and map_box["width"] >= 380
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page.get_by_role("button", name="Check these coordinates").bounding_box()["height"] >= 44

    page.get_by_label("Points, one per line").fill(f"{lat:.6f}, {lon:.6f}")
    page.get_by_role("button", name="Check these coordinates").tap()

    result = _result(page)
    assert "Protection zone I" in result
    assert "Protection zone I: the ground plan and space must be kept intact." in result
    assert "Đa Hòa Temple" in page.locator("table.planning-hits").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    _no_trouble(page_watch)


@pytest.mark.browser
def test_typed_coordinates_with_a_bad_line_show_a_clear_message(page, page_watch, live_server):
    _open(page, live_server)
    page.get_by_label("Các điểm, mỗi dòng một điểm").fill("20.89, 105.93\n20.90")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the check button, by keyboard
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == ("Dòng 2: hãy ghi hai số, ví dụ “20.8940, 105.9299” hoặc "
                                  "“2311000 547000”.")
    _no_trouble(page_watch)


@pytest.mark.browser
def test_upload_a_vn2000_shapefile_in_the_page(page, page_watch, live_server, database_url,
                                               tmp_path: Path):
    (lon, lat), = _demo(database_url, """
        SELECT ST_X(c), ST_Y(c) FROM (
          SELECT ST_PointOnSurface(z.geom) AS c FROM protection_zones z
            JOIN sites s ON s.id = z.site_id
           WHERE s.heritage_id = :h AND z.zone = 'I') q""", h=DA_HOA)
    x, y = tm3(lon, lat)
    shp = write_shapefile(tmp_path / "src", "du_an", [{"SO_THUA": 7}],
                          [Polygon([(x - 10, y - 10), (x + 10, y - 10), (x + 10, y + 10),
                                    (x - 10, y + 10)])])
    good = zip_files(tmp_path / "du_an.zip", shapefile_parts(shp))
    empty = tmp_path / "rong.geojson"
    empty.write_bytes(b"")
    _open(page, live_server)
    upload = page.get_by_label(re.compile(r"^Tệp \(GeoJSON"))

    upload.set_input_files(str(empty))
    page.get_by_role("button", name="Tải lên và kiểm tra").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "Tệp rong.geojson rỗng (0 byte); hãy tải lên lại."

    upload.set_input_files(str(good))
    page.get_by_role("button", name="Tải lên và kiểm tra").click()
    result = _result(page)
    assert "Khu vực bảo vệ I" in page.locator("table.planning-hits").inner_text()
    assert "Khu vực bảo vệ I: phải giữ nguyên trạng" in result
    page.locator(".planning-crs-note").wait_for()
    assert "Hệ tọa độ của tệp: EPSG:9209" in page.locator(".planning-crs-note").inner_text()
    assert page.get_by_role("alert").is_hidden()
    # Chromium logs the refused upload's 422 as a console error; nothing else is allowed.
    refused = ("Failed to load resource: the server responded with a status of 422 "
               "(UNPROCESSABLE ENTITY)")
    assert page_watch.console_errors == [refused]
    assert page_watch.off_host == [] and page_watch.failed == []
