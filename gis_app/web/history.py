"""A relic's history page for officials: who changed what and when, field by field, with
geometry changes on a small map; the relic as it stood on a date (`?as_of=YYYY-MM-DD`);
and, for district reviewers and admins, restoring it to that date as a new revision, or
undoing its latest retirement (`reinstate`, also offered on the retired relic's 410 page).
The pages call `services.history`, as the CLI verbs `records history|restore` do.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import Length, Optional

from gis_app.auth import roles_required
from gis_app.clock import VIETNAM_TIME
from gis_app.db import get_session
from gis_app.errors import HeritageError, InputError
from gis_app.i18n import current_lang
from gis_app.maps import build_map
from gis_app.services import history
from gis_app.services.features import FULL_ACCESS_ROLES

log = logging.getLogger(__name__)
bp = Blueprint("history", __name__, url_prefix="/officials/records")


class RestoreForm(FlaskForm):
    """The version to put back: the end of a day (`as_of`) or just before one change of
    the history (`before`, the change's moment)."""

    as_of = StringField(validators=[Optional(), Length(max=10)])
    before = StringField(validators=[Optional(), Length(max=40)])


@bp.get("/<heritage_id>/history")
@roles_required("commune_editor", "district_reviewer")
def show(heritage_id: str) -> str:
    db, lang = get_session(), current_lang()
    found = history.relic_history(db, current_user, heritage_id, lang)
    on, before = history.parse_version(request.args.get("as_of"), request.args.get("before"))
    snapshot = plan = None
    as_of_error = refusal = None
    if on is not None:
        try:
            snapshot = history.as_of(db, current_user, heritage_id, on, lang, before)
        except InputError as error:
            as_of_error = error.user_message(lang)
        if snapshot is not None and current_user.role in FULL_ACCESS_ROLES:
            try:
                plan = history.restore_plan(db, heritage_id, on, lang, before)[1]
            except InputError as error:
                refusal = error.user_message(lang)
    geo_map = None
    if found.geometries:
        geo_map = build_map(layer_names=("communes", "rivers", "roads"), height="280px")
    before_label = (before.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M") if before
                    else None)
    return render_template("history/relic.html", history=found, on=on, before=before,
                           before_label=before_label,
                           snapshot=snapshot,
                           plan=plan, refusal=refusal, as_of_error=as_of_error,
                           geo_map=geo_map, restore_form=RestoreForm(),
                           reinstate_form=ReinstateForm(),
                           may_restore=current_user.role in FULL_ACCESS_ROLES)


@bp.post("/<heritage_id>/restore")
@roles_required("district_reviewer")
def restore(heritage_id: str) -> Response:
    form = RestoreForm()
    back = url_for("history.show", heritage_id=heritage_id)
    if not form.validate_on_submit():
        flash(_("Choose the date to restore (YYYY-MM-DD)."), "error")
        return redirect(back, 303)
    db = get_session()
    try:
        on, before = history.parse_version(form.as_of.data, form.before.data)
        if on is None:
            raise InputError("Choose the date to restore.", "Hãy chọn ngày cần khôi phục.")
        done = history.restore(db, current_user, heritage_id, on, current_lang(), before)
        db.commit()
    except HeritageError as error:
        db.rollback()
        flash(error.user_message(current_lang()), "error")
        version = ({"before": form.before.data} if form.before.data
                   else {"as_of": form.as_of.data})
        return redirect(url_for("history.show", heritage_id=heritage_id, **version), 303)
    flash(_restored_message(done, before))
    return redirect(back, 303)


class ReinstateForm(FlaskForm):
    """CSRF only."""


@bp.post("/<heritage_id>/reinstate")
@roles_required("district_reviewer")
def reinstate(heritage_id: str) -> Response:
    """Undo the relic's latest retirement (services.history.reinstate); offered on the
    retired relic's page and its history to district reviewers and admins."""
    back = url_for("history.show", heritage_id=heritage_id)
    if not ReinstateForm().validate_on_submit():
        flash(_("The form had expired; please try again."), "error")
        return redirect(back, 303)
    db = get_session()
    try:
        done = history.reinstate(db, current_user, heritage_id, current_lang())
        db.commit()
    except HeritageError as error:
        db.rollback()
        flash(error.user_message(current_lang()), "error")
        return redirect(back, 303)
    flash(_restored_message(done))
    return redirect(url_for("public.site_page", heritage_id=heritage_id), 303)


def _restored_message(done: history.Restored, before: datetime | None = None) -> str:
    if before is not None:
        message = _("Restored to the record just before the change of %(moment)s: "
                    "%(fields)s.", moment=before.astimezone(VIETNAM_TIME).strftime(
                        "%d/%m/%Y %H:%M"), fields=", ".join(done.fields))
    else:
        message = _("Restored to the version of %(date)s: %(fields)s.",
                    date=done.as_of.strftime("%d/%m/%Y"), fields=", ".join(done.fields))
    if done.unretired and done.zones_reopened:
        message += " " + _("The relic is live again (un-retired); %(n)d protection zone(s) "
                           "are in force again.", n=done.zones_reopened)
    elif done.unretired:
        message += " " + _("The relic is live again (un-retired).")
    return message

