"""Officials edit relics, commune editors propose, district reviewers review.

- `/officials/relics/new`, `/officials/relics/<heritage id>/edit`: the form with every
  field of the relic criteria set and a small map with a draggable marker (typed WGS 84
  or VN-2000 coordinates, or a file, work without JavaScript too);
- `/officials/review` (district reviewers): the queue of pending proposals (relics'
  fields and protection zones, `services.zone_proposals`);
  `/officials/review/<id>`: the diff (fields before/after, the position or the zone's
  outline before/after on a map) with approve / send back; the author opens it too and
  may withdraw it;
- `/officials/proposals`: the author's own proposals with the answers.

The pages parse the form and call `services.proposals`, which decides who may do what
and validates every value.
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from gis_app import vocab
from gis_app.auth import roles_required
from gis_app.db import get_session
from gis_app.errors import HeritageError, InputError, PermissionDenied
from gis_app.i18n import current_lang
from gis_app.maps import MapPage, build_map
from gis_app.models.base import RANKS, RELIC_TYPES
from gis_app.services import proposals as service
from gis_app.services.features import OFFICIAL_ROLES
from gis_app.web.form_safety import create_once

log = logging.getLogger(__name__)
bp = Blueprint("editor", __name__, url_prefix="/officials")

REVIEWER = "district_reviewer"
CONTEXT_LAYERS = ("communes", "rivers", "roads")
MAX_POSITION_FILE = 5 * 1024 * 1024
POSITION_SUFFIXES = (".geojson", ".json", ".kml", ".kmz", ".zip", ".gpkg", ".csv")


class CsrfForm(FlaskForm):
    """CSRF only: the relic form is read field by field (services.proposals validates)."""


@bp.app_template_global("can_edit_relic")
def can_edit_relic(site: dict[str, Any]) -> bool:
    """Whether the signed-in user may edit (or propose changes to) this relic."""
    if not current_user.is_authenticated or current_user.role not in OFFICIAL_ROLES:
        return False
    if site.get("status") in service.ENDED:
        return False
    return service.may_edit(get_session(), current_user, site["id"])


@bp.app_template_global("proposal_status")
def proposal_status(status: str) -> str:
    """A proposal's status in the page's language."""
    return {"pending": _("Waiting for review"), "approved": _("Approved"),
            "returned": _("Sent back"), "withdrawn": _("Withdrawn")}.get(status, status)


# --- the form ------------------------------------------------------------------------------

def _form_values(values: dict[str, Any], vn2000: list[float] | None) -> dict[str, Any]:
    """The form's fields as strings from a relic's normalised values."""
    out: dict[str, Any] = {}
    for f in service.FIELDS:
        value = values.get(f.name)
        if f.kind == "names":
            out[f.name] = "\n".join(value or [])
        elif f.kind in ("types", "flag"):
            out[f.name] = value
        else:
            out[f.name] = value or ""
    lon, lat = values.get("position") or ("", "")
    out.update(lon=lon, lat=lat, position_mode="wgs84", note="",
               east=vn2000[0] if vn2000 else "", north=vn2000[1] if vn2000 else "")
    return out


def _submitted() -> dict[str, Any]:
    """The form as the user filled it in (for the service and for re-display)."""
    form = request.form
    out: dict[str, Any] = {}
    for f in service.FIELDS:
        if f.kind == "types":
            out[f.name] = form.getlist(f.name)
        elif f.kind == "flag":
            out[f.name] = bool(form.get(f.name))
        else:
            out[f.name] = form.get(f.name, "")
    for key in ("lon", "lat", "east", "north", "note"):
        out[key] = form.get(key, "")
    out["position_mode"] = form.get("position_mode", "wgs84")
    return out


def _position(values: dict[str, Any], scratch: Path) -> service.PositionInput:
    mode = values["position_mode"]
    if mode == "vn2000":
        return service.PositionInput("vn2000", values["east"], values["north"])
    if mode == "file":
        upload = request.files.get("position_file")
        if upload is None or not upload.filename:
            return service.PositionInput("file")
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in POSITION_SUFFIXES:
            raise InputError(
                f"Send the point as GeoJSON, KML/KMZ, GeoPackage, CSV or a zipped shapefile "
                f"(not {suffix or 'a file without extension'}).",
                f"Hãy gửi điểm dưới dạng GeoJSON, KML/KMZ, GeoPackage, CSV hoặc shapefile nén "
                f"zip (không phải {suffix or 'tệp không có phần mở rộng'}).")
        data = upload.read(MAX_POSITION_FILE + 1)
        if len(data) > MAX_POSITION_FILE:
            raise InputError("The file is larger than 5 MB: send only the relic's point.",
                             "Tệp lớn hơn 5 MB: hãy chỉ gửi điểm của di tích.")
        path = scratch / f"position{suffix}"
        path.write_bytes(data)
        return service.PositionInput("file", path=path)
    return service.PositionInput("wgs84" if mode == "wgs84" else mode, values["lon"],
                                 values["lat"])


def _edit_map(position: list[float] | None) -> MapPage:
    if position:
        return build_map(center=(position[1], position[0]), zoom=16, height="360px",
                         layer_names=CONTEXT_LAYERS)
    return build_map(height="360px", layer_names=CONTEXT_LAYERS)


def _choices() -> dict[str, Any]:
    lang = current_lang()
    return {"types": [(t, vocab.label("relic_type", t, lang)) for t in RELIC_TYPES],
            "ranks": [(r, vocab.label("rank", r, lang)) for r in RANKS],
            "fields": {f.name: f.text(lang) for f in service.FIELDS},
            "custodians": service.custodians(get_session())}


def _form_page(values: dict[str, Any], relic: dict[str, Any] | None, *,
               message: str | None = None, status: int = 200) -> tuple[str, int]:
    try:
        position = [float(values["lon"]), float(values["lat"])]
    except (TypeError, ValueError):
        position = relic["values"]["position"] if relic else None
    return render_template("editor/form.html", values=values, relic=relic, message=message,
                           map=_edit_map(position), position=position, form=CsrfForm(),
                           reviewer=current_user.role in service.FULL_ACCESS_ROLES,
                           **_choices()), status


def _flash_warnings(outcome: service.Outcome) -> None:
    lang = current_lang()
    for en, vi in outcome.warnings:
        flash(vi if lang == "vi" else en)


# --- pages ---------------------------------------------------------------------------------

@bp.get("/relics/new")
@roles_required(*OFFICIAL_ROLES)
def new_relic() -> tuple[str, int]:
    values = _form_values({"types": [], "sensitive": False}, None)
    values["lon"] = values["lat"] = ""
    return _form_page(values, None)


@bp.post("/relics/new")
@roles_required(*OFFICIAL_ROLES)
@create_once
def create_relic() -> Response | tuple[str, int]:
    db = get_session()
    values = _submitted()
    try:
        with tempfile.TemporaryDirectory(prefix="gis-position-") as scratch:
            outcome = service.create_relic(db, current_user, values,
                                           _position(values, Path(scratch)))
        db.commit()
    except HeritageError as error:
        db.rollback()
        log.info("new relic refused: %s", error.log_message)
        return _form_page(values, None, message=error.user_message(current_lang()),
                          status=error.status if error.status < 500 else 400)
    flash(_("Draft relic %(id)s created: a district reviewer publishes it.",
            id=outcome.heritage_id))
    _flash_warnings(outcome)
    return redirect(url_for("public.site_page", heritage_id=outcome.heritage_id)
                    if current_user.role in service.FULL_ACCESS_ROLES
                    else url_for(".edit_relic", heritage_id=outcome.heritage_id), 303)


def _editable(heritage_id: str) -> dict[str, Any]:
    db = get_session()
    relic = service.relic(db, heritage_id)
    if not service.may_edit(db, current_user, relic["id"]):
        raise PermissionDenied(
            f"Relic {heritage_id} is not in a commune of your account: you may not change it.",
            f"Di tích {heritage_id} không thuộc xã của tài khoản bạn: bạn không được sửa.")
    return relic


@bp.get("/relics/<heritage_id>/edit")
@roles_required(*OFFICIAL_ROLES)
def edit_relic(heritage_id: str) -> tuple[str, int]:
    relic = _editable(heritage_id)
    return _form_page(_form_values(relic["values"], relic["vn2000"]), relic)


@bp.post("/relics/<heritage_id>/edit")
@roles_required(*OFFICIAL_ROLES)
@create_once
def save_relic(heritage_id: str) -> Response | tuple[str, int]:
    relic = _editable(heritage_id)
    db = get_session()
    values = _submitted()
    try:
        with tempfile.TemporaryDirectory(prefix="gis-position-") as scratch:
            outcome = service.submit_edit(db, current_user, heritage_id, values,
                                          _position(values, Path(scratch)), values["note"])
        db.commit()
    except HeritageError as error:
        db.rollback()
        log.info("edit of %s refused: %s", heritage_id, error.log_message)
        return _form_page(values, relic, message=error.user_message(current_lang()),
                          status=error.status if error.status < 500 else 400)
    _flash_warnings(outcome)
    if outcome.kind == "proposed":
        flash(_("Your changes are proposed (#%(id)d): the public keeps seeing the published "
                "relic until a district reviewer approves them.", id=outcome.proposal_id))
        return redirect(url_for(".proposal", proposal_id=outcome.proposal_id), 303)
    flash(_("Saved: %(n)d change(s) to the relic.", n=len(outcome.fields)))
    return redirect(url_for("public.site_page", heritage_id=heritage_id)
                    if current_user.role in service.FULL_ACCESS_ROLES
                    else url_for(".edit_relic", heritage_id=heritage_id), 303)


@bp.get("/review")
@roles_required(REVIEWER)
def review_queue() -> str:
    return render_template("editor/queue.html", proposals=service.pending_proposals(
        get_session(), current_user, current_lang()))


@bp.get("/proposals")
@roles_required(*OFFICIAL_ROLES)
def my_proposals() -> str:
    return render_template("editor/mine.html", proposals=service.proposals_of(
        get_session(), current_user, current_lang()))


def _review_map(item: dict[str, Any]) -> MapPage:
    pad = 0.0008
    if item.get("bounds") and None not in item["bounds"]:  # a zone: both outlines
        minx, miny, maxx, maxy = item["bounds"]
        pad = 0.0003
        return build_map(center=((miny + maxy) / 2, (minx + maxx) / 2), zoom=17,
                         height="320px", layer_names=CONTEXT_LAYERS,
                         fit_bounds=[minx - pad, miny - pad, maxx + pad, maxy + pad])
    points = [p for p in (item["before"], item["after"]) if p] or [item["current"]]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return build_map(center=(sum(lats) / len(lats), sum(lons) / len(lons)), zoom=16,
                     height="320px", layer_names=CONTEXT_LAYERS,
                     fit_bounds=[min(lons) - pad, min(lats) - pad, max(lons) + pad,
                                 max(lats) + pad])


@bp.get("/review/<int:proposal_id>")
@roles_required(*OFFICIAL_ROLES)
def proposal(proposal_id: int) -> str:
    item = service.proposal_detail(get_session(), current_user, proposal_id, current_lang())
    return render_template("editor/proposal.html", item=item, map=_review_map(item),
                           form=CsrfForm(),
                           reviewer=current_user.role in service.FULL_ACCESS_ROLES,
                           author=item["author_id"] == current_user.id)


def _decide(proposal_id: int, action: Any, message: str) -> Response:
    db = get_session()
    back = url_for(".proposal", proposal_id=proposal_id)
    if not CsrfForm().validate_on_submit():
        flash(_("The form had expired; please try again."), "error")
        return redirect(back, 303)
    try:
        action(db)
        db.commit()
    except (InputError, PermissionDenied) as error:
        db.rollback()
        if isinstance(error, PermissionDenied):
            raise
        flash(error.user_message(current_lang()), "error")
        return redirect(back, 303)
    flash(message)
    return redirect(back, 303)


@bp.post("/review/<int:proposal_id>/approve")
@roles_required(REVIEWER)
def approve(proposal_id: int) -> Response:
    return _decide(proposal_id,
                   lambda db: service.approve(db, current_user, proposal_id),
                   _("Approved: the public now sees the changes."))


@bp.post("/review/<int:proposal_id>/return")
@roles_required(REVIEWER)
def send_back(proposal_id: int) -> Response:
    comment = request.form.get("comment", "")
    return _decide(proposal_id,
                   lambda db: service.send_back(db, current_user, proposal_id, comment),
                   _("Sent back to its author with your comment."))


@bp.post("/proposals/<int:proposal_id>/withdraw")
@roles_required(*OFFICIAL_ROLES)
def withdraw(proposal_id: int) -> Response:
    return _decide(proposal_id,
                   lambda db: service.withdraw(db, current_user, proposal_id),
                   _("Proposal withdrawn."))
