"""Features of declared layers, as GeoJSON produced inside PostGIS.

The FeatureCollection is built by `json_build_object` + `json_agg` in one statement and
returned as text: no per-row Python. The bbox filter is applied to the indexed column
with `&&` and `ST_Intersects` against an envelope in EPSG:4326.

District reviewers and admins may ask for a layer as it stood at the end of a past day
(`as_of`): layers with an `as_of_source` (relics rebuilt from their revisions, zones in
force that day) answer; the public and commune editors are refused (403), so nothing
retired, merged or drafted leaks through a date.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from psycopg.adapt import Loader
from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from gis_app.clock import start_of_day_in_vietnam, today_in_vietnam
from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.services import data_version
from layers import Layer, all_layers, get_layer

if TYPE_CHECKING:
    import psycopg

# Roles that see drafts and sensitive records everywhere.
FULL_ACCESS_ROLES = frozenset({"district_reviewer", "admin"})
# Roles of the officials' desk (commune editors limited to their communes).
OFFICIAL_ROLES = frozenset({"commune_editor", *FULL_ACCESS_ROLES})
DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class BBox:
    minx: float
    miny: float
    maxx: float
    maxy: float


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def read_bbox(value: str | None) -> BBox | None:
    """Parse `minx,miny,maxx,maxy` in WGS84 degrees (lon, lat); None if absent.

    Raises InputError with a message saying what a valid bbox looks like.
    """
    if value is None or value.strip() == "":
        return None
    parts = value.split(",")
    example = "bbox=105.90,20.80,106.00,20.90"
    if len(parts) != 4:
        raise InputError(
            f"bbox needs 4 comma-separated numbers minx,miny,maxx,maxy (got {len(parts)}), "
            f"e.g. {example}",
            f"bbox cần 4 số cách nhau bởi dấu phẩy minx,miny,maxx,maxy (nhận {len(parts)}), "
            f"ví dụ {example}")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"bbox values must be numbers, e.g. {example}",
                         f"Các giá trị bbox phải là số, ví dụ {example}") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InputError("bbox values must be finite numbers",
                         "Các giá trị bbox phải là số hữu hạn")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90
            and -90 <= maxy <= 90):
        raise InputError("bbox is in WGS84 degrees: longitude -180..180, latitude -90..90 "
                         "(did you send projected metres such as VN-2000?)",
                         "bbox tính theo độ WGS84: kinh độ -180..180, vĩ độ -90..90 "
                         "(có phải bạn gửi tọa độ mét như VN-2000?)")
    if minx > maxx or miny > maxy:
        raise InputError("bbox must be minx,miny,maxx,maxy with minx <= maxx and miny <= maxy",
                         "bbox phải theo thứ tự minx,miny,maxx,maxy với minx <= maxx "
                         "và miny <= maxy")
    return BBox(minx, miny, maxx, maxy)


def read_int(name: str, value: str | None, default: int, lo: int, hi: int) -> int:
    """A whole-number query parameter in [lo, hi] (`default` when absent); InputError
    naming it otherwise. The layer API and the OGC API read limit/offset with it."""
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise InputError(f"{name} must be a whole number between {lo} and {hi}",
                         f"{name} phải là số nguyên từ {lo} đến {hi}") from None
    if not lo <= number <= hi:
        raise InputError(f"{name} must be between {lo} and {hi} (got {number})",
                         f"{name} phải nằm trong khoảng {lo} đến {hi} (nhận {number})")
    return number


def read_page(limit: str | None, offset: str | None, max_limit: int,
              default_limit: int = DEFAULT_LIMIT) -> Page:
    """Parse `limit` (1..max_limit) and `offset` (>= 0); InputError otherwise."""
    return Page(limit=read_int("limit", limit, min(default_limit, max_limit), 1, max_limit),
                offset=read_int("offset", offset, 0, 0, 10_000_000))


EARLIEST_AS_OF = date(1900, 1, 1)


def read_as_of(value: str | None) -> date | None:
    """Parse `as_of` (YYYY-MM-DD, a day up to today in Vietnam); None if absent. Raises
    InputError saying what to send."""
    if value is None or value.strip() == "":
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"as_of is a date as YYYY-MM-DD, e.g. 2026-01-31 (got {value!r}).",
                         f"as_of là một ngày theo dạng NNNN-TT-NN, ví dụ 2026-01-31 (đã "
                         f"nhận {value!r}).") from None
    today = today_in_vietnam()
    if not EARLIEST_AS_OF <= day <= today:
        raise InputError(f"as_of must be a day from 1900-01-01 to today ({today:%Y-%m-%d}).",
                         f"as_of phải là một ngày từ 1900-01-01 đến hôm nay "
                         f"({today:%Y-%m-%d}).")
    return day


def check_as_of(layer: Layer, role: str | None) -> None:
    """May `role` ask for `layer` as of a past day? PermissionDenied for anyone but
    district reviewers and admins, InputError for a layer without a history."""
    if role not in FULL_ACCESS_ROLES:
        raise PermissionDenied("Layers as of a past date are for district reviewers and "
                               "administrators; sign in, or leave out as_of.",
                               "Lớp bản đồ theo một ngày trong quá khứ chỉ dành cho cán bộ "
                               "thẩm định cấp huyện và quản trị viên; hãy đăng nhập hoặc bỏ "
                               "as_of.")
    if layer.as_of_source is None:
        with_history = ", ".join(n for n, lay in all_layers().items() if lay.as_of_source)
        raise InputError(f"The layer '{layer.name}' keeps no history; leave out as_of "
                         f"(layers with a history: {with_history}).",
                         f"Lớp '{layer.name}' không lưu lịch sử; hãy bỏ as_of (các lớp có "
                         f"lịch sử: {with_history}).")


def find_layer(name: str) -> Layer:
    layer = get_layer(name)
    if layer is None:
        known = ", ".join(all_layers())
        raise RecordNotFound(f"No layer named '{name}'. Layers: {known}",
                             f"Không có lớp '{name}'. Các lớp: {known}")
    return layer


def _visibility(layer: Layer, role: str | None) -> str:
    """The layer's rows `role` may see (services.visibility's rule, declared per layer)."""
    if role in FULL_ACCESS_ROLES:
        return f"({layer.official_filter})" if layer.official_filter else "TRUE"
    return f"({layer.public_filter})" if layer.public_filter else "TRUE"


def _feature_sql(layer: Layer, where: str, source: str) -> str:
    # Each feature is written as compact JSON text: ST_AsGeoJSON's text goes in as it is
    # (no parse into json and back), and properties without a value are left out
    # (json_strip_nulls also writes them without json_build_object's spaces). A NULL id
    # or geometry is written as null: a NULL piece would drop the whole feature.
    props = ", ".join(f"'{key}', {expr}" for key, expr in layer.properties.items())
    return f"""
        SELECT src.{layer.id_column} AS fid,
               '{{"type":"Feature","id":'
               || coalesce(to_json({layer.feature_id_sql})::text, 'null')
               || ',"geometry":' || coalesce(ST_AsGeoJSON(src.{layer.geom_column}, 7), 'null')
               || ',"properties":' || json_strip_nulls(json_build_object({props}))::text
               || '}}' AS feature
          FROM {source} AS src
         WHERE {where}
         ORDER BY src.{layer.id_column}
         LIMIT CAST(:limit AS bigint) + 1 OFFSET :offset"""


BBOX_WHERE = ("src.{geom} && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326) "
              "AND ST_Intersects(src.{geom}, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))")
# For lines and areas: the index finds the features whose bounding box meets the box; a
# feature whose bounding box lies inside the box meets it for certain, so only those
# across its edge need the exact test. Same answer; at 100k relics a district box of
# zones (123,161 matches) was counted in 249 ms instead of 625 ms, and its capped answer
# took 168 ms at p95 instead of 354 ms. Points keep BBOX_WHERE: their exact test costs
# about what the box test does, and with this CASE a commune box of 100k relics measured
# slower in bench/geojson_bbox.py (p95 60 ms instead of 32 ms; the CASE also changes
# the planner's row estimate, and with it the plan).
BBOX_WHERE_SHAPES = ("src.{geom} && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326) "
                     "AND CASE WHEN src.{geom} @ ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, "
                     "4326) THEN true ELSE ST_Intersects(src.{geom}, "
                     "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)) END")


def _bbox_where(layer: Layer) -> str:
    where = BBOX_WHERE if layer.geometry_type == "Point" else BBOX_WHERE_SHAPES
    return where.format(geom=layer.geom_column)


def geojson_sql(layer: Layer, bbox: BBox | None, role: str | None,
                as_of: bool = False) -> str:
    """The SQL (bound parameters :minx.. :limit :offset :next, :today, and
    :as_of_moment with `as_of`) for one page of features.

    It reads one row past the page: when that row exists the answer is capped, and only
    then are the matches counted (`numberMatched`, every match of the query, all pages)
    and a `next` link given. An answer that holds the last match carries
    `numberReturned` alone, so a client knows it has everything without a count.
    """
    where = " AND ".join(w for w in (
        _visibility(layer, role),
        _bbox_where(layer) if bbox is not None else None) if w)
    source = layer.as_of_source if as_of and layer.as_of_source else layer.source
    inner = _feature_sql(layer, where, source)
    # An uncorrelated subquery in a CASE branch: PostgreSQL runs it (an InitPlan) only
    # when the branch is taken, i.e. only for a capped answer.
    matched = f"(SELECT count(*) FROM {source} AS src WHERE {where})"
    return f"""
        SELECT '{{"type":"FeatureCollection","features":['
               || coalesce(string_agg(f.feature, ',' ORDER BY f.fid)
                             FILTER (WHERE f.n <= :limit), '')
               || ']'
               || CASE WHEN count(*) > :limit
                    THEN ',"numberMatched":' || {matched} ELSE '' END
               || ',"numberReturned":' || least(count(*), :limit)
               || ',"links":' || CASE WHEN count(*) > :limit
                    THEN json_strip_nulls(json_build_array(json_build_object(
                           'rel', 'next', 'type', 'application/geo+json',
                           'href', CAST(:next AS text))))::text
                    ELSE '[]' END
               || '}}'
          FROM (SELECT p.*, row_number() OVER (ORDER BY p.fid) AS n
                  FROM ({inner}) AS p) AS f"""


@lru_cache(maxsize=256)
def _geojson_statement(layer_name: str, with_bbox: bool, full_access: bool,
                       as_of: bool = False) -> TextClause:
    """The statement for a layer, built once per (layer, bbox or not, access, as of)."""
    layer = all_layers()[layer_name]
    role = "admin" if full_access else None
    return text(geojson_sql(layer, BBox(0, 0, 0, 0) if with_bbox else None, role, as_of))


def layer_geojson(db: Session, layer: Layer, bbox: BBox | None, page: Page,
                  role: str | None = None, next_href: str = "",
                  as_of: date | None = None) -> str:
    """One page of the layer's features intersecting `bbox` (EPSG:4326) as GeoJSON text.

    `role` is the acting user's role (None = public): the public sees only published,
    non-sensitive records. `next_href` is put in the `next` link when more features
    match than the page holds (the answer then carries `numberMatched`).
    `as_of`: the layer as it stood at the end of that day in Vietnam (see `check_as_of`:
    raises PermissionDenied / InputError).
    """
    params: dict[str, Any] = {"limit": page.limit, "offset": page.offset, "next": next_href,
                              "today": today_in_vietnam()}
    if as_of is not None:
        check_as_of(layer, role)
        params.update(today=as_of,
                      as_of_moment=start_of_day_in_vietnam(as_of + timedelta(days=1)))
    if bbox is not None:
        params.update(minx=bbox.minx, miny=bbox.miny, maxx=bbox.maxx, maxy=bbox.maxy)
    statement = _geojson_statement(layer.name, bbox is not None, role in FULL_ACCESS_ROLES,
                                   as_of is not None)
    return db.execute(statement, params).scalar_one()


# --- the lean path: the public's pages on a psycopg connection (db.Database.lean) ------

def to_psycopg(sql: str) -> str:
    """SQLAlchemy `text()`'s `:name` binds as psycopg's `%(name)s` (a literal % doubled;
    `::type` casts left alone)."""
    return re.sub(r"(?<![:\w\\]):(\w+)(?!:)", r"%(\1)s", sql.replace("%", "%%"))


@lru_cache(maxsize=64)
def _public_geojson_psycopg(layer_name: str, with_bbox: bool) -> str:
    """geojson_sql for the public, beside the data version read in the same snapshot."""
    body = geojson_sql(all_layers()[layer_name], BBox(0, 0, 0, 0) if with_bbox else None,
                       None)
    return to_psycopg(f"SELECT ({data_version.SQL}) AS version, g.body "
                      f"FROM ({body}) AS g(body)")


def public_layer_geojson(conn: psycopg.Connection, layer: Layer, bbox: BBox | None,
                         page: Page, next_href: str = "") -> tuple[int, bytes]:
    """(data version, GeoJSON as UTF-8 bytes) of one page of `layer` as the public sees it: the
    same statement and the same bytes as `layer_geojson(..., role=None)`, in one
    prepared statement on an autocommit psycopg connection (db.Database.lean)."""
    params: dict[str, Any] = {"limit": page.limit, "offset": page.offset, "next": next_href,
                              "today": today_in_vietnam()}
    if bbox is not None:
        params.update(minx=bbox.minx, miny=bbox.miny, maxx=bbox.maxx, maxy=bbox.maxy)
    cursor = conn.cursor()
    for name in ("text", "json"):
        cursor.adapters.register_loader(name, _Utf8Bytes)
    row = cursor.execute(_public_geojson_psycopg(layer.name, bbox is not None), params,
                         prepare=True).fetchone()
    assert row is not None  # an aggregate: always one row
    return int(row[0]), row[1]


class _Utf8Bytes(Loader):
    """Text as the UTF-8 bytes PostgreSQL sent (client_encoding is UTF8): an answer of
    a megabyte with Vietnamese names cost about 2 ms to decode into a str and 2 ms to
    encode back for the response; the bytes go to the client as they are."""

    def load(self, data: Any) -> bytes:
        return bytes(data)


def public_data_version(conn: psycopg.Connection) -> int:
    """data_version.current on a psycopg connection (the lean path's 304s)."""
    row = conn.execute(data_version.SQL, prepare=True).fetchone()
    assert row is not None
    return int(row[0])


def answer_etag(name: str, query: tuple[tuple[str, str], ...], version: int) -> str:
    """The ETag of a public answer: a hash of what it is (`name`), the request's
    normalised query (sorted parameters) and the data version it was read at. It
    changes with any audited edit, so a client's copy is good while it matches."""
    return hashlib.sha256(repr((name, query, version)).encode()).hexdigest()[:32]


def layer_bounds(db: Session, name: str, role: str | None = None) -> list[float] | None:
    """[minx, miny, maxx, maxy] (EPSG:4326) of a layer's features as `role` sees them,
    e.g. the communes to fit a map to the district; None for an empty layer."""
    layer = find_layer(name)
    box = db.execute(text(
        f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        f"(SELECT ST_Extent(src.{layer.geom_column}) AS e "
        f"   FROM {layer.source} AS src WHERE {_visibility(layer, role)}) AS x"),
        {"today": today_in_vietnam()}).one()
    return None if box[0] is None else [round(v, 6) for v in box]


def layer_summaries(db: Session, role: str | None = None) -> list[dict[str, Any]]:
    """Count and bbox of every layer as the given role sees it, in drawing order."""
    out = []
    for layer in all_layers().values():
        count, *box = db.execute(text(
            f"SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT count(*) AS n, ST_Extent(src.{layer.geom_column}) AS e "
            f"   FROM {layer.source} AS src WHERE {_visibility(layer, role)}) AS x"),
            {"today": today_in_vietnam()}).one()
        out.append({"layer": layer, "count": count,
                    "bbox": None if box[0] is None else [round(v, 6) for v in box]})
    return out
