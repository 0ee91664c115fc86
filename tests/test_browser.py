"""The map and site pages in a real headless Chromium (Debian's), as a user sees them."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.browser


def _wait_for_layer(page, name: str) -> int:
    page.wait_for_function(
        f"() => Number(document.querySelector('.folium-map')?.dataset['hm{name}'] || 0) > 0",
        timeout=30000)
    return int(page.eval_on_selector(".folium-map", f"el => el.dataset['hm{name}']"))


def _attr(name: str) -> str:
    # data-hm-protection_zones -> dataset key "hmProtection_zones"
    return name[0].upper() + name[1:]


def _demo(database_url: str, sql: str):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    finally:
        engine.dispose()


def test_map_draws_sites_and_zones_and_popup_links_to_site_page(page, page_watch, live_server,
                                                                 database_url):
    published = _demo(database_url, """SELECT count(*) FROM sites
                                       WHERE status = 'published' AND NOT sensitive""")[0][0]
    page.goto(live_server + "/")
    assert page.title() == "Bản đồ di sản Khoái Châu"
    # Zoom to Đa Hòa so that zones (min zoom 12) load.
    lon, lat = _demo(database_url, "SELECT ST_X(geom), ST_Y(geom) FROM sites "
                                   "WHERE name_vi = 'Đền Đa Hòa'")[0]
    page.wait_for_function("() => window.HeritageMap && HeritageMap.layers")
    page.evaluate(f"() => {{ const m = Object.values(window).find(v => v instanceof L.Map);"
                  f" m.setView([{lat}, {lon}], 15); }}")
    page.wait_for_load_state("networkidle")  # the loads for the new view have finished
    # Zone polygons are drawn as SVG paths; relics as badges, or clusters where they crowd.
    # The counts are read in the page on every poll: a count read once may still be the
    # district view's while the zoomed view's answer is being drawn.
    page.wait_for_function(
        """() => {
             const data = document.querySelector('.folium-map').dataset;
             const zones = Number(data.hmProtection_zones || 0);
             return zones >= 2 && Number(data.hmSites || 0) >= 1
               && document.querySelectorAll('path.leaflet-interactive').length >= zones
               && document.querySelectorAll('.hm-relic-marker, .hm-cluster').length >= 1;
           }""", timeout=30000)
    zones = _wait_for_layer(page, _attr("protection_zones"))
    assert zones >= 2
    sites = _wait_for_layer(page, _attr("sites"))
    assert 1 <= sites <= published

    # Legend names the layers in Vietnamese.
    legend = page.locator(".hm-legend")
    assert "Khu vực bảo vệ I" in legend.inner_text()

    # Open the popup of the Đa Hòa marker, follow its link.
    page.evaluate("""() => {
        const group = HeritageMap.layers.sites;
        group.eachLayer(g => g.eachLayer && g.eachLayer(l => {
            if (l.feature && l.feature.properties.name_vi === 'Đền Đa Hòa') l.openPopup();
        }));
    }""")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert "Đền Đa Hòa" in popup.inner_text()
    assert "Di tích quốc gia đặc biệt" in popup.inner_text()
    popup.locator("a.hm-site-link").click()
    page.wait_for_url("**/sites/VN-HY-DT-*")
    assert page.locator("h1").inner_text() == "Đền Đa Hòa"
    assert "Khu vực bảo vệ I" in page.locator("table.zones").inner_text()
    _wait_for_layer(page, _attr("protection_zones"))

    assert page_watch.off_host == []
    assert page_watch.console_errors == []
    assert page_watch.failed == []


def test_site_page_in_english_on_a_phone(phone_page, page_watch, live_server, database_url):
    hid = _demo(database_url, "SELECT heritage_id FROM sites WHERE name_vi = 'Đền Dạ Trạch'")
    hid = hid[0][0] if hid else _demo(database_url, "SELECT min(heritage_id) FROM sites")[0][0]
    phone_page.goto(f"{live_server}/sites/{hid}?lang=en")
    assert phone_page.locator("html").get_attribute("lang") == "en"
    assert "Protection zones" in phone_page.content()
    _wait_for_layer(phone_page, _attr("sites"))
    # The page fits the phone: no horizontal scrolling.
    assert phone_page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page_watch.off_host == [] and page_watch.console_errors == []


def test_map_works_with_the_language_switch(page, page_watch, live_server):
    page.goto(live_server + "/")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/?lang=en")
    legend = page.locator(".hm-legend")
    legend.wait_for()
    assert "Special national relic" in legend.inner_text()
    assert "Protection zone I" in legend.inner_text()
    assert "Relics" in page.locator(".leaflet-control-layers").inner_text()
    _wait_for_layer(page, _attr("sites"))
    # Keyboard users can fold the legend.
    toggle = page.get_by_role("button", name="Legend")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page_watch.off_host == [] and page_watch.console_errors == []
