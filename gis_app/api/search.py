"""`GET /api/search?q=`: relics by name, without regard to diacritics, with typos."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gis_app.auth import current_role
from gis_app.db import get_session
from gis_app.services import sites

bp = Blueprint("api_search", __name__, url_prefix="/api")


@bp.get("/search")
def search() -> Response:
    found = sites.search_sites(get_session(), request.args.get("q") or "", current_role())
    return jsonify({"query": request.args.get("q") or "", "results": [
        {"heritage_id": r["heritage_id"], "name_vi": r["name_vi"], "name_en": r["name_en"],
         "other_names": r["other_names"], "rank": r["rank"], "lon": r["lon"], "lat": r["lat"],
         "exact": r["exact"]} for r in found]})
