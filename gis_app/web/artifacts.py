"""The officials' artifact register: add an artifact and edit every field of it, record
the year's inventory, conservation actions and digital records the plan's indicators a1,
a2, a3 and b count, correct or withdraw those records, curate the photos and documents,
and (district reviewers) approve or send back a commune editor's artifact."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import text
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from gis_app import vocab
from gis_app.auth import roles_required
from gis_app.clock import today_in_vietnam
from gis_app.db import get_session
from gis_app.errors import HeritageError, InputError, PermissionDenied
from gis_app.i18n import current_lang
from gis_app.models.base import ARTIFACT_KINDS, ARTIFACT_ORIGINS, CONSERVATION_KINDS
from gis_app.services import artifacts, digital_records
from gis_app.services.features import FULL_ACCESS_ROLES, OFFICIAL_ROLES
from gis_app.web.form_safety import create_once
from gis_app.web.site_media import DigitalRecordForm, curate_record, edit_forms

bp = Blueprint("artifacts", __name__, url_prefix="/officials/artifacts")


def _choices(name: str, codes: tuple[str, ...], blank: bool = False) -> list[tuple[str, str]]:
    labels = vocab.labels(name, current_lang())
    return ([("", "–")] if blank else []) + [(c, labels.get(c, c)) for c in codes]


class ArtifactForm(FlaskForm):
    """Every field of an artifact (the lengths and lists are checked again, once, by
    services.artifacts.check_fields)."""

    name_vi = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    other_names = StringField(_l("Other names"), validators=[Optional(), Length(max=300)])
    kind = SelectField(_l("Kind"))
    holding_site_id = SelectField(_l("Held at"), coerce=int)
    inventory_code = StringField(_l("Inventory code"), validators=[Optional(), Length(max=40)])
    origin = SelectField(_l("Origin"), validators=[Optional()])
    period = StringField(_l("Period"), validators=[Optional(), Length(max=200)])
    material = StringField(_l("Material"), validators=[Optional(), Length(max=200)])
    dimensions = StringField(_l("Dimensions"), validators=[Optional(), Length(max=200)])
    weight_kg = StringField(_l("Weight (kg)"), validators=[Optional(), Length(max=20)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    state_of_preservation = TextAreaField(_l("State of preservation"),
                                          validators=[Optional(), Length(max=2000)])
    typical_value = BooleanField(_l("Of typical value"))
    at_risk = BooleanField(_l("At risk"))
    # Unticked (and absent) = public, so an artifact is public unless someone says not.
    private = BooleanField(_l("Keep off public pages"))

    def fields_for_service(self) -> dict[str, Any]:
        fields = {name: getattr(self, name).data for name in artifacts.COLUMNS
                  if name != "public"}
        return {**fields, "public": not self.private.data}


class FlagsForm(FlaskForm):
    typical_value = BooleanField(_l("Of typical value"))
    at_risk = BooleanField(_l("At risk"))


class InventoryForm(FlaskForm):
    inventoried_on = DateField(_l("Inventory date"), validators=[DataRequired()])
    notes = StringField(_l("Notes"), validators=[Optional(), Length(max=1000)])


class ConservationForm(FlaskForm):
    kind = SelectField(_l("Kind"))
    performed_on = DateField(_l("Date"), validators=[DataRequired()])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=1000)])


class InventoryCorrectionForm(InventoryForm):
    reason = StringField(_l("Reason for the correction"),
                         validators=[DataRequired(), Length(max=1000)])


class ConservationCorrectionForm(ConservationForm):
    reason = StringField(_l("Reason for the correction"),
                         validators=[DataRequired(), Length(max=1000)])


def _artifact_form(**kwargs: Any) -> ArtifactForm:
    form = ArtifactForm(**kwargs)
    form.kind.choices = _choices("artifact_kind", ARTIFACT_KINDS)
    form.origin.choices = _choices("artifact_origin", ARTIFACT_ORIGINS, blank=True)
    form.holding_site_id.choices = [
        (s["id"], f'{s["name_vi"]} ({s["heritage_id"]})')
        for s in artifacts.holding_sites(get_session(), current_user)]
    return form


def _forms() -> dict[str, FlaskForm]:
    conservation = ConservationForm(prefix="c")
    conservation.kind.choices = _choices("conservation_kind", CONSERVATION_KINDS)
    return {"inventory_form": InventoryForm(prefix="i"), "conservation_form": conservation,
            "media_form": DigitalRecordForm(prefix="m"), "flags_form": FlagsForm(prefix="f")}


def _is_reviewer() -> bool:
    return current_user.role in FULL_ACCESS_ROLES


@bp.get("/")
@roles_required(*OFFICIAL_ROLES)
def index() -> str:
    """The register; `?state=waiting`: the artifacts waiting for review only."""
    year = today_in_vietnam().year
    waiting = request.args.get("state") == "waiting"
    return render_template("artifacts/index.html", year=year, waiting=waiting,
                           items=artifacts.list_artifacts(get_session(), current_user, year,
                                                          waiting=waiting),
                           form=_artifact_form())


def _saved_message() -> str:
    if artifacts.needs_review(current_user):
        return _("Saved. The public sees the artifact once a district reviewer approves it.")
    return _("Saved.")


@bp.post("/")
@roles_required(*OFFICIAL_ROLES)
@create_once
def create() -> str | Response | tuple[str, int]:
    form = _artifact_form()
    db = get_session()
    error = None
    _refuse_relic_outside_scope(db, request.form.get("holding_site_id"))
    if form.validate_on_submit():
        try:
            new_id = artifacts.create_artifact(db, current_user, **form.fields_for_service())
            db.commit()
            flash(_("The artifact was recorded.") + " " + _saved_message())
            return redirect(url_for(".show", artifact_id=new_id), 303)
        except HeritageError as exc:
            db.rollback()
            if exc.status != 400:
                raise
            error = exc
    year = today_in_vietnam().year
    return render_template("artifacts/index.html", year=year, form=form, error=error,
                           waiting=False,
                           items=artifacts.list_artifacts(db, current_user, year)), 400


def _refuse_relic_outside_scope(db: Any, value: str | None) -> None:
    """403 (not a form error) when the chosen holding relic exists but lies outside the
    user's communes: the same answer every write endpoint gives another commune."""
    if not value or not value.isdigit():
        return
    if any(site["id"] == int(value) for site in artifacts.holding_sites(db, current_user)):
        return
    if db.scalar(text("SELECT 1 FROM sites WHERE id = :s"), {"s": int(value)}):
        raise PermissionDenied("You may not record artifacts at that relic: it is outside "
                               "your communes",
                               "Bạn không được ghi hiện vật tại di tích này: di tích nằm "
                               "ngoài các xã của bạn")


