"""The officials' artifact register: add an artifact, and record the year's inventory,
conservation actions and digital records the plan's indicators a1, a2, a3 and b count."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from gis_app import vocab
from gis_app.auth import roles_required
from gis_app.clock import today_in_vietnam
from gis_app.db import get_session
from gis_app.errors import HeritageError
from gis_app.i18n import current_lang
from gis_app.models.base import ARTIFACT_KINDS, ARTIFACT_ORIGINS, CONSERVATION_KINDS
from gis_app.services import artifacts
from gis_app.services.features import OFFICIAL_ROLES
from gis_app.web.form_safety import create_once
from gis_app.web.site_media import DigitalRecordForm

bp = Blueprint("artifacts", __name__, url_prefix="/officials/artifacts")


def _choices(name: str, codes: tuple[str, ...], blank: bool = False) -> list[tuple[str, str]]:
    labels = vocab.labels(name, current_lang())
    return ([("", "–")] if blank else []) + [(c, labels.get(c, c)) for c in codes]


class ArtifactForm(FlaskForm):
    name_vi = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind"))
    holding_site_id = SelectField(_l("Held at"), coerce=int)
    inventory_code = StringField(_l("Inventory code"), validators=[Optional(), Length(max=40)])
    origin = SelectField(_l("Origin"), validators=[Optional()])
    period = StringField(_l("Period"), validators=[Optional(), Length(max=200)])
    material = StringField(_l("Material"), validators=[Optional(), Length(max=200)])
    dimensions = StringField(_l("Dimensions"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    typical_value = BooleanField(_l("Of typical value"))
    at_risk = BooleanField(_l("At risk"))


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


def _artifact_form() -> ArtifactForm:
    form = ArtifactForm()
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


@bp.get("/")
@roles_required(*OFFICIAL_ROLES)
def index() -> str:
    year = today_in_vietnam().year
    return render_template("artifacts/index.html", year=year,
                           items=artifacts.list_artifacts(get_session(), current_user, year),
                           form=_artifact_form())


@bp.post("/")
@roles_required(*OFFICIAL_ROLES)
@create_once
def create() -> str | Response:
    form = _artifact_form()
    db = get_session()
    error = None
    if form.validate_on_submit():
        try:
            new_id = artifacts.create_artifact(
                db, current_user, name_vi=form.name_vi.data, kind=form.kind.data,
                holding_site_id=form.holding_site_id.data, origin=form.origin.data,
                inventory_code=form.inventory_code.data, period=form.period.data,
                material=form.material.data, dimensions=form.dimensions.data,
                description=form.description.data, typical_value=form.typical_value.data,
                at_risk=form.at_risk.data)
            db.commit()
            flash(_("The artifact was recorded."))
            return redirect(url_for(".show", artifact_id=new_id), 303)
        except HeritageError as exc:
            db.rollback()
            error = exc
    year = today_in_vietnam().year
    return render_template("artifacts/index.html", year=year, form=form, error=error,
                           items=artifacts.list_artifacts(db, current_user, year)), 400


@bp.get("/<int:artifact_id>")
@roles_required(*OFFICIAL_ROLES)
def show(artifact_id: int, error: HeritageError | None = None,
         forms: dict[str, FlaskForm] | None = None) -> str:
    item = artifacts.get_artifact(get_session(), current_user, artifact_id)
    forms = forms or _forms()
    forms["flags_form"].typical_value.data = item["typical_value"]
    forms["flags_form"].at_risk.data = item["at_risk"]
    return render_template("artifacts/show.html", item=item, error=error, **forms)


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
        return show(artifact_id, error=exc, forms=forms), 400
    flash(_("Saved."))
    return redirect(url_for(".show", artifact_id=artifact_id), 303)


@bp.post("/<int:artifact_id>/<any(inventory, conservation, media, flags):action>")
@roles_required(*OFFICIAL_ROLES)
@create_once
def record(artifact_id: int, action: str) -> str | Response | tuple[str, int]:
    return _record(artifact_id, action)
