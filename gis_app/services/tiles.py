"""Vector tiles (Mapbox Vector Tile 2.1) of the declared layers, built inside PostGIS.

A tile is one statement per layer: the tile's envelope (Web Mercator, EPSG:3857, from
`ST_TileEnvelope`) is transformed to EPSG:4326 so the layer's GIST index is used (the
column is never transformed for the filter), the rows `role` may see
(`features._visibility`, the one rule) are clipped with `ST_AsMVTGeom` and encoded with
`ST_AsMVT`. Every layer of `layers/` has tiles; nothing here names a layer.

Each feature carries the layer's `properties` and `id`, the public feature id
(`Layer.feature_id_sql`: the heritage identifier for relics, `VN-HY-DT-000001-II` for
zones, the commune code, the row id otherwise), as a string property: an MVT feature id
must be an unsigned integer. Dates are `YYYY-MM-DD` strings and lists are JSON text
(`["historical"]`), as in the GeoJSON; NULL properties are left out.

A rendered tile depends on the data (`data_version.stamp_key`: the version and the time
of its revision, so a database restored or recreated elsewhere with the same version
number is told apart), on Vietnam's date
(zones come into force on a day without any edit) and on the access class (the public,
or district reviewers and admins): `tile_version` and `access_class` make the key of
the ETag and of the disk cache (`TileCache`), shared by every gunicorn worker.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError, RecordNotFound
from gis_app.services import data_version
from gis_app.services.features import FULL_ACCESS_ROLES, _visibility
from layers import Layer, all_layers

log = logging.getLogger(__name__)

MIMETYPE = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22
EXTENT = 4096  # tile coordinate units
BUFFER = 64  # units drawn beyond the tile's edge, so strokes join across tiles
# The filter box is grown by the same buffer, as a fraction of the tile.
MARGIN = BUFFER / EXTENT


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    def __str__(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"


def read_tile(z: str, x: str, y: str) -> Tile:
    """Parse the z/x/y of a tile address (XYZ scheme, y from the north, as Leaflet, QGIS
    and OpenStreetMap count). Raises InputError saying what a valid address is."""
    try:
        zoom, col, row = int(z), int(x), int(y)
    except ValueError:
        raise InputError(
            f"A tile address is /{{z}}/{{x}}/{{y}}.mvt with whole numbers, e.g. "
            f"/12/3261/1806.mvt (got {z}/{x}/{y}).",
            f"Địa chỉ ô bản đồ có dạng /{{z}}/{{x}}/{{y}}.mvt với các số nguyên, ví dụ "
            f"/12/3261/1806.mvt (đã nhận {z}/{x}/{y}).") from None
    if not 0 <= zoom <= MAX_ZOOM:
        raise InputError(f"The zoom level z must be from 0 to {MAX_ZOOM} (got {zoom}).",
                         f"Mức thu phóng z phải từ 0 đến {MAX_ZOOM} (đã nhận {zoom}).")
    last = 2 ** zoom - 1
    if not (0 <= col <= last and 0 <= row <= last):
        raise InputError(f"At zoom {zoom}, x and y go from 0 to {last} (got x={col}, "
                         f"y={row}).",
                         f"Ở mức thu phóng {zoom}, x và y đi từ 0 đến {last} (đã nhận "
                         f"x={col}, y={row}).")
    return Tile(zoom, col, row)


def check_zoom(layer: Layer, tile: Tile) -> None:
    """RecordNotFound when the layer has no tiles at the tile's zoom (below its
    declared `min_zoom`), saying where they start."""
    if tile.z < layer.min_zoom:
        raise RecordNotFound(
            f"The layer '{layer.name}' has tiles from zoom {layer.min_zoom} to {MAX_ZOOM}; "
            f"zoom in (asked for zoom {tile.z}).",
            f"Lớp '{layer.name}' có ô bản đồ từ mức thu phóng {layer.min_zoom} đến "
            f"{MAX_ZOOM}; hãy phóng to (đã hỏi mức {tile.z}).")


def access_class(role: str | None) -> str:
    """'full' for district reviewers and admins (drafts and sensitive relics), 'public'
    for everyone else (commune editors included, as in `features._visibility`)."""
    return "full" if role in FULL_ACCESS_ROLES else "public"


def tile_version(db: Session, today: date | None = None) -> str:
    """The version tiles are built at: the data stamp's key and Vietnam's date, e.g.
    '5123-9f86d081884c.20261203'. Read it before rendering: a tile rendered just after
    a commit is then newer than its key, never older."""
    day = today or today_in_vietnam()
    return f"{data_version.stamp_key(db)}.{day:%Y%m%d}"


def _property_sql(expr: str) -> str:
    """A property as JSONB for ST_AsMVT: scalars keep their type (numbers, booleans,
    strings; dates become ISO strings), lists and objects become JSON text."""
    return (f"CASE WHEN jsonb_typeof(to_jsonb({expr})) IN ('array', 'object') "
            f"THEN to_jsonb(CAST(to_jsonb({expr}) AS text)) ELSE to_jsonb({expr}) END")


def tile_sql(layer: Layer, role: str | None) -> str:
    """The statement (bound :z :x :y :margin :name :today) that encodes one layer's
    tile as `role` sees it: bytea, empty when no feature touches the tile."""
    props = ", ".join(f"'{key}', {_property_sql(expr)}"
                      for key, expr in layer.properties.items())
    geom = f"src.{layer.geom_column}"
    return f"""
        WITH tile AS (
          SELECT ST_TileEnvelope(:z, :x, :y) AS box,
                 ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS box4326)
        SELECT ST_AsMVT(mvt, CAST(:name AS text), {EXTENT}, 'geom')
          FROM (SELECT ST_AsMVTGeom(ST_Transform({geom}, 3857), tile.box, {EXTENT},
                                    {BUFFER}, true) AS geom,
                       CAST({layer.feature_id_sql} AS text) AS id,
                       jsonb_build_object({props}) AS properties
                  FROM {layer.source} AS src, tile
                 WHERE ({_visibility(layer, role)})
                   AND {geom} && tile.box4326
                   AND ST_Intersects({geom}, tile.box4326)
                 ORDER BY src.{layer.id_column}) AS mvt
         WHERE mvt.geom IS NOT NULL"""


@lru_cache(maxsize=128)
def _tile_statement(layer_name: str, full_access: bool) -> TextClause:
    layer = all_layers()[layer_name]
    return text(tile_sql(layer, "admin" if full_access else None))


def render_tile(db: Session, layer: Layer, tile: Tile, role: str | None) -> bytes:
    """One layer's tile as `role` sees it, straight from PostGIS (no cache); b'' when
    empty."""
    statement = _tile_statement(layer.name, role in FULL_ACCESS_ROLES)
    body = db.execute(statement, {"z": tile.z, "x": tile.x, "y": tile.y, "margin": MARGIN,
                                  "name": layer.name,
                                  "today": today_in_vietnam()}).scalar_one()
    return bytes(body or b"")


class TileCache:
    """Rendered tiles on disk, shared by the worker processes:
    `<folder>/<access>/<layer>/<version>/<z>/<x>/<y>.mvt`.

    A file is written to a temporary name and renamed into place, so a reader sees a
    whole tile or none. A tile older than `max_age` seconds is rendered again: it bounds
    how long a tile can be stale when the data version did not move (two writes
    committed out of order, see data_version; tables without revisions such as the
    basemap). When a layer's tiles of a new version are first written, its older
    versions are removed, so the cache holds about one version per layer and access.
    """

    def __init__(self, folder: str | Path, max_age: float = 600) -> None:
        self.folder = Path(folder)
        self.max_age = max_age

    def _path(self, access: str, layer: str, version: str, tile: Tile) -> Path:
        return (self.folder / access / layer / version / str(tile.z) / str(tile.x)
                / f"{tile.y}.mvt")

    def get(self, access: str, layer: str, version: str, tile: Tile) -> bytes | None:
        path = self._path(access, layer, version, tile)
        try:
            if time.time() - path.stat().st_mtime > self.max_age:
                return None
            return path.read_bytes()
        except OSError:
            return None

    def put(self, access: str, layer: str, version: str, tile: Tile, body: bytes) -> None:
        path = self._path(access, layer, version, tile)
        version_dir = self.folder / access / layer / version
        try:
            if not version_dir.exists():
                version_dir.mkdir(parents=True, exist_ok=True)
                self._drop_other_versions(version_dir)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
            os.replace(tmp, path)
        except OSError as exc:  # a cache that cannot be written only costs a render
            log.warning("cannot cache tile %s/%s/%s: %s", layer, version, tile, exc)

    @staticmethod
    def _drop_other_versions(keep: Path) -> None:
        for other in keep.parent.iterdir():
            if other != keep and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)


def layer_tile(db: Session, layer: Layer, tile: Tile, role: str | None, version: str,
               cache: TileCache | None = None) -> bytes:
    """One layer's tile as `role` sees it at `version` (see `tile_version`), from the
    cache when it holds it; b'' when no feature touches the tile."""
    access = access_class(role)
    if cache is not None:
        cached = cache.get(access, layer.name, version, tile)
        if cached is not None:
            return cached
    body = render_tile(db, layer, tile, role)
    if cache is not None:
        cache.put(access, layer.name, version, tile, body)
    return body


def tile_layers(z: int | None = None) -> list[Layer]:
    """The layers of the combined tiles, in drawing order; with `z`, those that have
    tiles at that zoom."""
    return [layer for layer in all_layers().values() if z is None or layer.min_zoom <= z]


def combined_tile(db: Session, tile: Tile, role: str | None, version: str,
                  cache: TileCache | None = None,
                  layers: Iterable[Layer] | None = None) -> bytes:
    """Every layer with tiles at the tile's zoom in one tile (a tile is a sequence of
    layers, so the layers' tiles are concatenated)."""
    chosen = tile_layers(tile.z) if layers is None else list(layers)
    return b"".join(layer_tile(db, layer, tile, role, version, cache) for layer in chosen)
