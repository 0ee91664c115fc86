"""The reviewer's life-cycle actions on a relic: publish a draft (or all the drafts of an
import), retire it with a reason, merge a duplicate into its survivor. The pages call
`services.lifecycle`, as the CLI verbs do; every change is a revision under the reviewer.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from gis_app.auth import roles_required
from gis_app.db import get_session
from gis_app.errors import HeritageError
from gis_app.i18n import current_lang
from gis_app.models.relics import ENDED_STATUS, SITE_STATUS
from gis_app.services import admin_units, lifecycle

log = logging.getLogger(__name__)
bp = Blueprint("records", __name__, url_prefix="/officials/records")
REVIEWER = "district_reviewer"


class PublishForm(FlaskForm):
    """CSRF only."""


class RetireForm(FlaskForm):
    reason = TextAreaField(validators=[DataRequired(), Length(max=lifecycle.MAX_REASON)])
    decision = StringField(validators=[Optional(), Length(max=200)])


class MergeForm(FlaskForm):
    into = StringField(validators=[DataRequired(), Length(max=40)])


@bp.app_template_global("record_action_forms")
def forms() -> dict[str, FlaskForm]:
    """The empty forms of the relic page's action panel (templates/records/_actions.html)."""
    return {"publish_form": PublishForm(), "retire_form": RetireForm(prefix="retire"),
            "merge_form": MergeForm(prefix="merge")}


def _done(action: Callable[[Session], Any], message: Callable[[Any], str], back: str,
          back_on_refusal: str | None = None) -> Response:
    """Run `action(db)`, commit and say `message(result)`; on refusal say why (nothing
    changes) and go back to `back_on_refusal` (default `back`)."""
    db = get_session()
    try:
        result = action(db)
        db.commit()
    except HeritageError as error:
        db.rollback()
        flash(error.user_message(current_lang()), "error")
        return redirect(back_on_refusal or back, 303)
    flash(message(result))
    return redirect(back, 303)


def _invalid(back: str) -> Response:
    flash(_("The form is incomplete: give the reason (and the identifier to merge into)."),
          "error")
    return redirect(back, 303)


@bp.post("/<heritage_id>/publish")
@roles_required(REVIEWER)
def publish(heritage_id: str) -> Response:
    back = url_for("public.site_page", heritage_id=heritage_id)
    if not PublishForm().validate_on_submit():
        return _invalid(back)
    return _done(lambda db: lifecycle.publish(db, current_user, [heritage_id]),
                 lambda _n: _("The relic is published: the public now sees it."), back)


@bp.post("/<heritage_id>/retire")
@roles_required(REVIEWER)
def retire(heritage_id: str) -> Response:
    back = url_for("public.site_page", heritage_id=heritage_id)
    form = RetireForm(prefix="retire")
    if not form.validate_on_submit():
        return _invalid(back)
    return _done(lambda db: lifecycle.retire(db, current_user, heritage_id, form.reason.data,
                                             form.decision.data),
                 lambda _n: _("The relic is retired: its page now says why."), back)


@bp.post("/<heritage_id>/merge")
@roles_required(REVIEWER)
def merge(heritage_id: str) -> Response:
    form = MergeForm(prefix="merge")
    if not form.validate_on_submit():
        return _invalid(url_for("public.site_page", heritage_id=heritage_id))
    into = form.into.data.strip().upper()
    return _done(lambda db: lifecycle.merge(db, current_user, heritage_id, into),
                 lambda _moved: _("Merged: the duplicate's page now leads here."),
                 url_for("public.site_page", heritage_id=into),
                 url_for("public.site_page", heritage_id=heritage_id))


@bp.post("/import/<int:import_id>/publish")
@roles_required(REVIEWER)
def publish_import(import_id: int) -> Response:
    back = url_for("imports.show", import_id=import_id)
    if not PublishForm().validate_on_submit():
        return _invalid(back)
    return _done(lambda db: lifecycle.publish_import(db, current_user, import_id),
                 lambda n: _("%(n)d relic(s) of this import published.", n=n), back)


# --- the register as a list, with actions on the chosen relics ---------------------------

BULK_ACTIONS = ("publish", "retire", "custodian")


class BulkForm(FlaskForm):
    """CSRF; the chosen relics and the action's values are read from the form."""


@bp.get("/")
@roles_required(REVIEWER)
def register() -> str:
    """Every relic still in the register, filtered, with actions on the chosen ones."""
    db = get_session()
    args = request.args
    status = args.get("status") if args.get("status") in SITE_STATUS else None
    unit = args.get("unit", type=int)
    import_id = args.get("import", type=int)
    rows = lifecycle.register_list(db, current_user.role, status=status, unit_id=unit,
                                   import_id=import_id, query=args.get("q"))
    units = admin_units.current_communes(db)
    return render_template("records/list.html", rows=rows, units=units, status=status,
                           unit=unit, import_id=import_id, query=args.get("q", ""),
                           statuses=[s for s in SITE_STATUS if s not in ENDED_STATUS],
                           organisations=lifecycle.organisations(db), form=BulkForm(),
                           limit=lifecycle.LIST_LIMIT)


@bp.post("/bulk")
@roles_required(REVIEWER)
def bulk() -> Response:
    back = request.form.get("back") or url_for(".register")
    if not back.startswith("/officials/records") or "//" in back:
        back = url_for(".register")
    if not BulkForm().validate_on_submit():
        return _invalid(back)
    chosen = request.form.getlist("relic")
    action = request.form.get("action")
    if action not in BULK_ACTIONS or not chosen:
        flash(_("Choose one or more relics and an action."), "error")
        return redirect(back, 303)
    if action == "publish":
        return _done(lambda db: lifecycle.publish(db, current_user, chosen),
                     lambda n: _("%(n)d relic(s) published.", n=n), back)
    if action == "retire":
        return _done(lambda db: lifecycle.retire_many(
                         db, current_user, chosen, request.form.get("reason", ""),
                         request.form.get("decision")),
                     lambda n: _("%(n)d relic(s) retired.", n=n), back)
    return _done(lambda db: lifecycle.assign_custodian(
                     db, current_user, chosen, request.form.get("organisation", type=int),
                     request.form.get("new_organisation")),
                 lambda n: _("Custodian assigned to %(n)d relic(s).", n=n), back)
