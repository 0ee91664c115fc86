"""The officials' import pages: upload, preview on a map with the validation report,
confirm or cancel, the record of imports and undoing one; who may open them, the upload
size limit, broken files and tampered tokens. Files come from tests/surveyfiles.py."""
from __future__ import annotations

import json
import os
import re
import time
import zipfile
from pathlib import Path

import pytest
from shapely.geometry import Polygon, shape
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.services.accounts import create_user
from gis_app.services.imports import undo_import
from tests import importflow as flow
from tests import surveyfiles as sf
from tests.conftest import sign_in
from tests.factories import make_site

PASSWORD = "a long enough password"
LIST = "/officials/imports"


# --- helpers ---------------------------------------------------------------------------

def zone_zip(folder: Path, heritage_id: str, zone: str = "I",
             name: str = "khoanh_vung.zip", encoding: str = "utf-8",
             decision: str = "12/QĐ-UBND") -> Path:
    """Zone `zone` of a relic: a 40 m square in VN-2000 TM-3 (with .prj) whose first
    corner is the verified reference point, zipped as surveyors send it."""
    x, y = sf.REF_TM3
    ring = Polygon([(x, y), (x + 40, y), (x + 40, y + 40), (x, y + 40)])
    records = [{"MA_DT": heritage_id, "KVBV": zone, "SO_QD": decision,
                "NGAY_QD": "15/03/2021"}]
    shp = sf.write_shapefile(folder / "src", "kvbv", records, [ring], encoding=encoding)
    return sf.zip_files(folder / name, sf.shapefile_parts(shp))


