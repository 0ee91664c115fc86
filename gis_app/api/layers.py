"""`/api/layers`: metadata and GeoJSON of every layer declared in `layers/`."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from gis_app.auth import current_role
from gis_app.db import get_session
from gis_app.services import features

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
    body = features.layer_geojson(get_session(), layer, bbox, page, current_role(),
                                  next_href=url_for(".items", name=name, **args),
                                  as_of=as_of)
    response = Response(body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = "public, max-age=60" if current_role() is None \
        else "private, no-store"
    return response
