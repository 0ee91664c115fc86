"""A relic's page for visitors: photos with credit and licence served from MEDIA_DIR only
for what the public may see, artifacts and intangible heritage, nearby relics, the
share link, structured data; the sitemap and robots.txt."""
from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from html import unescape

import pytest
from PIL import Image
from sqlalchemy import text

from gis_app.services.accounts import create_user
from tests.factories import make_site

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9",
              "x": "http://www.w3.org/1999/xhtml"}
# Far from the demo relics (about 35 km east), so only the test's own sites are near.
LON, LAT = 106.30, 20.70


@pytest.fixture
def media_dir(media):
    media.mkdir()
    return media


def write_jpeg(media_dir, name: str) -> bytes:
    path = media_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", (12, 8), (139, 26, 26)).save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def site_id(db, hid: str) -> int:
    return db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})


def add_photo(db, uri: str, *, site: str | None = None, artifact: int | None = None,
              intangible: int | None = None, credit: str | None = None,
              licence: str | None = None, metadata: dict | None = None) -> None:
    db.execute(text("""
        INSERT INTO digital_records (site_id, artifact_id, intangible_id, media_type, uri,
                                     metadata, credit, licence)
        VALUES (:s, :a, :i, 'image/jpeg', :uri, CAST(:m AS jsonb), :credit, :licence)"""),
        {"s": site_id(db, site) if site else None, "a": artifact, "i": intangible,
         "uri": uri, "m": json.dumps(metadata or {}), "credit": credit, "licence": licence})
    db.flush()


def add_artifact(db, hid: str, name: str, *, kind: str = "antiquity", period: str | None = None,
                 material: str | None = None, holding: str | None = None) -> int:
    db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:id, 'artifact')"),
               {"id": hid})
    return db.execute(text("""
        INSERT INTO artifacts (heritage_id, name_vi, kind, period, material, holding_site_id,
                               state_of_preservation)
        VALUES (:hid, :name, :kind, :period, :material, :site, 'Nứt chân đế, cần gia cố')
        RETURNING id"""),
        {"hid": hid, "name": name, "kind": kind, "period": period, "material": material,
         "site": site_id(db, holding) if holding else None}).scalar_one()


def add_intangible(db, hid: str, name: str, site: str, status: str = "published") -> int:
    db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:id, 'intangible')"),
               {"id": hid})
    ich = db.execute(text("""
        INSERT INTO intangible_heritage (heritage_id, name_vi, ich_type, status)
        VALUES (:hid, :name, 'traditional_festival', :status) RETURNING id"""),
        {"hid": hid, "name": name, "status": status}).scalar_one()
    db.execute(text("INSERT INTO intangible_sites (intangible_id, site_id) VALUES (:i, :s)"),
               {"i": ich, "s": site_id(db, site)})
    return ich


def media_urls(html: str) -> list[str]:
    return [unescape(u) for u in re.findall(r'<img src="(/media/[^"]+)"', html)]


def json_ld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert match, "no JSON-LD on the page"
    return json.loads(match.group(1))


# --- photos and media ------------------------------------------------------------------

def test_photos_show_credit_and_licence_and_are_served(client, db, media_dir):
    hid = make_site(db, LON, LAT, name="Đình Ảnh")
    body = write_jpeg(media_dir, f"sites/{hid}/cong-dinh.jpg")
    write_jpeg(media_dir, f"sites/{hid}/hau-cung.jpg")
    add_photo(db, f"sites/{hid}/cong-dinh.jpg", site=hid, credit="Nguyễn Văn Ảnh",
              licence="CC BY 4.0", metadata={"caption_vi": "Cổng đình", "caption_en": "Gate",
                                             "width": 12, "height": 8})
    add_photo(db, f"sites/{hid}/hau-cung.jpg", site=hid, credit="Ban quản lý di tích")

    vi = client.get(f"/sites/{hid}?lang=vi").get_data(as_text=True)
    assert "Nguyễn Văn Ảnh" in vi and "CC BY 4.0" in vi and "Cổng đình" in vi
    assert "Giấy phép: chưa ghi giấy phép" in " ".join(vi.split())
    en = client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)
    assert "Licence: licence not stated" in " ".join(en.split())
    assert 'alt="Gate"' in en and 'width="12" height="8"' in en

    urls = media_urls(vi)
    assert urls == [f"/media/sites/{hid}/cong-dinh.jpg", f"/media/sites/{hid}/hau-cung.jpg"]
    response = client.get(urls[0])
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.data == body
    assert "public" in response.headers["Cache-Control"]
    assert "max-age=86400" in response.headers["Cache-Control"]