def upload(client, auth, path: Path, *, lang: str = "vi",
           layer: str = "protection_zones", preset: str = "khoanh-vung-bao-ve",
           encoding: str = ""):
    """Upload, accept the mapping step as pre-filled, and follow to the preview."""
    return flow.upload_and_preview(client, path, lang=lang, layer=layer, preset=preset,
                                   encoding=encoding)


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to `action` (a regex)."""
    return {k: v for k, v in flow.form_fields(html, action).items()}


def embedded_preview(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="import-preview-data"[^>]*>(.*?)'
                      r'</script>', html, re.DOTALL)
    assert found, "no preview GeoJSON on the page"
    return json.loads(found.group(1))


def zones_of(db: Session, heritage_id: str) -> list[tuple[str, str]]:
    return db.execute(text("SELECT z.zone, z.source FROM protection_zones z JOIN sites s ON "
                           "s.id = z.site_id WHERE s.heritage_id = :h ORDER BY z.zone"),
                      {"h": heritage_id}).all()


def counts(db: Session) -> tuple[int, int, int]:
    return db.execute(text("SELECT (SELECT count(*) FROM imports), "
                           "(SELECT count(*) FROM protection_zones), "
                           "(SELECT count(*) FROM revisions)")).one()


def leftovers(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def uploads(app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    return folder


@pytest.fixture
def reviewer(client, db: Session, auth) -> str:
    create_user(db, "thamdinh", PASSWORD, "district_reviewer",
                display_name="Trần Thị Thẩm Định")
    assert auth.login("thamdinh", PASSWORD).status_code == 302
    return "thamdinh"


# --- who may open the pages --------------------------------------------------------------

def test_anonymous_is_sent_to_sign_in_and_commune_editor_is_refused(client, db, auth):
    response = client.get(LIST)
    assert response.status_code == 302 and "/login" in response.headers["Location"]

    commune = db.scalar(text("SELECT code FROM admin_units WHERE level = 'commune' "
                             "AND valid_to IS NULL ORDER BY code LIMIT 1"))
    create_user(db, "bientapxa", PASSWORD, "commune_editor", unit_codes=(commune,))
    auth.login("bientapxa", PASSWORD)
    response = client.get(LIST)
    assert response.status_code == 403
    assert "Vai trò của tài khoản không được mở trang này" in response.get_data(as_text=True)
    token = auth.csrf("/account")
    assert client.post(f"{LIST}/jobs/1/confirm", data={"csrf_token": token,
                                                "token": "A" * 32}).status_code == 403
    # No link to a page the account may not open.
    assert "Nhập dữ liệu" not in client.get("/account").get_data(as_text=True)


# --- upload, preview, confirm, undo -----------------------------------------------------

def test_preview_then_confirm_then_undo(client, db, auth, reviewer, uploads, tmp_path):
    hid = make_site(db, *sf.REF_LONLAT, name="Đình Tứ Dân", zone_radius_m=None)
    page = client.get(LIST).get_data(as_text=True)
    assert "Nhập dữ liệu" in page  # the nav link
    assert "200 MB" in page  # the size limit
    assert "Khu vực bảo vệ di tích" in page  # the layer choice, in Vietnamese
    assert "để trống nếu tệp có .prj" in page.lower()

    response = upload(client, auth, zone_zip(tmp_path, hid))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "EPSG:9209" in html
    assert re.search(r'Sẽ thêm mới</dt>\s*<dd data-count="inserted">1</dd>', html)
    assert "MA_DT" in html and "Mã định danh di tích" in html  # the field mapping
    assert zones_of(db, hid) == []  # a preview writes nothing
    (saved,) = leftovers(uploads)
    assert (saved / "khoanh_vung.zip").is_file() and "khoanh" not in saved.name
    # The map gets the file's feature in lon/lat, next to the reference point.
    (feature,) = embedded_preview(html)["features"]
    assert feature["properties"]["site_heritage_id"] == hid
    lon, lat = shape(feature["geometry"]).bounds[:2]
    assert abs(lon - sf.REF_LONLAT[0]) < 1e-5 and abs(lat - sf.REF_LONLAT[1]) < 1e-5
    assert "js/import-preview.js" in html
    # The rows to be written, as a table beside the map.
    # (identifier, survey code: none in this file, zone, decision...)
    assert re.search(rf"<tr><td>1</td><td>{hid}</td><td></td><td>Khu vực bảo vệ I</td>"
                     rf"<td>12/QĐ-UBND</td><td>15/03/2021</td>", html)

    fields = form_fields(html, flow.CONFIRM)
    assert form_fields(html, f"{LIST}/cancel")["token"] == saved.name
    response = client.post(flow.form_action(html, flow.CONFIRM), data=fields)
    assert response.status_code == 302
    import_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert [z for z, _source in zones_of(db, hid)] == ["I"]
    assert leftovers(uploads) == []  # the upload is gone once imported

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Lần nhập #{import_id} đã xong: thêm 1" in page  # flash
    assert re.search(r'Đã thêm</dt>\s*<dd data-count="inserted">1</dd>', page)
    assert "khoanh_vung.zip" in page and "Trần Thị Thẩm Định" in page
    assert re.search(r'<code class="checksum">[0-9a-f]{64}</code>', page)
    assert "Đã nhập" in page and "EPSG:9209" in page
    listing = client.get(LIST).get_data(as_text=True)
    assert f'href="{LIST}/{import_id}"' in listing and "khoanh_vung.zip" in listing

    confirm = client.get(f"{LIST}/{import_id}/undo").get_data(as_text=True)
    assert "xóa 1 khu vực bảo vệ mà lần nhập đã thêm" in confirm
    assert zones_of(db, hid) != []  # asking changes nothing
    undo = form_fields(confirm, f"{LIST}/{import_id}/undo")
    response = client.post(f"{LIST}/{import_id}/undo", data=undo, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"Đã hoàn tác lần nhập #{import_id}: xóa 1 bản ghi" in page
    assert re.search(r'class="import-status">Đã hoàn tác', page)
    assert "Hoàn tác lần nhập này" not in page  # no second undo link
    assert zones_of(db, hid) == []
    # Undoing twice is refused with the service's message.
    page = client.post(f"{LIST}/{import_id}/undo", data=undo,
                       follow_redirects=True).get_data(as_text=True)
    assert f"Lần nhập số {import_id} đã được hoàn tác." in page


def test_chosen_encoding_is_used_and_the_text_shown_before_and_after(client, db, auth,
                                                                      reviewer, uploads,
                                                                      tmp_path):
    hid = make_site(db, *sf.REF_LONLAT, zone_radius_m=None)
    decision = "Số 12/QĐ-UBND huyện Khoái Châu"
    response = upload(client, auth, zone_zip(tmp_path, hid, encoding="tcvn3", decision=decision),
                      lang="en", encoding="tcvn3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert re.search(r'class="import-encoding"><strong>tcvn3</strong> – chosen on the upload '
                     r'form', html)
    sample = re.search(r"<td>SO_QD</td><td>([^<]*)</td><td lang=\"vi\">([^<]*)</td>", html)
    assert sample and sample.group(2) == decision and sample.group(1) != decision
    assert "Would be added" in html and "Confirm the import" in html
    job_id = int(re.search(r"/jobs/(\d+)/confirm", html).group(1))
    payload = db.scalar(text("SELECT payload FROM jobs WHERE id = :i"), {"i": job_id})
    assert payload["options"]["encoding"] == "tcvn3"  # carried to the confirmation


def test_cancel_deletes_the_upload_and_stale_uploads_are_swept(client, db, auth, reviewer,
                                                               uploads, tmp_path):
    stale = uploads / "old-upload-from-last-week"
    stale.mkdir(parents=True)
    (stale / "x.zip").write_bytes(b"x")
    os.utime(stale, (time.time() - 3 * 86400,) * 2)
    before = counts(db)
    hid = make_site(db, *sf.REF_LONLAT, zone_radius_m=None)
    html = upload(client, auth, zone_zip(tmp_path, hid)).get_data(as_text=True)
    assert not stale.exists()  # swept when the new upload was saved
    assert len(leftovers(uploads)) == 1
    response = client.post(f"{LIST}/cancel", data=form_fields(html, f"{LIST}/cancel"),
                           follow_redirects=True)
    assert response.status_code == 200
    assert "Đã hủy: khoanh_vung.zip chưa được nhập" in response.get_data(as_text=True)
    assert leftovers(uploads) == []
    assert zones_of(db, hid) == [] and counts(db)[0] == before[0]


@pytest.mark.parametrize("damage, status, message", [
    ("no_dbf", 422, "kvbv.shp thiếu tệp .dbf"),
    ("empty", 422, "rỗng (0 byte)"),
    ("bare_shp", 400, "hãy nén chung vào một tệp .zip"),
    ("unknown_relic", 422, "Không có di tích nào mang mã định danh VN-HY-DT-999999"),
])
def test_broken_uploads_say_why_and_leave_nothing(client, db, auth, reviewer, uploads,
                                                  tmp_path, damage, status, message):
    shp = sf.write_shapefile(tmp_path / "src", "kvbv", sf.zone_records(["VN-HY-DT-000001"]),
                             [sf.square(*sf.REF_TM3)])
    if damage == "no_dbf":
        target = tmp_path / "thieu_dbf.zip"
        with zipfile.ZipFile(target, "w") as zf:
            for part in sf.shapefile_parts(shp):
                if part.suffix != ".dbf":
                    zf.write(part, part.name)
    elif damage == "empty":
        target = tmp_path / "rong.zip"
        target.write_bytes(b"")
    elif damage == "bare_shp":
        target = shp
    else:
        target = zone_zip(tmp_path / "unknown", "VN-HY-DT-999999")
    before = counts(db)
    response = upload(client, auth, target)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert message in html
    assert "Xác nhận nhập" not in html  # nothing to confirm
    if damage == "unknown_relic":  # row errors are listed: row, field, message
        assert re.search(r'<table class="zones row-errors">.*<td>1</td>', html, re.DOTALL)
    if damage == "unknown_relic":  # the file waits: the mapping may be changed
        assert "Quay lại bước ghép cột" in html and len(leftovers(uploads)) == 1
    else:
        if status == 422:
            assert 'href="/officials/imports">Quay lại</a>' in html
        assert leftovers(uploads) == []
    assert counts(db)[1:] == before[1:]


def test_upload_over_the_size_limit_is_refused_with_413(client, db, auth, reviewer, uploads,
                                                        tmp_path, app, monkeypatch):
    big = tmp_path / "lon.zip"
    big.write_bytes(os.urandom(20_000))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 10_000)
    before = counts(db)
    response = upload(client, auth, big)
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Tệp quá lớn" in html and "lớn hơn giới hạn tải lên (0,01 MB)" in html
    response = upload(client, auth, big, lang="en")
    assert response.status_code == 413
    assert "larger than the upload limit (0.01 MB)" in response.get_data(as_text=True)
    assert leftovers(uploads) == [] and counts(db) == before


def test_tampered_or_foreign_tokens_are_refused(client, db, auth, reviewer, uploads, tmp_path):
    hid = make_site(db, *sf.REF_LONLAT, zone_radius_m=None)
    html = upload(client, auth, zone_zip(tmp_path, hid)).get_data(as_text=True)
    fields = form_fields(html, f"{LIST}/cancel")
    confirm_url = flow.form_action(html, flow.CONFIRM)
    (saved,) = leftovers(uploads)
    outside = uploads.parent / "x"
    outside.mkdir()
    create_user(db, "thamdinh2", PASSWORD, "district_reviewer")
    before = counts(db)
    for token in ("../x", "..", "", "A" * 32, saved.name + "/.."):
        response = client.post(f"{LIST}/cancel", data={**fields, "token": token})
        assert response.status_code == 400, token
        assert "không tìm thấy tệp đã tải lên" in response.get_data(as_text=True).lower()
    response = client.get(f"{LIST}/{'A' * 32}/mapping")
    assert response.status_code == 400
    assert "không tìm thấy tệp đã tải lên" in response.get_data(as_text=True).lower()
    assert outside.exists() and leftovers(uploads) == [saved]
    # Another official cannot confirm someone else's preview, nor see its job.
    auth.login("thamdinh2", PASSWORD)
    response = client.post(confirm_url, data={"csrf_token": auth.csrf(LIST)})
    assert response.status_code == 404
    assert "Không có tác vụ số" in response.get_data(as_text=True)
    job_id = confirm_url.split("/")[-2]
    assert client.get(f"{LIST}/jobs/{job_id}").status_code == 404
    assert client.get(f"{LIST}/jobs/{job_id}/page").status_code == 404
    assert counts(db) == before and zones_of(db, hid) == []
    assert leftovers(uploads) == [saved]


# --- in a browser --------------------------------------------------------------------------

@pytest.mark.browser
def test_upload_preview_and_confirm_in_chromium(page, page_watch, live_server, database_url,
                                                tmp_path):
    """Against the live server's committed database: a reviewer account is created for
    the test; the file adds a buffer zone (the demo has only zones I and II) to Đền Đa
    Hòa, which the test undoes through the page; everything it created is removed."""
    engine = create_engine(database_url)
    username = f"browser-import-{os.getpid()}"
    with Session(engine) as s:
        create_user(s, username, PASSWORD, "district_reviewer")
        s.commit()
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        first_import = s.scalar(text("SELECT coalesce(max(id), 0) FROM imports"))
    archive = zone_zip(tmp_path, "VN-HY-DT-000001", zone="Vùng đệm", name="vung_dem.zip")
    try:
        sign_in(page, live_server, username, PASSWORD)
        page.get_by_role("link", name="Nhập dữ liệu").click()
        page.wait_for_url(f"**{LIST}")
        page.select_option("#layer", "protection_zones")
        assert page.input_value("#preset") == "khoanh-vung-bao-ve"  # follows the layer
        page.set_input_files("#file", str(archive))
        page.get_by_role("button", name="Kiểm tra và xem trước").click()
        page.wait_for_url("**/mapping")  # the preset filled every column
        assert page.input_value("#col-site_heritage_id") == "MA_DT"
        page.get_by_role("button", name="Kiểm tra và xem trước").click()
        page.wait_for_selector(".folium-map[data-import-preview='1']", timeout=30000)
        assert "EPSG:9209" in page.locator(".import-crs").inner_text()
        drawn = page.locator(".leaflet-overlay-pane path.import-preview-feature")
        assert drawn.count() == 1
        box = drawn.bounding_box()
        assert box and box["width"] > 5 and box["height"] > 5  # the view fits the zone

        page.get_by_role("button", name="Xác nhận nhập").click()
        page.wait_for_url(re.compile(rf".*{LIST}/\d+$"))
        assert "Lần nhập #" in page.locator("h1").inner_text()
        assert page.locator('dd[data-count="inserted"]').inner_text() == "1"
        page.get_by_role("link", name="Hoàn tác lần nhập này…").click()
        # Asked twice, with what will go: the one zone it added.
        assert "xóa 1 khu vực bảo vệ mà lần nhập đã thêm" in page.locator(
            ".undo-plan").inner_text()
        page.get_by_role("button", name=re.compile(r"Có, hoàn tác lần nhập #\d+")).click()
        page.wait_for_load_state()
        assert page.locator(".import-status").inner_text().startswith("Đã hoàn tác")
        assert page_watch.off_host == [] and page_watch.console_errors == []
        assert page_watch.failed == []
    finally:
        with Session(engine) as s:
            for (import_id,) in s.execute(text(
                    "SELECT id FROM imports WHERE id > :i AND status = 'loaded'"),
                    {"i": first_import}):
                undo_import(s, import_id, None)  # the test stopped before its undo
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.execute(text("DELETE FROM imports WHERE id > :i"), {"i": first_import})
            s.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.commit()
        engine.dispose()