@bp.get("/<int:artifact_id>")
@roles_required(*OFFICIAL_ROLES)
def show(artifact_id: int, error: HeritageError | None = None,
         forms: dict[str, FlaskForm] | None = None) -> str:
    item = artifacts.get_artifact(get_session(), current_user, artifact_id)
    forms = forms or _forms()
    forms["flags_form"].typical_value.data = item["typical_value"]
    forms["flags_form"].at_risk.data = item["at_risk"]
    kinds = _choices("conservation_kind", CONSERVATION_KINDS)
    return render_template("artifacts/show.html", item=item, error=error,
                           reviewer=_is_reviewer(), conservation_kinds=kinds,
                           edit_forms=edit_forms(item["media"]),
                           records_base=url_for(".show", artifact_id=artifact_id), **forms)


@bp.route("/<int:artifact_id>/edit", methods=["GET", "POST"])
@roles_required(*OFFICIAL_ROLES)
def edit(artifact_id: int) -> str | Response | tuple[str, int]:
    """Every field of the artifact on one form; a commune editor's change waits for
    review."""
    db = get_session()
    item = artifacts.get_artifact(db, current_user, artifact_id)
    if request.method == "GET":
        form = _artifact_form(data={**{c: item[c] for c in artifacts.COLUMNS},
                                    "origin": item["origin"] or "",
                                    "private": not item["public"],
                                    "weight_kg": _weight_text(item["weight_kg"])})
        return render_template("artifacts/edit.html", item=item, form=form, error=None)
    form = _artifact_form()
    error = None
    if form.validate_on_submit():
        try:
            changed = artifacts.update_artifact(db, current_user, artifact_id,
                                                **form.fields_for_service())
            db.commit()
            flash(_saved_message() if changed else _("Nothing was changed."))
            return redirect(url_for(".show", artifact_id=artifact_id), 303)
        except HeritageError as exc:
            db.rollback()
            if exc.status != 400:
                raise
            error = exc
    return render_template("artifacts/edit.html", item=item, form=form, error=error), 400


def _weight_text(weight: Any) -> str:
    """A stored weight as typed back into the form (no trailing zeros)."""
    if weight is None:
        return ""
    text = format(weight.normalize(), "f")
    return text.replace(".", ",") if current_lang() == "vi" else text


@bp.post("/<int:artifact_id>/review/<any(approve, send_back):action>")
@roles_required(*OFFICIAL_ROLES)
def review(artifact_id: int, action: str) -> Response:
    """Approve a waiting artifact, or send it back with a comment (district reviewers)."""
    db = get_session()
    try:
        if action == "approve":
            artifacts.approve_artifact(db, current_user, artifact_id)
        else:
            artifacts.send_back_artifact(db, current_user, artifact_id,
                                         request.form.get("comment", ""))
        db.commit()
        flash(_("Approved: the public sees it if it is public.") if action == "approve"
              else _("Sent back to its editor with your comment."))
    except InputError as exc:
        db.rollback()
        flash(exc.user_message(current_lang()))
    return redirect(url_for(".show", artifact_id=artifact_id), 303)


