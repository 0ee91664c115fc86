"""Dates as they are in Vietnam (UTC+7, no daylight saving), whatever the server's zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")


def today_in_vietnam() -> date:
    return datetime.now(VIETNAM_TIME).date()
