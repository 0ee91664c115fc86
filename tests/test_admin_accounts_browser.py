"""The account pages in Chromium on a phone (390x844) against the live server's committed
database: an administrator creates a commune editor for a former commune, reads the
password shown once, the editor signs in with it on another phone, and is signed out
there as soon as the administrator disables the account. Everything the test commits is
removed afterwards."""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.services.accounts import create_user
from tests.conftest import sign_in

PASSWORD = "a long enough password"


def fits_the_screen(page) -> bool:
    """Nothing sticks out sideways: no horizontal scrolling on the phone."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.browser
def test_admin_creates_then_disables_a_commune_editor_on_a_phone(
        phone_page, page_watch, browser, live_server, database_url):
    page = phone_page
    engine = create_engine(database_url)
    admin = f"browser-admin-{os.getpid()}"
    editor = f"browser-xa-{os.getpid()}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        create_user(s, admin, PASSWORD, "admin", display_name="Trần Quản Trị")
        da_trach = s.scalar(text("SELECT id FROM admin_units WHERE code = '12214'"))
        s.commit()
    other = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True, locale="vi-VN")
    try:
        sign_in(page, live_server, admin, PASSWORD)
        page.get_by_role("link", name="Quản lý tài khoản").click()
        page.wait_for_url(re.compile(r".*/admin/users$"))
        assert page.locator("h1").inner_text() == "Quản lý tài khoản"
        assert fits_the_screen(page)

        page.fill("#username", editor)
        page.fill("#display_name", "Nguyễn Thị Xã Cũ")
        page.select_option("#role", "commune_editor")
        page.locator("summary", has_text="Các xã cũ").click()  # former communes are folded
        former = page.locator(f"input[name=units][value='{da_trach}']")
        assert "sáp nhập vào Phạm Hồng Thái ngày 01/12/2024" in former.locator(
            "xpath=..").inner_text()
        former.check()
        page.get_by_role("button", name="Tạo tài khoản").click()
        page.wait_for_selector("#new-password")
        assert page.locator("h1").inner_text() == "Đã tạo tài khoản"
        password = page.locator("#new-password").inner_text().strip()
        assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)
        assert fits_the_screen(page)

        # The editor signs in with it on another phone.
        editor_page = other.new_page()
        sign_in(editor_page, live_server, editor, password)
        editor_page.goto(f"{live_server}/officials/conditions")
        assert editor_page.locator("h1").count() == 1 and "/login" not in editor_page.url

        # The list shows the new account; its page disables it.
        page.get_by_role("link", name="Tất cả tài khoản").click()
        row = page.locator(f"tr[data-user='{editor}']")
        assert "Biên tập viên cấp xã" in row.inner_text() and "Dạ Trạch" in row.inner_text()
        assert fits_the_screen(page)
        row.get_by_role("link", name=editor).click()
        covered = page.locator("ul.covered").inner_text()
        assert "Triệu Việt Vương" in covered and "từ 01/07/2025, theo sáp nhập" in covered
        page.get_by_role("button", name="Khóa tài khoản").click()
        assert "Đã khóa tài khoản" in page.locator(".flash").inner_text()
        assert page.locator("#status").inner_text() == "Đã khóa"
        assert fits_the_screen(page)

        # The editor's open session ends at once.
        editor_page.goto(f"{live_server}/officials/conditions")
        assert "/login" in editor_page.url
        assert page_watch.off_host == [] and page_watch.console_errors == []
        assert page_watch.failed == []
    finally:
        other.close()
        with Session(engine) as s:
            s.execute(text("DELETE FROM users WHERE username IN (:a, :e)"),
                      {"a": admin, "e": editor})
            s.execute(text("DELETE FROM sign_in_attempts WHERE username IN (:a, :e)"),
                      {"a": admin, "e": editor})
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.commit()
        engine.dispose()
