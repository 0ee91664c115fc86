"""The proof journey of issue 13 in Chromium, on the live server's committed database.

A commune editor (desktop) drags a relic's marker and proposes the move, then draws its
zone II on the zones page (Geoman, one corner snapped onto zone I) and proposes it; the
public keeps the published relic and zone. A district reviewer on a phone opens the
queue, reads both diffs (the zone's outlines before and after on the map) and approves
both. The public site page, /api/sites and the zone check show the new state while the
zone check as of last month finds the old zone II. The reviewer then retires the relic
(410 for the public), restores it from its history page to yesterday's version (the old
position is back and the history says "restored"), and merges a duplicate into it (301
to it). Everything the test commits is removed at the end.
"""
from __future__ import annotations

import json
import os
import re
from datetime import timedelta

import pytest
from shapely.geometry import mapping
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.services import lifecycle
from gis_app.services.accounts import create_user
from gis_app.services.admin_units import assign_units
from tests.conftest import ARTIFACTS, sign_in
from tests.factories import forget_sites, forget_user, make_site
from tests.test_editor_browser import _drag_marker, _feature
from tests.test_zones import TO_LONLAT, TO_UTM, _click, _screen, square

PASSWORD = "a long enough password"
START = (105.9563, 20.8400)   # in today's commune Triệu Việt Vương (12223)
TARGET = (105.9563, 20.8404)  # ~45 m north, same commune
PHONE_WIDTH = 390


def _hits(context, base: str, parcel, on: str | None = None) -> set[tuple[str, str]]:
    query = f"?date={on}" if on else ""
    answer = context.request.post(f"{base}/api/zone-check{query}",
                                  data=json.dumps(parcel),
                                  headers={"Content-Type": "application/json"})
    assert answer.ok, answer.text()
    return {(h["heritage_id"], h["zone"]) for h in answer.json()["results"][0]["hits"]}


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH, page.url


