""""Today" is Vietnam's date (UTC+7) everywhere: pages, reports, checks and SQL. The
clock is pinned at 23:30 UTC, when the machine's date is still yesterday in Vietnam."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import time_machine
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
        reference = re.search(r"KTBV-\d{4}-\d{6}", response.headers["Location"]).group(0)
        html = client.get(f"/planning/report/{reference}").get_data(as_text=True)
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
    assert zone_id not in {f["id"] for f in layer["features"]}
    assert len(layer["features"]) == 15
