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

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
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


def _selection(db: Session, flt: SiteFilter, role: str | None) -> tuple[str, str, dict]:
    """The WHERE condition over `s` of the relics `flt` selects, their order (search
    matches first when there is a query, else by name) and the parameters of both."""
    where, params = _conditions(db, flt, role)
    order = "lower(f_unaccent(s.name_vi)), s.heritage_id"
    if flt.query:
        hits = [r["heritage_id"] for r in search_sites(db, flt.query, role, limit=SEARCH_LIMIT)]
        where.append("s.heritage_id = ANY(:hits)")
        params["hits"] = hits
        order = f"array_position(CAST(:hits AS text[]), s.heritage_id::text), {order}"
    return " AND ".join(where) or "TRUE", order, params


def _rows_sql(db: Session, flt: SiteFilter, role: str | None,
              near: tuple[float, float] | None = None,
              limit: int | None = None) -> tuple[str, dict[str, Any], str]:
    """The statement selecting the rows of `find_sites` (or, with `near` = (lat, lon),
    of `nearby_sites`), its parameters and its WHERE condition (over `s`)."""
    where, order, params = _selection(db, flt, role)
    columns = SITE_COLUMNS
    if near is not None:
        columns += """,
               ST_Distance(s.geom::geography,
                           ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m"""
        order = "distance_m, s.heritage_id"
        params.update(lat=near[0], lon=near[1])
    params["limit"] = flt.limit if limit is None else limit
    sql = f"""
        SELECT {columns}
          FROM sites s {PHOTO_JOIN}
         WHERE {where}
         ORDER BY {order}
         LIMIT :limit"""
    return sql, params, where


def find_sites(db: Session, flt: SiteFilter, role: str | None = None) -> list[dict[str, Any]]:
    """Relics matching every part of the filter: by search score when there is a
    query (exact name matches first), else by name."""
    sql, params, _ = _rows_sql(db, flt, role)
    return [dict(r) for r in db.execute(text(sql), params).mappings()]


def nearby_sites(db: Session, lat: float, lon: float, flt: SiteFilter,
                 role: str | None = None, limit: int = NEARBY_DEFAULT) -> list[dict[str, Any]]:
    """The `limit` relics nearest to (lat, lon) that match the filter, nearest first,
    with `distance_m`: the straight-line distance on the WGS 84 spheroid, in metres."""
    sql, params, _ = _rows_sql(db, flt, role, near=(lat, lon), limit=limit)
    return [dict(r) for r in db.execute(text(sql), params).mappings()]


# --- filter options --------------------------------------------------------------------

# The counts of every filter choice from one scan of the visible relics: per type, per
# rank and per commune-level unit (today's unit or any former one, each relic once per
# unit: the pairs are distinct after UNION). Three scans of `sites` and a
# count(DISTINCT) over the joined units before.
FILTER_COUNTS_SQL = """
    WITH v AS MATERIALIZED (
        SELECT s.id, s.types, s.rank, s.admin_unit_id FROM sites s WHERE {visible})
    SELECT 'type' AS kind, t.code AS value, count(*) AS n
      FROM v, unnest(v.types) AS t(code) GROUP BY t.code
    UNION ALL
    SELECT 'rank', v.rank, count(*) FROM v WHERE v.rank IS NOT NULL GROUP BY v.rank
    UNION ALL
    SELECT 'unit', h.unit::text, count(*)
      FROM (SELECT v.admin_unit_id AS unit, v.id FROM v WHERE v.admin_unit_id IS NOT NULL
            UNION
            SELECT x.admin_unit_id, x.site_id FROM site_admin_units x JOIN v ON v.id = x.site_id
           ) h
     GROUP BY h.unit"""


def filter_options(db: Session, lang: str, today: date,
                   role: str | None = None) -> dict[str, Any]:
    """Choices for the map's filters in `lang`, each with how many relics it selects:
    types, ranks, communes (today's first, then former ones with their end date) and
    this month's festivals (solar month of `today`)."""
    counts: dict[str, dict[Any, int]] = {"type": {}, "rank": {}, "unit": {}}
    for kind, value, n in db.execute(text(FILTER_COUNTS_SQL.format(
            visible=site_visible(role, "s")))):
        counts[kind][value] = n
    type_counts, rank_counts = counts["type"], counts["rank"]
    unit_counts = {int(k): n for k, n in counts["unit"].items()}
    communes = [dict(u, n=unit_counts[u["id"]]) for u in db.execute(text("""
        SELECT u.id, u.name, u.level, u.valid_from, u.valid_to FROM admin_units u
         WHERE u.id = ANY(:ids) AND u.level = ANY(:lv)
         ORDER BY u.valid_to IS NOT NULL, lower(f_unaccent(u.name)), u.valid_from"""),
        {"ids": list(unit_counts), "lv": list(COMMUNE_LEVELS)}).mappings()]
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


