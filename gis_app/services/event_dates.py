"""The festival date of an intangible heritage (`heritage_events`): a lunar month and
day, or a fixed solar date, and a duration. One rule for the editor
(services/intangible.py) and the import (importers/targets.py); this module depends on
neither, so the importer can use it without importing the services that use the
importer."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gis_app.clock import read_day
from gis_app.errors import InputError
from gis_app.services.record_fields import Field, validate

EVENT_FIELDS: tuple[Field, ...] = (
    Field("name_vi", "text", ("Festival name (Vietnamese)", "Tên lễ hội (tiếng Việt)"), 300,
          required=True),
    Field("name_en", "text", ("Festival name (English)", "Tên lễ hội (tiếng Anh)"), 300),
    Field("lunar_month", "int", ("Lunar month", "Tháng âm lịch"), low=1, high=12),
    Field("lunar_day", "int", ("Lunar day", "Ngày âm lịch"), low=1, high=30),
    Field("solar_date", "text", ("Solar date", "Ngày dương lịch"), 20),
    Field("duration_days", "int", ("Duration (days)", "Số ngày"), low=1, high=60),
)


def check_event(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A festival date as typed (strings): a lunar month and day (both) or a solar date
    (ISO text in the result), a duration (1 day when not given). Raises InputError
    saying what to correct (a lunar day 31, a month 13, a day without its month...)."""
    values = validate(EVENT_FIELDS, raw)
    solar = read_day(values.pop("solar_date"), ("Solar date", "Ngày dương lịch"))
    values["solar_date"] = solar.isoformat() if solar else None
    if (values["lunar_month"] is None) != (values["lunar_day"] is None):
        raise InputError("Give both the lunar day and the lunar month (or neither).",
                         "Hãy nhập cả ngày và tháng âm lịch (hoặc bỏ trống cả hai).")
    if values["lunar_month"] is None and solar is None:
        raise InputError("Give the festival's lunar day and month, or its solar date.",
                         "Hãy nhập ngày, tháng âm lịch của lễ hội, hoặc ngày dương lịch.")
    values["duration_days"] = values["duration_days"] or 1
    return values
