"""Public pages: the map, the list of relics, a relic's permanent page, festivals."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, render_template, request, url_for

from gis_app.auth import current_role
from gis_app.db import get_session
from gis_app.errors import InputError
from gis_app.i18n import current_lang
from gis_app.maps import build_map
from gis_app.services import festivals, sites

bp = Blueprint("public", __name__)


def _map(**kwargs: object):  # noqa: ANN202
    cfg = current_app.config
    return build_map(static_url=url_for("static", filename="").rstrip("/"),
                     api_base=url_for("api_layers.index"), lang=current_lang(),
                     tile_url=cfg["TILE_URL"], tile_attribution=cfg["TILE_ATTRIBUTION"],
                     **kwargs)


@bp.get("/")
def index() -> str:
    cfg = current_app.config
    return render_template("map.html",
                           map=_map(center=cfg["MAP_CENTER"], zoom=cfg["MAP_ZOOM"]),
                           sites=sites.list_sites(get_session(), current_role()))


@bp.get("/sites")
def site_list() -> str:
    query = (request.args.get("q") or "").strip()
    if query:
        found = sites.search_sites(get_session(), query, current_role(), limit=100)
    else:
        found = sites.list_sites(get_session(), current_role())
    return render_template("site_list.html", sites=found, query=query)


@bp.get("/sites/<heritage_id>")
def site_page(heritage_id: str) -> str:
    site = sites.get_site(get_session(), heritage_id, current_role())
    bounds = None
    if site["zones"]:
        bounds = [min(z["minx"] for z in site["zones"]), min(z["miny"] for z in site["zones"]),
                  max(z["maxx"] for z in site["zones"]), max(z["maxy"] for z in site["zones"])]
    small_map = _map(center=(site["lat"], site["lon"]), zoom=16, fit_bounds=bounds,
                     height="320px",
                     layer_names=("communes", "rivers", "roads", "landscapes",
                                  "protection_zones", "sites", "facilities"))
    return render_template("site.html", site=site, map=small_map)


def _year(value: str | None) -> int:
    if not value:
        return date.today().year
    if not value.isdigit():
        raise InputError(f"year={value!r} is not a year, e.g. year=2026.",
                         f"year={value!r} không phải năm, ví dụ year=2026.")
    return int(value)


@bp.get("/festivals")
def festival_calendar() -> str:
    year = _year(request.args.get("year"))
    events = festivals.calendar(get_session(), year, current_role())
    return render_template("festivals.html", year=year, events=events,
                           this_month=date.today().month if year == date.today().year else None)


@bp.get("/festivals.ics")
def festival_feed() -> Response:
    """This year's and next year's festivals, to subscribe to in a calendar app."""
    year = _year(request.args.get("year"))
    events = [occ for y in (year, year + 1)
              for occ in festivals.calendar(get_session(), y, current_role())]
    body = festivals.to_ics(events, request.url_root)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": "inline; filename=le-hoi-khoai-chau.ics"})
