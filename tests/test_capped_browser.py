"""In Chromium: a map whose layer answer is cut at the layer's limit says so over the
map ("Đang hiện 3 trên 8 di tích — phóng to để xem hết"), in the page's language, and the
notice goes once the view holds no more than the limit.

The layers' limits are lowered for one app served on its own port (the demo district
has only a few relics), over the committed demo data.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from gis_app.clock import today_in_vietnam
from layers import all_layers, get_layer
from tests.conftest import served
from tests.conftest import test_config as config_for

pytestmark = pytest.mark.browser


@pytest.fixture
def serve_with_limits(database_url: str,
                      monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """serve(layer=limit, ...) -> the base URL of an app whose layers have these limits."""
    with ExitStack() as servers:
        def serve(**limits: int) -> str:
            for name, limit in limits.items():
                monkeypatch.setitem(all_layers(), name, replace(get_layer(name), limit=limit))
            return servers.enter_context(served(config_for(database_url)))

        yield serve


def _scalar(database_url: str, sql: str, **params) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text(sql), params)
    finally:
        engine.dispose()


def _public_relics(database_url: str) -> int:
    return _scalar(database_url, "SELECT count(*) FROM sites "
                                 "WHERE status = 'published' AND NOT sensitive")


def _relics_loaded(page) -> int:
    return int(page.eval_on_selector(".folium-map", "el => el.dataset.hmSites || 0"))


def test_the_home_map_says_it_shows_only_part_of_the_relics_until_zoomed_in(
        page, page_watch, serve_with_limits, database_url):
    total = _public_relics(database_url)
    assert total > 3, "the demo district has more relics than the lowered limit"
    base = serve_with_limits(sites=3)
    page.goto(base + "/")
    notice = page.locator(".hm-capped")
    expect(notice).to_have_text(f"Đang hiện 3 trên {total} di tích — phóng to để xem hết",
                                timeout=30000)
    expect(notice).to_be_visible()
    assert _relics_loaded(page) == 3
    # Zoomed in on one relic, the view holds fewer relics than the limit: no notice.
    lat, lon = page.evaluate("""() => {
        const m = Object.values(HeritageMap.loaders.sites.byKey)[0].getLatLng();
        return [m.lat, m.lng]; }""")
    page.evaluate(f"HeritageMap.map.setView([{lat}, {lon}], 18)")
    expect(notice).to_be_hidden(timeout=30000)
    expect(notice).to_have_text("")
    assert 1 <= _relics_loaded(page) < 3
    # Zoomed out again, it comes back.
    page.evaluate("HeritageMap.map.setZoom(11)")
    expect(notice).to_have_text(f"Đang hiện 3 trên {total} di tích — phóng to để xem hết",
                                timeout=30000)
    assert page_watch.console_errors == [] and page_watch.off_host == []


def test_the_notice_is_in_english_on_the_english_page(page, serve_with_limits, database_url):
    total = _public_relics(database_url)
    base = serve_with_limits(sites=2)
    page.goto(base + "/?lang=en")
    expect(page.locator(".hm-capped")).to_have_text(
        f"Showing 2 of {total} relics — zoom in to see them all", timeout=30000)


def test_a_whole_map_shows_no_notice(page, live_server, database_url):
    page.goto(live_server + "/")
    page.wait_for_function("() => Number(document.querySelector('.folium-map')"
                           "?.dataset.hmSites || 0) > 0", timeout=30000)
    assert _relics_loaded(page) == _public_relics(database_url)
    expect(page.locator(".hm-capped")).to_be_hidden()
    expect(page.locator(".hm-capped")).to_have_text("")


def test_a_relic_page_map_says_when_its_zones_are_cut(page, page_watch, serve_with_limits,
                                                      database_url):
    """The relic page's map loads the layer API (the lean path): zones I and II of the
    relic are more than a limit of 1."""
    heritage_id = _scalar(database_url, """
        SELECT s.heritage_id FROM sites s
         WHERE s.status = 'published' AND NOT s.sensitive
           AND (SELECT count(*) FROM protection_zones z WHERE z.site_id = s.id) >= 2
         ORDER BY s.heritage_id LIMIT 1""")
    base = serve_with_limits(protection_zones=1)
    zone_urls: list[str] = []
    page.on("request", lambda r: "/api/layers/protection_zones.geojson" in r.url
            and zone_urls.append(r.url))
    page.goto(f"{base}/sites/{heritage_id}")
    notice = page.locator(".hm-capped")
    expect(notice).to_contain_text("Đang hiện 1 trên", timeout=30000)
    # The count is every public zone in force that the map's box touches.
    bbox = [float(v) for v in parse_qs(urlsplit(zone_urls[-1]).query)["bbox"][0].split(",")]
    in_box = _scalar(database_url, """
        SELECT count(*) FROM protection_zones z JOIN sites s ON s.id = z.site_id
         WHERE s.status = 'published' AND NOT s.sensitive
           AND (z.valid_from IS NULL OR z.valid_from <= :today)
           AND (z.valid_to IS NULL OR z.valid_to >= :today)
           AND ST_Intersects(z.geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))""",
                     a=bbox[0], b=bbox[1], c=bbox[2], d=bbox[3], today=today_in_vietnam())
    assert in_box >= 2
    expect(notice).to_have_text(f"Đang hiện 1 trên {in_box} khu vực bảo vệ — phóng to để "
                                "xem hết")
    assert page_watch.console_errors == [] and page_watch.off_host == []


def test_a_search_listing_fewer_relics_than_found_says_how_many(page, serve_with_limits,
                                                                database_url, monkeypatch):
    from gis_app import maps

    historical = _scalar(database_url, "SELECT count(*) FROM sites WHERE status = "
                                       "'published' AND NOT sensitive "
                                       "AND 'historical' = ANY(types)")
    assert historical > 2
    monkeypatch.setattr(maps, "RESULT_LIMIT", 2)
    base = serve_with_limits()
    page.goto(base + "/?type=historical")
    expect(page.locator("#explore-status")).to_have_text(
        f"Tìm thấy {historical} di tích; danh sách hiện 2 di tích đầu tiên", timeout=30000)
    assert page.locator("#explore-results li").count() == 2
