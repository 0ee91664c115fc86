"""`/api/sites`: relics for the tourists' map, filtered and searched, with their cards.

- `GET /api/sites?q=&type=&rank=&commune=&festival_month=&bbox=&limit=` GeoJSON
- `GET /api/sites/nearby?lat=&lon=&limit=` (same filters) nearest first, `distance_m`
- `GET /api/sites/filters` the filter choices with labels in the request's language
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.routing import BuildError

from gis_app.auth import current_role
from gis_app.clock import today_in_vietnam
from gis_app.db import get_session
from gis_app.i18n import current_lang
from gis_app.services import explore

bp = Blueprint("api_explore", __name__, url_prefix="/api/sites")


def _site_url(heritage_id: str) -> str:
    return url_for("public.site_page", heritage_id=heritage_id)


def _media_url(uri: str) -> str:
    try:
        return url_for("media.file", name=uri)
    except BuildError:  # no media blueprint in this app
        return f"{request.script_root}/media/{uri}"


def _geojson(rows: list[dict]) -> Response:
    body = explore.feature_collection(rows, current_lang(), _site_url, _media_url)
    response = jsonify(body)
    response.mimetype = "application/geo+json"
    response.headers["Cache-Control"] = "private, no-store" if current_role() else \
        "public, max-age=60"
    response.vary.add("Cookie")  # language and sign-in change the answer
    return response


@bp.get("")
def sites() -> Response:
    flt = explore.read_filter(request.args, max_limit=current_app.config["GEOJSON_MAX_LIMIT"])
    return _geojson(explore.find_sites(get_session(), flt, current_role()))


@bp.get("/nearby")
def nearby() -> Response:
    lat, lon = explore.read_point(request.args.get("lat"), request.args.get("lon"))
    limit = explore.read_int("limit", request.args.get("limit"), explore.NEARBY_DEFAULT, 1,
                         explore.NEARBY_MAX)
    flt = explore.read_filter({k: v for k, v in request.args.items() if k != "limit"})
    return _geojson(explore.nearby_sites(get_session(), lat, lon, flt, current_role(), limit))


@bp.get("/filters")
def filters() -> Response:
    response = jsonify(explore.filter_options(get_session(), current_lang(),
                                              today_in_vietnam(),
                                              current_role()))
    response.headers["Cache-Control"] = "private, no-store"
    return response
