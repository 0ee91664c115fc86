"""One handler renders every error as JSON (API) or HTML (pages)."""
from __future__ import annotations

import logging
from html import escape
from typing import Any

import psycopg
from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from psycopg.errors import QueryCanceled
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from gis_app.errors import HeritageError, InputError, RecordGone
from gis_app.i18n import current_lang

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    if "wants_json" in g:  # a view that negotiated its representation (web/ids.py: ?f=)
        return bool(g.wants_json)
    return request.path.startswith(("/api/", "/tiles/", "/tiles.json")) or (
        request.accept_mimetypes.best in ("application/json", "application/geo+json"))


def _render(status: int, code: str, message: str, record: dict[str, Any] | None = None
            ) -> tuple[Response | str, int]:
    """The error page (or JSON); `record`: the retired relic a 410 is about, for the
    reviewer's way back (templates/history/_reinstate.html)."""
    if _wants_json():
        return jsonify({"error": code, "message": message}), status
    return render_template("error.html", status=status, title=_title(status),
                           message=message, record=record), status


def _title(status: int) -> str:
    return {400: _("The request cannot be understood"), 403: _("Not allowed"),
            404: _("Not found"), 405: _("Not allowed"), 410: _("No longer in the register"),
            413: _("Too large"), 429: _("Too many attempts"),
            503: _("The service is unavailable"),
            422: _("Nothing was imported")}.get(status, _("Something went wrong"))


def _http_message(error: HTTPException) -> str:
    """What to tell the user, in the page's language. Werkzeug's own descriptions are
    English: they are replaced; a description a view gave on purpose is kept."""
    if error.description and error.description != type(error).description \
            and error.code != 429:  # Flask-Limiter's description is its English rule
        return error.description
    status = error.code or 500
    messages = {
        400: _("The request cannot be understood. Go back and try again."),
        401: _("Sign in to open this page."),
        403: _("You may not open this page. Sign in with an account that may, or go "
               "back to the map."),
        404: _("There is no page at this address. Check the link, or start again from "
               "the map."),
        405: _("This address cannot be used that way. Open it from a link or a form "
               "of the site."),
        413: _("What you sent is too large. Send a smaller file."),
        429: _("Too many requests. Wait a moment and try again."),
    }
    return messages.get(status, _("Something went wrong on our side. Try again later."))


def handle_heritage_error(error: HeritageError) -> Response:
    log.log(logging.WARNING if error.status < 500 else logging.ERROR, "%s %s: %s",
            request.method, request.path, error.log_message)
    if _wants_json():
        response = make_response(jsonify(error.to_json(current_lang())), error.status)
    else:
        record = error.details if isinstance(error, RecordGone) else None
        response = make_response(*_render(error.status, error.code,
                                          error.user_message(current_lang()), record))
    # A record's answer may change (a retired relic restored: 410 -> 200, a draft
    # published: 404 -> 200); browsers would otherwise keep a 410 without asking again.
    response.headers["Cache-Control"] = "no-cache"
    return response


def handle_http_error(error: HTTPException) -> tuple[Response | str, int]:
    status = error.code or 500
    return _render(status, (error.name or "error").lower().replace(" ", "_"),
                   _http_message(error))


def handle_database_down(error: Exception) -> tuple[Response | str, int]:
    """The database cannot be reached: a 503 that says so. Rendered without the page
    template (which asks the database who is signed in) so that it cannot fail again.
    A query stopped by the public statement timeout is a 503 of its own. (psycopg's
    own errors come from the lean path, db.Database.lean; SQLAlchemy wraps the rest.)"""
    if isinstance(getattr(error, "orig", error), QueryCanceled):
        log.warning("query cancelled (statement timeout) on %s %s", request.method,
                    request.path)
        return _render(503, "timeout", _("This request took too long and was stopped. "
                                         "Narrow it (a smaller area, fewer filters) or try "
                                         "again later."))
    log.error("database unavailable on %s %s: %s", request.method, request.path,
              str(error).splitlines()[0] if str(error) else type(error).__name__)
    try:
        message = _("The heritage database cannot be reached right now. Try again in a "
                    "few minutes; if it lasts, tell the administrator.")
    except Exception:  # noqa: BLE001 - no locale without the request's settings
        message = "The heritage database cannot be reached right now."
    if _wants_json():
        return jsonify({"error": "unavailable", "message": message}), 503
    return Response(
        f"<!doctype html><html lang=\"{current_lang()}\"><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>503</title><h1>503</h1><p>{escape(message)}</p></html>",
        status=503, mimetype="text/html", headers={"Retry-After": "60"}), 503


def refuse_nul_bytes() -> None:
    """A NUL character in the path, the query or a form field is never meaningful and
    PostgreSQL refuses it in text: answer 400 here, once, for every endpoint."""
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values()]
    if any("\x00" in value for value in values):
        raise InputError("The address or the form contains an invisible NUL character; "
                         "remove it and try again.",
                         "Địa chỉ hoặc biểu mẫu có ký tự NUL ẩn; hãy bỏ ký tự đó rồi thử lại.",
                         log="request contains a NUL character")


class SafeJSONProvider(DefaultJSONProvider):
    """JSON nested too deep for the parser is bad input (400), not a crash (500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def handle_unexpected(error: Exception) -> tuple[Response | str, int]:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _render(500, "internal_error",
                   _("An unexpected error happened; it has been logged."))


def init_app(app: Flask) -> None:
    app.json = SafeJSONProvider(app)
    app.before_request(refuse_nul_bytes)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(InterfaceError, handle_database_down)
    app.register_error_handler(psycopg.OperationalError, handle_database_down)
    app.register_error_handler(psycopg.InterfaceError, handle_database_down)
    app.register_error_handler(HeritageError, handle_heritage_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
