"""The administrator's pages for accounts (/admin/users): the list with role, communes,
status and last sign-in; create an account; change its role and communes; disable or
enable it; reset its password; its latest sign-ins and what was done to it.

Administrators only: the public is sent to sign in, other roles get 403. A new or reset
password is shown once, on the page answering the form, never stored in the session
cookie or a flash message, and that page is not cached.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from gis_app import vocab
from gis_app.auth import roles_required, sign_in
from gis_app.clock import VIETNAM_TIME
from gis_app.db import get_session
from gis_app.errors import HeritageError
from gis_app.i18n import current_lang
from gis_app.models.base import ROLES
from gis_app.services import accounts, scopes

bp = Blueprint("admin", __name__, url_prefix="/admin/users")


# Values are checked by services.accounts (bilingual messages); the form only parses.
class _UnitsAndRole(FlaskForm):
    role = SelectField(_l("Role"), validate_choice=False)
    units = SelectMultipleField(_l("Communes"), coerce=int, validate_choice=False)


class PasswordForm(FlaskForm):
    password_choice = RadioField(_l("Password"), default="generate", validate_choice=False,
                                 choices=[("generate", _l("Make one up (shown once)")),
                                          ("typed", _l("Type one"))])
    password = PasswordField(_l("Password to give"))

    def chosen_password(self) -> str | None:
        """The typed password, or None to make one up."""
        return (self.password.data or "") if self.password_choice.data == "typed" else None


class AccountForm(_UnitsAndRole, PasswordForm):
    username = StringField(_l("Username"),
                           validators=[DataRequired(message=_l("Type a username."))])
    display_name = StringField(_l("Display name"), validators=[
        Optional(), Length(max=200, message=_l("At most 200 characters."))])


class RoleForm(_UnitsAndRole):
    pass


class ActionForm(FlaskForm):
    """A button: the CSRF token only."""


def _prepare(form: _UnitsAndRole) -> _UnitsAndRole:
    form.role.choices = [(r, vocab.label("role", r, current_lang())) for r in ROLES]
    return form


def _units_wanted(form: _UnitsAndRole) -> list[int]:
    """The ticked communes; other roles than commune editor have none, so ticks left
    from an earlier choice of role do not count."""
    return list(form.units.data or []) if form.role.data == "commune_editor" else []


@bp.app_template_filter("vn_time")
def vn_time(value: datetime | None) -> str:
    """A timestamp in Vietnam time, dd/mm/yyyy hh:mm."""
    return value.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M") if value else ""


def _no_store(body: str, status: int = 200) -> Response:
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _index(form: AccountForm, error: HeritageError | None = None) -> str:
    db = get_session()
    return render_template("admin/users.html", users=accounts.list_users(db), form=form,
                           units=accounts.scope_choices(db), error=error)


@bp.get("")
@roles_required("admin")
def index() -> str:
    form = _prepare(AccountForm())
    form.role.data = form.role.data or "commune_editor"
    return _index(form)


@bp.post("")
@roles_required("admin")
def create() -> str | Response | tuple[str, int]:
    form = _prepare(AccountForm())
    if not form.validate_on_submit():
        return _index(form), 400
    db = get_session()
    password = form.chosen_password() or accounts.generate_password()
    try:
        user = accounts.create_user(db, form.username.data, password, form.role.data,
                                    form.display_name.data, unit_ids=_units_wanted(form),
                                    actor=current_user)
        db.commit()
    except HeritageError as exc:
        db.rollback()
        return _index(form, exc), 400
    return _no_store(render_template("admin/password.html", user=user, password=password,
                                     created=True), 201)


def _show(user_id: int, role_form: RoleForm | None = None,
          password_form: PasswordForm | None = None,
          error: HeritageError | None = None) -> str:
    db = get_session()
    user = accounts.get_user(db, user_id)
    if role_form is None:
        role_form = _prepare(RoleForm(prefix="r"))
        role_form.role.data = user.role
        role_form.units.data = [s.admin_unit_id for s in user.scopes]
    return render_template(
        "admin/user.html", user=user, role_form=role_form,
        password_form=password_form or PasswordForm(prefix="p"), action_form=ActionForm(),
        units=accounts.scope_choices(db), covered=scopes.covered_units(db, user.id),
        sign_ins=accounts.sign_ins(db, user.id),
        changes=accounts.account_changes(db, user.id), error=error)


@bp.get("/<int:user_id>")
@roles_required("admin")
def show(user_id: int) -> str:
    return _show(user_id)


@bp.post("/<int:user_id>/role")
@roles_required("admin")
def set_role(user_id: int) -> str | Response | tuple[str, int]:
    form = _prepare(RoleForm(prefix="r"))
    db = get_session()
    if not form.validate_on_submit():
        return _show(user_id, role_form=form), 400
    try:
        accounts.set_role(db, current_user, user_id, form.role.data, _units_wanted(form))
        db.commit()
    except HeritageError as exc:
        db.rollback()
        return _show(user_id, role_form=form, error=exc), 400
    flash(_("Role and communes saved."))
    return redirect(url_for(".show", user_id=user_id), 303)


@bp.post("/<int:user_id>/<any(disable, enable):action>")
@roles_required("admin")
def set_active(user_id: int, action: str) -> str | Response | tuple[str, int]:
    db = get_session()
    if not ActionForm().validate_on_submit():
        return _show(user_id), 400
    try:
        accounts.set_active(db, current_user, user_id, action == "enable")
        db.commit()
    except HeritageError as exc:
        db.rollback()
        return _show(user_id, error=exc), 400
    flash(_("The account was enabled.") if action == "enable"
          else _("The account was disabled; its sessions have ended."))
    return redirect(url_for(".show", user_id=user_id), 303)


@bp.post("/<int:user_id>/password")
@roles_required("admin")
def reset_password(user_id: int) -> str | Response | tuple[str, int]:
    form = PasswordForm(prefix="p")
    db = get_session()
    if not form.validate_on_submit():
        return _show(user_id, password_form=form), 400
    try:
        password = accounts.reset_password(db, current_user, user_id, form.chosen_password())
        db.commit()
        if user_id == current_user.id:  # keep the administrator's own session going
            sign_in(current_user._get_current_object(), request.remote_addr)
            db.commit()
    except HeritageError as exc:
        db.rollback()
        return _show(user_id, password_form=form, error=exc), 400
    return _no_store(render_template("admin/password.html", user=accounts.get_user(db, user_id),
                                     password=password, created=False))
