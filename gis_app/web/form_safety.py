"""Forms survive what goes wrong between the browser and the server.

- Saved once: every form that creates a record carries a one-time token
  (`{{ form_token() }}` in the template, `@create_once` on the view). The same submission
  arriving twice (a double click, a retry, a re-post after signing in again) creates one
  record; the second arrival is sent to the first one's result.
- Typed values kept: a form POSTed without a valid session (signed out, a form left open
  past its CSRF token's life) is not lost. Its fields are kept (`services.submissions`),
  the official signs in again if needed and comes back to the form filled in, with a note
  to check it and save (files must be attached again: they are not kept).
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.wrappers import Response

from gis_app.auth import login_manager
from gis_app.db import get_session
from gis_app.services import submissions

log = logging.getLogger(__name__)

TOKEN_FIELD = "form_token"
RESUME_ARG = "resume"
NOT_KEPT = {"csrf_token"}  # never stored, never put back (nor any field named *password*)


def form_token() -> Markup:
    """The hidden one-time token of a record-creating form (a template global)."""
    return Markup(f'<input type="hidden" name="{TOKEN_FIELD}" value="{uuid.uuid4()}">')


def create_once(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a record-creating POST view at most once per form token.

    The token is claimed in the request's database session before the view runs, so it
    is committed with the record, or rolled back with it when the view refuses the input
    (the corrected form can then be sent again). A duplicate is redirected (303) to where
    the first submission led, with a note that nothing was saved twice. Put it under the
    role check, so that a refused user claims nothing.
    """
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = submissions.parse_token(request.form.get(TOKEN_FIELD))
        if token is None:
            return view(*args, **kwargs)
        db = get_session()
        user_id = current_user.id if current_user.is_authenticated else None
        first = submissions.claim(db, token, user_id, request.endpoint or request.path)
        if first is not None:
            db.rollback()
            log.info("duplicate submission of %s (token %s) not saved again", request.path,
                     token)
            flash(_("This form had already been saved; it was not saved a second time."))
            return redirect(first or _form_page(), 303)
        response = view(*args, **kwargs)
        location = getattr(response, "location", None)
        if location and 300 <= getattr(response, "status_code", 0) < 400:
            db = get_session()
            submissions.finish(db, token, _local(location) or _form_page())
            db.commit()
        return response
    return wrapped


def _local(url: str) -> str | None:
    """The path (and query) of `url` when it points into this site, else None."""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _form_page() -> str:
    """The page the POSTed form was on: the referring page of this site, else the POST's
    own path (most forms are shown at the URL they post to)."""
    referrer = _local(request.referrer or "")
    return referrer or request.path


def _keep_typed_values() -> str:
    """Store the POSTed fields for the form page; the URL of that page with the draft."""
    page = _form_page()
    path, _sep, query = page.partition("?")
    data: dict[str, list[str]] = {}
    for name in request.form:
        if name not in NOT_KEPT and "password" not in name.lower():
            data[name] = request.form.getlist(name)
    had_files = any(f and f.filename for f in request.files.values())
    db = get_session()
    draft = submissions.save_draft(db, path, data, had_files)
    db.commit()
    kept = [p for p in query.split("&") if p and not p.startswith(f"{RESUME_ARG}=")]
    return path + "?" + "&".join([*kept, f"{RESUME_ARG}={draft}"])


def _is_browser_form_post() -> bool:
    return request.method == "POST" and bool(request.form) and not (
        request.path.startswith("/api/") or request.is_json)


def handle_csrf_error(error: CSRFError) -> Any:
    """A form POSTed with a missing or expired CSRF token: most often the session was lost
    (signed out elsewhere, the form left open for hours). Keep what was typed and bring the
    user back to the form (its page asks to sign in first when it needs to)."""
    if request.endpoint == "auth.login" and request.method == "POST":
        flash(_("The sign-in form had expired; please sign in again."))
        return redirect(url_for("auth.login", **request.args), 303)
    if not _is_browser_form_post():
        from gis_app.web.errors import handle_http_error

        return handle_http_error(error)
    log.warning("form on %s posted without a valid session (%s); typed values kept",
                request.path, error.description)
    return redirect(_keep_typed_values(), 303)


def handle_unauthorized() -> Response:
    """Flask-Login's answer to a signed-out user: the sign-in page, coming back to the page
    afterwards; a form POSTed while signed out comes back with what was typed."""
    if _is_browser_form_post():
        return redirect(url_for("auth.login", next=_keep_typed_values()), 303)
    target = request.path + (f"?{request.query_string.decode()}" if request.query_string
                             else "")
    return redirect(url_for("auth.login", next=target))


def resumed_form() -> dict[str, Any] | None:
    """The typed values to put back into this page's form (a template global), or None."""
    draft_id = request.args.get(RESUME_ARG)
    if not draft_id:
        return None
    return submissions.get_draft(get_session(), draft_id, request.path)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    login_manager.unauthorized_handler(handle_unauthorized)
    app.add_template_global(form_token)
    app.add_template_global(resumed_form)
