"""The OGC API's HTML pages in headless Chromium: a person walks from the landing page to
a relic's feature page and back through the pages of items, in Vietnamese, with nothing
loaded from outside and no console errors."""
from __future__ import annotations

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.browser


def test_walk_from_the_landing_page_to_a_relic(page, page_watch, live_server, engine):
    with engine.connect() as conn:
        hid, name = conn.execute(text(
            "SELECT heritage_id, name_vi FROM sites WHERE status = 'published' "
            "AND NOT sensitive ORDER BY id LIMIT 1")).one()
        total = conn.scalar(text("SELECT count(*) FROM sites WHERE status = 'published' "
                                 "AND NOT sensitive"))
    page.goto(f"{live_server}/ogc/?lang=vi")
    assert page.get_by_role("heading", level=1).inner_text().startswith(
        "Bản đồ di sản Khoái Châu")
    page.locator("#main").get_by_role("link", name="Các tập dữ liệu").click()
    page.locator("#main").get_by_role("link", name="Di tích", exact=True).click()
    page.get_by_role("link", name="Xem các đối tượng").click()
    assert f"trong {total}" in page.locator("p.count").inner_text()
    page.locator("#main").get_by_role("link", name=hid, exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert page.get_by_role("link", name="Trang của hồ sơ").get_attribute("href").endswith(
        f"/sites/{hid}")
    # Pages of 2: next, then back.
    page.goto(f"{live_server}/ogc/collections/sites/items?f=html&limit=2")
    page.get_by_role("link", name="Trang sau").click()
    assert "Đối tượng 3–4" in page.locator("p.count").inner_text()
    page.get_by_role("link", name="Trang trước").click()
    assert "Đối tượng 1–2" in page.locator("p.count").inner_text()
    assert page_watch.off_host == [] and page_watch.console_errors == [] \
        and page_watch.failed == []
