"""Check a parcel or project against relic protection zones.

One statement in PostGIS answers: every zone the parcel touches (touching a boundary
counts), the overlap in m² and as a share of the parcel, the distance to the relic, and,
when nothing is touched, the nearest relic. Areas and distances are computed on the
WGS 84 spheroid (geography), never in degrees. Zones are taken as valid on a date
(default today), since zones have legal validity.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError
from gis_app.geo import crs as crs_mod
from gis_app.geo.limits import check_vertices
from gis_app.numbers import both
from gis_app.services.features import FULL_ACCESS_ROLES, to_psycopg
from gis_app.services.visibility import public_site
from layers.protection_zones import valid_on

if TYPE_CHECKING:
    import psycopg

MAX_AREA_M2 = 50_000_000  # 50 km²: larger is not a parcel or project, and too slow
GEOD = Geod(ellps="WGS84")

# What each zone means for building there, with the legal reference (the law in force
# since 1 Jul 2025 and the 2001/2009 law whose Art. 32 set the zones). Summaries: the
# decision rests with the authority named.
RULES: dict[str, dict[str, str]] = {
    "I": {
        "vi": "Khu vực bảo vệ I: phải giữ nguyên trạng về mặt bằng và không gian. Chỉ được "
              "xây dựng công trình trực tiếp phục vụ bảo vệ, phát huy giá trị di tích, trong "
              "trường hợp đặc biệt, khi có văn bản đồng ý của cơ quan có thẩm quyền xếp hạng "
              "di tích.",
        "en": "Protection zone I: the ground plan and space must be kept intact. Only works "
              "that directly serve the relic's protection and promotion may be built, in "
              "special cases, with the written consent of the authority that ranked it.",
        "ref": "Luật Di sản văn hóa 28/2001/QH10, sửa đổi 32/2009/QH12, Điều 32; "
               "Luật Di sản văn hóa 45/2024/QH15; Nghị định 208/2025/NĐ-CP",
    },
    "II": {
        "vi": "Khu vực bảo vệ II: chỉ được xây dựng công trình phục vụ bảo vệ và phát huy giá "
              "trị di tích, không làm ảnh hưởng đến yếu tố gốc, cảnh quan, môi trường của di "
              "tích; cần ý kiến của Chủ tịch UBND tỉnh (di tích cấp tỉnh) hoặc Bộ trưởng Bộ "
              "VHTTDL (di tích quốc gia, quốc gia đặc biệt).",
        "en": "Protection zone II: only works serving the relic's protection and promotion, "
              "without harming its original elements, landscape or environment; they need "
              "the consent of the provincial chair (provincial relics) or the Minister of "
              "Culture, Sports and Tourism (national and special national relics).",
        "ref": "Luật Di sản văn hóa 28/2001/QH10, sửa đổi 32/2009/QH12, Điều 32; "
               "Luật Di sản văn hóa 45/2024/QH15; Nghị định 208/2025/NĐ-CP",
    },
    "buffer": {
        "vi": "Vùng đệm (ngoài khu vực bảo vệ): công trình phải phù hợp quy hoạch bảo quản, "
              "tu bổ, phục hồi di tích và không làm ảnh hưởng đến cảnh quan di tích; hỏi ý "
              "kiến cơ quan quản lý văn hóa cấp tỉnh.",
        "en": "Buffer area (outside the protection zones): works must fit the relic's "
              "preservation plan and not harm its landscape; consult the provincial culture "
              "authority.",
        "ref": "Luật Di sản văn hóa 45/2024/QH15; Nghị định 208/2025/NĐ-CP",
    },
}


@dataclass
class ZoneHit:
    heritage_id: str
    site_name_vi: str
    site_name_en: str | None
    rank: str | None
    zone: str
    decision_no: str | None
    overlap_m2: float
    overlap_pct: float
    relic_distance_m: float
    rules: dict[str, str]


@dataclass
class ZoneCheck:
    parcel_area_m2: float
    on_date: str
    hits: list[ZoneHit] = field(default_factory=list)
    nearest: dict[str, Any] | None = None
    data_version: int = 0  # the latest revision id: the data the answer was computed on

    def as_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every hit's rules text (about a fifth
        # of the check's Python time under the profiler).
        return {**vars(self), "hits": [dict(vars(hit)) for hit in self.hits]}


def read_geometry(payload: Any, crs_text: str | None = None) -> list[BaseGeometry]:
    """Parcels from a GeoJSON geometry, Feature or FeatureCollection (parsed JSON), in
    `crs_text` (default EPSG:4326; e.g. EPSG:9209 for VN-2000 TM-3), as lon/lat.

    Raises InputError for anything that is not a usable parcel: no geometry, not
    GeoJSON, empty, self-intersecting, larger than 50 km², outside Vietnam.
    """
    if isinstance(payload, dict) and payload.get("type") == "FeatureCollection":
        features = payload.get("features") or []
        geometries = [f.get("geometry") if isinstance(f, dict) else None for f in features]
    elif isinstance(payload, dict) and payload.get("type") == "Feature":
        geometries = [payload.get("geometry")]
    else:
        geometries = [payload]
    if not geometries:
        raise InputError("The FeatureCollection has no features.",
                         "FeatureCollection không có đối tượng nào.")
    if len(geometries) > 1000:
        raise InputError("At most 1,000 parcels per request; use the bulk check for more.",
                         "Tối đa 1.000 thửa mỗi lần; hãy dùng kiểm tra hàng loạt.")
    source_crs = crs_mod.parse_crs(crs_text) if crs_text else None
    parcels = []
    for number, geometry in enumerate(geometries, start=1):
        parcels.append(_parcel(geometry, number, source_crs))
    return parcels


def _parcel(geometry: Any, number: int, source_crs: Any) -> BaseGeometry:
    where_en = f"Parcel {number}: "
    where_vi = f"Thửa {number}: "
    try:
        shape = shapely.from_geojson(json.dumps(geometry))
    except (shapely.errors.GEOSException, TypeError, ValueError, RecursionError) as exc:
        raise InputError(where_en + "not a GeoJSON geometry (Point, Polygon, MultiPolygon…).",
                         where_vi + "không phải hình học GeoJSON (Point, Polygon, "
                         "MultiPolygon…).") from exc
    if shape is None or shape.is_empty:
        raise InputError(where_en + "the geometry is empty.", where_vi + "hình học rỗng.")
    check_vertices(shape, where_en, where_vi)
    if shapely.has_z(shape):
        shape = shapely.force_2d(shape)
    if source_crs is not None:
        shape = shapely.transform(shape, crs_mod.to_wgs84(source_crs))
    if not shape.is_valid:
        reason = shapely.is_valid_reason(shape)
        raise InputError(where_en + f"the shape is invalid ({reason}); draw it again without "
                         "crossing edges.",
                         where_vi + f"hình không hợp lệ ({reason}); hãy vẽ lại, các cạnh không "
                         "được cắt nhau.")
    minx, miny, maxx, maxy = shape.bounds
    vx0, vy0, vx1, vy1 = crs_mod.VIETNAM_BBOX
    if minx < vx0 or miny < vy0 or maxx > vx1 or maxy > vy1:
        raise InputError(where_en + "it lies outside Vietnam; check the coordinates and the "
                         "coordinate system (longitude first in GeoJSON).",
                         where_vi + "nằm ngoài lãnh thổ Việt Nam; hãy kiểm tra tọa độ và hệ "
                         "tọa độ (GeoJSON ghi kinh độ trước).")
    area = abs(GEOD.geometry_area_perimeter(shape)[0])
    if area > MAX_AREA_M2:
        km2_en, km2_vi = both(area / 1e6, 1)
        raise InputError(where_en + f"it covers {km2_en} km²; at most 50 km² can be "
                         f"checked at once.",
                         where_vi + f"rộng {km2_vi} km²; mỗi lần chỉ kiểm tra được tối "
                         f"đa 50 km².")
    return shape


# The nearest relic: the GIST index orders by planar distance (against a subquery, not
# a CTE column, or the index is not used); the 8 nearest are then ranked on the
# spheroid, so near ties go the right way.
CHECK_SQL = text(f"""
    WITH p AS (SELECT ST_GeomFromWKB(:wkb, 4326) AS g),
    pa AS (SELECT g, ST_Area(g::geography) AS area FROM p),
    hits AS (
      SELECT s.heritage_id, s.name_vi, s.name_en, s.rank, z.zone, z.decision_no,
             CASE WHEN ST_Dimension(pa.g) = 2
                  THEN ST_Area(ST_Intersection(z.geom, pa.g)::geography) ELSE 0 END AS overlap,
             ST_Distance(s.geom::geography, pa.g::geography) AS relic_distance
        FROM protection_zones z JOIN sites s ON s.id = z.site_id, pa
       WHERE ST_Intersects(z.geom, pa.g)
         AND {valid_on("z", ":on_date")}
         AND (:full OR {public_site('s')})
    )
    SELECT (SELECT area FROM pa) AS area,
           (SELECT coalesce(json_agg(hits ORDER BY relic_distance, zone), '[]') FROM hits)
             AS hits,
           (SELECT json_build_object('heritage_id', c.heritage_id, 'site_name_vi', c.name_vi,
                                     'site_name_en', c.name_en, 'rank', c.rank,
                                     'distance_m', c.distance)
              FROM (SELECT s.heritage_id, s.name_vi, s.name_en, s.rank,
                           ST_Distance(s.geom::geography, (SELECT g FROM pa)::geography)
                             AS distance
                      FROM sites s
                     WHERE NOT EXISTS (SELECT 1 FROM hits)
                       AND (:full OR {public_site('s')})
                     ORDER BY s.geom <-> (SELECT g FROM pa) LIMIT 8) c
             ORDER BY c.distance LIMIT 1) AS nearest,
           (SELECT coalesce(max(id), 0) FROM revisions) AS data_version