@pytest.mark.browser
def test_edit_propose_review_approve_retire_restore_merge(
        page, phone_page, page_watch, live_server, database_url):
    lon, lat = START
    engine = create_engine(database_url)
    editor_name = f"journey-editor-{os.getpid()}"
    reviewer_name = f"journey-reviewer-{os.getpid()}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        first_proposal = s.scalar(text("SELECT coalesce(max(id), 0) FROM change_proposals"))
        create_user(s, editor_name, PASSWORD, "commune_editor", unit_codes=("12223",))
        create_user(s, reviewer_name, PASSWORD, "district_reviewer")
        hid = make_site(s, lon, lat, name="Đình Hành Trình", zone_radius_m=None)
        dup = make_site(s, lon + 0.0006, lat, name="Đình Hành Trình (bản trùng)",
                        zone_radius_m=None)
        site_ids = list(s.scalars(text("SELECT id FROM sites WHERE heritage_id IN (:a, :b)"),
                                  {"a": hid, "b": dup}))
        for zone, half in (("I", 50), ("II", 150)):
            s.execute(text("""
                INSERT INTO protection_zones (site_id, zone, geom, decision_no, valid_from,
                                              accuracy)
                SELECT id, :z, ST_Multi(ST_GeomFromText(:g, 4326)), '12/QĐ-UBND',
                       DATE '2020-01-01', 'surveyed' FROM sites WHERE heritage_id = :h"""),
                {"z": zone, "g": square(0, 0, half, lon, lat).wkt, "h": hid})
        assign_units(s, site_ids)
        # Recorded last year: its history has a version to restore.
        s.execute(text("""
            UPDATE revisions SET changed_at = changed_at - interval '400 days'
             WHERE id > :r"""), {"r": first_revision})
        s.commit()
    today = today_in_vietnam()
    yesterday = today - timedelta(days=1)
    month_ago = (today - timedelta(days=30)).isoformat()
    west = dict(mapping(square(-120, 0, 10, lon, lat)))  # in the old zone II only
    east = dict(mapping(square(180, 0, 10, lon, lat)))   # in the new zone II only
    zone_i_corner = square(0, 0, 50, lon, lat).exterior.coords[0]
    public = page.context.browser.new_context(locale="vi-VN")
    visitor = public.new_page()
    try:
        # --- the commune editor, on a desktop: move the relic, propose -----------------
        sign_in(page, live_server, editor_name, PASSWORD)
        page.goto(f"{live_server}/sites/{hid}")
        page.get_by_role("link", name="Sửa di tích này").click()
        page.wait_for_selector(".leaflet-container[data-editor=ready]")
        _drag_marker(page, *TARGET)
        moved = (float(page.input_value("#lon")), float(page.input_value("#lat")))
        assert abs(moved[0] - TARGET[0]) < 0.0002 and abs(moved[1] - TARGET[1]) < 0.0002
        page.get_by_role("button", name="Gửi đề xuất sửa").click()
        page.wait_for_url(re.compile(r".*/officials/review/\d+$"))
        move_id = int(page.url.rsplit("/", 1)[1])

        # --- the editor draws zone II and proposes it ------------------------------------
        page.goto(f"{live_server}/sites/{hid}")
        page.get_by_role("link", name="Khu vực bảo vệ", exact=True).click()
        page.wait_for_selector("#zone-form[data-ready='1']")
        page.select_option("#zone-kind", "II")
        view_lon, view_lat = TO_LONLAT.transform(*(a + b for a, b in zip(
            TO_UTM.transform(lon, lat), (100, 0))))
        page.evaluate(f"() => HeritageMap.map.setView([{view_lat}, {view_lon}], 17, "
                      f"{{animate: false}})")
        page.wait_for_timeout(300)
        page.get_by_role("button", name="Vẽ ranh giới mới").click()

        def at(east_m: float, north_m: float) -> tuple[float, float]:
            x, y = TO_UTM.transform(lon, lat)
            corner_lon, corner_lat = TO_LONLAT.transform(x + east_m, y + north_m)
            return _screen(page, corner_lat, corner_lon)

        for east_m, north_m in ((-67, 200), (200, 200), (200, -200), (-67, -200)):
            _click(page, *at(east_m, north_m))
        # 8 px off zone I's south-west corner: Geoman snaps the corner onto it.
        _click(page, *_screen(page, zone_i_corner[1], zone_i_corner[0], 8, -6))
        _click(page, *at(-67, 200))  # the first corner again: done
        page.wait_for_selector("#zone-form[data-changed='1']", state="attached")
        drawn = json.loads(page.locator("#zone-geometry").input_value())
        assert any(abs(x - zone_i_corner[0]) < 1e-7 and abs(y - zone_i_corner[1]) < 1e-7
                   for x, y in drawn["coordinates"][0])
        page.fill("#zone-decision-no", "45/QĐ-UBND")
        assert "công chúng vẫn thấy khu vực đang có hiệu lực" in \
            page.locator("#zone-proposes").inner_text()
        page.get_by_role("button", name="Gửi đề xuất phiên bản mới").click()
        page.wait_for_url(re.compile(r".*/officials/review/\d+$"))
        zone_id = int(page.url.rsplit("/", 1)[1])
        assert "Chờ duyệt" in page.locator(".proposal-status").inner_text()

        # --- the public still meets the published relic and zone ------------------------
        assert _feature(public, live_server, hid)["geometry"]["coordinates"] == list(START)
        assert (hid, "II") in _hits(public, live_server, west)
        assert (hid, "II") not in _hits(public, live_server, east)
        visitor.goto(f"{live_server}/sites/{hid}")
        assert "45/QĐ-UBND" not in visitor.content()

        # --- the reviewer, on a phone: queue, both diffs, approve -------------------------
        sign_in(phone_page, live_server, reviewer_name, PASSWORD)
        phone_page.goto(f"{live_server}/officials/review")
        queue = phone_page.locator(f"li[data-proposal='{zone_id}']")
        assert "Khu vực bảo vệ II (ranh giới)" in queue.inner_text()
        assert phone_page.locator(f"li[data-proposal='{move_id}']").is_visible()
        _fits_the_phone(phone_page)
        queue.get_by_role("link").click()
        phone_page.wait_for_selector(".leaflet-container[data-editor=ready]")
        assert phone_page.locator(".zone-outline-before").first.is_visible()
        assert phone_page.locator(".zone-outline-after").first.is_visible()
        assert "45/QĐ-UBND" in phone_page.locator("tr[data-field=decision_no] .after") \
            .inner_text()
        area = phone_page.locator("tr[data-field=area_m2]")
        assert re.fullmatch(r"\d{2,3}\.\d{3} m²", area.locator(".before").inner_text().strip())
        _fits_the_phone(phone_page)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        phone_page.screenshot(path=str(ARTIFACTS / "zone-review-on-a-phone.png"),
                              full_page=True)
        phone_page.get_by_role("button", name="Duyệt", exact=True).click()
        phone_page.wait_for_selector(".flash")
        assert "Đã duyệt" in phone_page.locator(".flash").first.inner_text()
        phone_page.goto(f"{live_server}/officials/review/{move_id}")
        phone_page.wait_for_selector(".editor-pin-after")
        _fits_the_phone(phone_page)
        phone_page.get_by_role("button", name="Duyệt", exact=True).click()
        phone_page.wait_for_selector(".flash")
        assert "Đã duyệt" in phone_page.locator(".flash").first.inner_text()

        # --- the public meets the new state; last month's check the old zone -------------
        visitor.goto(f"{live_server}/sites/{hid}")
        assert "45/QĐ-UBND" in visitor.locator("table.zones").inner_text()
        assert _feature(public, live_server, hid)["geometry"]["coordinates"] == \
            pytest.approx(list(moved), abs=1e-6)
        assert (hid, "II") not in _hits(public, live_server, west)
        assert (hid, "II") in _hits(public, live_server, east)
        assert (hid, "II") in _hits(public, live_server, west, month_ago)
        assert (hid, "II") not in _hits(public, live_server, east, month_ago)

        # --- retire: 410 ---------------------------------------------------------------
        phone_page.goto(f"{live_server}/sites/{hid}")
        phone_page.get_by_text("Đưa di tích này ra khỏi danh mục").click()
        phone_page.fill("#retire-reason", "Trùng với hồ sơ khác, chờ xác minh")
        phone_page.get_by_role("button", name="Đưa ra khỏi danh mục", exact=True).click()
        phone_page.wait_for_load_state()
        gone = visitor.goto(f"{live_server}/sites/{hid}")
        assert gone.status == 410
        assert "Trùng với hồ sơ khác, chờ xác minh" in visitor.content()
        assert _feature(public, live_server, hid) is None

        # --- restore yesterday's version from the history page (phone) ------------------
        phone_page.goto(f"{live_server}/officials/records/{hid}/history"
                        f"?as_of={yesterday.isoformat()}")
        _fits_the_phone(phone_page)
        phone_page.get_by_role(
            "button", name=f"Khôi phục phiên bản ngày {yesterday.strftime('%d/%m/%Y')}").click()
        phone_page.wait_for_selector(".flash")
        assert f"Đã khôi phục về phiên bản ngày {yesterday.strftime('%d/%m/%Y')}" in \
            phone_page.locator(".flash").first.inner_text()
        history = phone_page.locator("main").inner_text()
        assert f"Khôi phục về phiên bản ngày {yesterday.strftime('%d/%m/%Y')}" in history
        _fits_the_phone(phone_page)
        back = visitor.goto(f"{live_server}/sites/{hid}")  # the browser asks again
        assert back.status == 200
        # The old version: the position before the approved move.
        assert _feature(public, live_server, hid)["geometry"]["coordinates"] == \
            pytest.approx(list(START), abs=1e-7)

        # --- merge the duplicate into it: 301 -----------------------------------------
        phone_page.goto(f"{live_server}/sites/{dup}")
        phone_page.get_by_text("Hợp nhất bản trùng này vào một di tích khác").click()
        phone_page.fill("#merge-into", hid)
        phone_page.get_by_role("button", name="Hợp nhất", exact=True).click()
        phone_page.wait_for_selector(".flash")
        moved_page = visitor.request.get(f"{live_server}/sites/{dup}", max_redirects=0)
        assert moved_page.status == 301
        assert moved_page.headers["location"].endswith(f"/sites/{hid}")

        # The browser logs the retired relic's 410 itself; nothing else went wrong.
        assert [e for e in page_watch.console_errors if "status of 410" not in e] == []
        assert page_watch.off_host == []
    finally:
        public.close()
        with Session(engine) as s:
            # The live server's database is shared by the session: remove what this test
            # made (identifiers are permanent by trigger, so triggers are off for this).
            s.execute(text("DELETE FROM change_proposals WHERE id > :p"), {"p": first_proposal})
            forget_sites(s, [dup, hid])
            for name in (editor_name, reviewer_name):
                forget_user(s, name)
            s.execute(text("SET LOCAL session_replication_role = origin"))
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.commit()
        engine.dispose()


def test_a_retired_relics_410_is_not_kept_by_browsers(client, db):
    """A retired relic may be restored: its 410 must be asked again, not cached (Chromium
    kept showing it after a restore in the journey above)."""
    hid = make_site(db, *START, name="Miếu Hủy Tạm")
    reviewer = create_user(db, "journey-cache-reviewer", PASSWORD, "district_reviewer")
    lifecycle.retire(db, reviewer, hid, "Chờ xác minh")
    answer = client.get(f"/sites/{hid}")
    assert answer.status_code == 410
    assert answer.headers["Cache-Control"] == "no-cache"
