"""SQL for the OGC API: pages of a layer's features, one feature, a layer's extent.

Service code: plain arguments in, plain values out, no Flask. Every statement is built
from the layer's declaration in `layers/` (identifiers) and the served CRS declarations
(SRIDs); request values are bound. Only what the public may see is ever read:
`features._visibility(layer, None)`, the one public rule per layer.

The features are serialised inside PostGIS (`json_build_object` + `json_agg`), returned
as one JSON text per page: no per-row Python. A page is read through an ORM session
(`read_items`) or, for visitors who are not signed in, on the lean path
(`read_items_lean`: the same statement, with the data version, on db.Database.lean's
autocommit psycopg connection).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.ogc.crs import CRS84, ServedCrs
from gis_app.ogc.params import Box, Interval
from gis_app.services import data_version
from gis_app.services.features import _visibility, to_psycopg
from layers import Layer

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class ItemsQuery:
    limit: int
    offset: int = 0
    bbox: Box | None = None
    interval: Interval | None = None
    properties: dict[str, str] = field(default_factory=dict)
    crs: ServedCrs = CRS84
    # An extra condition over `src` with its own bound parameters, ANDed in (CQL2
    # `filter`, compiled elsewhere: gis_app/services/cql2.py).
    extra_where: tuple[str, dict[str, Any]] | None = None
    always_count: bool = False  # count the matches on every page, not the first only
    # The row key the previous page ended on (the `next` links carry it): the page then
    # starts right after it through the index instead of skipping `offset` rows.
    after: int | None = None


@dataclass(frozen=True)
class ItemsPage:
    features: str  # a JSON array of GeoJSON Features, as text
    returned: int
    matched: int | None  # counted on the first page only (offset 0)
    has_next: bool
    last_key: int | None = None  # the row key of the page's last feature


def geometry_sql(layer: Layer, crs: ServedCrs) -> str:
    """`ST_AsGeoJSON` of the layer's geometry in `crs`, in that CRS's axis order."""
    geom = f"src.{layer.geom_column}"
    if crs.srid != 4326:
        geom = f"ST_Transform({geom}, {int(crs.srid)})"
    if crs.lat_first:
        geom = f"ST_FlipCoordinates({geom})"
    return f"ST_AsGeoJSON({geom}, {int(crs.decimals)})::json"


def feature_sql(layer: Layer, crs: ServedCrs) -> str:
    props = ", ".join(f"'{key}', {expr}" for key, expr in layer.properties.items())
    return (f"json_build_object('type', 'Feature', 'id', {layer.feature_id_sql}, "
            f"'geometry', {geometry_sql(layer, crs)}, "
            f"'properties', json_build_object({props}))")


def where_sql(layer: Layer, q: ItemsQuery) -> tuple[str, dict[str, Any]]:
    """The WHERE clause over `src` and its bound parameters (the public rule first)."""
    where = [_visibility(layer, None)]
    params: dict[str, Any] = {"today": today_in_vietnam()}
    geom = f"src.{layer.geom_column}"
    if q.bbox is not None:
        box = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"
        if q.bbox.srid != 4326:
            # The box's edges are straight in its own CRS: densify before transforming.
            box = (f"ST_Transform(ST_Segmentize(ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, "
                   f"{int(q.bbox.srid)}), 50), 4326)")
        where.append(f"{geom} && {box} AND ST_Intersects({geom}, {box})")
        params.update(minx=q.bbox.minx, miny=q.bbox.miny, maxx=q.bbox.maxx, maxy=q.bbox.maxy)
    if q.interval is not None and layer.temporal is not None:
        start, end = layer.temporal
        if q.interval.start is not None:
            where.append(f"(({end}) IS NULL OR ({end}) >= :dt_start)")
            params["dt_start"] = q.interval.start
        if q.interval.end is not None:
            where.append(f"(({start}) IS NULL OR ({start}) <= :dt_end)")
            params["dt_end"] = q.interval.end
    for i, (key, value) in enumerate(sorted(q.properties.items())):
        expr = layer.properties[key]
        # Text equality, or membership for a list (a relic's types).
        where.append(f"(CAST({expr} AS text) = :prop_{i} "
                     f"OR jsonb_exists(to_jsonb({expr}), :prop_{i}))")
        params[f"prop_{i}"] = value
    if q.after is not None:
        where.append(f"src.{layer.id_column} > :after")
        params["after"] = q.after
    if q.extra_where is not None:
        sql, extra = q.extra_where
        where.append(f"({sql})")
        params.update(extra)
    return " AND ".join(where), params


def items_sql(layer: Layer, q: ItemsQuery) -> tuple[str, dict[str, Any]]:
    """One statement for a page: features, count returned, whether more follow and the
    number matched. Binds :limit and :offset besides the WHERE's parameters.

    The number matched costs a scan of every match: it is counted for the first page
    (offset 0), where clients read it (GDAL, QGIS), not again for each following page."""
    where, params = where_sql(layer, q)
    params.update(limit=q.limit, offset=0 if q.after is not None else q.offset)
    counted = q.offset == 0 or q.always_count
    # Counted in the same scan as the keys (a window runs before LIMIT); an empty page
    # past the end has no row to carry the count, and its count is not needed.
    count_column = ", count(*) OVER () AS matched" if counted else ""
    matched = ("(SELECT coalesce(max(matched), CASE WHEN :offset = 0 THEN 0 END) FROM keys)"
               if counted and q.after is None else "CAST(NULL AS bigint)")
    # The page's row keys are picked first (OFFSET skips rows without reading them
    # whole), then only those rows are read again and serialised.
    sql = f"""
        WITH keys AS (
          SELECT src.{layer.id_column} AS rowkey{count_column}
            FROM {layer.source} AS src
           WHERE {where}
           ORDER BY src.{layer.id_column}
           LIMIT :limit + 1 OFFSET :offset),
        page AS (
          SELECT src.{layer.id_column} AS rowkey, {feature_sql(layer, q.crs)} AS feature
            FROM {layer.source} AS src
           WHERE src.{layer.id_column} IN (SELECT rowkey FROM keys ORDER BY rowkey
                                           LIMIT :limit))
        SELECT coalesce((SELECT json_agg(p.feature ORDER BY p.rowkey)::text FROM page p),
                        '[]') AS features,
               (SELECT count(*) FROM keys) AS fetched,
               {matched} AS matched,
               (SELECT max(rowkey) FROM page) AS last_key"""
    return sql, params


def read_items(db: Session, layer: Layer, q: ItemsQuery) -> ItemsPage:
    """One page of the public features of `layer` matching `q`, ordered by row key."""
    sql, params = items_sql(layer, q)
    features, fetched, matched, last_key = db.execute(text(sql), params).one()
    return ItemsPage(features=features, returned=min(fetched, q.limit), matched=matched,
                     has_next=fetched > q.limit, last_key=last_key)


@lru_cache(maxsize=256)
def _lean_items_sql(sql: str) -> str:
    """items_sql beside the data version read in the same snapshot, in psycopg's binds."""
    return to_psycopg(f"SELECT ({data_version.SQL}) AS version, i.features, i.fetched, "
                      f"i.matched, i.last_key FROM ({sql}) AS i")


