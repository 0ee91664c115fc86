"""The tourists' home map in Debian's Chromium, on a phone (390×844, touch) as a visitor
uses it: clusters, search without diacritics, the card, filters, English, near me."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.conftest import ARTIFACTS, PageWatch, _watch

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _demo(database_url: str, sql: str, **params):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def _ready(page) -> None:
    page.wait_for_function("() => Number(document.querySelector('.folium-map')"
                           "?.dataset.hmSites || 0) > 0", timeout=30000)


def _loaded(page) -> int:
    return int(page.eval_on_selector(".folium-map", "el => el.dataset.hmSites"))


def _set_zoom(page, zoom: int) -> None:
    page.evaluate(f"() => HeritageMap.map.setZoom({zoom}, {{animate: false}})")
    page.wait_for_load_state("networkidle")


def _clean(watch: PageWatch) -> None:
    assert watch.off_host == []
    assert watch.console_errors == []
    assert watch.failed == []


@pytest.fixture
def phone_context(browser, page_watch, request):
    """A phone page with a chosen geolocation permission: `request.param` = context
    options (the default phone_page fixture cannot take them)."""
    context = browser.new_context(locale="vi-VN", **PHONE, **request.param)
    page = context.new_page()
    _watch(page, page_watch)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()


def test_relics_are_clustered_when_zoomed_out(phone_page, page_watch, live_server):
    phone_page.goto(live_server + "/")
    _ready(phone_page)
    _set_zoom(phone_page, 10)
    clusters = phone_page.locator(".marker-cluster")
    expect(clusters.first).to_be_visible()
    # The cluster says how many relics it holds, for screen readers too.
    assert re.search(r"\d+ di tích", clusters.first.inner_text())
    # The legend shows the type icons.
    phone_page.get_by_role("button", name="Chú giải").tap()
    legend = phone_page.locator(".hm-legend")
    assert "Di tích lịch sử" in legend.inner_text() and "Danh lam thắng cảnh" in legend.inner_text()
    assert legend.locator(".hm-swatch-icon svg").count() >= 6
    _clean(page_watch)


def test_search_without_diacritics_then_the_card(phone_page, page_watch, live_server,
                                                  database_url):
    hid, lon, lat = _demo(database_url, "SELECT heritage_id, ST_X(geom), ST_Y(geom) FROM sites "
                                        "WHERE name_vi = 'Đền Đa Hòa'")[0]
    page = phone_page
    page.goto(live_server + "/")
    _ready(page)
    page.locator("#explore-q").fill("da hoa")
    first = page.locator("#explore-results li a").first
    expect(first).to_have_text("Đền Đa Hòa")
    expect(page.locator("#explore-status")).to_contain_text("Tìm thấy")
    first.tap()

    card = page.locator(".leaflet-popup-content .hm-card")
    expect(card).to_be_visible(timeout=10000)
    assert card.locator("h2").inner_text() == "Đền Đa Hòa"
    assert "Di tích quốc gia đặc biệt" in card.inner_text()
    assert "Lịch sử" in card.inner_text()
    directions = card.get_by_role("link", name=re.compile("^Chỉ đường"))
    assert directions.get_attribute("href") == \
        f"https://www.openstreetmap.org/directions?route=%3B{lat}%2C{lon}"
    assert card.locator("a.hm-card-geo").get_attribute("href") == f"geo:{lat},{lon}"
    site_link = card.get_by_role("link", name="Xem trang di tích")
    assert site_link.get_attribute("href") == f"/sites/{hid}"
    # The card takes the focus, so keyboard and screen-reader users land on it.
    assert page.evaluate("() => document.activeElement.classList.contains('hm-card-title')")
    # The card fits the phone's width.
    box = page.locator(".leaflet-popup").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    site_link.tap()
    page.wait_for_url(f"**/sites/{hid}")
    assert page.locator("h1").inner_text() == "Đền Đa Hòa"
    _clean(page_watch)


def test_a_rank_filter_changes_the_markers_and_the_list(phone_page, page_watch, live_server,
                                                       database_url):
    special = sorted(r[0] for r in _demo(database_url, """
        SELECT name_vi FROM sites WHERE rank = 'special_national'
           AND status = 'published' AND NOT sensitive"""))
    published = _demo(database_url, "SELECT count(*) FROM sites "
                                    "WHERE status = 'published' AND NOT sensitive")[0][0]
    page = phone_page
    page.goto(live_server + "/")
    _ready(page)
    _set_zoom(page, 10)
    assert _loaded(page) == published
    page.locator(".explore-filters summary").tap()
    page.get_by_label("Xếp hạng").select_option("special_national")
    expect(page.locator("#explore-results li")).to_have_count(len(special))
    assert sorted(page.locator("#explore-results li a").all_inner_texts()) == special
    page.wait_for_function(f"() => document.querySelector('.folium-map').dataset.hmSites"
                           f" === '{len(special)}'", timeout=10000)
    markers = page.evaluate("""() => { const names = [];
        HeritageMap.loaders.sites.cluster.eachLayer(l => names.push(l.feature.properties.name_vi));
        return names.sort(); }""")
    assert markers == special
    page.locator("#explore-results li a", has_text="Đền Dạ Trạch").tap()
    expect(page.locator(".hm-card")).to_contain_text("Di tích quốc gia đặc biệt", timeout=10000)
    # Search combines with the filter.
    page.locator("#explore-q").fill("ham tu")
    expect(page.locator("#explore-status")).to_contain_text("Không có di tích nào phù hợp")
    _clean(page_watch)


def test_english_labels_keep_vietnamese_names(phone_page, page_watch, live_server):
    page = phone_page
    page.goto(live_server + "/?lang=en")
    _ready(page)
    assert page.locator("label[for=explore-q]").inner_text() == "Search relics by name"
    expect(page.get_by_role("button", name="Near me")).to_be_visible()
    assert page.locator(".explore-filters summary").inner_text() == "Filters"
    page.locator("#explore-q").fill("chu dong tu")
    first = page.locator("#explore-results li a").first
    expect(first).to_have_text("Đền Đa Hòa")
    first.tap()
    card = page.locator(".hm-card")
    expect(card).to_be_visible(timeout=10000)
    assert card.locator("h2").inner_text() == "Đền Đa Hòa"
    assert "Đa Hòa Temple" in card.inner_text()
    assert "Special national relic" in card.inner_text()
    expect(card.get_by_role("link", name=re.compile("^Directions"))).to_be_visible()
    expect(card.get_by_role("link", name="Open the relic's page")).to_be_visible()
    _clean(page_watch)


@pytest.mark.parametrize("phone_context", [{"permissions": []}], indirect=True)
def test_near_me_without_permission_says_so_and_search_still_works(phone_context, page_watch,
                                                                   live_server):
    page = phone_context
    page.goto(live_server + "/")
    _ready(page)
    page.get_by_role("button", name="Gần tôi").tap()
    expect(page.locator("#explore-status")).to_contain_text(
        "Không xác định được vị trí của bạn", timeout=20000)
    expect(page.locator("#explore-status")).to_contain_text("vẫn dùng bình thường")
    page.locator("#explore-q").fill("da trach")
    expect(page.locator("#explore-results li a").first).to_have_text("Đền Dạ Trạch")
    _clean(page_watch)


NEAR_DA_HOA = {"latitude": 20.8952, "longitude": 105.9306}


@pytest.mark.parametrize("phone_context", [
    {"permissions": ["geolocation"], "geolocation": NEAR_DA_HOA}], indirect=True)
def test_near_me_lists_the_nearest_relic_with_its_distance(phone_context, page_watch,
                                                           live_server, database_url):
    expected = _demo(database_url, """
        SELECT name_vi, ST_Distance(geom::geography,
                                    ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
          FROM sites WHERE status = 'published' AND NOT sensitive ORDER BY 2 LIMIT 5""",
                     lat=NEAR_DA_HOA["latitude"], lon=NEAR_DA_HOA["longitude"])
    page = phone_context
    page.goto(live_server + "/")
    _ready(page)
    page.get_by_role("button", name="Gần tôi").tap()
    items = page.locator("#explore-results li")
    expect(items.first.locator("a")).to_have_text("Đền Đa Hòa", timeout=20000)
    assert page.locator("#explore-results-title").inner_text() == "Di tích gần bạn nhất"
    expect(page.locator("#explore-status")).to_contain_text("đường chim bay")
    assert [a for a in items.locator("a").all_inner_texts()] == [n for n, _ in expected]
    metres = re.search(r"(\d+) m\b", items.first.locator(".explore-meta").inner_text())
    assert metres and abs(int(metres.group(1)) - expected[0][1]) <= 1
    # Kilometres the Vietnamese way (Intl.NumberFormat with the page's language): "2,5 km".
    far = [(i, d) for i, (_, d) in enumerate(expected) if d >= 1000]
    assert far
    for i, d in far:
        shown = re.search(r"([\d.,]+) km", items.nth(i).locator(".explore-meta").inner_text())
        assert shown and shown.group(1) == f"{d / 1000:.1f}".replace(".", ","), shown
    expect(page.locator(".leaflet-tooltip", has_text="Bạn đang ở đây")).to_be_visible()
    _clean(page_watch)


@pytest.mark.parametrize("size", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}])
def test_the_home_map_opens_on_the_whole_district_clear_of_the_legend(browser, page_watch,
                                                                      live_server, database_url,
                                                                      size):
    (minx, miny, maxx, maxy), = _demo(database_url, """
        SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
          SELECT ST_Extent(geom) AS e FROM admin_units
           WHERE level IN ('commune', 'ward', 'town') AND valid_to IS NULL) x""")
    context = browser.new_context(viewport=size, locale="vi-VN")
    page = context.new_page()
    _watch(page, page_watch)
    try:
        page.goto(live_server + "/")
        page.wait_for_selector("[data-hm-ready]")
        boxes = page.evaluate("""([minx, miny, maxx, maxy]) => {
            const map = HeritageMap.map, box = map.getContainer().getBoundingClientRect();
            const rect = n => { const r = n.getBoundingClientRect();
                                return [r.left - box.left, r.top - box.top,
                                        r.right - box.left, r.bottom - box.top]; };
            const sw = map.latLngToContainerPoint([miny, minx]);
            const ne = map.latLngToContainerPoint([maxy, maxx]);
            return {district: [sw.x, ne.y, ne.x, sw.y], map: [0, 0, box.width, box.height],
                    legend: rect(document.querySelector('.hm-legend'))}; }""",
                              [minx, miny, maxx, maxy])
        d, m, legend = boxes["district"], boxes["map"], boxes["legend"]
        assert m[0] <= d[0] and m[1] <= d[1] and d[2] <= m[2] and d[3] <= m[3], boxes
        overlap = (min(d[2], legend[2]) - max(d[0], legend[0]),
                   min(d[3], legend[3]) - max(d[1], legend[1]))
        assert overlap[0] <= 0 or overlap[1] <= 0, boxes  # not under the legend
        # And not a speck: the district spans at least a third of the map's width or height.
        assert d[2] - d[0] >= m[2] / 3 or d[3] - d[1] >= m[3] / 3, boxes
        _clean(page_watch)
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"district-fit-{size['width']}.png"))
        context.close()


def test_opening_a_relic_from_the_list_reuses_its_marker(phone_page, page_watch, live_server,
                                                         database_url):
    """The list and the markers key relics by the same id (the heritage identifier): a
    relic opened from the list is the marker already drawn, not a second one on top."""
    hid = _demo(database_url, "SELECT heritage_id FROM sites WHERE name_vi = 'Đền Đa Hòa'")[0][0]
    page = phone_page
    page.goto(live_server + "/")
    _ready(page)
    page.locator("#explore-q").fill("da hoa")
    first = page.locator("#explore-results li a").first
    expect(first).to_have_text("Đền Đa Hòa")
    first.tap()
    expect(page.locator(".leaflet-popup-content .hm-card")).to_be_visible(timeout=10000)
    # Markers by the relic they show (not by the key the loader used): one for Đa Hòa,
    # and no relic drawn twice among the search's markers. Opening the relic moves the
    # map, which may reload the layer: read the markers and the loaded count together,
    # in the page, once they agree (a reload in flight has them differ for a moment).
    read = """() => { const ids = [];
        HeritageMap.loaders.sites.cluster.eachLayer(
            l => ids.push(l.feature.properties.heritage_id));
        return {ids, loaded: Number(document.querySelector('.folium-map').dataset.hmSites)};
    }"""
    page.wait_for_function(f"() => {{ const r = ({read})(); return r.ids.length === r.loaded; }}",
                           timeout=15000)
    state = page.evaluate(read)
    shown = state["ids"]
    assert shown.count(hid) == 1
    assert len(shown) == len(set(shown)) == state["loaded"]
    _clean(page_watch)
