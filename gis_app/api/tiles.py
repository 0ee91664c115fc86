"""Vector tiles of every layer declared in `layers/` and their TileJSON documents.

- `/tiles/<layer>/{z}/{x}/{y}.mvt` one layer, `/tiles/{z}/{x}/{y}.mvt` every layer with
  tiles at that zoom in one tile (one MVT layer per declared layer);
- `/tiles/<layer>.json` and `/tiles.json` their TileJSON 3.0.0 (for QGIS, MapLibre,
  Leaflet.VectorGrid): tile URLs carry `?v=<tile version>`.

Caching: the ETag is the layer, the tile version (data version + Vietnam's date) and the
access class; `If-None-Match` gets a 304 without rendering. The public gets
`public, max-age=300` (revalidated with the ETag), or a year and `immutable` when the
URL's `?v=` is the current version (what the TileJSON hands out: a new version is a new
URL). District reviewers and admins see their layers as `features._visibility` gives
their role, answered `private, no-store`. An empty tile is a 204.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from gis_app.auth import current_role
from gis_app.db import get_session
from gis_app.i18n import current_lang
from gis_app.services import features, tiles
from layers import Layer

bp = Blueprint("api_tiles", __name__)

PUBLIC_CACHE = "public, max-age=300, must-revalidate"
VERSIONED_CACHE = "public, max-age=31536000, immutable"
TILEJSON_CACHE = "public, max-age=60"
PRIVATE_CACHE = "private, no-store"


def _cache() -> tiles.TileCache | None:
    folder = current_app.config.get("TILE_CACHE_DIR")
    return tiles.TileCache(folder, current_app.config["TILE_CACHE_SECONDS"]) if folder \
        else None


def _etag(name: str, version: str, role: str | None) -> str:
    return f"{name}.{version}.{tiles.access_class(role)}"


def _cache_control(version: str, role: str | None) -> str:
    if tiles.access_class(role) != "public":
        return PRIVATE_CACHE
    return VERSIONED_CACHE if request.args.get("v") == version else PUBLIC_CACHE


def _tile_response(name: str, render: Callable[[str], bytes]) -> Response:
    """A tile answer: 304 when the client holds the current one, else `render(version)`
    (204 when empty), with the ETag and cache headers."""
    role = current_role()
    version = tiles.tile_version(get_session())
    etag = _etag(name, version, role)
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        body = render(version)
        response = Response(body, status=200 if body else 204, mimetype=tiles.MIMETYPE)
    response.set_etag(etag, weak=True)  # weak: Flask-Compress may encode the body
    response.headers["Cache-Control"] = _cache_control(version, role)
    response.vary.add("Cookie")  # what a signed-in official sees differs
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/tiles/<name>/<z>/<x>/<y>.mvt")
def layer_tile(name: str, z: str, x: str, y: str) -> Response:
    layer = features.find_layer(name)
    tile = tiles.read_tile(z, x, y)
    tiles.check_zoom(layer, tile)
    return _tile_response(layer.name, lambda version: tiles.layer_tile(
        get_session(), layer, tile, current_role(), version, _cache()))


@bp.get("/tiles/<z>/<x>/<y>.mvt")
def combined_tile(z: str, x: str, y: str) -> Response:
    tile = tiles.read_tile(z, x, y)
    return _tile_response("all", lambda version: tiles.combined_tile(
        get_session(), tile, current_role(), version, _cache()))


def _template(endpoint: str, version: str, **values: str) -> str:
    """The tile URL template `…/{z}/{x}/{y}.mvt?v=<version>` (url_for would escape the
    braces, so they are put in afterwards)."""
    url = url_for(endpoint, z="ZZZ", x="XXX", y="YYY", v=version, _external=True, **values)
    return url.replace("ZZZ", "{z}").replace("XXX", "{x}").replace("YYY", "{y}")


def _vector_layer(layer: Layer, lang: str) -> dict[str, object]:
    return {"id": layer.name, "description": layer.text(layer.title, lang),
            "minzoom": layer.min_zoom, "maxzoom": tiles.MAX_ZOOM,
            "fields": {"id": "String", **{key: "String" for key in layer.properties}}}


def _union(boxes: list[list[float] | None]) -> list[float] | None:
    found = [b for b in boxes if b]
    if not found:
        return None
    return [min(b[0] for b in found), min(b[1] for b in found),
            max(b[2] for b in found), max(b[3] for b in found)]


def _tilejson(name: str, title: str, description: str, tile_url: str,
              chosen: list[Layer], bounds: list[float] | None, version: str,
              lang: str) -> Response:
    minzoom = min((layer.min_zoom for layer in chosen), default=0)
    body: dict[str, object] = {
        "tilejson": "3.0.0", "name": title, "description": description,
        "version": "1.0.0", "scheme": "xyz", "tiles": [tile_url],
        "minzoom": minzoom, "maxzoom": tiles.MAX_ZOOM,
        "vector_layers": [_vector_layer(layer, lang) for layer in chosen],
    }
    if bounds:
        body["bounds"] = bounds
        body["center"] = [round((bounds[0] + bounds[2]) / 2, 6),
                          round((bounds[1] + bounds[3]) / 2, 6),
                          max(minzoom, current_app.config["MAP_ZOOM"])]
    response = jsonify(body)
    role = current_role()
    response.set_etag(f"tilejson.{_etag(name, version, role)}.{lang}", weak=True)
    response.headers["Cache-Control"] = TILEJSON_CACHE \
        if tiles.access_class(role) == "public" else PRIVATE_CACHE
    response.vary.update(("Cookie", "Accept-Language"))  # titles in the visitor's language
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.get("/tiles/<name>.json")
def layer_tilejson(name: str) -> Response:
    layer = features.find_layer(name)
    db = get_session()
    version = tiles.tile_version(db)
    lang = current_lang()
    return _tilejson(layer.name, layer.text(layer.title, lang),
                     layer.text(layer.description, lang),
                     _template(".layer_tile", version, name=layer.name), [layer],
                     features.layer_bounds(db, layer.name, current_role()), version, lang)


@bp.get("/tiles.json")
def combined_tilejson() -> Response:
    db = get_session()
    version = tiles.tile_version(db)
    lang = current_lang()
    title = _("Heritage map of Khoái Châu")
    summaries = features.layer_summaries(db, current_role())
    return _tilejson("all", title, "", _template(".combined_tile", version),
                     tiles.tile_layers(), _union([s["bbox"] for s in summaries]),
                     version, lang)
