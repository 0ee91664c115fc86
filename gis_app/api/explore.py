"""`/api/sites`: relics for the tourists' map, filtered and searched, with their cards.

- `GET /api/sites?q=&type=&rank=&commune=&festival_month=&bbox=&limit=` GeoJSON
- `GET /api/sites/nearby?lat=&lon=&limit=` (same filters) nearest first, `distance_m`
- `GET /api/sites/filters` the filter choices with labels in the request's language
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.routing import BuildError

from gis_app import public_cache
from gis_app.auth import current_role
from gis_app.clock import today_in_vietnam
from gis_app.db import get_session
from gis_app.i18n import current_lang
from gis_app.services import explore

bp = Blueprint("api_explore", __name__, url_prefix="/api/sites")


def _prefixes() -> dict[str, str]:
    """URL prefixes of a relic's page and of a media file, as the app's routes build them
    (the heritage id or the file's path follows)."""
    site = url_for("public.site_page", heritage_id="x")[:-1]
    try:
        media = url_for("media.file", name="x")[:-1]
    except BuildError:  # no media blueprint in this app
        media = f"{request.script_root}/media/"
    return {"site_prefix": site, "media_prefix": media}


def _geojson(body: str) -> Response:
    response = Response(body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = "private, no-store" if current_role() else \
        "public, max-age=60"
    response.vary.add("Cookie")  # language and sign-in change the answer
    return response


@bp.get("")
def sites() -> Response:
    flt = explore.read_filter(request.args, max_limit=current_app.config["GEOJSON_MAX_LIMIT"])
    return _geojson(explore.find_sites_geojson(get_session(), flt, current_role(),
                                               current_lang(), **_prefixes()))


@bp.get("/nearby")
def nearby() -> Response:
    lat, lon = explore.read_point(request.args.get("lat"), request.args.get("lon"))
    limit = explore.read_int("limit", request.args.get("limit"), explore.NEARBY_DEFAULT, 1,
                         explore.NEARBY_MAX)
    flt = explore.read_filter({k: v for k, v in request.args.items() if k != "limit"})
    return _geojson(explore.nearby_sites_geojson(get_session(), lat, lon, flt, current_role(),
                                                 current_lang(), limit, **_prefixes()))


@bp.get("/filters")
def filters() -> Response:
    """Built once per data version, language and day (gis_app/public_cache.py); a
    client holding the answer gets a 304."""
    db, lang, role = get_session(), current_lang(), current_role()
    answer = public_cache.cached("filters", lambda: json.dumps(
        explore.filter_options(db, lang, today_in_vietnam(), role), ensure_ascii=False))
    etag = f'W/"{answer.etag}"'
    if public_cache.not_modified(answer.etag):
        response = Response(status=304)
    else:
        response = Response(answer.value, mimetype="application/json")
    response.headers["ETag"] = etag
    # Shared caches may keep the public answer; each use is revalidated (cheap: 304).
    response.headers["Cache-Control"] = "private, no-cache" if role else "public, no-cache"
    response.vary.update(("Cookie", "Accept-Language"))
    return response
