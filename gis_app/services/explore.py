"""The tourists' map: relics found by name, type, rank, commune (today's or a former
one), this month's festivals, or nearness, as GeoJSON features carrying a card.

A filter is parsed from query parameters once (`read_filter`, InputError with a
bilingual message on anything malformed), then `find_sites` / `nearby_sites` return rows
and `feature_collection` turns them into RFC 7946 GeoJSON in the request's language.
The public sees only published, non-sensitive relics (as everywhere else); district
reviewers and administrators see all of them.

Distances are straight lines on the WGS 84 spheroid (PostGIS geography), in metres:
there is no walking network behind them.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.errors import InputError
from gis_app.models.base import RANKS, RELIC_TYPES
from gis_app.services import festivals
from gis_app.services.digital_records import ORDER as RECORD_ORDER
from gis_app.services.digital_records import SHOWN as RECORD_SHOWN
from gis_app.services.features import BBox, read_bbox
from gis_app.services.sites import search_sites
from gis_app.services.visibility import site_visible

DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000
NEARBY_DEFAULT = 5
NEARBY_MAX = 50
SEARCH_LIMIT = 500  # name matches considered before the other filters
DESCRIPTION_CHARS = 200
COMMUNE_LEVELS = ("commune", "town", "ward")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class SiteFilter:
    """What the tourist asked for; empty fields do not filter."""

    query: str = ""
    types: tuple[str, ...] = ()
    ranks: tuple[str, ...] = ()
    commune: str = ""  # an admin unit id or a commune name (today's or former)
    festival_month: tuple[int, int] | None = None  # (year, month)
    bbox: BBox | None = None
    limit: int = DEFAULT_LIMIT




# --- parsing ---------------------------------------------------------------------------

def _codes(name: str, value: str | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if value is None or value.strip() == "":
        return ()
    codes = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [c for c in codes if c not in allowed]
    if unknown:
        choices = ", ".join(allowed)
        raise InputError(f"{name}={unknown[0]!r} is not known; use one of {choices} "
                         f"(several separated by commas)",
                         f"{name}={unknown[0]!r} không hợp lệ; dùng một trong {choices} "
                         f"(nhiều giá trị cách nhau bởi dấu phẩy)")
    return codes


def read_int(name: str, value: str | None, default: int, lo: int, hi: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not lo <= number <= hi:
        raise InputError(f"{name} must be a whole number from {lo} to {hi} (got {value!r})",
                         f"{name} phải là số nguyên từ {lo} đến {hi} (nhận {value!r})")
    return number


def read_month(value: str | None) -> tuple[int, int] | None:
    """`YYYY-MM` -> (year, month); None if absent. InputError otherwise."""
    if value is None or value.strip() == "":
        return None
    match = MONTH.match(value.strip())
    year, month = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not match or not 1 <= month <= 12 or not 1902 <= year <= 2098:
        raise InputError(f"festival_month={value!r} is not a month; write YYYY-MM, "
                         f"e.g. festival_month=2026-03",
                         f"festival_month={value!r} không phải tháng; viết YYYY-MM, "
                         f"ví dụ festival_month=2026-03")
    return year, month


def read_filter(args: Mapping[str, str], *, max_limit: int = MAX_LIMIT) -> SiteFilter:
    """The filter in query parameters q, type, rank, commune, festival_month, bbox,
    limit. `type` and `rank` take codes (several separated by commas). Raises
    InputError saying what a valid value looks like."""
    query = " ".join((args.get("q") or "").split())
    if len(query) > 100:
        raise InputError("The search text is too long (at most 100 characters).",
                         "Nội dung tìm kiếm quá dài (tối đa 100 ký tự).")
    commune = " ".join((args.get("commune") or "").split())
    if len(commune) > 100:
        raise InputError("commune is too long (at most 100 characters).",
                         "Tên xã quá dài (tối đa 100 ký tự).")
    return SiteFilter(
        query=query,
        types=_codes("type", args.get("type"), RELIC_TYPES),
        ranks=_codes("rank", args.get("rank"), RANKS),
        commune=commune,
        festival_month=read_month(args.get("festival_month")),
        bbox=read_bbox(args.get("bbox")),
        limit=read_int("limit", args.get("limit"), min(DEFAULT_LIMIT, max_limit), 1, max_limit))


def read_point(lat: str | None, lon: str | None) -> tuple[float, float]:
    """(lat, lon) in WGS 84 degrees from query parameters; InputError if missing,
    not numbers or out of range."""
    example = "lat=20.894&lon=105.93"
    if not lat or not lon:
        raise InputError(f"Give your position as lat and lon in WGS 84 degrees, e.g. {example}",
                         f"Hãy cho biết vị trí bằng lat và lon (độ WGS 84), ví dụ {example}")
    try:
        y, x = float(lat), float(lon)
    except ValueError:
        raise InputError(f"lat and lon must be numbers, e.g. {example}",
                         f"lat và lon phải là số, ví dụ {example}") from None
    if not (math.isfinite(x) and math.isfinite(y) and -90 <= y <= 90 and -180 <= x <= 180):
        raise InputError("lat must be -90..90 and lon -180..180 (WGS 84 degrees)",
                         "lat phải trong khoảng -90..90 và lon trong khoảng -180..180 "
                         "(độ WGS 84)")
    return y, x


# --- queries ---------------------------------------------------------------------------

SITE_COLUMNS = """
    s.id, s.heritage_id, s.name_vi, s.name_en, s.types, s.rank, s.description_vi,
    s.description_en, s.opening_hours_vi, s.opening_hours_en,
    ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
    p.uri AS photo_uri, p.credit AS photo_credit, p.licence AS photo_licence"""
PHOTO_JOIN = f"""
    LEFT JOIN LATERAL (
        SELECT d.uri, d.credit, d.licence FROM digital_records d
         WHERE d.site_id = s.id AND {RECORD_SHOWN}
           AND (d.media_type IN ('photo', 'image') OR d.media_type LIKE 'image/%')
           AND d.uri !~ '^[a-zA-Z][a-zA-Z0-9+.-]*:' AND d.uri NOT LIKE '/%'
         ORDER BY {RECORD_ORDER} LIMIT 1) p ON TRUE"""
# Photos as the site page shows them (services.sites.PHOTO_SQL): files under MEDIA_DIR
# only, never an address elsewhere, so the map loads nothing from off the host.


def commune_units(db: Session, commune: str) -> list[int]:
    """Ids of the commune-level units (today's or former) named or numbered `commune`.

    A name matches without regard to diacritics or case ("binh minh" = "Bình Minh") and
    may name several units (a name reused by the 2025 reform). InputError if none."""
    if commune.isdigit():
        ids = db.scalars(text("SELECT id FROM admin_units WHERE id = :id AND level = ANY(:lv)"),
                         {"id": int(commune), "lv": list(COMMUNE_LEVELS)}).all()
    else:
        ids = db.scalars(text("""
            SELECT id FROM admin_units
             WHERE lower(f_unaccent(name)) = lower(f_unaccent(:name)) AND level = ANY(:lv)
             ORDER BY id"""), {"name": commune, "lv": list(COMMUNE_LEVELS)}).all()
    if not ids:
        raise InputError(f"No commune is called or numbered {commune!r}; "
                         "GET /api/sites/filters lists them",
                         f"Không có xã nào tên hoặc mã {commune!r}; "
                         "GET /api/sites/filters liệt kê các xã")
    return list(ids)


def festival_sites(db: Session, year: int, month: int, role: str | None) -> list[str]:
    """Heritage ids of the relics with a festival on any day of the solar month."""
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    found: dict[str, None] = {}
    for y in (year - 1, year):  # a festival starting in December may run into January
        for occ in festivals.calendar(db, y, role):
            if occ.start <= last and occ.end >= first:
                found.update((p["heritage_id"], None) for p in occ.places)
    return list(found)


def _conditions(db: Session, flt: SiteFilter, role: str | None) -> tuple[list[str], dict]:
    """SQL conditions over `s` (fixed text, values bound) and their parameters."""
    where = [site_visible(role, "s")]
    params: dict[str, Any] = {}
    if flt.types:
        where.append("s.types && CAST(:types AS text[])")
        params["types"] = list(flt.types)
    if flt.ranks:
        where.append("s.rank = ANY(:ranks)")
        params["ranks"] = list(flt.ranks)
    if flt.commune:
        where.append("(s.admin_unit_id = ANY(:units) OR s.id IN ("
                     "SELECT h.site_id FROM site_admin_units h "
                     " WHERE h.admin_unit_id = ANY(:units)))")
        params["units"] = commune_units(db, flt.commune)
    if flt.festival_month is not None:
        where.append("s.heritage_id = ANY(:festival_ids)")
        params["festival_ids"] = festival_sites(db, *flt.festival_month, role)
    if flt.bbox is not None:
        where.append("s.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
        params.update(minx=flt.bbox.minx, miny=flt.bbox.miny, maxx=flt.bbox.maxx,
                      maxy=flt.bbox.maxy)
    return where, params


def find_sites(db: Session, flt: SiteFilter, role: str | None = None) -> list[dict[str, Any]]:
    """Relics matching every part of the filter: by search score when there is a
    query (exact name matches first), else by name."""
    where, params = _conditions(db, flt, role)
    order = "lower(f_unaccent(s.name_vi)), s.heritage_id"
    if flt.query:
        hits = [r["heritage_id"] for r in search_sites(db, flt.query, role, limit=SEARCH_LIMIT)]
        where.append("s.heritage_id = ANY(:hits)")
        params["hits"] = hits
        order = f"array_position(CAST(:hits AS text[]), s.heritage_id::text), {order}"
    params["limit"] = flt.limit
    sql = f"""
        SELECT {SITE_COLUMNS}
          FROM sites s {PHOTO_JOIN}
         WHERE {" AND ".join(where) or "TRUE"}
         ORDER BY {order}
         LIMIT :limit"""
    return [dict(r) for r in db.execute(text(sql), params).mappings()]


def nearby_sites(db: Session, lat: float, lon: float, flt: SiteFilter,
                 role: str | None = None, limit: int = NEARBY_DEFAULT) -> list[dict[str, Any]]:
    """The `limit` relics nearest to (lat, lon) that match the filter, nearest first,
    with `distance_m`: the straight-line distance on the WGS 84 spheroid, in metres."""
    where, params = _conditions(db, flt, role)
    if flt.query:
        where.append("s.heritage_id = ANY(:hits)")
        params["hits"] = [r["heritage_id"] for r in
                          search_sites(db, flt.query, role, limit=SEARCH_LIMIT)]
    params.update(lat=lat, lon=lon, limit=limit)
    sql = f"""
        SELECT {SITE_COLUMNS},
               ST_Distance(s.geom::geography,
                           ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m
          FROM sites s {PHOTO_JOIN}
         WHERE {" AND ".join(where) or "TRUE"}
         ORDER BY distance_m, s.heritage_id
         LIMIT :limit"""
    return [dict(r) for r in db.execute(text(sql), params).mappings()]


# --- filter options --------------------------------------------------------------------

def filter_options(db: Session, lang: str, today: date,
                   role: str | None = None) -> dict[str, Any]:
    """Choices for the map's filters in `lang`, each with how many relics it selects:
    types, ranks, communes (today's first, then former ones with their end date) and
    this month's festivals (solar month of `today`)."""
    visible = site_visible(role, "s")
    type_counts = dict(db.execute(text(f"""
        SELECT t, count(*) FROM sites s, unnest(s.types) AS t WHERE {visible} GROUP BY t"""))
        .all())
    rank_counts = dict(db.execute(text(f"""
        SELECT s.rank, count(*) FROM sites s WHERE {visible} AND s.rank IS NOT NULL
         GROUP BY s.rank""")).all())
    # Counted per unit before joining the units (the pairs are distinct after UNION):
    # a count(DISTINCT) over every joined row took 3x as long at 40k relics.
    communes = db.execute(text(f"""
        SELECT u.id, u.name, u.level, u.valid_from, u.valid_to, c.n
          FROM admin_units u
          JOIN (SELECT h.unit, count(*) AS n
                  FROM (SELECT s.admin_unit_id AS unit, s.id FROM sites s WHERE {visible}
                        UNION
                        SELECT x.admin_unit_id, x.site_id
                          FROM site_admin_units x JOIN sites s ON s.id = x.site_id
                         WHERE {visible}) h
                 GROUP BY h.unit) c ON c.unit = u.id
         WHERE u.level = ANY(:lv)
         ORDER BY u.valid_to IS NOT NULL, lower(f_unaccent(u.name)), u.valid_from"""),
        {"lv": list(COMMUNE_LEVELS)}).mappings().all()
    month = (today.year, today.month)
    return {
        "types": [{"value": code, "label": label, "count": type_counts.get(code, 0)}
                  for code, label in vocab.labels("relic_type", lang).items()],
        "ranks": [{"value": code, "label": label, "count": rank_counts.get(code, 0)}
                  for code, label in vocab.labels("rank", lang).items()],
        "communes": [{"value": str(u["id"]), "name": u["name"], "level": u["level"],
                      "current": u["valid_to"] is None or u["valid_to"] >= today,
                      "valid_from": u["valid_from"].isoformat(),
                      "valid_to": u["valid_to"].isoformat() if u["valid_to"] else None,
                      "label": commune_label(u, lang, today), "count": u["n"]}
                     for u in communes],
        "festival_month": {"value": f"{month[0]:04d}-{month[1]:02d}",
                           "label": (f"Có lễ hội trong tháng {month[1]}/{month[0]}"
                                     if lang == "vi" else
                                     f"With a festival in {today.strftime('%B')} {month[0]}"),
                           "count": len(festival_sites(db, *month, role))},
    }


def commune_label(unit: Mapping[str, Any], lang: str, today: date) -> str:
    """"Xã Bình Minh (cũ, đến 30/06/2025)" / "Bình Minh commune (former, until 30/06/2025)"."""
    level = vocab.label("admin_level", unit["level"], lang)
    name = f"{level} {unit['name']}" if lang == "vi" else f"{unit['name']} {level.lower()}"
    if unit["valid_to"] is None or unit["valid_to"] >= today:
        return name
    until = unit["valid_to"].strftime("%d/%m/%Y")
    return f"{name} (cũ, đến {until})" if lang == "vi" else f"{name} (former, until {until})"


# --- output ----------------------------------------------------------------------------

def short_text(value: str | None, limit: int = DESCRIPTION_CHARS) -> str | None:
    """The first `limit` characters, cut at a word and ending in "…" when shortened."""
    if not value:
        return None
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    cut = value[:limit].rsplit(" ", 1)[0].rstrip(",;:.–- ")
    return cut + "…"


def _in_lang(row: Mapping[str, Any], key: str, lang: str) -> str | None:
    return row.get(f"{key}_{lang}") or row.get(f"{key}_vi")


def to_feature(row: Mapping[str, Any], lang: str, site_url: Callable[[str], str],
               media_url: Callable[[str], str]) -> dict[str, Any]:
    """A GeoJSON Feature with what the map's card shows, in `lang` (names stay
    Vietnamese; `name_en` is given too)."""
    lat, lon = round(row["lat"], 7), round(row["lon"], 7)
    types = list(row["types"] or [])
    props: dict[str, Any] = {
        "heritage_id": row["heritage_id"],
        "name_vi": row["name_vi"],
        "name_en": row["name_en"],
        "types": types,
        "type": types[0] if types else None,
        "type_labels": [vocab.label("relic_type", t, lang) for t in types],
        "rank": row["rank"],
        "rank_label": vocab.label("rank", row["rank"], lang) or None,
        "description": short_text(_in_lang(row, "description", lang)),
        "opening_hours": _in_lang(row, "opening_hours", lang),
        "photo": None if not row.get("photo_uri") else {
            "url": media_url(row["photo_uri"]), "credit": row["photo_credit"],
            "licence": vocab.label("licence", row["photo_licence"], lang) or None},
        "url": site_url(row["heritage_id"]),
        "directions_url": ("https://www.openstreetmap.org/directions?route="
                           + quote(f";{lat},{lon}", safe="")),
        "geo_uri": f"geo:{lat},{lon}",
        "lat": lat, "lon": lon,
    }
    if "distance_m" in row:
        props["distance_m"] = round(float(row["distance_m"]), 1)
    return {"type": "Feature", "id": row["heritage_id"],
            "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


def feature_collection(rows: list[dict[str, Any]], lang: str, site_url: Callable[[str], str],
                       media_url: Callable[[str], str]) -> dict[str, Any]:
    features = [to_feature(r, lang, site_url, media_url) for r in rows]
    return {"type": "FeatureCollection", "features": features,
            "numberReturned": len(features)}
