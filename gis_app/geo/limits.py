"""How big one parcel may be: the limits every way a parcel comes in shares (the zone
check API, the planning page, uploaded files, the bulk check)."""
from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from gis_app.errors import InputError
from gis_app.numbers import format_number

# Corners of one parcel: a surveyed cadastral parcel has tens, a project boundary a few
# thousand; 70k-vertex shapes took seconds and megabytes per stored report.
MAX_VERTICES = 10_000


def _too_many_vertices(count: int, where_en: str, where_vi: str) -> InputError:
    return InputError(
        where_en + f"the shape has {format_number(count, 'en')} vertices; at most "
        f"{format_number(MAX_VERTICES, 'en')} per parcel. Simplify it (e.g. QGIS Vector > "
        f"Geometry Tools > Simplify, 0.1 m) and try again.",
        where_vi + f"hình có {format_number(count, 'vi')} đỉnh; tối đa "
        f"{format_number(MAX_VERTICES, 'vi')} đỉnh mỗi thửa. Hãy đơn giản hóa hình (ví dụ "
        f"QGIS Vector > Geometry Tools > Simplify, 0,1 m) rồi thử lại.")


def check_vertices(shape: Any, where_en: str = "", where_vi: str = "") -> None:
    """InputError when one parcel has more than MAX_VERTICES corners."""
    count = int(shapely.get_num_coordinates(shape))
    if count > MAX_VERTICES:
        raise _too_many_vertices(count, where_en, where_vi)


def check_all_vertices(shapes: np.ndarray) -> None:
    """InputError naming the first feature (1-based) of `shapes` with too many corners."""
    if not len(shapes):
        return
    counts = shapely.get_num_coordinates(shapes)
    over = np.flatnonzero(counts > MAX_VERTICES)
    if len(over):
        first = int(over[0])
        raise _too_many_vertices(int(counts[first]), f"Feature {first + 1}: ",
                                 f"Đối tượng {first + 1}: ")