def round_as_written(value: float, digits: int) -> float:
    """`value` rounded to `digits` decimals as it is written (its shortest decimal form),
    halves away from zero: what PostgreSQL's round(value::text::numeric, digits) gives,
    so that the GeoJSON built in PostGIS and this reference agree to the last digit."""
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def _in_lang(row: Mapping[str, Any], key: str, lang: str) -> str | None:
    return row.get(f"{key}_{lang}") or row.get(f"{key}_vi")


def to_feature(row: Mapping[str, Any], lang: str, site_url: Callable[[str], str],
               media_url: Callable[[str], str]) -> dict[str, Any]:
    """A GeoJSON Feature with what the map's card shows, in `lang` (names stay
    Vietnamese; `name_en` is given too)."""
    lat, lon = round_as_written(row["lat"], 7), round_as_written(row["lon"], 7)
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
        props["distance_m"] = round_as_written(float(row["distance_m"]), 1)
    return {"type": "Feature", "id": row["heritage_id"],
            "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


def feature_collection(rows: list[dict[str, Any]], lang: str, site_url: Callable[[str], str],
                       media_url: Callable[[str], str],
                       matched: int | None = None) -> dict[str, Any]:
    """The FeatureCollection of `rows`; `matched` (every relic the filter selects) is
    given only when the rows stop short of them, as `find_sites_geojson` does."""
    features = [to_feature(r, lang, site_url, media_url) for r in rows]
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features,
                           "numberReturned": len(features)}
    if matched is not None and matched > len(features):
        out["numberMatched"] = matched
    return out


# --- output built in PostGIS -------------------------------------------------------------
# The same FeatureCollection as `feature_collection(find_sites(...))`, built by one
# statement (json_build_object + json_agg, like the layer API) instead of row by row in
# Python: at 100k relics the Python loop was most of a request's time. The reference
# (`to_feature`) stays: tests check the two agree on generated data.

# What urllib.parse.quote keeps in a URL path as werkzeug's converters build it (safe
# "!$&'()*+,/:;=@" and the unreserved characters); anything else is UTF-8 %XX.
_URL_SAFE = "[A-Za-z0-9_.~!$&''()*+,/:;=@-]"


def _quoted(expr: str) -> str:
    """SQL: `expr` percent-encoded as a URL path (urllib.parse.quote with werkzeug's safe
    characters)."""
    return f"""(CASE WHEN {expr} ~ '^{_URL_SAFE}*$' THEN {expr} ELSE (
        SELECT string_agg(CASE WHEN q.c ~ '^{_URL_SAFE}$' THEN q.c ELSE upper(regexp_replace(
                   encode(convert_to(q.c, 'UTF8'), 'hex'), '(..)', '%\\1', 'g')) END,
               '' ORDER BY q.i)
          FROM regexp_split_to_table({expr}, '') WITH ORDINALITY AS q(c, i)) END)"""


def _number_text(expr: str) -> str:
    """SQL: a float8 as Python's str() writes it ("21.0", not "21")."""
    return f"(CASE WHEN {expr} = trunc({expr}) THEN trunc({expr})::bigint::text || '.0' " \
           f"ELSE {expr}::text END)"


def _in_lang_sql(key: str, lang: str) -> str:
    if lang == "vi":
        return f"r.{key}_vi"
    return f"(CASE WHEN coalesce(r.{key}_{lang}, '') <> '' THEN r.{key}_{lang} " \
           f"ELSE r.{key}_vi END)"


def _short_text_sql(expr: str, limit: int = DESCRIPTION_CHARS) -> str:
    """SQL: `short_text(expr)`."""
    v = f"btrim(regexp_replace({expr}, '\\s+', ' ', 'g'))"
    return f"""(CASE WHEN coalesce({expr}, '') = '' THEN NULL
                     WHEN length({v}) <= {limit} THEN {v}
                     ELSE rtrim(regexp_replace(left({v}, {limit}), ' [^ ]*$', ''),
                                ',;:.–- ') || '…' END)"""


