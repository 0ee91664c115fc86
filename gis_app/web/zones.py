"""`/officials/relics/<heritage_id>/zones`: a relic's protection zones on a map, drawn and
edited with Leaflet-Geoman (snapping to the relic's other zones) or read from an uploaded
file, saved as new dated versions (`services.zones`), with the list of past versions.

District reviewers and administrators save versions directly. A commune editor whose
scope covers the relic today saves directly on a draft relic and proposes on any other
(`services.zone_proposals`: a reviewer approves it in /officials/review); editors of
other communes are refused (403), the public is sent to sign in. The page needs
JavaScript to draw; without it a zone can still be saved from an uploaded file.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from shapely.geometry import mapping

from gis_app import vocab
from gis_app.auth import roles_required
from gis_app.clock import read_day, today_in_vietnam
from gis_app.db import get_session
from gis_app.errors import HeritageError, InputError, PermissionDenied
from gis_app.i18n import current_lang
from gis_app.maps import build_map
from gis_app.services import zone_proposals
from gis_app.services import zones as service
from gis_app.services.features import FULL_ACCESS_ROLES, OFFICIAL_ROLES
from gis_app.web.form_safety import create_once
from gis_app.web.planning import GEOMAN
from gis_app.web.uploads import one_upload
from layers.protection_zones import LAYER as ZONES_LAYER

log = logging.getLogger(__name__)
bp = Blueprint("zones", __name__, url_prefix="/officials/relics")

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
CONTEXT_LAYERS = ("communes", "rivers", "roads", "sites")
FIELDS = ("zone", "decision_no", "decision_date", "valid_from", "accuracy", "geometry",
          "note")


def _check_may_edit(heritage_id: str) -> None:
    """403 unless the signed-in official may save or propose this relic's zones (404 for
    an unknown relic)."""
    if not zone_proposals.may_edit_zones(get_session(), current_user, heritage_id):
        raise PermissionDenied(
            f"Relic {heritage_id} is not in a commune of your account: you may not change "
            f"its zones.",
            f"Di tích {heritage_id} không thuộc xã của tài khoản bạn: bạn không được sửa các "
            f"khu vực bảo vệ của di tích.")




def _blank(zone: str | None) -> dict[str, str]:
    return {"zone": zone if zone in service.ZONE_KINDS else "I", "decision_no": "",
            "decision_date": "", "valid_from": today_in_vietnam().isoformat(),
            "accuracy": "digitised", "geometry": "", "note": ""}


def _page_config(relic: service.RelicZones, lang: str) -> dict[str, Any]:
    """What static/js/zones.js needs: the zones in force (snap targets), styles, texts."""
    return {
        "lang": lang,
        "upload_url": url_for("zones.upload", heritage_id=relic.heritage_id),
        "zones": [{"zone": v.zone, "id": v.id, "geometry": v.geometry,
                   "valid_from": v.valid_from.isoformat() if v.valid_from else None,
                   "decision_no": v.decision_no} for v in relic.current],
        "labels": vocab.labels("zone", lang),
        "styles": (ZONES_LAYER.style_by or {}).get("values", {}),
        "max_upload_bytes": MAX_UPLOAD_BYTES,
        "text": {
            "draw_first_vertex": _("Tap or click to place the first corner"),
            "draw_continue": _("Tap or click to add a corner"),
            "draw_finish": _("Tap the first corner to finish"),
            "reading_file": _("Reading the file…"),
            "file_crs": _("Coordinate system of the file"),
            "err_network": _("The server could not be reached; try again."),
            "err_too_big": _("The file is larger than 5 MB; keep only the zone."),
            "no_boundary": _("No boundary yet: draw one or upload its file."),
            "current_boundary": _("The boundary in force, unchanged: edit it, draw a new "
                                  "one or upload a file."),
            "changed_boundary": _("New boundary: it will be saved as a new version."),
        },
    }


def _render(heritage_id: str, values: dict[str, str], *, message: str | None = None,
            status: int = 200) -> tuple[str, int]:
    db = get_session()
    relic = service.relic_zones(db, heritage_id)
    lang = current_lang()
    bounds = relic.bounds()
    page_map = build_map(center=(relic.lat, relic.lon), zoom=17, layer_names=CONTEXT_LAYERS,
                         fit_bounds=bounds)
    return render_template(
        "zones/index.html", relic=relic, map=page_map, geoman=GEOMAN, values=values,
        message=message, config=_page_config(relic, lang),
        proposes=current_user.role not in FULL_ACCESS_ROLES and relic.status != "draft",
        zone_choices=[(z, vocab.label("zone", z, lang)) for z in service.ZONE_KINDS],
        accuracy_choices=[(a, vocab.label("accuracy", a, lang)) for a in service.ACCURACIES],
        site_url=url_for("public.site_page", heritage_id=relic.heritage_id)), status


@bp.get("/<heritage_id>/zones")
@roles_required(*OFFICIAL_ROLES)
def index(heritage_id: str) -> tuple[str, int]:
    _check_may_edit(heritage_id)
    return _render(heritage_id, _blank(request.args.get("zone")))


def _submitted() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in FIELDS}


def _geometry_from_request(values: dict[str, str]) -> tuple[Any, str | None]:
    """The boundary: the drawn or edited one (the page fills `geometry`), else the
    uploaded file's (without JavaScript); and where it came from."""
    storage = request.files.get("file")
    if values["geometry"].strip() or storage is None or not storage.filename:
        return service.read_zone_geometry(values["geometry"]), None
    zone_file = _read_upload()
    values["geometry"] = ""
    return zone_file.geometry, Path(storage.filename).name


