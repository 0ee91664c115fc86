"""A relic's history on a phone (390x844) in Chromium, against the live server's
committed database: the changes read without sideways scrolling, the geometry change
is drawn on the map before and after, and a reviewer restores an old version."""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.services.accounts import create_user
from gis_app.services.audit import set_actor
from tests.conftest import sign_in
from tests.factories import forget_story, make_site

PASSWORD = "a long enough password"


@pytest.mark.browser
def test_a_reviewer_reads_the_history_and_restores_on_a_phone(phone_page, page_watch,
                                                             live_server, database_url):
    page = phone_page
    engine = create_engine(database_url)
    username = f"browser-history-{os.getpid()}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        user = create_user(s, username, PASSWORD, "district_reviewer",
                           display_name="Lê Văn Duyệt")
        hid = make_site(s, 105.953, 20.843, name="Đình Trên Điện Thoại")
        s.commit()
        # Created in January (days cannot pass inside a test).
        s.execute(text("UPDATE revisions SET changed_at = '2026-01-10 09:00+07' "
                       "WHERE id > :r"), {"r": first_revision})
        s.commit()
        set_actor(s, user.id)
        s.execute(text("""UPDATE sites SET name_vi = 'Đình Trên Điện Thoại (sửa)',
                                 geom = ST_SetSRID(ST_MakePoint(105.9536, 20.8434), 4326)
                           WHERE heritage_id = :h"""), {"h": hid})
        # A proposal sent back with a long comment: the review is an event by name.
        s.execute(text("""
            INSERT INTO change_proposals (record_id, author_id, changes, status, reviewer_id,
                                          reviewed_at, comment)
            SELECT id, :u, '{"period": [null, "Thời Lê"]}', 'returned', :u, now(), :c
              FROM sites WHERE heritage_id = :h"""),
            {"u": user.id, "h": hid,
             "c": "Cần dẫn nguồn: biên-bản-khảo-sát-thực-địa-năm-2025-của-phòng-văn-hóa "
                  "và ảnh chụp bia đá ở tiền đường."})
        s.commit()
    try:
        sign_in(page, live_server, username, PASSWORD)
        page.goto(f"{live_server}/sites/{hid}")
        page.get_by_role("link", name="Lịch sử", exact=True).click()
        page.wait_for_url(re.compile(rf".*/officials/records/{hid}/history$"))
        page.wait_for_selector(".folium-map[data-history-shown='0']", timeout=30000)
        assert "Lịch sử của Đình Trên Điện Thoại (sửa)" in page.locator("h1").inner_text()
        first = page.locator(".history-event").first
        assert "Lê Văn Duyệt" in first.inner_text()
        assert "Vị trí:" in first.inner_text() and "dời " in first.inner_text()
        # Before (grey, dashed) and after (red) are both drawn.
        drawn = page.locator(".leaflet-overlay-pane path")
        strokes = {drawn.nth(i).get_attribute("stroke") for i in range(drawn.count())}
        assert {"#555", "#c0392b"} <= strokes
        label = page.locator("#history-map-label").inner_text()
        assert "Sửa" in label
        assert "của Lê Văn Duyệt bị Lê Văn Duyệt trả lại: Cần dẫn nguồn" in \
            page.locator(".history-events").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # The zones' creation is a geometry change too: show it.
        zone_button = page.locator(".history-event").last.locator(
            "li", has_text="Thêm Khu vực bảo vệ II").locator(".show-geometry")
        zone_button.click()
        shown = page.locator(".folium-map").get_attribute("data-history-shown")
        assert shown != "0"
        assert "Thêm Khu vực bảo vệ II" in page.locator("#history-map-label").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.fill("#as-of", "2026-01-15")
        page.get_by_role("button", name="Xem", exact=True).click()
        page.wait_for_url(re.compile(r".*as_of=2026-01-15$"))
        assert "Như vào cuối ngày 15/01/2026" in page.content()
        page.get_by_role("button", name="Khôi phục phiên bản ngày 15/01/2026").click()
        page.wait_for_url(re.compile(rf".*/officials/records/{hid}/history$"))
        assert "Đã khôi phục về phiên bản ngày 15/01/2026" in \
            page.locator(".flash").first.inner_text()
        assert "Khôi phục về phiên bản ngày 15/01/2026" in \
            page.locator(".history-event").first.inner_text()
        assert "Lịch sử của Đình Trên Điện Thoại" == page.locator("h1").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page_watch.console_errors == []
        assert page_watch.off_host == []
    finally:
        with Session(engine) as s:
            # The live server's database is shared by the session.
            s.execute(text("DELETE FROM change_proposals WHERE record_id IN "
                           "(SELECT id FROM sites WHERE heritage_id = :h)"), {"h": hid})
            s.commit()
        forget_story(engine, [hid], username, first_revision)


@pytest.mark.browser
def test_a_reviewer_undoes_a_mistaken_retirement_on_a_phone(phone_page, page_watch,
                                                          live_server, database_url):
    """Retired by mistake the day it was made: the retired relic's page (410) offers the
    reviewer its history and the way back, and the relic returns with its zones."""
    page = phone_page
    engine = create_engine(database_url)
    username = f"browser-reinstate-{os.getpid()}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        create_user(s, username, PASSWORD, "district_reviewer", display_name="Lê Văn Duyệt")
        hid = make_site(s, 105.954, 20.844, name="Đình Bị Hủy Nhầm")
        s.commit()
    try:
        sign_in(page, live_server, username, PASSWORD)
        page.goto(f"{live_server}/sites/{hid}")
        page.get_by_text("Đưa di tích này ra khỏi danh mục").click()
        page.fill("#retire-reason", "Nhầm với đình bên cạnh")
        page.get_by_role("button", name="Đưa ra khỏi danh mục", exact=True).click()
        page.wait_for_url(re.compile(rf".*/sites/{hid}$"))
        # The relic's own page now answers 410 (the browser logs that status).
        assert "Lý do: Nhầm với đình bên cạnh" in page.locator(".error-message").inner_text()
        assert page.get_by_role("link", name="Lịch sử", exact=True).count() == 1
        page.get_by_role("button", name="Đưa di tích trở lại danh mục").click()
        page.wait_for_url(re.compile(rf".*/sites/{hid}$"))
        assert "Di tích hoạt động trở lại (bỏ hủy); 2 khu vực bảo vệ có hiệu lực trở lại." \
            in page.locator(".flash").first.inner_text()
        assert "Đình Bị Hủy Nhầm" in page.locator("h1").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        with Session(engine) as s:
            assert s.scalar(text("SELECT status FROM sites WHERE heritage_id = :h"),
                            {"h": hid}) == "published"
            assert s.scalar(text("""SELECT count(*) FROM protection_zones z JOIN sites s
                                      ON s.id = z.site_id
                                   WHERE s.heritage_id = :h AND z.valid_to IS NULL"""),
                            {"h": hid}) == 2
        assert [e for e in page_watch.console_errors if "410" not in e] == []
        assert page_watch.off_host == []
    finally:
        forget_story(engine, [hid], username, first_revision)