@pytest.mark.parametrize("status, sensitive", [("draft", False), ("published", True)])
def test_photo_of_a_draft_or_sensitive_site_is_not_found(client, db, media_dir, status,
                                                         sensitive):
    hid = make_site(db, LON, LAT, name="Đình kín", status=status, sensitive=sensitive)
    write_jpeg(media_dir, f"sites/{hid}/a.jpg")
    add_photo(db, f"sites/{hid}/a.jpg", site=hid, credit="X", licence="CC0")
    response = client.get(f"/media/sites/{hid}/a.jpg")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_reviewers_see_draft_photos_privately(client, db, media_dir, auth):
    hid = make_site(db, LON, LAT, name="Đình nháp", status="draft")
    write_jpeg(media_dir, "draft.jpg")
    add_photo(db, "draft.jpg", site=hid)
    create_user(db, "reviewer-media", "a long enough password", "district_reviewer")
    auth.login("reviewer-media", "a long enough password")
    response = client.get("/media/draft.jpg")
    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"]
    assert "public" not in response.headers["Cache-Control"]


def test_an_official_sees_a_draft_relic_marked_as_such_without_a_share_link(client, db, auth):
    draft = make_site(db, LON, LAT, name="Đình nháp", status="draft")
    published = make_site(db, LON + 0.01, LAT, name="Đình công bố")
    create_user(db, "reviewer-draft", "a long enough password", "district_reviewer")
    auth.login("reviewer-draft", "a long enough password")
    html = client.get(f"/sites/{draft}").get_data(as_text=True)
    assert "<strong>Bản nháp — chưa công bố</strong>" in html
    assert 'id="share-url"' not in html and 'id="share-copy"' not in html
    assert "Chưa có đường dẫn chia sẻ: người dân chưa mở được trang này" in html
    assert '<meta name="robots" content="noindex">' in html
    english = client.get(f"/sites/{draft}?lang=en").get_data(as_text=True)
    assert "<strong>Draft — not published</strong>" in english
    assert "No share link yet: the public cannot open this page" in english
    # A published relic: no banner, the share link is there.
    shown = client.get(f"/sites/{published}").get_data(as_text=True)
    assert "Bản nháp" not in shown and 'id="share-url"' in shown
    assert "noindex" not in shown


