"""Security headers on every response, and a Content Security Policy without
'unsafe-inline' for scripts.

Inline scripts stay possible for the app's own pages (folium writes each map's script
inline) through a per-request nonce: every `<script` tag of an HTML response the app
renders gets `nonce="…"`. That is safe because the tags come only from templates: any
text a user typed reaches the page escaped (`&lt;script`), and JSON in pages is written
with `tojson`, which escapes `<`. Scripts injected by an attacker have no nonce and do
not run. Styles keep 'unsafe-inline' (Leaflet positions every tile and marker with
inline styles); style injection cannot run code.
"""
from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

SCRIPT_TAG = re.compile(rb"<script(?=[\s>])([^>]*)>", re.IGNORECASE)
# <script type="..."> blocks that hold data (JSON), not code: they need no nonce.
DATA_TYPE = re.compile(rb"""\stype\s*=\s*["']?(?!text/javascript|module|["'\s>])""",
                       re.IGNORECASE)


def _nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _policy(nonce: str, tile_url: str | None) -> str:
    images = ["'self'", "data:", "blob:"]
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        if parts.scheme and parts.netloc:
            host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
            images.append(f"{parts.scheme}://{host}")
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",
        "img-src " + " ".join(images),
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def secure_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    # A 304 carries no CSP: the browser keeps the one stored with the page it reuses,
    # whose nonce matches that page's scripts (a new nonce would block them).
    if response.mimetype == "text/html" and not response.direct_passthrough \
            and not response.is_streamed and response.status_code != 304:
        nonce = _nonce().encode()

        def add_nonce(tag: re.Match[bytes]) -> bytes:
            attributes = tag.group(1)
            if DATA_TYPE.search(attributes) or b"nonce=" in attributes:
                return tag.group(0)
            return b'<script nonce="' + nonce + b'"' + attributes + b">"

        response.set_data(SCRIPT_TAG.sub(add_nonce, response.get_data()))
        headers["Content-Security-Policy"] = _policy(nonce.decode(),
                                                     current_app.config.get("TILE_URL"))
    return response


def init_app(app: Flask) -> None:
    """Register last: after_request hooks run in reverse, so this one sees the page
    before Flask-Compress encodes it."""
    app.after_request(secure_headers)
