"""Sign-in and sign-out for officials and editors."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from gis_app import vocab
from gis_app.auth import sign_in, sign_out
from gis_app.db import get_session
from gis_app.errors import TooManyAttempts
from gis_app.i18n import current_lang
from gis_app.models import AdminUnit
from gis_app.services import accounts

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=80)])
    password = PasswordField(validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site after sign-in. Control characters
    and spaces are refused outright: browsers drop them, so `/\t/evil.example` would
    become the scheme-relative `//evil.example`."""
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target and target.isprintable() and " " not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("auth.account")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db = get_session()
        wait = accounts.sign_in_wait(db, form.username.data, request.remote_addr)
        if wait:  # refused unchecked, and recorded: the administrator sees who keeps trying
            accounts.record_sign_in(db, form.username.data, None, request.remote_addr)
            db.commit()
            log.warning("sign-in for %r refused: too many failures", form.username.data)
            raise TooManyAttempts(
                f"Too many failed sign-ins for this account or from this computer; try "
                f"again in {wait} minutes, or ask an administrator.",
                f"Đăng nhập sai quá nhiều lần với tài khoản này hoặc từ máy này; hãy thử "
                f"lại sau {wait} phút, hoặc liên hệ quản trị viên.")
        user = accounts.authenticate(db, form.username.data, form.password.data)
        accounts.record_sign_in(db, form.username.data, user, request.remote_addr)
        if user is not None:
            sign_in(user, request.remote_addr)
        db.commit()
        if user is not None:
            log.info("user %s signed in", user.username)
            return redirect(_safe_next(request.args.get("next")))
        log.warning("failed sign-in for %r", form.username.data)
        error = _("Wrong username or password.")
    elif request.method == "POST":
        error = _("The form expired or is incomplete; please try again.")
    return render_template("auth/login.html", form=form, error=error), 200 if error is None \
        else 401


@bp.post("/logout")
def logout() -> Response:
    sign_out()
    get_session().commit()
    return redirect(url_for("public.index"))


@bp.get("/account")
@login_required
def account() -> str:
    units = [u.name for u in (get_session().get(AdminUnit, s.admin_unit_id)
                              for s in current_user.scopes) if u is not None]
    return render_template("auth/account.html", units=units,
                           role_label=vocab.label("role", current_user.role, current_lang()))
