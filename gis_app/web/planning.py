"""`/planning`: the planners' page (draw, type or upload a parcel; see its zones).

The page itself only shows the map and a form; the check is the JSON API
`POST /api/zone-check`, called by `static/js/planning.js`. `POST /planning/upload` turns
an uploaded parcel file (read by `importers.parcels`) into lon/lat GeoJSON for that check.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from flask import Blueprint, Response, jsonify, render_template, url_for
from flask_babel import gettext as _
from shapely.geometry import mapping
from werkzeug.routing import BuildError

from gis_app import vocab
from gis_app.clock import today_in_vietnam
from gis_app.errors import HeritageError, InputError
from gis_app.geo import crs as crs_mod
from gis_app.i18n import current_lang
from gis_app.importers.parcels import read_parcel_file
from gis_app.maps import MapPage, build_map
from gis_app.web.uploads import one_upload

log = logging.getLogger(__name__)

bp = Blueprint("planning", __name__, url_prefix="/planning")

GEOMAN = "vendor/leaflet-geoman-free-2.20.2"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PARCELS = 1000


def read_parcels(path: Path) -> tuple[dict[str, Any], crs_mod.CrsChoice]:
    """The parcels of an uploaded file as a GeoJSON FeatureCollection in EPSG:4326 (lon/lat,
    2D), and how its CRS was decided (.prj, or inferred from the coordinates).

    Each feature keeps its row number (`row`, 1-based). Raises HeritageError (ImportFailed
    / InputError) with a message for the planner: an empty or unreadable file, missing
    shapefile parts, no coordinates, more than 1,000 features, an undecidable CRS.
    """
    parcels = read_parcel_file(path, max_parcels=MAX_PARCELS, attributes=False,
                               advice=("Keep only the parcels of the project.",
                                       "Hãy chỉ giữ lại các thửa của dự án."))
    present = parcels.present()
    if not present.any():
        raise InputError("No feature of the file has coordinates.",
                         "Không đối tượng nào trong tệp có tọa độ.")
    lonlat = parcels.to_lonlat()
    features = [{"type": "Feature", "properties": {"row": int(index) + 1},
                 "geometry": mapping(lonlat[index])} for index in np.flatnonzero(present)]
    return {"type": "FeatureCollection", "features": features}, parcels.crs


def _map() -> MapPage:
    return build_map()


def _page_config(lang: str) -> dict[str, Any]:
    """What planning.js needs: URLs, labels, and its messages in the page's language."""
    return {
        "lang": lang,
        "check_url": url_for("api_zone_check.check"),
        "upload_url": url_for("planning.upload"),
        "site_url": url_for("public.site_page", heritage_id="HID"),
        "zones": vocab.labels("zone", lang),
        "ranks": vocab.labels("rank", lang),
        "max_upload_bytes": MAX_UPLOAD_BYTES,
        "text": {
            "checking": _("Checking…"),
            "reading_file": _("Reading the file…"),
            "parcel": _("Parcel"),
            "area": _("Area"),
            "as_of": _("As of"),
            "hits_title": _("Protection zones touched"),
            "relic": _("Relic"),
            "zone": _("Zone"),
            "overlap_m2": _("Overlap (m²)"),
            "overlap_pct": _("Overlap (%)"),
            "distance_m": _("Distance to the relic (m)"),
            "rules_title": _("What the rules say"),
            "reference": _("Legal reference"),
            "decision": _("Decision"),
            "no_hit": _("The parcel touches no protection zone."),
            "nearest": _("Nearest relic: %(name)s, %(distance)s m away."),
            "no_relic": _("There is no relic to compare with."),
            "report": _("Report"),
            "data_version": _("Data version"),
            "point": _("point"),
            "file_crs": _("Coordinate system of the file"),
            "err_empty": _("Type at least one point (one per line)."),
            "err_line": _("Line %(line)s: write two numbers, e.g. “20.8940, 105.9299” or "
                          "“2311000 547000”."),
            "err_two": _("Two points are neither a point nor a parcel: type 1 point, or 3 "
                         "or more for a polygon."),
            "err_vn2000": _("Line %(line)s: one of X, Y must be the 7-digit northing "
                            "(e.g. X 2311000, Y 547000)."),
            "err_latlon": _("Line %(line)s: not a latitude, longitude in Vietnam "
                            "(e.g. 20.8940, 105.9299)."),
            "err_no_file": _("Choose a file first."),
            "err_too_big": _("The file is larger than 5 MB; keep only the project's parcels."),
            "err_network": _("The server could not be reached; try again."),
            "err_no_drawing": _("Draw a polygon or place a point on the map first."),
            "draw_first_vertex": _("Tap or click to place the first corner"),
            "draw_continue": _("Tap or click to add a corner"),
            "draw_finish": _("Tap the first corner to finish"),
            "draw_marker": _("Tap or click to place the point"),
        },
    }


@bp.get("")
def index() -> str:
    lang = current_lang()
    return render_template("planning/index.html", map=_map(), config=_page_config(lang),
                           geoman=GEOMAN, today=today_in_vietnam().isoformat(),
                           openapi_url=url_for("api_openapi.openapi"),
                           report_url=_report_url())


def _report_url() -> str:
    """`/planning/report` (the planning_reports blueprint), even before it has its route."""
    try:
        return url_for("planning_reports.create_report")
    except BuildError:
        return url_for("planning.index") + "/report"


@bp.post("/upload")
def upload() -> tuple[Response, int]:
    """A parcel file → `{"parcels": FeatureCollection (EPSG:4326), "crs": {...}}`, or 4xx
    `{"error", "message"}` in the page's language."""
    lang = current_lang()
    try:
        parcels, choice = _read_upload()
    except HeritageError as error:
        log.warning("planning upload refused: %s", error.log_message)
        return jsonify(error.to_json(lang)), error.status
    notes = [vi if lang == "vi" else en for en, vi in choice.notes]
    return jsonify({"parcels": parcels,
                    "crs": {"crs": choice.label, "how": choice.how, "notes": notes}}), 200


def _read_upload() -> tuple[dict[str, Any], crs_mod.CrsChoice]:
    missing = InputError("Choose a parcel file (GeoJSON, zipped shapefile, KML or GeoPackage).",
                         "Hãy chọn tệp thửa đất (GeoJSON, shapefile nén zip, KML hoặc "
                         "GeoPackage).")
    with one_upload(MAX_UPLOAD_BYTES, _too_big, missing, "planning-") as path:
        return read_parcels(path)


def _too_big() -> InputError:
    return InputError("The file is larger than 5 MB; keep only the project's parcels and "
                      "upload it again.",
                      "Tệp lớn hơn 5 MB; hãy chỉ giữ lại các thửa của dự án rồi tải lên lại.")
