"""The tourists' home map's first view on a phone: few requests, the same content, and a
page revalidated with a 304 that still runs (its scripts keep their CSP nonce)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.conftest import PageWatch

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _public_relics(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM sites "
                                    "WHERE status = 'published' AND NOT sensitive"))
    finally:
        engine.dispose()


def _loaded(page) -> int:
    return int(page.eval_on_selector(".folium-map", "el => el.dataset.hmSites || 0"))


def test_first_view_is_eight_requests_at_most_with_every_relic_and_the_legend(
        phone_page, page_watch, live_server, database_url):
    fetched: list[str] = []
    phone_page.on("request", lambda r: r.url.startswith("http") and fetched.append(r.url))
    phone_page.goto(live_server + "/")
    phone_page.wait_for_function("() => Number(document.querySelector('.folium-map')"
                                 "?.dataset.hmSites || 0) > 0", timeout=30000)
    phone_page.wait_for_load_state("networkidle")
    assert len(fetched) <= 8, "\n".join(fetched)
    # The relics: one request, and every public relic of the district is on the map.
    assert sum("/api/sites?" in u for u in fetched) == 1
    assert _loaded(phone_page) == _public_relics(database_url)
    # The basemap layers and the legend are there as before.
    for layer in ("communes", "rivers", "roads"):
        assert sum(f"/api/layers/{layer}.geojson" in u for u in fetched) == 1, layer
    phone_page.get_by_role("button", name="Chú giải").tap()
    legend = phone_page.locator(".hm-legend")
    assert "Di tích lịch sử" in legend.inner_text()
    expect(phone_page.locator(".leaflet-control-layers-toggle")).to_be_visible()
    assert page_watch.console_errors == [] and page_watch.off_host == []
    assert page_watch.failed == []


def test_a_home_page_revalidated_with_304_still_runs_its_map(browser, live_server):
    # No request routing here: Playwright's routing turns the HTTP cache off, and the
    # page must come from it.
    context = browser.new_context(locale="vi-VN", **PHONE)
    page = context.new_page()
    watch = PageWatch()
    _watch_without_routing(page, watch)
    # What came over the wire (the browser reports the cached page's 200 after a 304;
    # the raw status is in the "extra info" event).
    documents: list[str] = []
    raw: dict[str, int] = {}
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.requestWillBeSent", lambda e: e.get("type") == "Document" and
           documents.append(e["requestId"]))
    cdp.on("Network.responseReceivedExtraInfo",
           lambda e: raw.__setitem__(e["requestId"], e["statusCode"]))
    try:
        page.goto(live_server + "/")
        expect(page.locator(".marker-cluster, .leaflet-marker-icon").first).to_be_visible(
            timeout=30000)
        page.reload()
        expect(page.locator(".marker-cluster, .leaflet-marker-icon").first).to_be_visible(
            timeout=30000)
        page.wait_for_load_state("networkidle")
        assert [raw.get(r) for r in documents] == [200, 304]
        # The script-only controls came up: the page's scripts ran under its CSP.
        expect(page.get_by_role("button", name="Gần tôi")).to_be_visible()
        assert watch.console_errors == [] and watch.off_host == []
    finally:
        context.close()


def _watch_without_routing(page, watch: PageWatch) -> None:
    page.on("request", lambda r: r.url.startswith(("http://127.0.0.1:", "data:", "about:"))
            or watch.off_host.append(r.url))
    page.on("console", lambda m: m.type == "error" and watch.console_errors.append(m.text))
    page.on("pageerror", lambda e: watch.console_errors.append(str(e)))


def test_a_304_keeps_the_stored_page_s_csp(client):
    first = client.get("/")
    assert "nonce-" in first.headers["Content-Security-Policy"]
    again = client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert "Content-Security-Policy" not in again.headers
