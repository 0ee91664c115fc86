"""The condition pages in Chromium against the live server's committed database: a
district reviewer records an assessment through the form, compares two relics over two
years (table and chart) and opens the condition map. Everything the test commits is
removed afterwards."""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.services.accounts import create_user
from tests.conftest import sign_in
from tests.factories import make_assessment

PASSWORD = "a long enough password"
BASE = "/officials/conditions"


@pytest.mark.browser
def test_record_then_compare_two_sites_over_two_years(page, page_watch, live_server,
                                                      database_url):
    engine = create_engine(database_url)
    username = f"browser-conditions-{os.getpid()}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        first_assessment = s.scalar(text(
            "SELECT coalesce(max(id), 0) FROM condition_assessments"))
        create_user(s, username, PASSWORD, "district_reviewer", display_name="Võ Thị Thẩm Định")
        (a_id, a_name), (b_id, b_name) = s.execute(text(
            "SELECT id, name_vi FROM sites ORDER BY id LIMIT 2")).all()
        make_assessment(s, a_id, "2024-06-15", "good", elements={"roof": "good"})
        make_assessment(s, b_id, "2024-06-15", "poor", elements={"roof": "poor"})
        make_assessment(s, b_id, "2025-06-20", "fair", elements={"roof": "fair"})
        s.commit()
    try:
        sign_in(page, live_server, username, PASSWORD)

        # Record the 2025 assessment of site A through the form.
        page.goto(f"{live_server}{BASE}/sites/{a_id}")
        assert page.input_value("#assessor_name") == "Võ Thị Thẩm Định"
        page.fill("#assessed_on", "2025-06-15")
        page.select_option("#overall", "poor")
        page.select_option("#element_roof", "very_poor")
        page.check("input[name=threats][value=termites]")
        page.select_option("#trend", "worsening")
        page.fill("#notes", "Mái bị mối mọt, cần tu bổ gấp.")
        page.get_by_role("button", name="Lưu phiếu đánh giá").click()
        page.wait_for_url(re.compile(rf".*{BASE}/sites/{a_id}$"))
        assert "Đã ghi phiếu đánh giá #" in page.locator(".flash").inner_text()
        newest = page.locator(".cond-assessment").first
        assert "15/06/2025" in newest.inner_text() and "Xuống cấp" in newest.inner_text()
        assert "Mối mọt" in newest.inner_text()

        # Compare A and B over 2024 and 2025 with the GET form (a shareable URL).
        page.goto(f"{live_server}{BASE}/compare")
        page.check(f"input[name=site][value='{a_id}']")
        page.check(f"input[name=site][value='{b_id}']")
        page.check("input[name=year][value='2024']")
        page.check("input[name=year][value='2025']")
        page.get_by_role("button", name="So sánh", exact=True).click()
        page.wait_for_url(re.compile(r".*/compare\?.*site=.*year=2025"))
        row_a = page.locator(f"table.cond-compare tr[data-site='{a_id}']")
        row_b = page.locator(f"table.cond-compare tr[data-site='{b_id}']")
        assert a_name in row_a.locator("th").inner_text()
        assert row_a.locator("td[data-year='2024'] .cond").first.inner_text() == "Tốt"
        cell_a = row_a.locator("td[data-year='2025']").inner_text()
        assert "Xuống cấp" in cell_a and "▼ xấu đi" in cell_a
        assert "Mái: Xuống cấp nghiêm trọng" in cell_a and "Mối mọt" in cell_a
        assert row_a.locator("td.cond-change").get_attribute("data-change") == "worse"
        assert b_name in row_b.locator("th").inner_text()
        assert "▲ tốt lên" in row_b.locator("td.cond-change").inner_text()
        assert row_b.locator("td[data-year='2024'] .cond").first.inner_text() == "Xuống cấp"
        canvas = page.locator("#conditions-chart[data-rendered='2']")
        canvas.wait_for(timeout=10000)
        box = canvas.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 200
        assert page.evaluate("""() => {
            const c = document.getElementById('conditions-chart');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
            return false; }""")  # something was drawn

        # The map, coloured by change since 2024: both relics drawn.
        page.goto(f"{live_server}{BASE}/map?since=2024")
        page.wait_for_selector(".folium-map[data-conditions]", timeout=30000)
        assert page.locator("path.cond-marker").count() >= 2
        assert page_watch.off_host == [] and page_watch.console_errors == []
        assert page_watch.failed == []
    finally:
        with Session(engine) as s:
            # Assessments refuse DELETE by trigger: switch user triggers off for cleanup.
            s.execute(text("SET LOCAL session_replication_role = replica"))
            s.execute(text("DELETE FROM condition_photos WHERE assessment_id > :a"),
                      {"a": first_assessment})
            s.execute(text("DELETE FROM condition_assessments WHERE id > :a"),
                      {"a": first_assessment})
            s.execute(text("SET LOCAL session_replication_role = origin"))
            s.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.commit()
        engine.dispose()