def test_media_needs_a_record_and_stays_inside_media_dir(client, db, media_dir):
    write_jpeg(media_dir, "stray.jpg")  # a file no record names
    assert client.get("/media/stray.jpg").status_code == 404
    hid = make_site(db, LON, LAT)
    add_photo(db, "missing.jpg", site=hid)  # a record whose file is gone
    assert client.get("/media/missing.jpg").status_code == 404
    outside = media_dir.parent / "secret.jpg"
    outside.write_bytes(b"secret")
    add_photo(db, "../secret.jpg", site=hid)
    for path in ("/media/../secret.jpg", "/media/..%2Fsecret.jpg", "/media/%2e%2e/secret.jpg"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"secret" != response.data


def test_photos_of_artifacts_and_intangible_heritage_follow_their_record(client, db,
                                                                        media_dir):
    public = make_site(db, LON, LAT, name="Đình công khai")
    hidden = make_site(db, LON, LAT, name="Đình nhạy cảm", sensitive=True)
    shown = add_artifact(db, "VN-HY-HV-990001", "Bát hương", holding=public)
    kept = add_artifact(db, "VN-HY-HV-990002", "Sắc phong", holding=hidden)
    festival = add_intangible(db, "VN-HY-PVT-990001", "Hội thử", public)
    draft = add_intangible(db, "VN-HY-PVT-990002", "Hội nháp", public, status="draft")
    for name, kwargs in (("a1.jpg", {"artifact": shown}), ("a2.jpg", {"artifact": kept}),
                         ("i1.jpg", {"intangible": festival}),
                         ("i2.jpg", {"intangible": draft})):
        write_jpeg(media_dir, name)
        add_photo(db, name, **kwargs)
    assert client.get("/media/a1.jpg").status_code == 200
    assert client.get("/media/i1.jpg").status_code == 200
    assert client.get("/media/a2.jpg").status_code == 404
    assert client.get("/media/i2.jpg").status_code == 404


def test_condition_photos_are_for_signed_in_officials_only(client, db, media_dir, auth):
    hid = make_site(db, LON, LAT)
    assessment = db.execute(text("""
        INSERT INTO condition_assessments (site_id, assessed_on, overall)
        VALUES (:s, DATE '2026-05-01', 'poor') RETURNING id"""),
        {"s": site_id(db, hid)}).scalar_one()
    db.execute(text("INSERT INTO condition_photos (assessment_id, uri, credit) "
                    "VALUES (:a, 'conditions/mai-dot.jpg', 'Tổ kiểm tra')"), {"a": assessment})
    db.flush()
    write_jpeg(media_dir, "conditions/mai-dot.jpg")
    assert client.get("/media/conditions/mai-dot.jpg").status_code == 404
    units = db.execute(text("SELECT id, code FROM admin_units WHERE level = 'commune' "
                            "AND valid_to IS NULL ORDER BY code LIMIT 2")).all()
    # The relic was in the first commune on the assessment date.
    db.execute(text("INSERT INTO site_admin_units (site_id, admin_unit_id, valid_from) "
                    "VALUES (:s, :u, DATE '2025-07-01')"),
               {"s": site_id(db, hid), "u": units[0].id})
    for n, (_id, code) in enumerate(reversed(units)):
        create_user(db, f"editor-media-{n}", "a long enough password", "commune_editor",
                    unit_codes=(code,))
    db.flush()
    auth.login("editor-media-0", "a long enough password")  # the other commune's editor
    assert client.get("/media/conditions/mai-dot.jpg").status_code == 404
    client.post("/logout", data={"csrf_token": auth.csrf("/account")})
    auth.login("editor-media-1", "a long enough password")
    response = client.get("/media/conditions/mai-dot.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "private" in response.headers["Cache-Control"]


# --- what the page shows ----------------------------------------------------------------

def test_artifacts_and_intangible_heritage_of_the_site_are_shown(client, db):
    hid = make_site(db, LON, LAT, name="Đình Hiện Vật")
    add_artifact(db, "VN-HY-HV-990011", "Long ngai sơn son thếp vàng", kind="antiquity",
                 period="Thời Nguyễn", material="Gỗ sơn son thếp vàng", holding=hid)
    add_intangible(db, "VN-HY-PVT-990011", "Lễ hội làng thử", hid)
    add_intangible(db, "VN-HY-PVT-990012", "Tục lệ chưa công bố", hid, status="draft")
    vi = client.get(f"/sites/{hid}").get_data(as_text=True)
    artifacts = vi[vi.index("Hiện vật lưu giữ tại di tích"):]
    row = re.search(r'<tr><td><a href="/artifacts/VN-HY-HV-990011">Long ngai sơn son thếp '
                    r'vàng</a></td>(.*?)</tr>', artifacts, re.DOTALL)
    assert row, artifacts[:500]
    cells = [c.strip() for c in re.findall(r"<td>(.*?)</td>", row.group(1), re.DOTALL)]
    assert cells == ["Cổ vật", "Thời Nguyễn", "Gỗ sơn son thếp vàng"]
    assert "Nứt chân đế" not in vi  # the state of preservation is not public
    assert "Lễ hội làng thử" in vi and "Tục lệ chưa công bố" not in vi
    en = client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)
    assert "Artifacts kept here" in en and "<td>Antiquity</td>" in en


def test_opening_hours_in_the_reader_language(client, db):
    hid = make_site(db, LON, LAT)
    db.execute(text("UPDATE sites SET opening_hours_vi = '7:00–17:00 hằng ngày', "
                    "opening_hours_en = '7:00–17:00 daily' WHERE heritage_id = :h"),
               {"h": hid})
    assert "7:00–17:00 hằng ngày" in client.get(f"/sites/{hid}?lang=vi").get_data(as_text=True)
    assert "7:00–17:00 daily" in client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)


