"""One handler renders every error as JSON (API) or HTML (pages)."""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from gis_app.errors import HeritageError
from gis_app.i18n import current_lang

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best in ("application/json", "application/geo+json"))


def _render(status: int, code: str, message: str) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify({"error": code, "message": message}), status
    return render_template("error.html", status=status, title=_title(status),
                           message=message), status


def _title(status: int) -> str:
    return {400: _("The request cannot be understood"), 403: _("Not allowed"),
            404: _("Not found"), 405: _("Not allowed"), 410: _("No longer in the register"),
            413: _("Too large"),
            422: _("Nothing was imported")}.get(status, _("Something went wrong"))


def _http_message(error: HTTPException) -> str:
    """What to tell the user, in the page's language. Werkzeug's own descriptions are
    English: they are replaced; a description a view gave on purpose is kept."""
    if error.description and error.description != type(error).description:
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
        response = make_response(*_render(error.status, error.code,
                                          error.user_message(current_lang())))
    # A record's answer may change (a retired relic restored: 410 -> 200, a draft
    # published: 404 -> 200); browsers would otherwise keep a 410 without asking again.
    response.headers["Cache-Control"] = "no-cache"
    return response


def handle_http_error(error: HTTPException) -> tuple[Response | str, int]:
    status = error.code or 500
    return _render(status, (error.name or "error").lower().replace(" ", "_"),
                   _http_message(error))


def handle_unexpected(error: Exception) -> tuple[Response | str, int]:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _render(500, "internal_error",
                   _("An unexpected error happened; it has been logged."))


def init_app(app: Flask) -> None:
    app.register_error_handler(HeritageError, handle_heritage_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
