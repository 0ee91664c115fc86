"""The festival calendar: lunar dates in the Vietnamese calendar (UTC+7), checked
against published dates, the page and the iCalendar feed."""
from __future__ import annotations

from datetime import date

import icalendar
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.services.festivals import calendar, lunar_to_solar


@pytest.mark.parametrize("lunar, solar", [
    # Tết (1/1): 1985 is the year Vietnam's Tết (21 Jan) differs from China's (20 Feb).
    ((1, 1, 1985), date(1985, 1, 21)),
    ((1, 1, 2007), date(2007, 2, 17)),  # China: 18 Feb
    ((1, 1, 2023), date(2023, 1, 22)),
    ((1, 1, 2024), date(2024, 2, 10)),
    ((1, 1, 2025), date(2025, 1, 29)),
    ((1, 1, 2026), date(2026, 2, 17)),
    # Giỗ Tổ Hùng Vương (10/3), a public holiday.
    ((10, 3, 2023), date(2023, 4, 29)),
    ((10, 3, 2024), date(2024, 4, 18)),
    ((10, 3, 2025), date(2025, 4, 7)),
    # Tết Trung thu (15/8).
    ((15, 8, 2023), date(2023, 9, 29)),
    ((15, 8, 2024), date(2024, 9, 17)),
    ((15, 8, 2025), date(2025, 10, 6)),
])
def test_lunar_dates_match_published_dates(lunar: tuple[int, int, int], solar: date) -> None:
    assert lunar_to_solar(*lunar) == solar


def test_day_30_of_a_29_day_month_is_its_last_day() -> None:
    # Lunar month 12 of 2024 (Giáp Thìn) has 29 days: 30/12 is not a date; Tết 2025 is
    # 29 Jan, so the last day of the year is 28 Jan.
    assert lunar_to_solar(30, 12, 2024) == date(2025, 1, 28)


def test_calendar_places_demo_festivals_in_a_year(db: Session) -> None:
    events = calendar(db, 2025)
    by_name = {e.name_vi: e for e in events}
    main = by_name["Lễ hội chính, rước nước sông Hồng"]  # 10/2 lunar, 3 days
    assert (main.lunar_day, main.lunar_month) == (10, 2)
    assert main.start == lunar_to_solar(10, 2, 2025) and (main.end - main.start).days == 2
    linked = set(db.scalars(text("""
        SELECT s.heritage_id FROM heritage_events e JOIN intangible_sites x
            ON x.intangible_id = e.intangible_id JOIN sites s ON s.id = x.site_id
         WHERE e.id = :e"""), {"e": main.event_id}))
    assert linked and {p["heritage_id"] for p in main.places} == linked
    assert [e.start for e in events] == sorted(e.start for e in events)
    assert all(e.start.year == 2025 for e in events)
    # 17/11 of lunar 2024 falls in Dec 2024; of lunar 2025, in Jan 2026: not in 2025.
    assert "Lễ kỷ niệm ngày hóa (Tam vị đồng thăng)" not in by_name or \
        by_name["Lễ kỷ niệm ngày hóa (Tam vị đồng thăng)"].start.year == 2025


def test_hidden_relics_are_not_named_as_places(db: Session) -> None:
    places = {p["heritage_id"] for e in calendar(db, 2025) for p in e.places}
    hidden = min(places)
    db.execute(text("UPDATE sites SET sensitive = true WHERE heritage_id = :h"), {"h": hidden})
    assert hidden not in {p["heritage_id"] for e in calendar(db, 2025) for p in e.places}
    staff = {p["heritage_id"] for e in calendar(db, 2025, "district_reviewer") for p in e.places}
    assert hidden in staff


def test_page_and_ics_feed(client) -> None:
    page = client.get("/festivals?year=2025").get_data(as_text=True)
    assert "Lễ hội năm 2025" in page
    assert lunar_to_solar(10, 2, 2025).strftime("%d/%m/%Y") in page
    assert "10/2 (âm lịch)" in page
    assert client.get("/festivals?year=abc").status_code == 400
    response = client.get("/festivals.ics?year=2025")
    assert response.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(response.data)
    events = [c for c in cal.walk("VEVENT")]
    starts = {str(e["summary"]): e.decoded("dtstart") for e in events}
    assert starts["Lễ hội chính, rước nước sông Hồng"] in (lunar_to_solar(10, 2, 2025),
                                                          lunar_to_solar(10, 2, 2026))
    assert len({str(e["uid"]) for e in events}) == len(events)
    assert any("Âm lịch: ngày 10 tháng 2" in str(e["description"]) for e in events)