def test_nearby_relics_nearest_first_with_spheroid_distances(client, db):
    here = make_site(db, LON, LAT, name="Đình Gốc")
    # ~330 m north, ~1.6 km east, ~4.4 km south-west; 6 km away; a draft at 200 m.
    near = make_site(db, LON, LAT + 0.003, name="Chùa Gần")
    mid = make_site(db, LON + 0.0155, LAT, name="Miếu Giữa")
    far = make_site(db, LON - 0.03, LAT - 0.028, name="Đền Xa")
    make_site(db, LON + 0.06, LAT, name="Đình Ngoài")
    make_site(db, LON - 0.002, LAT, name="Đình Nháp Gần", status="draft")
    expected = db.execute(text("""
        SELECT n.heritage_id, ST_Distance(n.geom::geography, s.geom::geography) AS d
          FROM sites s, sites n
         WHERE s.heritage_id = :h AND n.heritage_id = ANY(:others) ORDER BY d"""),
        {"h": here, "others": [near, mid, far]}).all()
    assert [r.heritage_id for r in expected] == [near, mid, far]

    vi = client.get(f"/sites/{here}?lang=vi").get_data(as_text=True)
    section = vi[vi.index("Di tích lân cận"):vi.index("share-title")]
    listed = re.findall(r'href="/sites/([^"]+)"', section)
    assert listed == [near, mid, far]
    shown = re.findall(r'<span class="distance">([^<]+)</span>', section)
    assert shown[0] == f"{round(expected[0].d)} m"
    assert shown[1] == f"{expected[1].d / 1000:.1f} km".replace(".", ",")
    assert shown[2] == f"{expected[2].d / 1000:.1f} km".replace(".", ",")
    en = client.get(f"/sites/{here}?lang=en").get_data(as_text=True)
    assert f"{expected[1].d / 1000:.1f} km" in en
    assert "Đình Ngoài" not in section and "Đình Nháp Gần" not in section


def test_structured_data_canonical_and_share_link(client, db, media_dir):
    hid = make_site(db, LON, LAT, name="Đình Dữ Liệu")
    db.execute(text("UPDATE sites SET name_en = 'Data Communal House', "
                    "description_vi = 'Ngôi đình cổ.', description_en = 'An old communal house.' "
                    "WHERE heritage_id = :h"), {"h": hid})
    write_jpeg(media_dir, "og.jpg")
    add_photo(db, "og.jpg", site=hid, licence="CC BY-SA 4.0")
    html = client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)
    data = json_ld(html)
    assert data["@type"] == "TouristAttraction" and data["@context"] == "https://schema.org"
    assert data["name"] == "Đình Dữ Liệu" and "Data Communal House" in data["alternateName"]
    assert data["inLanguage"] == "en" and data["description"] == "An old communal house."
    assert (data["geo"]["latitude"], data["geo"]["longitude"]) == (LAT, LON)
    assert data["url"] == f"http://localhost/sites/{hid}?lang=en"
    assert data["image"] == ["http://localhost/media/og.jpg"]

    assert f'<link rel="canonical" href="http://localhost/sites/{hid}?lang=en">' in html
    assert (f'<link rel="alternate" hreflang="vi" href="http://localhost/sites/{hid}?lang=vi">'
            in html)
    assert '<meta property="og:image" content="http://localhost/media/og.jpg">' in html
    assert '<meta property="og:title" content="Đình Dữ Liệu">' in html
    # Without JavaScript the link is there as text; the buttons wait for the script.
    assert f'<span id="share-url">http://localhost/sites/{hid}?lang=en</span>' in html
    assert '<button type="button" id="share-copy" hidden>' in html
    vi = client.get(f"/sites/{hid}?lang=vi").get_data(as_text=True)
    assert json_ld(vi)["description"] == "Ngôi đình cổ." and json_ld(vi)["inLanguage"] == "vi"


# --- sitemap and robots ------------------------------------------------------------------

