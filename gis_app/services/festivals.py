"""The festival calendar: heritage events with lunar dates placed in a solar year.

The Vietnamese lunar calendar is computed for UTC+7 and in some years differs from the
Chinese one (Tết 1985 fell on 21 January in Vietnam, 20 February in China). The
conversion is lunar-vn's implementation of Hồ Ngọc Đức's algorithm with the time zone
set to 7; tests check it against published dates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import icalendar
import lunar_vn
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.errors import InputError
from gis_app.services.visibility import intangible_visible, site_visible

VIETNAM_TZ = 7.0
YEARS = (1900, 2100)  # lunar-vn's supported range


# Cached: the map's festival filter places every lunar event in two lunar years on each
# request (~200 ms of conversions for 800 festivals); there are only 360 dates a year.
@lru_cache(maxsize=4096)
def lunar_to_solar(day: int, month: int, year: int, leap: bool = False) -> date:
    """The solar date of a Vietnamese lunar date (UTC+7). A day 30 in a month of 29 days
    becomes the month's last day. Raises InputError outside 1900-2100."""
    if not YEARS[0] <= year <= YEARS[1]:
        raise InputError(f"Years {YEARS[0]}–{YEARS[1]} only.",
                         f"Chỉ tính được các năm {YEARS[0]}–{YEARS[1]}.")
    solar = lunar_vn.convert_lunar_to_solar(day, month, year, int(leap), VIETNAM_TZ)
    back = lunar_vn.convert_solar_to_lunar(solar.day, solar.month, solar.year, VIETNAM_TZ)
    if (back.day, back.month) != (day, month) and day == 30:
        # A short (29-day) month: lunar-vn runs on into the next month's first day.
        solar = lunar_vn.convert_lunar_to_solar(29, month, year, int(leap), VIETNAM_TZ)
    return solar


@dataclass
class Occurrence:
    event_id: int
    name_vi: str
    name_en: str | None
    start: date
    end: date  # inclusive
    lunar_day: int | None
    lunar_month: int | None
    heritage_name_vi: str | None
    places: list[dict[str, Any]] = field(default_factory=list)  # heritage_id, name, lon, lat


# The places of an event are found by id (an index scan per event): an OR of the two
# ways a site belongs to an event read every relic for every event instead (~9 s for
# 800 festivals among 40k relics, bench/public_map.py).
EVENTS_SQL = """
    SELECT e.id, e.name_vi, e.name_en, e.lunar_month, e.lunar_day, e.solar_date,
           e.duration_days, ih.name_vi AS heritage_name_vi,
           coalesce((SELECT json_agg(json_build_object(
                       'heritage_id', s.heritage_id, 'name_vi', s.name_vi,
                       'lon', ST_X(s.geom), 'lat', ST_Y(s.geom)) ORDER BY s.name_vi)
                       FROM sites s
                      WHERE s.id = ANY(ARRAY(
                              SELECT e.site_id
                              UNION SELECT x.site_id FROM intangible_sites x
                                     WHERE x.intangible_id = e.intangible_id))
                        AND {visible}), '[]') AS places
      FROM heritage_events e
      LEFT JOIN intangible_heritage ih ON ih.id = e.intangible_id
     WHERE e.intangible_id IS NULL OR {heritage_visible}
"""


def calendar(db: Session, year: int, role: str | None = None) -> list[Occurrence]:
    """Every event occurring (starting) in solar `year`, by date. Lunar events of lunar
    years `year - 1` and `year` are converted and kept when they fall in `year`. Events
    of an intangible heritage `role` may not see (a draft, for the public) are left out."""
    if not YEARS[0] < year < YEARS[1]:
        raise InputError(f"year must be between {YEARS[0] + 1} and {YEARS[1] - 1}.",
                         f"Năm phải trong khoảng {YEARS[0] + 1}–{YEARS[1] - 1}.")
    visible = site_visible(role, "s")
    out: list[Occurrence] = []
    statement = EVENTS_SQL.format(visible=visible,
                                  heritage_visible=intangible_visible(role, "ih"))
    for row in db.execute(text(statement)).mappings():
        if row["lunar_month"] is not None:
            starts = [lunar_to_solar(row["lunar_day"], row["lunar_month"], lunar_year)
                      for lunar_year in (year - 1, year)]
        elif row["solar_date"] is not None:
            starts = [row["solar_date"].replace(year=year)]
        else:
            starts = []
        for start in starts:
            if start.year != year:
                continue
            out.append(Occurrence(
                event_id=row["id"], name_vi=row["name_vi"], name_en=row["name_en"],
                start=start, end=start + timedelta(days=row["duration_days"] - 1),
                lunar_day=row["lunar_day"], lunar_month=row["lunar_month"],
                heritage_name_vi=row["heritage_name_vi"], places=list(row["places"])))
    out.sort(key=lambda o: (o.start, o.name_vi))
    return out


def to_ics(occurrences: list[Occurrence], site_url: str) -> bytes:
    """An iCalendar (RFC 5545) feed of the occurrences: all-day events, stable UIDs,
    Vietnamese names, the lunar date and places in the description."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Khoai Chau heritage map//festivals//VI")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Lễ hội di sản Khoái Châu")
    stamp = datetime.now(UTC)
    for occ in occurrences:
        event = icalendar.Event()
        event.add("uid", f"festival-{occ.event_id}-{occ.start.isoformat()}@khoai-chau-heritage")
        event.add("dtstamp", stamp)
        event.add("summary", occ.name_vi)
        event.add("dtstart", occ.start)
        event.add("dtend", occ.end + timedelta(days=1))  # exclusive for all-day events
        lines = []
        if occ.lunar_month:
            lines.append(f"Âm lịch: ngày {occ.lunar_day} tháng {occ.lunar_month}")
        if occ.name_en:
            lines.append(occ.name_en)
        for place in occ.places:
            lines.append(f"{place['name_vi']}: {site_url.rstrip('/')}/sites/"
                         f"{place['heritage_id']}")
        event.add("description", "\n".join(lines))
        if occ.places:
            event.add("location", "; ".join(p["name_vi"] for p in occ.places))
            first = occ.places[0]
            event.add("geo", (first["lat"], first["lon"]))
        cal.add_component(event)
    return cal.to_ical()