def _record(artifact_id: int, action: str) -> str | Response | tuple[str, int]:
    """Run one of the page's forms; back to the page with a message either way."""
    forms = _forms()
    form = forms[f"{action}_form"]
    db = get_session()
    if not form.validate_on_submit():
        return show(artifact_id, forms=forms), 400
    try:
        if action == "inventory":
            artifacts.record_inventory(db, current_user, artifact_id,
                                       inventoried_on=form.inventoried_on.data,
                                       notes=form.notes.data)
        elif action == "conservation":
            artifacts.record_conservation(db, current_user, artifact_id, kind=form.kind.data,
                                          performed_on=form.performed_on.data,
                                          description=form.description.data)
        elif action == "flags":
            artifacts.set_flags(db, current_user, artifact_id,
                                typical_value=form.typical_value.data,
                                at_risk=form.at_risk.data)
        else:
            artifacts.add_digital_record(db, current_user, artifact_id,
                                         **form.record_fields())
        db.commit()
    except HeritageError as exc:
        db.rollback()
        if exc.status != 400:
            raise
        return show(artifact_id, error=exc, forms=forms), 400
    if action == "flags":
        flash(_saved_message())
    elif action == "media" and digital_records.needs_review(current_user, "artifact"):
        flash(_("Saved. The public sees it once a district reviewer approves it."))
    else:
        flash(_("Saved."))
    return redirect(url_for(".show", artifact_id=artifact_id), 303)


@bp.post("/<int:artifact_id>/<any(inventory, conservation, media, flags):action>")
@roles_required(*OFFICIAL_ROLES)
@create_once
def record(artifact_id: int, action: str) -> str | Response | tuple[str, int]:
    return _record(artifact_id, action)


@bp.post("/<int:artifact_id>/<any(inventory, conservation):kind>/<int:record_id>/"
         "<any(correct, withdraw):action>")
@roles_required(*OFFICIAL_ROLES)
def fix_record(artifact_id: int, kind: str, record_id: int, action: str) -> Response:
    """Correct an inventory record or conservation action (its fields, with a reason), or
    withdraw it with a reason; the page says what happened or why not."""
    db = get_session()
    artifacts.editable(db, current_user, artifact_id)  # 404/403 before reading the form
    try:
        if action == "withdraw":
            artifacts.withdraw_record(db, current_user, artifact_id, kind, record_id,
                                      request.form.get("reason", ""))
        elif kind == "inventory":
            form = InventoryCorrectionForm(prefix=f"ir{record_id}", meta={"csrf": False})
            if not form.validate():
                raise _form_error(form)
            artifacts.correct_inventory(db, current_user, artifact_id, record_id,
                                        inventoried_on=form.inventoried_on.data,
                                        notes=form.notes.data, reason=form.reason.data)
        else:
            form = ConservationCorrectionForm(prefix=f"cr{record_id}", meta={"csrf": False})
            form.kind.choices = _choices("conservation_kind", CONSERVATION_KINDS)
            if not form.validate():
                raise _form_error(form)
            artifacts.correct_conservation(db, current_user, artifact_id, record_id,
                                           kind=form.kind.data,
                                           performed_on=form.performed_on.data,
                                           description=form.description.data,
                                           reason=form.reason.data)
        db.commit()
        flash(_("Withdrawn: it no longer counts.") if action == "withdraw"
              else _("Corrected."))
    except InputError as exc:
        db.rollback()
        flash(exc.user_message(current_lang()))
    return redirect(url_for(".show", artifact_id=artifact_id), 303)


def _form_error(form: FlaskForm) -> InputError:
    """What is wrong with a correction form, said once for the flash message."""
    labels = ", ".join(str(getattr(form, name).label.text) for name in form.errors)
    return InputError(f"Check these fields: {labels} (a valid date and a reason are needed).",
                      f"Hãy kiểm tra: {labels} (cần ngày hợp lệ và lý do).")


@bp.post("/<int:artifact_id>/records/<int:record_id>/<action>")
@roles_required(*OFFICIAL_ROLES)
def curate(artifact_id: int, record_id: int, action: str) -> Response:
    """Edit, move, remove, restore, approve or reject a photo or document of an artifact
    (district reviewers; services.digital_records)."""
    artifacts.get_artifact(get_session(), current_user, artifact_id)
    curate_record("artifact", artifact_id, record_id, action)
    return redirect(url_for(".show", artifact_id=artifact_id), 303)