def test_sitemap_lists_public_pages_in_both_languages_and_no_hidden_site(client, db):
    shown = make_site(db, LON, LAT, name="Đình Sơ Đồ")
    draft = make_site(db, LON, LAT, name="Đình Nháp", status="draft")
    secret = make_site(db, LON, LAT, name="Đình Mật", sensitive=True)
    index = client.get("/sitemap.xml")
    assert index.status_code == 200 and index.mimetype == "application/xml"
    base = "http://localhost"
    files = [m.findtext("s:loc", namespaces=SITEMAP_NS)
             for m in ET.fromstring(index.data).findall("s:sitemap", SITEMAP_NS)]
    assert files[0] == f"{base}/sitemaps/pages.xml"
    urls = []
    for loc in files:
        response = client.get(loc.removeprefix(base))
        assert response.status_code == 200 and response.mimetype == "application/xml"
        urls += ET.fromstring(response.data).findall("s:url", SITEMAP_NS)
    locs = [u.findtext("s:loc", namespaces=SITEMAP_NS) for u in urls]
    for path in ("/", "/sites", f"/sites/{shown}", "/festivals", "/planning", "/data"):
        assert f"{base}{path}?lang=vi" in locs and f"{base}{path}?lang=en" in locs, path
    assert not any(draft in loc or secret in loc for loc in locs)
    demo = db.scalar(text("SELECT count(*) FROM sites WHERE status = 'published' "
                          "AND NOT sensitive"))
    # Intangible heritage and artifacts have pages too (tests/test_permanent_ids.py).
    records = db.scalar(text("SELECT count(*) FROM intangible_heritage "
                             "WHERE status = 'published'")) + db.scalar(text("""
        SELECT count(*) FROM artifacts a JOIN sites h ON h.id = a.holding_site_id
         WHERE a.approved_at IS NOT NULL AND a.public AND h.status = 'published'
           AND NOT h.sensitive"""))
    assert len(locs) == 2 * (5 + demo + records)

    entry = next(u for u in urls
                 if u.findtext("s:loc", namespaces=SITEMAP_NS) == f"{base}/sites/{shown}?lang=en")
    links = {x.get("hreflang"): x.get("href") for x in entry.findall("x:link", SITEMAP_NS)}
    assert links == {"vi": f"{base}/sites/{shown}?lang=vi", "en": f"{base}/sites/{shown}?lang=en",
                     "x-default": f"{base}/sites/{shown}"}
    updated = db.scalar(text("SELECT updated_at FROM sites WHERE heritage_id = :h"), {"h": shown})
    assert entry.findtext("s:lastmod", namespaces=SITEMAP_NS) == updated.date().isoformat()


def test_robots_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    assert "User-agent: *" in lines and "Disallow: /officials/" in lines


# --- in a phone's browser ----------------------------------------------------------------

@pytest.mark.browser
def test_share_link_on_a_phone(phone_page, page_watch, live_server):
    phone_page.goto(f"{live_server}/sites/VN-HY-DT-000002")
    link = phone_page.locator("#share-url")
    link.scroll_into_view_if_needed()
    assert link.is_visible()
    assert link.inner_text() == f"{live_server}/sites/VN-HY-DT-000002?lang=vi"
    copy = phone_page.get_by_role("button", name="Sao chép liên kết")
    assert copy.is_visible()
    copy.click()
    status = phone_page.locator("#share-status")
    phone_page.wait_for_function(
        "() => document.getElementById('share-status').textContent.length > 0")
    # Headless Chromium grants no clipboard permission: either message is right, and
    # after the fallback the link is selected for the reader to copy.
    assert status.inner_text() in ("Đã sao chép liên kết.",
                                   "Liên kết đã được chọn: sao chép bằng Ctrl+C, hoặc chạm và giữ.")
    if status.inner_text() != "Đã sao chép liên kết.":
        assert phone_page.evaluate("() => String(window.getSelection())") == link.inner_text()
    nearby = phone_page.locator("ol.nearby li")
    assert nearby.count() >= 1
    assert re.search(r"– \d+(,\d)? k?m$", nearby.first.inner_text())
    assert phone_page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page_watch.off_host == []
    assert page_watch.console_errors == []