""")


def check_parcel(db: Session, parcel: BaseGeometry, on_date: date | None = None,
                 role: str | None = None) -> ZoneCheck:
    """The zones `parcel` (lon/lat, validated by `read_geometry`) touches on `on_date`.

    The public sees published, non-sensitive relics only; officials see all.
    """
    on_date = on_date or today_in_vietnam()
    row = db.execute(CHECK_SQL, _params(parcel, on_date, role)).one()
    return _zone_check(on_date, *row)


# CHECK_SQL for a psycopg connection (the lean path: db.Database.lean).
CHECK_SQL_PSYCOPG = to_psycopg(CHECK_SQL.text)


def check_parcel_lean(conn: psycopg.Connection, parcel: BaseGeometry,
                      on_date: date | None = None, role: str | None = None) -> ZoneCheck:
    """`check_parcel` as one prepared statement on an autocommit psycopg connection
    (the public's single checks): the same statement, the same result."""
    on_date = on_date or today_in_vietnam()
    row = conn.execute(CHECK_SQL_PSYCOPG, _params(parcel, on_date, role),
                       prepare=True).fetchone()
    assert row is not None  # aggregates: always one row
    return _zone_check(on_date, *row)


def _params(parcel: BaseGeometry, on_date: date, role: str | None) -> dict[str, Any]:
    return {"wkb": shapely.to_wkb(parcel), "on_date": on_date,
            "full": role in FULL_ACCESS_ROLES}


def _zone_check(on_date: date, area: float | None, hits: list[dict[str, Any]],
                nearest: dict[str, Any] | None, version: int) -> ZoneCheck:
    """The result from CHECK_SQL's row (area, hits, nearest, data_version)."""
    area = float(area or 0.0)
    zone_hits = [ZoneHit(heritage_id=h["heritage_id"], site_name_vi=h["name_vi"],
                         site_name_en=h["name_en"], rank=h["rank"], zone=h["zone"],
                         decision_no=h["decision_no"], overlap_m2=round(h["overlap"], 2),
                         overlap_pct=round(100 * h["overlap"] / area, 2) if area else 0.0,
                         relic_distance_m=round(h["relic_distance"], 2),
                         rules=RULES.get(h["zone"], {}))
                 for h in hits]
    if nearest:
        nearest["distance_m"] = round(nearest["distance_m"], 2)
    return ZoneCheck(parcel_area_m2=round(area, 2), on_date=on_date.isoformat(),
                     hits=zone_hits, nearest=nearest, data_version=int(version))


def read_date(value: str | None) -> date | None:
    """`?date=YYYY-MM-DD` → date; InputError otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"date={value!r} is not a date; write it as YYYY-MM-DD.",
                         f"date={value!r} không phải ngày; hãy ghi theo dạng YYYY-MM-DD.") from exc
