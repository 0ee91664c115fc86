"""Abuse limits, in one table each: how many requests a client may make to the heavy or
sensitive endpoints (Flask-Limiter, counted per client address and per worker process,
in memory: no extra server; with 2 workers a client gets at most twice the figure), and
how large a request body each endpoint accepts (the app-wide MAX_CONTENT_LENGTH is for
survey uploads). Over a limit: 429 or 413 with the app's own error page or JSON.

Behind nginx set GIS_PROXY_HOPS so that the client address is the client's, not nginx's.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

MB = 1024 * 1024

# endpoint -> (limit, methods). Figures a person at work never reaches; scripts do.
RATE_LIMITS: dict[str, tuple[str, tuple[str, ...]]] = {
    "auth.login": ("30 per minute", ("POST",)),  # per address; per account: accounts.py
    "api_zone_check.check": ("120 per minute", ("POST",)),
    "planning.upload": ("30 per hour", ("POST",)),
    "planning_reports.create_report": ("30 per hour", ("POST",)),
    "planning_reports.repeat_report": ("30 per hour", ("POST",)),
    "planning_reports.bulk_run": ("10 per hour", ("POST",)),
}
# PDFs are rendered on demand: the report page itself is cheap, its .pdf is not.
PDF_LIMIT = "20 per hour"

# endpoint -> largest request body in bytes (a parcel drawn or pasted is kilobytes).
BODY_LIMITS: dict[str, int] = {
    "api_zone_check.check": 2 * MB,
    "planning_reports.create_report": 2 * MB,
    "planning_reports.repeat_report": 64 * 1024,
    "auth.login": 64 * 1024,
    "auth.logout": 64 * 1024,
}

def body_limit() -> None:
    """Lower the request's body limit for the endpoints of BODY_LIMITS (before anything
    reads the body; werkzeug answers 413 beyond it)."""
    limit = BODY_LIMITS.get(request.endpoint or "")
    if limit is not None:
        request.max_content_length = limit


def _not_a_pdf() -> bool:
    return not request.path.lower().endswith(".pdf")


def _wrap(app: Flask, endpoint: str, decorate: Callable) -> None:
    app.view_functions[endpoint] = decorate(app.view_functions[endpoint])


def init_app(app: Flask) -> None:
    """Call before the other before_request hooks (sign-in, CSRF, NUL check) so that a
    flood is refused before any of them reads the body; the view functions must be
    registered already."""
    app.config.setdefault("RATELIMIT_ENABLED", True)
    # One limiter (and one in-memory count) per app.
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://",
                      headers_enabled=True)
    app.extensions["gis_limiter"] = limiter  # the wrapped views hold it only weakly
    hooks = app.before_request_funcs.setdefault(None, [])
    counted = [f for f in hooks if getattr(f, "__self__", None) is limiter]
    for hook in counted:
        hooks.remove(hook)
    hooks[:0] = [*counted, body_limit]  # first: before CSRF and sign-in read anything
    for endpoint, (limit, methods) in RATE_LIMITS.items():
        _wrap(app, endpoint, limiter.limit(limit, methods=list(methods)))
    _wrap(app, "planning_reports.show_report",
          limiter.limit(PDF_LIMIT, exempt_when=_not_a_pdf))
