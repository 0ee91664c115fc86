""""Today" is Vietnam's date (UTC+7) everywhere: pages, reports, checks and SQL. The
clock is pinned at 23:30 UTC, when the machine's date is still yesterday in Vietnam."""
from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import time_machine
from openpyxl import load_workbook
from sqlalchemy import text

from gis_app.clock import today_in_vietnam
from gis_app.services.accounts import create_user
from tests.history import build_history
from tests.test_zone_reports import csrf_of, zone_i_parcel

PASSWORD = "mat-khau-thu-nghiem-1"
# New Year's Eve, 23:30 UTC: already 06:30 on 1 January 2027 in Hà Nội.
NEW_YEARS_EVE_UTC = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


def test_at_23_30_utc_today_is_tomorrow_in_vietnam(evening_in_utc):
    assert today_in_vietnam() == evening_in_utc.date() + timedelta(days=1)


def test_a_planning_check_on_new_years_eve_utc_is_dated_in_vietnam(client, db):
    parcel = zone_i_parcel(db)
    with time_machine.travel(NEW_YEARS_EVE_UTC):
        form = client.get("/planning").get_data(as_text=True)
        assert 'name="date" value="2027-01-01"' in form
        response = client.post("/planning/report", data={
            "geometry": json.dumps(parcel), "csrf_token": csrf_of(client)})
        assert response.status_code == 303
        token = response.headers["Location"].rsplit("/", 1)[1]
        html = client.get(f"/planning/report/{token}").get_data(as_text=True)
    reference = re.search(r"Số phiếu (KTBV-\d{4}-\d{6})", html).group(1)
    assert reference.startswith("KTBV-2027-")
    valid_on = html[html.index("Khu vực có hiệu lực vào ngày"):]
    assert "01/01/2027" in valid_on[:200]


def test_the_officials_desk_turns_to_the_new_year_at_17_00_utc(client, db, auth):
    build_history(db)  # artifacts for the register
    create_user(db, "canbo-namoi", PASSWORD, "district_reviewer")
    db.flush()
    with time_machine.travel(NEW_YEARS_EVE_UTC):
        auth.login("canbo-namoi", PASSWORD)
        targets = client.get("/officials/targets").get_data(as_text=True)
        register = client.get("/officials/artifacts/").get_data(as_text=True)
        report = client.get("/officials/report?year=2026").get_data(as_text=True)
    assert "Chỉ tiêu kế hoạch 2027</h1>" in targets
    assert '<option value="2027" selected>2027</option>' in targets
    assert "Đã kiểm kê năm 2027" in register
    assert "/officials/targets?year=2027" in register
    assert "Lập ngày 01/01/2027" in report


def test_a_zone_that_ended_yesterday_in_vietnam_is_gone_at_23_30_utc(client, db,
                                                                      evening_in_utc):
    """valid_to is the machine's (UTC) date, which is yesterday in Vietnam: the zone no
    longer applies, on the relic's page, in the layer API and in the zone check."""
    zone_id = db.scalar(text("""
        UPDATE protection_zones z SET valid_to = :utc_day FROM sites s
         WHERE s.id = z.site_id AND s.heritage_id = 'VN-HY-DT-000001' AND z.zone = 'II'
        RETURNING z.id"""), {"utc_day": evening_in_utc.date()})
    db.flush()
    page = client.get("/sites/VN-HY-DT-000001").get_data(as_text=True)
    zones = page[page.index('<table class="zones">'):]
    zones = zones[:zones.index("</table>")]
    assert "Khu vực bảo vệ I</td>" in zones and "Khu vực bảo vệ II" not in zones
    layer = client.get("/api/layers/protection_zones.geojson").get_json()
    assert zone_id
    shown = {f["id"] for f in layer["features"]}
    assert "VN-HY-DT-000001-II" not in shown and "VN-HY-DT-000001-I" in shown
    assert len(layer["features"]) == 15


def test_a_year_ends_at_midnight_in_vietnam_not_at_midnight_utc(client, db, auth):
    """A relic photographed at 05:00 on 1 January 2026 in Hà Nội (22:00 UTC the day
    before) is a 2026 digital record: not in 2025's target c nor 2025's report."""
    history = build_history(db)
    s2 = history["sites"]["S2"]
    db.execute(text("""
        INSERT INTO digital_records (site_id, media_type, uri, metadata, created_at)
        VALUES (:s, 'image/jpeg', 'tet.jpg', '{"title": "Sáng mùng 1"}',
                TIMESTAMPTZ '2026-01-01 05:00+07')"""), {"s": s2})
    create_user(db, "canbo-giao-thua", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("canbo-giao-thua", PASSWORD)

    def digitised_sheet(year: int) -> list[tuple]:
        body = client.get(f"/officials/report/{year}.xlsx").data
        rows = load_workbook(io.BytesIO(body))["Số hóa"].iter_rows(min_row=2, values_only=True)
        return [(r[2], r[6]) for r in rows]

    assert ("Đình S2", datetime(2026, 1, 1)) in digitised_sheet(2026)
    assert "Đình S2" not in [name for name, _ in digitised_sheet(2025)]
    # The priority list of 2025 still finds S2 not digitised by the end of 2025.
    csv_2025 = client.get("/officials/priorities?year=2025&format=csv").get_data(as_text=True)
    s2_line = next(line for line in csv_2025.splitlines() if ",Đình S2," in line)
    assert "Chưa số hóa" in s2_line