def read_items_lean(conn: psycopg.Connection, layer: Layer, q: ItemsQuery
                    ) -> tuple[int, ItemsPage]:
    """(data version, page): what `read_items` returns for `q`, read by the same
    statement in one round trip on an autocommit psycopg connection (db.Database.lean),
    with the data version of the same snapshot for the answer's ETag. A statement
    without a CQL2 filter is prepared at once (its text depends only on the query's
    shape); one with a filter, after psycopg's usual few uses."""
    sql, params = items_sql(layer, q)
    row = conn.execute(_lean_items_sql(sql), params,
                       prepare=True if q.extra_where is None else None).fetchone()
    assert row is not None  # aggregates: always one row
    version, features, fetched, matched, last_key = row
    return int(version), ItemsPage(features=features, returned=min(fetched, q.limit),
                                   matched=matched, has_next=fetched > q.limit,
                                   last_key=last_key)


def read_item(db: Session, layer: Layer, feature_id: str, crs: ServedCrs = CRS84
              ) -> str | None:
    """The public feature whose id (heritage identifier, zone id, commune code or row
    id) is `feature_id`, as GeoJSON text; None when there is none the public may see."""
    sql = f"""
        SELECT {feature_sql(layer, crs)}::text
          FROM {layer.source} AS src
         WHERE {_visibility(layer, None)} AND CAST({layer.feature_id_sql} AS text) = :fid
         ORDER BY src.{layer.id_column}
         LIMIT 1"""
    return db.execute(text(sql), {"fid": feature_id, "today": today_in_vietnam()}
                      ).scalar_one_or_none()


@dataclass(frozen=True)
class Extent:
    bbox: list[float] | None  # CRS84
    start: date | None
    end: date | None
    count: int


def read_extent(db: Session, layer: Layer) -> Extent:
    """The public features' bbox (CRS84), their dates (when the layer has them) and
    their number."""
    start, end = layer.temporal or ("NULL", "NULL")
    # An open start or end on any record leaves that end of the extent open (null).
    row = db.execute(text(f"""
        SELECT count(*), ST_XMin(ST_Extent(g)), ST_YMin(ST_Extent(g)),
               ST_XMax(ST_Extent(g)), ST_YMax(ST_Extent(g)),
               CASE WHEN bool_or(t0 IS NULL) THEN NULL ELSE min(t0) END,
               CASE WHEN bool_or(t1 IS NULL) THEN NULL ELSE max(t1) END
          FROM (SELECT src.{layer.geom_column} AS g, CAST({start} AS date) AS t0,
                       CAST({end} AS date) AS t1
                  FROM {layer.source} AS src WHERE {_visibility(layer, None)}) x"""),
        {"today": today_in_vietnam()}).one()
    count, *box, t0, t1 = row
    return Extent(bbox=None if box[0] is None else [round(v, 6) for v in box],
                  start=t0, end=t1, count=count)
