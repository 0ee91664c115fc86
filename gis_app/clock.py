"""Dates as they are in Vietnam (UTC+7, no daylight saving), whatever the server's zone.

Use `today_in_vietnam()` wherever the code means "today": `date.today()` is the
machine's date, which on a UTC server is still yesterday in Hà Nội from 17:00 to 24:00
UTC. SQL gets the same date as a bound value (`:today`), never `current_date`, which is
the database session's date (UTC on the private cluster).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from gis_app.errors import InputError

VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
# The same zone by its tz database name, for PostgreSQL's timezone(zone, timestamptz).
VIETNAM_ZONE = "Asia/Ho_Chi_Minh"


def now_in_vietnam() -> datetime:
    """The current time in Vietnam (timezone-aware)."""
    return datetime.now(VIETNAM_TIME)


def today_in_vietnam() -> date:
    """Today's date in Vietnam, e.g. 2026-12-03 at 2026-12-02 19:12 UTC."""
    return now_in_vietnam().date()


def start_of_day_in_vietnam(day: date) -> datetime:
    """Midnight at the start of `day` in Vietnam (timezone-aware), to compare with a
    timestamptz column: `created_at < :year_end_at` ends the year at midnight in Hà Nội,
    not at 07:00 (midnight UTC)."""
    return datetime.combine(day, time(0), VIETNAM_TIME)


def read_day(value: str | None, label: tuple[str, str] | None = None) -> date | None:
    """A date as officials type it: yyyy-mm-dd (the date input) or dd/mm/yyyy; None if
    empty. Raises InputError naming the field (`label` = (en, vi)) and the form to use."""
    value = (value or "").strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    en, vi = (f"{label[0]}: ", f"{label[1]}: ") if label else ("", "")
    raise InputError(f"{en}'{value}' is not a date; enter it as dd/mm/yyyy.",
                     f"{vi}'{value}' không phải là ngày; hãy nhập theo dạng ngày/tháng/năm.")
