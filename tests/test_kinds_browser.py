"""Chromium on a phone: a district reviewer draws a relic's pond (a landscape polygon)
from the relic's page, then moves the lunar date of an intangible heritage's festival;
the public festival calendar then shows the festival on the new solar date."""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.services import intangible
from gis_app.services.accounts import create_user
from gis_app.services.festivals import lunar_to_solar
from tests.conftest import sign_in
from tests.factories import forget_sites, forget_user, make_site

PASSWORD = "a long enough password"
LON, LAT = 105.925, 20.825  # a corner of the district no other browser test uses


def _screen(page, lat: float, lon: float, dx: float = 0, dy: float = 0) -> tuple[float, float]:
    return tuple(page.evaluate(
        f"() => {{ const m = HeritageMap.map; const p = m.latLngToContainerPoint([{lat}, {lon}]);"
        f" const r = m.getContainer().getBoundingClientRect();"
        f" return [r.left + p.x + {dx}, r.top + p.y + {dy}]; }}"))


def _tap(page, x: float, y: float) -> None:
    page.mouse.move(x, y, steps=4)
    page.mouse.click(x, y)
    page.wait_for_timeout(150)


def _forget(s: Session, relic: str, ich: str, username: str) -> None:
    site = "(SELECT id FROM sites WHERE heritage_id = :h)"
    ich_id = "(SELECT id FROM intangible_heritage WHERE heritage_id = :i)"
    ids = {"h": relic, "i": ich}
    s.execute(text("SET LOCAL session_replication_role = replica"))
    s.execute(text(f"DELETE FROM landscapes WHERE site_id = {site}"), ids)
    s.execute(text(f"DELETE FROM heritage_events WHERE intangible_id = {ich_id}"), ids)
    s.execute(text(f"DELETE FROM intangible_sites WHERE intangible_id = {ich_id}"), ids)
    s.execute(text("DELETE FROM intangible_heritage WHERE heritage_id = :i"), ids)
    s.execute(text("DELETE FROM heritage_identifiers WHERE id = :i"), ids)
    forget_sites(s, [relic])
    forget_user(s, username)


@pytest.mark.browser
def test_a_reviewer_on_a_phone_draws_a_pond_and_moves_a_festival(
        phone_page, browser, page_watch, live_server, database_url):
    page = phone_page
    engine = create_engine(database_url)
    username = f"browser-kinds-{os.getpid()}"
    year = today_in_vietnam().year + 1
    with Session(engine) as s:
        reviewer = create_user(s, username, PASSWORD, "district_reviewer")
        relic = make_site(s, LON, LAT, name="Đình Ao Sen", zone_radius_m=None)
        ich = intangible.create(s, reviewer, {"name_vi": "Hội Ao Sen Thử",
                                              "ich_type": "traditional_festival"}).heritage_id
        intangible.add_site(s, reviewer, ich, relic)
        intangible.add_event(s, reviewer, ich, {"name_vi": "Lễ hội Ao Sen Thử",
                                                "lunar_month": "2", "lunar_day": "10"})
        intangible.set_status(s, reviewer, ich, "published")
        s.commit()
    try:
        sign_in(page, live_server, username, PASSWORD)
        page.goto(f"{live_server}/sites/{relic}")
        page.locator(".record-features").get_by_role("link", name="Cảnh quan").click()
        page.get_by_role("link", name="Thêm mới").click()
        page.wait_for_selector("#kinds-form[data-ready='1']")
        assert page.input_value("#relic") == relic
        page.fill("#name_vi", "Ao sen trước đình")
        page.select_option("#kind", "pond")
        page.locator("#kinds-map-box").scroll_into_view_if_needed()
        page.evaluate(f"() => HeritageMap.map.setView([{LAT}, {LON}], 18, {{animate: false}})")
        page.wait_for_timeout(300)
        page.get_by_role("button", name="Vẽ đường bao").click()
        corners = [(-60, -50), (60, -50), (60, 50), (-60, 50)]
        for dx, dy in corners:
            _tap(page, *_screen(page, LAT, LON, dx, dy))
        _tap(page, *_screen(page, LAT, LON, *corners[0]))  # the first corner again: done
        page.wait_for_selector("#kinds-form[data-changed='1']", state="attached")
        page.get_by_role("button", name="Lưu", exact=True).click()
        page.wait_for_url(re.compile(r".*/officials/landscapes/\d+/edit$"))
        assert "Đã lưu." in page.locator(".flash").first.inner_text()
        with Session(engine) as s:
            pond = s.execute(text("""
                SELECT name_vi, kind, ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))
                  FROM landscapes WHERE site_id = (SELECT id FROM sites WHERE heritage_id = :h)"""),
                {"x": LON, "y": LAT, "h": relic}).one()
        assert tuple(pond) == ("Ao sen trước đình", "pond", True)

        # The festival moves from the 10th of the 2nd lunar month to the 15th of the 3rd.
        page.goto(f"{live_server}/officials/intangible/{ich}/edit")
        event = page.locator("form.kinds-event").first
        event.locator("input[name=lunar_day]").fill("15")
        event.locator("input[name=lunar_month]").fill("3")
        event.get_by_role("button", name="Lưu ngày lễ hội").click()
        page.wait_for_url(re.compile(r".*/edit(#events)?$"))
        assert "Đã lưu ngày lễ hội." in page.locator(".flash").first.inner_text()

        public = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                     has_touch=True, locale="vi-VN")
        try:
            visitor = public.new_page()
            visitor.goto(f"{live_server}/festivals?year={year}")
            row = visitor.locator("tr", has_text="Lễ hội Ao Sen Thử")
            moved, old = lunar_to_solar(15, 3, year), lunar_to_solar(10, 2, year)
            assert f"{moved:%d/%m/%Y}" in row.inner_text()
            assert "15/3" in row.inner_text() and f"{old:%d/%m/%Y}" not in row.inner_text()
        finally:
            public.close()
        assert page_watch.console_errors == [] and page_watch.off_host == []
    finally:
        with Session(engine) as s:
            _forget(s, relic, ich, username)
            s.commit()
