"""Chromium journey: a commune editor drags a relic's marker and changes its opening hours,
proposes; the public keeps the published relic; a district reviewer on a phone opens the
queue, reads the diff (both values, both positions on the map) and approves; the public
page and /api/sites then show the new position and hours, and the commune followed."""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.services.accounts import create_user
from gis_app.services.admin_units import assign_units
from tests.conftest import ARTIFACTS, sign_in
from tests.factories import make_site

PASSWORD = "a long enough password"
START = (105.9563, 20.8400)   # in today's commune Triệu Việt Vương (12223)
TARGET = (105.9563, 20.8350)  # in Khoái Châu (12205), ~550 m south across the border


def _feature(context, base: str, hid: str) -> dict | None:
    answer = context.request.get(f"{base}/api/sites")
    assert answer.ok
    return next((f for f in answer.json()["features"]
                 if f["properties"]["heritage_id"] == hid), None)


def _drag_marker(page, lon: float, lat: float) -> None:
    """Drag the editor's marker to (lon, lat) with the mouse, as a user does."""
    page.locator("#editor-map-box").scroll_into_view_if_needed()
    box = page.locator(".editor-pin-edit").bounding_box()
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    target = page.evaluate("""([lat, lon]) => {
        const map = window.HeritageMap.map;
        const p = map.latLngToContainerPoint([lat, lon]);
        const r = map.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; }""", [lat, lon])
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(target[0], target[1], steps=20)
    page.mouse.up()


@pytest.mark.browser
def test_an_editor_proposes_a_move_and_a_reviewer_approves_it_on_a_phone(
        page, phone_page, page_watch, live_server, database_url):
    engine = create_engine(database_url)
    editor_name = f"browser-editor-{os.getpid()}"
    reviewer_name = f"browser-reviewer-{os.getpid()}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        create_user(s, editor_name, PASSWORD, "commune_editor", unit_codes=("12223",))
        create_user(s, reviewer_name, PASSWORD, "district_reviewer")
        hid = make_site(s, *START, name="Đình Kéo Thả", zone_radius_m=None)
        s.execute(text("UPDATE sites SET opening_hours_vi = '7:00–17:00 hằng ngày' "
                       "WHERE heritage_id = :h"), {"h": hid})
        assign_units(s, [s.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"),
                                  {"h": hid})])
        s.commit()
    try:
        # The commune editor, on a desktop, drags the marker and changes the hours.
        sign_in(page, live_server, editor_name, PASSWORD)
        page.goto(f"{live_server}/sites/{hid}")
        page.get_by_role("link", name="Sửa di tích này").click()
        page.wait_for_selector(".leaflet-container[data-editor=ready]")
        page.locator(".leaflet-control-zoom-out").click()
        page.wait_for_timeout(400)  # the zoom animation
        _drag_marker(page, *TARGET)
        lon, lat = float(page.input_value("#lon")), float(page.input_value("#lat"))
        assert (lon, lat) != START
        assert abs(lon - TARGET[0]) < 0.0003 and abs(lat - TARGET[1]) < 0.0003
        page.fill("#opening_hours_vi", "8:00–16:30, thứ Hai nghỉ")
        page.get_by_role("button", name="Gửi đề xuất sửa").click()
        page.wait_for_url(re.compile(r".*/officials/review/\d+$"))
        assert "Đề xuất sửa của bạn đã được gửi" in page.locator(".flash").first.inner_text()
        assert "Chờ duyệt" in page.locator(".proposal-status").inner_text()

        # The public still sees the published relic.
        public = page.context.browser.new_context(locale="vi-VN")
        visitor = public.new_page()
        visitor.goto(f"{live_server}/sites/{hid}")
        assert "7:00–17:00 hằng ngày" in visitor.content()
        assert "8:00–16:30" not in visitor.content()
        assert _feature(public, live_server, hid)["geometry"]["coordinates"] == list(START)

        # The reviewer, on a phone, opens the queue and the diff, and approves.
        sign_in(phone_page, live_server, reviewer_name, PASSWORD)
        phone_page.goto(f"{live_server}/officials/review")
        phone_page.get_by_role("link", name="Đình Kéo Thả").click()
        phone_page.wait_for_selector(".leaflet-container[data-editor=ready]")
        hours = phone_page.locator("tr[data-field=opening_hours_vi]")
        assert "7:00–17:00 hằng ngày" in hours.locator(".before").inner_text()
        assert "8:00–16:30, thứ Hai nghỉ" in hours.locator(".after").inner_text()
        position = phone_page.locator("tr[data-field=position]")
        assert f"{START[1]:.6f} B" in position.locator(".before").inner_text()
        assert f"{lat:.6f} B, {lon:.6f} Đ" in position.locator(".after").inner_text()
        assert phone_page.locator(".editor-pin-before").is_visible()
        assert phone_page.locator(".editor-pin-after").is_visible()
        # Usable on the phone: nothing wider than its screen.
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        phone_page.screenshot(path=str(ARTIFACTS / "editor-review-on-a-phone.png"),
                              full_page=True)
        phone_page.get_by_role("button", name="Duyệt", exact=True).click()
        phone_page.wait_for_load_state()
        assert "Đã duyệt" in phone_page.locator(".flash").first.inner_text()

        # The public now meets the new state; the commune followed the position.
        visitor.goto(f"{live_server}/sites/{hid}")
        content = visitor.content()
        assert "8:00–16:30, thứ Hai nghỉ" in content
        unit = visitor.locator("dt:has-text('Đơn vị hành chính') + dd").inner_text()
        assert unit == "Khoái Châu"
        coordinates = _feature(public, live_server, hid)["geometry"]["coordinates"]
        assert coordinates == pytest.approx([lon, lat], abs=1e-6)
        public.close()
        assert page_watch.console_errors == []
        assert page_watch.off_host == []
    finally:
        with Session(engine) as s:
            # The live server's database is shared by the session: remove what this test
            # made (identifiers are permanent by trigger, so triggers are off for this).
            ids = {"h": hid, "users": [editor_name, reviewer_name]}
            s.execute(text("SET LOCAL session_replication_role = replica"))
            s.execute(text("DELETE FROM change_proposals WHERE record_id IN "
                           "(SELECT id FROM sites WHERE heritage_id = :h)"), ids)
            s.execute(text("DELETE FROM site_admin_units WHERE site_id IN "
                           "(SELECT id FROM sites WHERE heritage_id = :h)"), ids)
            s.execute(text("DELETE FROM sites WHERE heritage_id = :h"), ids)
            s.execute(text("DELETE FROM heritage_identifiers WHERE id = :h"), ids)
            s.execute(text("SET LOCAL session_replication_role = origin"))
            # Accounts go with their scopes and sign-ins (foreign keys cascade).
            s.execute(text("DELETE FROM users WHERE username = ANY(:users)"), ids)
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.commit()
        engine.dispose()
