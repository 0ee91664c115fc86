"""`/api/layers`: metadata and GeoJSON of every layer declared in `layers/`.

The public's GeoJSON takes the lean path (db.Database.lean: one statement on an
autocommit connection, no ORM session) and carries an ETag made of the layer, the query
and the data version: a client that sends it back in If-None-Match gets a 304 for the
price of one index probe while nothing has changed. Officials' answers (drafts, as_of)
stay private and uncached.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from gis_app.auth import current_role
from gis_app.db import database, get_session, public_read
from gis_app.services import features
from layers import Layer

bp = Blueprint("api_layers", __name__, url_prefix="/api/layers")


@bp.get("")
def index() -> Response:
    out = []
    for item in features.layer_summaries(get_session(), current_role()):
        layer = item["layer"]
        out.append({
            "name": layer.name,
            "title": layer.title,
            "description": layer.description,
            "geometry_type": layer.geometry_type,
            "count": item["count"],
            "bbox": item["bbox"],
            "style": layer.style,
            "style_by": layer.style_by,
            "min_zoom": layer.min_zoom,
            "basemap": layer.basemap,
            "properties": list(layer.properties),
            "as_of": layer.as_of_source is not None,
            "links": [{"rel": "items", "type": "application/geo+json",
                       "href": url_for(".items", name=layer.name)}],
        })
    return jsonify({"layers": out})


@bp.get("/<name>.geojson")
def items(name: str) -> Response:
    layer = features.find_layer(name)
    bbox = features.read_bbox(request.args.get("bbox"))
    as_of = features.read_as_of(request.args.get("as_of"))
    page = features.read_page(request.args.get("limit"), request.args.get("offset"),
                              current_app.config["GEOJSON_MAX_LIMIT"], layer.limit)
    args = request.args.to_dict()
    args.pop("name", None)
    args.update(limit=str(page.limit), offset=str(page.offset + page.limit))
    next_href = url_for(".items", name=name, **args)
    role = current_role()
    if role is None and as_of is None:
        return _public_items(layer, bbox, page, next_href)
    body = features.layer_geojson(get_session(), layer, bbox, page, role,
                                  next_href=next_href, as_of=as_of)
    response = Response(body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _public_items(layer: Layer, bbox: features.BBox | None, page: features.Page,
                  next_href: str) -> Response:
    """The public's page of a layer on the lean path, or a 304 when the client's copy
    (If-None-Match) is still the current one."""
    query = tuple(sorted(request.args.items(multi=True)))
    with database().lean(read_only=public_read()) as conn:
        if request.if_none_match:
            tag = features.answer_etag(layer.name, query, features.public_data_version(conn))
            if request.if_none_match.contains_weak(tag):
                response = Response(status=304)
                return _public_cache(response, tag)
        version, body = features.public_layer_geojson(conn, layer, bbox, page, next_href)
    response = Response(body, mimetype="application/geo+json")
    return _public_cache(response, features.answer_etag(layer.name, query, version))


def _public_cache(response: Response, tag: str) -> Response:
    # Weak: the same answer compressed or not (Flask-Compress rewrites strong tags).
    response.set_etag(tag, weak=True)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
