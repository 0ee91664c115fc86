"""Query parameters of the OGC API, parsed into plain values. Every parser returns a
value or raises InputError saying what to send (a 400, never a 500)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime

from gis_app.clock import VIETNAM_TIME
from gis_app.errors import InputError
from gis_app.ogc.crs import ServedCrs
from gis_app.services.features import read_int
from layers import Layer

# Parameters every items request may carry besides the layer's property names.
ITEMS_PARAMS = frozenset({"f", "lang", "limit", "offset", "bbox", "bbox-crs", "crs",
                          "datetime", "after", "filter", "filter-lang", "filter-crs"})
ITEM_PARAMS = frozenset({"f", "lang", "crs"})
META_PARAMS = frozenset({"f", "lang"})


@dataclass(frozen=True)
class Box:
    """A query box in the storage CRS (lon/lat degrees) or in `crs` (x/y as east/north)."""
    minx: float
    miny: float
    maxx: float
    maxy: float
    srid: int


@dataclass(frozen=True)
class Interval:
    """Closed date interval; None is an open end (`..`)."""
    start: date | None
    end: date | None


def check_known(args: dict[str, str], allowed: frozenset[str] | set[str]) -> None:
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        names = ", ".join(sorted(allowed))
        raise InputError(f"Unknown query parameter(s): {', '.join(unknown)}. "
                         f"This address takes: {names}",
                         f"Tham số không được hỗ trợ: {', '.join(unknown)}. "
                         f"Địa chỉ này nhận: {names}")


def read_bbox(value: str | None, crs: ServedCrs) -> Box | None:
    """`bbox` as 4 numbers (or 6 with heights, which are ignored) in `crs`'s axis order;
    None when absent. Returned east/north first whatever the CRS's axis order."""
    if value is None or value.strip() == "":
        return None
    parts = value.split(",")
    example = "bbox=105.90,20.80,106.00,20.90"
    if len(parts) not in (4, 6):
        raise InputError(
            f"bbox needs 4 comma-separated numbers (got {len(parts)}), e.g. {example}",
            f"bbox cần 4 số cách nhau bởi dấu phẩy (nhận {len(parts)}), ví dụ {example}")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"bbox values must be numbers, e.g. {example}",
                         f"Các giá trị bbox phải là số, ví dụ {example}") from None
    if not all(math.isfinite(v) for v in numbers):
        raise InputError("bbox values must be finite numbers",
                         "Các giá trị bbox phải là số hữu hạn")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    a, b, c, d = numbers
    minx, miny, maxx, maxy = (b, a, d, c) if crs.lat_first else (a, b, c, d)
    if crs.geographic and not (-180 <= minx <= 180 and -180 <= maxx <= 180
                               and -90 <= miny <= 90 and -90 <= maxy <= 90):
        order = "latitude,longitude" if crs.lat_first else "longitude,latitude"
        raise InputError(
            f"bbox in {crs.uri} is in degrees ({order}); for metres such as VN-2000 "
            f"TM-3 add bbox-crs=http://www.opengis.net/def/crs/EPSG/0/9209",
            f"bbox theo {crs.uri} tính bằng độ ({order}); với tọa độ mét như VN-2000 "
            f"TM-3 hãy thêm bbox-crs=http://www.opengis.net/def/crs/EPSG/0/9209")
    if minx > maxx or miny > maxy:
        raise InputError("bbox must give the lower corner first (min <= max on both axes)",
                         "bbox phải ghi góc dưới trước (min <= max trên cả hai trục)")
    return Box(minx, miny, maxx, maxy, crs.srid)


def read_limit(value: str | None, default: int, maximum: int) -> int:
    return read_int("limit", value, default, 1, maximum)


def read_offset(value: str | None) -> int:
    return read_int("offset", value, 0, 0, 10_000_000)


def read_after(value: str | None) -> int | None:
    """`after`, the row key a `next` link carries; None when absent."""
    if value is None or value.strip() == "":
        return None
    return read_int("after", value, 0, 0, 2**63 - 1)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _moment(text: str) -> date:
    """A date, or an RFC 3339 date-time (its date in Vietnam; no offset: Vietnam's)."""
    if _DATE.match(text):
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(VIETNAM_TIME).date()


def read_datetime(value: str | None) -> Interval | None:
    """`datetime`: an instant (2025-07-01 or 2025-07-01T00:00:00Z) or an interval
    (a/b, ../b, a/..), compared by date in Vietnam; None when absent."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    example = "datetime=2025-07-01 or datetime=2020-01-01/2025-06-30 or datetime=../2025-06-30"
    try:
        if "/" in text:
            first, _, second = text.partition("/")
            if "/" in second:
                raise ValueError
            start = None if first in ("", "..") else _moment(first)
            end = None if second in ("", "..") else _moment(second)
            if start is not None and end is not None and start > end:
                raise InputError("datetime interval must start before it ends",
                                 "Khoảng thời gian datetime phải bắt đầu trước khi kết thúc")
            return Interval(start, end)
        day = _moment(text)
        return Interval(day, day)
    except (ValueError, OverflowError):
        raise InputError(f"datetime {text!r} is not a date, a date-time or an interval; "
                         f"e.g. {example}",
                         f"datetime {text!r} không phải ngày, thời điểm hay khoảng thời "
                         f"gian; ví dụ {example}") from None


def read_property_filters(layer: Layer, args: dict[str, str]) -> dict[str, str]:
    """`?name=value` for the layer's properties: equality on the text of the value (or,
    for a list such as a relic's types, membership)."""
    out = {}
    for key in layer.properties:
        if key in args:
            if len(args[key]) > 200:
                raise InputError(f"The value of {key} is too long (at most 200 characters)",
                                 f"Giá trị của {key} quá dài (tối đa 200 ký tự)")
            out[key] = args[key]
    return out
