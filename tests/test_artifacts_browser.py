"""Chromium on a phone against the live server's committed database: a commune editor
changes an artifact's dimensions and corrects an inventory record; the artifact waits;
a district reviewer opens the waiting list and approves it; the relic's public page then
lists it. Everything the test commits is removed afterwards."""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.services.accounts import create_user
from tests.conftest import ARTIFACTS
from tests.factories import make_admin_unit, make_site, place_site

PASSWORD = "a long enough password"
BASE = "/officials/artifacts"


def _sign_in(page, base_url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/account")


@pytest.mark.browser
def test_an_editor_edits_and_corrects_a_reviewer_approves_on_a_phone(
        phone_page, page_watch, live_server, database_url):
    page = phone_page
    engine = create_engine(database_url)
    tag = os.getpid()
    editor, reviewer, code = f"browser-hv-xa-{tag}", f"browser-hv-huyen-{tag}", f"HV{tag}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        unit = make_admin_unit(s, code, "Xã Hiện Vật")
        hid = make_site(s, 105.98, 20.84, name="Đình Hiện Vật", zone_radius_m=None)
        site_id = place_site(s, hid, unit)
        artifact_hid = f"VN-HY-HV-{970000 + tag % 10000:06d}"
        s.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:h, 'artifact')"),
                  {"h": artifact_hid})
        artifact = s.execute(text("""
            INSERT INTO artifacts (heritage_id, name_vi, kind, holding_site_id, dimensions)
            VALUES (:h, 'Long ngai', 'object', :s, '120 × 60 cm') RETURNING id"""),
            {"h": artifact_hid, "s": site_id}).scalar_one()
        record = s.execute(text("""
            INSERT INTO artifact_inventory_records (artifact_id, year, inventoried_on)
            VALUES (:a, 2025, '2025-05-05') RETURNING id"""), {"a": artifact}).scalar_one()
        create_user(s, editor, PASSWORD, "commune_editor", unit_codes=(code,))
        create_user(s, reviewer, PASSWORD, "district_reviewer")
        s.commit()
    try:
        _sign_in(page, live_server, editor)
        page.goto(f"{live_server}{BASE}/{artifact}")
        page.get_by_role("link", name="Sửa hiện vật").click()
        page.wait_for_url(f"**{BASE}/{artifact}/edit")
        assert page.input_value("#dimensions") == "120 × 60 cm"
        page.fill("#dimensions", "125 × 62 × 90 cm")
        page.get_by_role("button", name="Lưu hiện vật").click()
        page.wait_for_url(re.compile(rf".*{BASE}/{artifact}$"))
        assert page.locator("#dimensions").inner_text() == "125 × 62 × 90 cm"
        assert "Chờ duyệt" in page.locator("#review-state").inner_text()

        item = page.locator(f"#inventory-{record}")
        item.locator("summary").click()
        item.get_by_label("Ngày kiểm kê").fill("2025-05-15")
        item.get_by_label("Lý do sửa").fill("Nhầm ngày trên biên bản")
        item.get_by_role("button", name="Lưu bản sửa").click()
        page.wait_for_url(re.compile(rf".*{BASE}/{artifact}$"))
        corrected = page.locator(f"#inventory-{record}").inner_text()
        assert "15/05/2025" in corrected and "Đã sửa: Nhầm ngày trên biên bản" in corrected

        # The public does not see the waiting artifact.
        page.context.clear_cookies()
        page.goto(f"{live_server}/sites/{hid}")
        assert "Long ngai" not in page.locator("main").inner_text()

        _sign_in(page, live_server, reviewer)
        page.goto(f"{live_server}{BASE}/")
        page.get_by_role("link", name="Chờ duyệt", exact=True).click()
        page.wait_for_url(re.compile(r".*state=waiting"))
        page.get_by_role("link", name="Long ngai").click()
        page.wait_for_url(re.compile(rf".*{BASE}/{artifact}$"))
        page.get_by_role("button", name="Duyệt", exact=True).click()
        page.wait_for_url(re.compile(rf".*{BASE}/{artifact}$"))
        assert "Đã duyệt" in page.locator("#review-state").inner_text()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the page a reviewer sees, for review
        page.screenshot(path=str(ARTIFACTS / "artifact-page-phone.png"), full_page=True)

        page.context.clear_cookies()
        page.goto(f"{live_server}/sites/{hid}")
        assert "Long ngai" in page.locator("table.artifacts").inner_text()
        assert page_watch.off_host == [] and page_watch.console_errors == []
        assert page_watch.failed == []
    finally:
        with Session(engine) as s:
            ids = {"h": hid, "a": artifact, "ah": artifact_hid, "users": [editor, reviewer],
                   "code": code}
            s.execute(text("SET LOCAL session_replication_role = replica"))
            s.execute(text("DELETE FROM artifact_inventory_records WHERE artifact_id = :a"),
                      ids)
            s.execute(text("DELETE FROM artifacts WHERE id = :a"), ids)
            s.execute(text("DELETE FROM site_admin_units WHERE site_id IN "
                           "(SELECT id FROM sites WHERE heritage_id = :h)"), ids)
            s.execute(text("DELETE FROM sites WHERE heritage_id = :h"), ids)
            s.execute(text("DELETE FROM heritage_identifiers WHERE id IN (:h, :ah)"), ids)
            s.execute(text("SET LOCAL session_replication_role = origin"))
            s.execute(text("DELETE FROM users WHERE username = ANY(:users)"), ids)
            s.execute(text("DELETE FROM admin_units WHERE code = :code"), ids)
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.commit()
        engine.dispose()
