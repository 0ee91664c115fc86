"""Officials edit landscapes, facilities and intangible heritage.

- `/officials/landscapes`, `/officials/facilities` (`?relic=&unit=`): the lists, then
  `/new?relic=` and `/<id>/edit` (fields, and the shape: a polygon drawn or edited with
  Leaflet-Geoman or read from a file; a facility may be a point, dragged or typed in
  WGS 84 or VN-2000), `/<id>/delete`, `/<id>/history`;
- `/officials/intangible` (`?relic=&unit=&status=`), `/new`, `/<heritage id>/edit` with
  the places practised, the relics where it is practised, the festival dates (lunar or
  solar) and the artisans, each added, changed or removed on the same page; `/publish`
  and `/history`.

The pages parse the form and call `services.site_features` / `services.intangible`,
which decide who may do what and validate every value; without JavaScript, a shape can
still be sent as a file or typed coordinates.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import shapely
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from shapely.geometry import mapping
from werkzeug.wrappers import Response

from gis_app import vocab
from gis_app.auth import roles_required
from gis_app.db import get_session
from gis_app.errors import HeritageError, InputError, PermissionDenied
from gis_app.i18n import current_lang
from gis_app.maps import MapPage, build_map
from gis_app.models.base import ICH_TYPES
from gis_app.services import intangible, record_history, site_features, zones
from gis_app.services.features import FULL_ACCESS_ROLES, OFFICIAL_ROLES
from gis_app.services.proposals import PositionInput, read_position
from gis_app.web.form_safety import create_once
from gis_app.web.planning import GEOMAN
from gis_app.web.uploads import one_upload

log = logging.getLogger(__name__)
bp = Blueprint("kinds", __name__, url_prefix="/officials")

REVIEWER = "district_reviewer"
CONTEXT_LAYERS = ("communes", "rivers", "roads", "sites")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
FEATURE_KINDS = ("landscapes", "facilities")


class CsrfForm(FlaskForm):
    """CSRF only: the forms are read field by field (the services validate)."""


def _message(error: HeritageError) -> str:
    return error.user_message(current_lang())


def _flash_warnings(warnings: list[tuple[str, str]]) -> None:
    lang = current_lang()
    for en, vi in warnings:
        flash(vi if lang == "vi" else en, "warning")


def _communes() -> list[tuple[int, str]]:
    return site_features.communes_today(get_session())


def _unit_arg() -> int | None:
    value = request.args.get("unit", "").strip()
    return int(value) if value.isdigit() else None


# --- shapes --------------------------------------------------------------------------------

def _upload_shape() -> Any | None:
    """The polygon (or point) of an uploaded file, lon/lat; None without a file."""
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        return None
    with one_upload(MAX_UPLOAD_BYTES, _too_big, InputError("Choose a file.", "Hãy chọn tệp."),
                    "kinds-") as path:
        return zones.read_zone_file(path).geometry


def _shape(points: bool) -> site_features.Shape | None:
    """The shape the form gives: a file first, then the drawn polygon (`geometry`), then
    (facilities) typed or dragged coordinates; None when the form gives none."""
    from_file = _upload_shape()
    if from_file is not None:
        return site_features.Shape(polygon=from_file)
    form = request.form
    if points and form.get("shape_mode") == "point":
        mode = form.get("position_mode", "wgs84")
        x, y = ((form.get("east", ""), form.get("north", "")) if mode == "vn2000"
                else (form.get("lon", ""), form.get("lat", "")))
        if not (x.strip() or y.strip()):
            return None
        position, _notes = read_position(PositionInput(mode, x, y))
        return site_features.Shape(point=position)
    if form.get("geometry", "").strip():
        return site_features.Shape(polygon=zones.read_zone_geometry(form["geometry"]))
    return None


def _parsed(value: Any) -> dict[str, Any] | None:
    """A GeoJSON geometry sent back by the page (to show it again), or None."""
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if value else None
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) and "type" in parsed else None


def _map(geometry: Any | None, center: tuple[float, float] | None = None) -> MapPage:
    if center:
        return build_map(center=center, zoom=17, height="100%", layer_names=CONTEXT_LAYERS)
    return build_map(height="100%", layer_names=CONTEXT_LAYERS)


@bp.post("/shape-file")
@roles_required(*OFFICIAL_ROLES)
def shape_file() -> tuple[Response, int]:
    """A file with one shape → `{"geometry": GeoJSON (lon/lat), "crs", "warnings"}` to put
    on the map before saving (a polygon checked and repaired like a zone's, or a point),
    or 4xx `{"error", "message"}`. Nothing is saved."""
    lang = current_lang()
    try:
        missing = InputError("Choose a file.", "Hãy chọn tệp.")
        with one_upload(MAX_UPLOAD_BYTES, _too_big, missing, "kinds-") as path:
            found = zones.read_zone_file(path)
        shape = found.geometry
        warnings: list[tuple[str, str]] = []
        if shape.geom_type not in ("Point", "MultiPoint"):
            wkb, warnings = site_features.check_area(shape, ("shape", "hình"))
            shape = shapely.from_wkb(wkb)
        elif shape.geom_type == "MultiPoint":
            shape = shape.geoms[0]
    except HeritageError as error:
        log.info("shape file refused: %s", error.log_message)
        return jsonify(error.to_json(lang)), error.status
    def pick(pair: tuple[str, str]) -> str:
        return pair[1] if lang == "vi" else pair[0]

    return jsonify({"geometry": mapping(shape),
                    "crs": {"crs": found.crs, "notes": [pick(n) for n in found.notes]},
                    "warnings": [pick(w) for w in warnings]}), 200


def _too_big() -> InputError:
    return InputError("The file is larger than 5 MB: keep only the one shape.",
                      "Tệp lớn hơn 5 MB: hãy chỉ giữ lại một hình cần lưu.")


# --- landscapes and facilities -------------------------------------------------------------

def _kind(kind_name: str) -> site_features.Kind:
    return site_features.kind_of(kind_name)


def _field_choices(kind: site_features.Kind) -> dict[str, list[tuple[str, str]]]:
    lang = current_lang()
    out: dict[str, list[tuple[str, str]]] = {}
    for f in kind.fields:
        if f.kind == "choice":
            out[f.name] = ([(c, vocab.label(f.vocab, c, lang) if f.vocab else c)
                            for c in f.choices] if f.choices
                           else site_features.facility_kinds(get_session(), lang))
    return out


@bp.get("/<any(landscapes, facilities):kind_name>")
@roles_required(*OFFICIAL_ROLES)
def feature_list(kind_name: str) -> str:
    kind = _kind(kind_name)
    relic = request.args.get("relic", "").strip() or None
    rows = site_features.listing(get_session(), current_user, kind_name, relic=relic,
                                 unit_id=_unit_arg())
    return render_template("kinds/feature_list.html", kind=kind, kind_name=kind_name,
                           rows=rows, relic=relic, unit=_unit_arg(), communes=_communes(),
                           choices=_field_choices(kind))


def _feature_page(kind_name: str, values: dict[str, Any], item: dict[str, Any] | None, *,
                  relic: str = "", message: str | None = None, status: int = 200,
                  center: tuple[float, float] | None = None) -> tuple[str, int]:
    kind = _kind(kind_name)
    lang = current_lang()
    geometry = _parsed(values.get("geometry")) or (item["geometry"] if item else None)
    if center is None and relic:
        center = site_features.relic_lat_lon(get_session(), relic)
    config = {"mode": "either" if kind.points else "polygon", "geometry": geometry,
              "lang": lang, "text": _map_texts(), "upload_url": url_for(".shape_file")}
    return render_template(
        "kinds/feature_form.html", kind=kind, kind_name=kind_name, values=values, item=item,
        relic=relic, message=message, map=_map(geometry, center), geoman=GEOMAN,
        config=config, choices=_field_choices(kind), form=CsrfForm(),
        fields=[(f, f.text(lang)) for f in kind.fields]), status


def _map_texts() -> dict[str, str]:
    return {"draw_first_vertex": _("Tap or click to place the first corner"),
            "draw_continue": _("Tap or click to add a corner"),
            "draw_finish": _("Tap the first corner to finish"),
            "no_shape": _("No shape yet: draw one, type coordinates or upload a file."),
            "kept": _("The saved shape, unchanged."),
            "changed": _("New shape: it will be saved."),
            "marker": _("Position"),
            "reading_file": _("Reading the file…"),
            "file_crs": _("Coordinate system of the file"),
            "err_network": _("The server could not be reached; try again."),
            "err_too_big": _("The file is larger than 5 MB; keep only the one shape.")}


def _submitted(kind: site_features.Kind) -> dict[str, Any]:
    values = {f.name: request.form.get(f.name, "") for f in kind.fields}
    for key in ("geometry", "shape_mode", "position_mode", "lon", "lat", "east", "north"):
        values[key] = request.form.get(key, "")
    return values


@bp.get("/<any(landscapes, facilities):kind_name>/new")
@roles_required(*OFFICIAL_ROLES)
def feature_new(kind_name: str) -> tuple[str, int]:
    kind = _kind(kind_name)
    values: dict[str, Any] = {f.name: "" for f in kind.fields}
    values.update(accuracy="digitised", shape_mode="polygon", position_mode="wgs84")
    relic = request.args.get("relic", "").strip()
    if relic:  # refuse at once a relic the user may not change (nothing to fill in first)
        site_features.check_may_edit(get_session(), current_user,
                                     site_features.find_relic(get_session(), relic))
    return _feature_page(kind_name, values, None, relic=relic)


@bp.post("/<any(landscapes, facilities):kind_name>/new")
@roles_required(*OFFICIAL_ROLES)
@create_once
def feature_create(kind_name: str) -> Response | tuple[str, int]:
    kind = _kind(kind_name)
    db = get_session()
    values = _submitted(kind)
    relic = request.form.get("relic", "")
    try:
        saved = site_features.create(db, current_user, kind_name, relic, values,
                                     _shape(kind.points))
        db.commit()
    except PermissionDenied:
        db.rollback()
        raise
    except HeritageError as error:
        db.rollback()
        log.info("new %s refused: %s", kind.one[0], error.log_message)
        return _feature_page(kind_name, values, None, relic=relic, message=_message(error),
                             status=error.status if error.status < 500 else 400)
    flash(_("Saved."))
    _flash_warnings(saved.warnings)
    return redirect(url_for(".feature_edit", kind_name=kind_name, feature_id=saved.id), 303)


def _editable(kind_name: str, feature_id: int) -> dict[str, Any]:
    db = get_session()
    item = site_features.feature(db, kind_name, feature_id)
    if item["site"] is not None:
        site_features.check_may_edit(db, current_user, item["site"])
    elif current_user.role not in FULL_ACCESS_ROLES:
        raise PermissionDenied("Ask the district reviewer.",
                               "Hãy đề nghị cán bộ thẩm định cấp huyện.")
    return item


def _item_values(item: dict[str, Any]) -> dict[str, Any]:
    """The edit form's fields from a stored landscape or facility."""
    values = {k: ("" if v is None else v) for k, v in item["values"].items()}
    geometry = item["geometry"]
    point = geometry if geometry and geometry["type"] == "Point" else None
    values.update(geometry="", position_mode="wgs84",
                  shape_mode="point" if point else "polygon",
                  lon=point["coordinates"][0] if point else "",
                  lat=point["coordinates"][1] if point else "", east="", north="")
    return values


@bp.get("/<any(landscapes, facilities):kind_name>/<int:feature_id>/edit")
@roles_required(*OFFICIAL_ROLES)
def feature_edit(kind_name: str, feature_id: int) -> tuple[str, int]:
    item = _editable(kind_name, feature_id)
    return _feature_page(kind_name, _item_values(item), item)


@bp.post("/<any(landscapes, facilities):kind_name>/<int:feature_id>/edit")
@roles_required(*OFFICIAL_ROLES)
def feature_save(kind_name: str, feature_id: int) -> Response | tuple[str, int]:
    kind = _kind(kind_name)
    item = _editable(kind_name, feature_id)
    db = get_session()
    values = _submitted(kind)
    try:
        saved = site_features.update(db, current_user, kind_name, feature_id, values,
                                     _shape(kind.points))
        db.commit()
    except PermissionDenied:
        db.rollback()
        raise
    except HeritageError as error:
        db.rollback()
        log.info("edit of %s %s refused: %s", kind.one[0], feature_id, error.log_message)
        return _feature_page(kind_name, values, item, message=_message(error),
                             status=error.status if error.status < 500 else 400)
    flash(_("Saved: %(n)d change(s).", n=len(saved.fields)))
    _flash_warnings(saved.warnings)
    return redirect(url_for(".feature_edit", kind_name=kind_name, feature_id=feature_id), 303)


@bp.post("/<any(landscapes, facilities):kind_name>/<int:feature_id>/delete")
@roles_required(*OFFICIAL_ROLES)
def feature_delete(kind_name: str, feature_id: int) -> Response:
    if not CsrfForm().validate_on_submit():
        flash(_("The form had expired; please try again."), "error")
        return redirect(url_for(".feature_edit", kind_name=kind_name,
                                feature_id=feature_id), 303)
    db = get_session()
    saved = site_features.delete(db, current_user, kind_name, feature_id)
    db.commit()
    flash(_("Removed. Its history keeps it."))
    return redirect(url_for(".feature_list", kind_name=kind_name, relic=saved.site), 303)


@bp.get("/<any(landscapes, facilities):kind_name>/<int:feature_id>/history")
@roles_required(*OFFICIAL_ROLES)
def feature_history(kind_name: str, feature_id: int) -> str:
    found = record_history.feature_history(get_session(), current_user, kind_name,
                                           feature_id, current_lang())
    back = (url_for(".feature_edit", kind_name=kind_name, feature_id=feature_id)
            if _exists(kind_name, feature_id) else None)
    return _history_page(found, back)


def _exists(kind_name: str, feature_id: int) -> bool:
    try:
        site_features.feature(get_session(), kind_name, feature_id)
    except HeritageError:
        return False
    return True


def _history_page(found: record_history.RecordHistory, back: str | None) -> str:
    geo_map = (build_map(layer_names=("communes", "rivers", "roads"), height="280px")
               if found.geometries else None)
    return render_template("kinds/history.html", history=found, geo_map=geo_map, back=back)


# --- intangible heritage -------------------------------------------------------------------

def _ich_choices() -> list[tuple[str, str]]:
    lang = current_lang()
    return [(c, vocab.label("ich_type", c, lang)) for c in ICH_TYPES]


@bp.get("/intangible")
@roles_required(*OFFICIAL_ROLES)
def intangible_list() -> str:
    status = request.args.get("status", "").strip() or None
    relic = request.args.get("relic", "").strip() or None
    rows = intangible.listing(get_session(), relic=relic, unit_id=_unit_arg(),
                              status=status if status in ("draft", "published") else None)
    return render_template("kinds/intangible_list.html", rows=rows, relic=relic,
                           unit=_unit_arg(), status=status, communes=_communes(),
                           may_edit=current_user.role in FULL_ACCESS_ROLES)


def _intangible_page(values: dict[str, Any], item: dict[str, Any] | None, *,
                     message: str | None = None, status: int = 200) -> tuple[str, int]:
    lang = current_lang()
    geometry = _parsed(values.get("geometry")) or (item["geometry"] if item else None)
    return render_template(
        "kinds/intangible_form.html", values=values, item=item, message=message,
        map=_map(geometry), geoman=GEOMAN, form=CsrfForm(),
        config={"mode": "polygon", "geometry": geometry, "lang": lang, "text": _map_texts(),
                "upload_url": url_for(".shape_file")},
        fields={f.name: f.text(lang) for f in intangible.FIELDS},
        event_fields={f.name: f.text(lang) for f in intangible.EVENT_FIELDS},
        artisan_fields={f.name: f.text(lang) for f in intangible.ARTISAN_FIELDS},
        titles=intangible.ARTISAN_TITLES, ich_types=_ich_choices()), status


def _intangible_submitted() -> dict[str, Any]:
    values = {f.name: request.form.get(f.name, "") for f in intangible.FIELDS}
    values["geometry"] = request.form.get("geometry", "")
    values["clear_places"] = bool(request.form.get("clear_places"))
    return values


def _places() -> Any | None:
    from_file = _upload_shape()
    if from_file is not None:
        return from_file
    drawn = request.form.get("geometry", "")
    return zones.read_zone_geometry(drawn) if drawn.strip() else None


@bp.get("/intangible/new")
@roles_required(REVIEWER)
def intangible_new() -> tuple[str, int]:
    return _intangible_page({f.name: "" for f in intangible.FIELDS}, None)


@bp.post("/intangible/new")
@roles_required(REVIEWER)
@create_once
def intangible_create() -> Response | tuple[str, int]:
    db = get_session()
    values = _intangible_submitted()
    try:
        saved = intangible.create(db, current_user, values, _places())
        db.commit()
    except HeritageError as error:
        db.rollback()
        return _intangible_page(values, None, message=_message(error),
                                status=error.status if error.status < 500 else 400)
    flash(_("Draft %(id)s created: publish it when it is ready.", id=saved.heritage_id))
    _flash_warnings(saved.warnings)
    return redirect(url_for(".intangible_edit", heritage_id=saved.heritage_id), 303)


@bp.get("/intangible/<heritage_id>/edit")
@roles_required(REVIEWER)
def intangible_edit(heritage_id: str) -> tuple[str, int]:
    item = intangible.record(get_session(), heritage_id)
    values = {k: ("" if v is None else v) for k, v in item["values"].items()}
    values["geometry"] = ""
    return _intangible_page(values, item)


@bp.post("/intangible/<heritage_id>/edit")
@roles_required(REVIEWER)
def intangible_save(heritage_id: str) -> Response | tuple[str, int]:
    db = get_session()
    item = intangible.record(db, heritage_id)
    values = _intangible_submitted()
    try:
        saved = intangible.update(db, current_user, heritage_id, values, _places(),
                                  clear_places=values["clear_places"])
        db.commit()
    except HeritageError as error:
        db.rollback()
        return _intangible_page(values, item, message=_message(error),
                                status=error.status if error.status < 500 else 400)
    flash(_("Saved: %(n)d change(s).", n=len(saved.fields)))
    _flash_warnings(saved.warnings)
    return _back(heritage_id)


def _back(heritage_id: str, anchor: str | None = None) -> Response:
    return redirect(url_for(".intangible_edit", heritage_id=heritage_id,
                            _anchor=anchor), 303)


def _act(heritage_id: str, anchor: str, action: Callable[[Any], Any], done: str) -> Response:
    """Run a small change from the edit page (CSRF checked), flash the outcome, go back.
    Refusals of the role are raised (403); bad input is flashed."""
    if not CsrfForm().validate_on_submit():
        flash(_("The form had expired; please try again."), "error")
        return _back(heritage_id, anchor)
    db = get_session()
    try:
        action(db)
        db.commit()
    except PermissionDenied:
        db.rollback()
        raise
    except HeritageError as error:
        db.rollback()
        if error.status >= 500:
            raise
        flash(_message(error), "error")
        return _back(heritage_id, anchor)
    flash(done)
    return _back(heritage_id, anchor)


@bp.post("/intangible/<heritage_id>/publish")
@roles_required(REVIEWER)
def intangible_publish(heritage_id: str) -> Response:
    status = "draft" if request.form.get("to") == "draft" else "published"
    return _act(heritage_id, "status",
                lambda db: intangible.set_status(db, current_user, heritage_id, status),
                _("Published: the public now sees it and its festival dates.")
                if status == "published" else _("Back to draft: the public no longer sees it."))


@bp.post("/intangible/<heritage_id>/sites")
@roles_required(REVIEWER)
def intangible_add_site(heritage_id: str) -> Response:
    relic = request.form.get("relic", "")
    return _act(heritage_id, "relics",
                lambda db: intangible.add_site(db, current_user, heritage_id, relic),
                _("Relic added."))


@bp.post("/intangible/<heritage_id>/sites/<relic>/remove")
@roles_required(REVIEWER)
def intangible_remove_site(heritage_id: str, relic: str) -> Response:
    return _act(heritage_id, "relics",
                lambda db: intangible.remove_site(db, current_user, heritage_id, relic),
                _("Relic removed from the list."))


def _event_form() -> dict[str, str]:
    return {key: request.form.get(key, "") for key in (
        "name_vi", "name_en", "lunar_month", "lunar_day", "solar_date", "duration_days",
        "relic")}


@bp.post("/intangible/<heritage_id>/events")
@roles_required(REVIEWER)
def intangible_add_event(heritage_id: str) -> Response:
    raw = _event_form()
    return _act(heritage_id, "events",
                lambda db: intangible.add_event(db, current_user, heritage_id, raw),
                _("Festival date added."))


@bp.post("/intangible/<heritage_id>/events/<int:event_id>")
@roles_required(REVIEWER)
def intangible_save_event(heritage_id: str, event_id: int) -> Response:
    raw = _event_form()
    return _act(heritage_id, "events",
                lambda db: intangible.update_event(db, current_user, heritage_id, event_id,
                                                   raw),
                _("Festival date saved."))


@bp.post("/intangible/<heritage_id>/events/<int:event_id>/remove")
@roles_required(REVIEWER)
def intangible_remove_event(heritage_id: str, event_id: int) -> Response:
    return _act(heritage_id, "events",
                lambda db: intangible.remove_event(db, current_user, heritage_id, event_id),
                _("Festival date removed."))


def _artisan_form() -> dict[str, str]:
    return {key: request.form.get(key, "") for key in ("full_name", "title", "notes")}


@bp.post("/intangible/<heritage_id>/artisans")
@roles_required(REVIEWER)
def intangible_add_artisan(heritage_id: str) -> Response:
    raw = _artisan_form()
    return _act(heritage_id, "artisans",
                lambda db: intangible.add_artisan(db, current_user, heritage_id, raw),
                _("Artisan added."))


@bp.post("/intangible/<heritage_id>/artisans/<int:person_id>")
@roles_required(REVIEWER)
def intangible_save_artisan(heritage_id: str, person_id: int) -> Response:
    raw = _artisan_form()
    return _act(heritage_id, "artisans",
                lambda db: intangible.update_artisan(db, current_user, heritage_id,
                                                     person_id, raw),
                _("Artisan saved."))


@bp.post("/intangible/<heritage_id>/artisans/<int:person_id>/remove")
@roles_required(REVIEWER)
def intangible_remove_artisan(heritage_id: str, person_id: int) -> Response:
    return _act(heritage_id, "artisans",
                lambda db: intangible.remove_artisan(db, current_user, heritage_id,
                                                     person_id),
                _("Artisan removed from the list."))


@bp.get("/intangible/<heritage_id>/history")
@roles_required(REVIEWER)
def intangible_history(heritage_id: str) -> str:
    found = record_history.intangible_history(get_session(), current_user, heritage_id,
                                              current_lang())
    return _history_page(found, url_for(".intangible_edit", heritage_id=heritage_id))
