"""Server-rendered pages: the map shell, the site page in vi/en, drafts hidden."""
from __future__ import annotations

import re

from sqlalchemy import text

from tests.factories import make_site


def _demo_site(db) -> str:
    return db.scalar(text("SELECT heritage_id FROM sites WHERE name_vi = 'Đền Đa Hòa'"))


def test_map_page_uses_only_local_assets(client):
    html = client.get("/").get_data(as_text=True)
    # Leaflet comes vendored, in the home map's script bundle (gis_app/assets.py).
    bundle = re.search(r'src="(/bundles/home\.js\?v=[0-9a-f]{12})"', html).group(1)
    assert "/* vendor/leaflet-1.9.4/leaflet.js */" in client.get(bundle).get_data(as_text=True)
    assert "HeritageMap.init(" in html
    # Absolute links to the page itself (canonical, hreflang) are not external.
    external = [url for url in re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
                if not url.startswith("http://localhost/")]
    assert external == []
    assert not re.search(r"https?://(?:cdn|unpkg|code\.jquery|maxcdn|netdna)", html)


def test_map_page_lists_sites_for_browsers_without_javascript(client, db):
    html = client.get("/").get_data(as_text=True)
    noscript = html[html.index("<noscript>"):html.index("</noscript>")]
    assert "Đền Đa Hòa" in noscript
    assert f'/sites/{_demo_site(db)}' in noscript


def test_map_page_links_the_full_list_instead_of_a_long_one(client, db, monkeypatch):
    """With more relics than the page lists, the page without JavaScript links to the
    full list (a list of 40k relics made every visitor download megabytes)."""
    from gis_app.web import public
    shown = db.scalar(text("SELECT count(*) FROM sites "
                           "WHERE status = 'published' AND NOT sensitive"))
    monkeypatch.setattr(public, "MAP_LIST_MAX", shown - 1)
    html = client.get("/").get_data(as_text=True)
    noscript = html[html.index("<noscript>"):html.index("</noscript>")]
    assert "Đền Đa Hòa" not in noscript
    assert f"Danh sách toàn bộ {shown} di tích" in noscript
    assert 'href="/sites"' in noscript
    listing = client.get("/sites").get_data(as_text=True)
    assert "Đền Đa Hòa" in listing


def test_site_page_in_vietnamese_and_english(client, db):
    hid = _demo_site(db)
    vi = client.get(f"/sites/{hid}").get_data(as_text=True)
    assert '<html lang="vi">' in vi
    assert "Đền Đa Hòa" in vi and "Di tích quốc gia đặc biệt" in vi
    assert "Khu vực bảo vệ I" in vi and "1473/QĐ-TTg" in vi
    en = client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en
    assert "Special national relic" in en and "Protection zone II" in en
    assert "Đền Đa Hòa" in en  # data keeps its Vietnamese name


def test_language_follows_the_browser_then_sticks(client, db):
    hid = _demo_site(db)
    en = client.get(f"/sites/{hid}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Special national relic" in en.get_data(as_text=True)
    client.get(f"/sites/{hid}?lang=vi")
    again = client.get(f"/sites/{hid}", headers={"Accept-Language": "en"})
    assert "Di tích quốc gia đặc biệt" in again.get_data(as_text=True)


def test_zone_areas_are_in_square_metres(client, db):
    hid = _demo_site(db)
    expected = db.scalars(text("""
        SELECT round(ST_Area(z.geom::geography)) FROM protection_zones z
          JOIN sites s ON s.id = z.site_id WHERE s.heritage_id = :h ORDER BY z.zone"""),
        {"h": hid}).all()
    assert all(area >= 1000 for area in expected)  # so thousands are grouped
    html = client.get(f"/sites/{hid}").get_data(as_text=True)
    english = client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)
    for area in expected:
        # Vietnamese groups thousands with "." (3.503 m²), English with "," (3,503 m²).
        assert f'<td class="num">{area:,.0f}</td>'.replace(",", ".") in html
        assert f'<td class="num">{area:,.0f}</td>' in english
        assert f"{area:,.0f}" not in html


def test_draft_site_page_is_not_found_for_the_public(client, db):
    hid = make_site(db, 105.95, 20.85, name="Đình nháp", status="draft")
    response = client.get(f"/sites/{hid}?lang=en")
    assert response.status_code == 404
    assert "Đình nháp" not in response.get_data(as_text=True)
    assert f"No published relic has the identifier {hid}" in response.get_data(as_text=True)


def test_map_page_lets_phones_zoom(client):
    html = client.get("/").get_data(as_text=True)
    assert "user-scalable=no" not in html
    assert html.count('name="viewport"') == 1


def test_unknown_address_is_a_404_page_not_a_crash(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'href="/khong-co-trang-nay?lang=en"' in page
    # In the page's language, never Werkzeug's English description.
    assert "<h1>Không tìm thấy</h1>" in page
    assert "Không có trang nào ở địa chỉ này." in page
    assert "The requested URL was not found" not in page
    english = client.get("/khong-co-trang-nay?lang=en").get_data(as_text=True)
    assert "There is no page at this address. Check the link" in english
    wrong_method = client.delete("/sites?lang=vi")
    assert wrong_method.status_code == 405
    assert "Không dùng được địa chỉ này theo cách đó." in wrong_method.get_data(as_text=True)


def test_the_source_note_of_a_relic_page_is_in_the_page_language(client, db):
    hid = _demo_site(db)
    db.execute(text("UPDATE sites SET accuracy = 'approximate', source = 'Survey notes 2024', "
                    "accuracy_note = 'Placed by hand' WHERE heritage_id = :h"), {"h": hid})
    html = client.get(f"/sites/{hid}").get_data(as_text=True)
    note = html[html.index('class="source muted"'):]
    note = note[:note.index("</section>")]
    assert "Vị trí và khu vực bảo vệ: Gần đúng (chưa đo đạc)." in note
    # The provenance is kept, folded away and marked as English for screen readers.
    assert "<summary>Nguồn tư liệu (ghi bằng tiếng Anh)</summary>" in note
    assert '<p lang="en">Survey notes 2024. Placed by hand</p>' in note
    english = client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)
    assert "Source: Survey notes 2024. Placed by hand" in english
    assert "Position and zones: Approximate (not surveyed)." in english