@bp.post("/<heritage_id>/zones")
@roles_required(*OFFICIAL_ROLES)
@create_once
def save(heritage_id: str) -> Response | tuple[str, int]:
    _check_may_edit(heritage_id)
    db = get_session()
    values = _submitted()
    try:
        geometry, file_name = _geometry_from_request(values)
        who = current_user.username
        source = (f"uploaded by {who}: {file_name}" if file_name
                  else f"drawn by {who} on the map")
        outcome = zone_proposals.submit_version(
            db, current_user, heritage_id, zone=values["zone"], geometry=geometry,
            valid_from=read_day(values["valid_from"], ("Valid from", "Hiệu lực từ")),
            decision_no=values["decision_no"],
            decision_date=read_day(values["decision_date"],
                                      ("Decision date", "Ngày quyết định")),
            accuracy=values["accuracy"] or "digitised", source=source, note=values["note"])
        db.commit()
    except InputError as error:
        db.rollback()
        log.info("zone version of %s refused: %s", heritage_id, error.log_message)
        return _render(heritage_id, values, message=error.user_message(current_lang()),
                       status=error.status)
    lang = current_lang()
    day = (outcome.valid_from.strftime("%d/%m/%Y") if lang == "vi"
           else outcome.valid_from.isoformat())
    for en, vi in outcome.warnings:
        flash(vi if lang == "vi" else en, "warning")
    if outcome.kind == "proposed":
        flash(_("Your new %(zone)s (in force from %(date)s) is proposed (#%(id)d): the "
                "public keeps the zone in force until a district reviewer approves it.",
                zone=vocab.label("zone", outcome.zone, lang), date=day,
                id=outcome.proposal_id))
        return redirect(url_for("editor.proposal", proposal_id=outcome.proposal_id), 303)
    flash(_("Saved: %(zone)s, new version in force from %(date)s. The previous version "
            "is kept for checks of earlier dates.",
            zone=vocab.label("zone", outcome.zone, lang), date=day))
    return redirect(url_for("zones.index", heritage_id=heritage_id, zone=outcome.zone), 303)


def _read_upload() -> service.ZoneFile:
    missing = InputError("Choose the zone's file (GeoJSON, zipped shapefile, KML or "
                         "GeoPackage).",
                         "Hãy chọn tệp của khu vực (GeoJSON, shapefile nén zip, KML hoặc "
                         "GeoPackage).")
    with one_upload(MAX_UPLOAD_BYTES, _too_big, missing, "zone-") as path:
        return service.read_zone_file(path)


def _too_big() -> InputError:
    return InputError("The file is larger than 5 MB; keep only the zone and upload it again.",
                      "Tệp lớn hơn 5 MB; hãy chỉ giữ lại khu vực cần lưu rồi tải lên lại.")


@bp.post("/<heritage_id>/zones/upload")
@roles_required(*OFFICIAL_ROLES)
def upload(heritage_id: str) -> tuple[Response, int]:
    """A zone file → `{"geometry": GeoJSON (lon/lat), "crs": {...}, "warnings": [...]}`
    to put on the map before saving, or 4xx `{"error", "message"}`."""
    lang = current_lang()
    try:
        _check_may_edit(heritage_id)  # 404 for an unknown relic, 403 for another's
        zone_file = _read_upload()
        shape, warnings = service.check_zone_geometry(zone_file.geometry)
    except HeritageError as error:
        log.info("zone upload for %s refused: %s", heritage_id, error.log_message)
        return jsonify(error.to_json(lang)), error.status
    notes = [vi if lang == "vi" else en for en, vi in zone_file.notes]
    return jsonify({"geometry": mapping(shape),
                    "crs": {"crs": zone_file.crs, "notes": notes},
                    "warnings": [vi if lang == "vi" else en for en, vi in warnings]}), 200
