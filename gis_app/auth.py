"""Sign-in (Flask-Login), CSRF (Flask-WTF) and role checks for blueprints."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, session
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from gis_app.db import get_session
from gis_app.errors import PermissionDenied
from gis_app.models import User
from gis_app.services import accounts

login_manager = LoginManager()
csrf = CSRFProtect()


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The active account of this session id (`User.get_id`), or None: a disabled
    account, or a session opened before the password was last reset, is signed out."""
    user_id = session_id.partition(":")[0]
    if not user_id.isdigit():
        return None
    db = get_session()
    user = db.get(User, int(user_id))
    if user is None or not user.active or user.get_id() != session_id:
        return None
    if not accounts.session_open(db, user.id, session.get(SESSION_TOKEN)):
        return None  # signed out (here or by an administrator) since this cookie was made
    return user


SESSION_TOKEN = "sid"


def sign_in(user: User, client_ip: str | None) -> None:
    """Sign `user` in on this browser: a server-side session (ended by signing out) and
    Flask-Login's cookie. The caller commits."""
    session[SESSION_TOKEN] = accounts.start_session(get_session(), user, client_ip)
    login_user(user)


def sign_out() -> None:
    """End this browser's session for good, then forget it. The caller commits."""
    accounts.end_session(get_session(), session.pop(SESSION_TOKEN, None))
    logout_user()


def current_role() -> str | None:
    """The signed-in user's role, or None for the public."""
    return current_user.role if current_user.is_authenticated else None


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow a view only to signed-in users with one of `roles` (admin always)."""
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in (*roles, "admin"):
                raise PermissionDenied("Your account's role may not open this page",
                                       "Vai trò của tài khoản không được mở trang này")
            return view(*args, **kwargs)
        return wrapped
    return decorator


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    csrf.init_app(app)