def _feature_sql(lang: str, with_distance: bool) -> str:
    """SQL over the rows `r` of `_rows_sql`: the Feature `to_feature` builds."""
    lat, lon = "r.lat7", "r.lon7"
    distance = ", 'distance_m', round(r.distance_m::text::numeric, 1)::float8" \
        if with_distance \
        else ""
    return f"""json_build_object(
        'type', 'Feature', 'id', r.heritage_id,
        'geometry', json_build_object('type', 'Point', 'coordinates',
                                      json_build_array({lon}, {lat})),
        'properties', json_build_object(
            'heritage_id', r.heritage_id, 'name_vi', r.name_vi, 'name_en', r.name_en,
            'types', coalesce(to_json(r.types), '[]'::json),
            'type', r.types[1],
            'type_labels', (SELECT coalesce(json_agg(coalesce(
                                CAST(:type_labels AS jsonb) ->> t.code, t.code) ORDER BY t.i),
                                '[]'::json)
                              FROM unnest(r.types) WITH ORDINALITY AS t(code, i)),
            'rank', r.rank,
            'rank_label', CASE WHEN coalesce(r.rank, '') = '' THEN NULL
                               ELSE coalesce(CAST(:rank_labels AS jsonb) ->> r.rank, r.rank) END,
            'description', {_short_text_sql(_in_lang_sql("description", lang))},
            'opening_hours', {_in_lang_sql("opening_hours", lang)},
            'photo', CASE WHEN coalesce(r.photo_uri, '') = '' THEN NULL ELSE json_build_object(
                'url', :media_prefix || {_quoted("r.photo_uri")},
                'credit', r.photo_credit,
                'licence', CASE WHEN coalesce(r.photo_licence, '') = '' THEN NULL
                                ELSE coalesce(CAST(:licence_labels AS jsonb) ->> r.photo_licence,
                                              r.photo_licence) END) END,
            'url', :site_prefix || {_quoted("r.heritage_id")},
            'directions_url', 'https://www.openstreetmap.org/directions?route=%3B'
                              || {_number_text(lat)} || '%2C' || {_number_text(lon)},
            'geo_uri', 'geo:' || {_number_text(lat)} || ',' || {_number_text(lon)},
            'lat', {lat}, 'lon', {lon}{distance}))"""


def _collection(db: Session, rows_sql: str, params: dict[str, Any], lang: str,
                site_prefix: str, media_prefix: str, with_distance: bool,
                cap: int | None = None, matched_sql: str | None = None) -> str:
    """The FeatureCollection of the rows of `rows_sql`. With `cap`, `rows_sql` reads one
    row more than `cap`: only `cap` are returned, and when the extra row exists the
    answer is capped and carries `numberMatched` (`matched_sql`, run only then)."""
    shown = "TRUE" if cap is None else "f.n <= :cap"
    members = f"""'type', 'FeatureCollection',
                 'features', coalesce(json_agg(f.feature ORDER BY f.n) FILTER (WHERE {shown}),
                                      '[]'::json)"""
    returned = f"'numberReturned', count(*) FILTER (WHERE {shown})"
    body = f"json_build_object({members}, {returned})"
    if cap is not None:
        body = f"""CASE WHEN count(*) > :cap
                   THEN json_build_object({members}, 'numberMatched', ({matched_sql}),
                                          {returned})
                   ELSE {body} END"""
    sql = f"""
        SELECT ({body})::text
          FROM (SELECT row_number() OVER () AS n, {_feature_sql(lang, with_distance)} AS feature
                  FROM (SELECT x.*, round(x.lat::text::numeric, 7)::float8 AS lat7,
                               round(x.lon::text::numeric, 7)::float8 AS lon7
                          FROM ({rows_sql}) x) r) f"""
    params = {**params, "site_prefix": site_prefix, "media_prefix": media_prefix,
              "type_labels": json.dumps(vocab.labels("relic_type", lang)),
              "rank_labels": json.dumps(vocab.labels("rank", lang)),
              "licence_labels": json.dumps(vocab.labels("licence", lang))}
    if cap is not None:
        params["cap"] = cap
    return db.execute(text(sql), params).scalar_one()


def find_sites_geojson(db: Session, flt: SiteFilter, role: str | None, lang: str, *,
                       site_prefix: str, media_prefix: str) -> str:
    """`find_sites` as the text of a GeoJSON FeatureCollection with the cards in `lang`,
    built by PostGIS. `site_prefix` + heritage id is a relic page's URL, `media_prefix`
    + a photo's path its URL (both as the app's routes build them).

    When more relics match than `flt.limit`, the answer says so: `numberMatched` counts
    them all (counted only then: one row past the limit is read to know)."""
    sql, params, where = _rows_sql(db, flt, role, limit=flt.limit + 1)
    return _collection(db, sql, params, lang, site_prefix, media_prefix, False,
                       cap=flt.limit, matched_sql=f"SELECT count(*) FROM sites s WHERE {where}")


def nearby_sites_geojson(db: Session, lat: float, lon: float, flt: SiteFilter,
                         role: str | None, lang: str, limit: int = NEARBY_DEFAULT, *,
                         site_prefix: str, media_prefix: str) -> str:
    """`nearby_sites` as GeoJSON text built by PostGIS (see `find_sites_geojson`)."""
    sql, params, _ = _rows_sql(db, flt, role, near=(lat, lon), limit=limit)
    return _collection(db, sql, params, lang, site_prefix, media_prefix, True)
