"""Public pages: the map, the list of relics, a relic's permanent page."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from gis_app.auth import current_role
from gis_app.db import get_session
from gis_app.i18n import current_lang
from gis_app.maps import build_map
from gis_app.services import sites

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
