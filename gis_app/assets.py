"""Static assets and responses for slow phones: fingerprinted URLs, long-lived caching,
compression.

- Every file under `static/` is hashed once at start-up; `url_for('static',
  filename=...)` then adds `?v=<hash>` (a `url_defaults` hook), so a changed file gets
  a new URL. A request whose `v` is the file's current hash is cached for a year as
  `immutable`; any other static request is `no-cache` (revalidated with its ETag).
- Static text files (JS, CSS, SVG, JSON) are compressed once per file version, with
  brotli at its best quality or gzip, whichever the browser prefers, and kept in memory.
- Everything else the app sends (HTML, JSON, GeoJSON, XML) is compressed per response by
  Flask-Compress (brotli or gzip; streamed responses chunk by chunk).

Flask-Compress, not WhiteNoise: WhiteNoise serves static files only (the pages and the
GeoJSON API, the bulk of the bytes, would stay uncompressed) and is not installable
here; Flask-Compress covers every response and brings brotli.
"""
from __future__ import annotations

import gzip
import hashlib
import logging
import time
from pathlib import Path

import brotli
from flask import Flask, Response, request
from flask_compress import Compress

log = logging.getLogger(__name__)

EXT = "gis_assets"
FINGERPRINT_ARG = "v"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Smaller bodies gain nothing from compression (headers and framing dominate).
MIN_SIZE = 500
TEXT_TYPES = frozenset({
    "text/html", "text/css", "text/plain", "text/xml", "text/csv", "text/calendar",
    "text/javascript", "application/javascript", "application/x-javascript",
    "application/json", "application/geo+json", "application/manifest+json",
    "application/xml", "application/xhtml+xml", "image/svg+xml", "image/x-icon",
    "application/vnd.mapbox-vector-tile",
    "image/vnd.microsoft.icon", "font/ttf", "font/otf",
})
ENCODINGS = ("br", "gzip")


def fingerprint(path: Path) -> str:
    """The first 12 hex digits of the SHA-256 of the file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def fingerprint_tree(folder: Path) -> dict[str, str]:
    """{path relative to `folder` with '/' separators: fingerprint} for every file."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): fingerprint(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def compress(data: bytes, encoding: str) -> bytes:
    """`data` compressed with 'br' (quality 11) or 'gzip' (level 9): static files are
    compressed once per version, so the slowest, smallest setting pays off."""
    if encoding == "br":
        return brotli.compress(data, quality=11)
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=9, mtime=0)
    raise ValueError(f"unknown encoding {encoding!r}")


def choose_encoding(accept_encoding: str) -> str | None:
    """'br' or 'gzip', whichever the Accept-Encoding header rates higher (br on a tie),
    or None if it accepts neither."""
    best: tuple[float, int, str] | None = None
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        candidates = ENCODINGS if name == "*" else (name,)
        for candidate in candidates:
            if candidate in ENCODINGS and quality > 0:
                rank = (quality, -ENCODINGS.index(candidate), candidate)
                best = rank if best is None or rank > best else best
    return best[2] if best else None


class StaticAssets:
    """Fingerprints of the files under a static folder and their compressed bodies."""

    def __init__(self, folder: Path) -> None:
        started = time.perf_counter()
        self.folder = folder
        self.fingerprints = fingerprint_tree(folder)
        # (file, its ETag (mtime-size-checksum), encoding) -> compressed body
        self._compressed: dict[tuple[str, str, str], bytes] = {}
        log.info("fingerprinted %d static files in %.2f s", len(self.fingerprints),
                 time.perf_counter() - started)

    def add_fingerprint(self, endpoint: str, values: dict[str, object]) -> None:
        """`url_defaults` hook: `url_for('static', filename=f)` gains `v=<hash of f>`."""
        if endpoint != "static" or FINGERPRINT_ARG in values:
            return
        filename = values.get("filename")
        if isinstance(filename, str) and filename in self.fingerprints:
            values[FINGERPRINT_ARG] = self.fingerprints[filename]

    def after_request(self, response: Response) -> Response:
        """Cache headers and precompressed bodies for the `static` endpoint."""
        if request.endpoint != "static":
            return response
        filename = (request.view_args or {}).get("filename", "")
        current = self.fingerprints.get(filename)
        fingerprinted = current is not None and request.args.get(FINGERPRINT_ARG) == current
        response.headers["Cache-Control"] = IMMUTABLE if fingerprinted else REVALIDATE
        if not fingerprinted:
            response.headers.pop("Expires", None)
        self._compress(response, filename)
        return response

    def _compress(self, response: Response, filename: str) -> None:
        response.vary.add("Accept-Encoding")
        encoding = choose_encoding(request.headers.get("Accept-Encoding", ""))
        if (encoding is None or response.status_code != 200
                or response.mimetype not in TEXT_TYPES
                or "Content-Encoding" in response.headers
                or (response.content_length or 0) < MIN_SIZE):
            return
        etag, _weak = response.get_etag()
        key = (filename, etag or "", encoding)
        body = self._compressed.get(key)
        response.direct_passthrough = False
        if body is None:
            body = compress(response.get_data(), encoding)
            self._compressed[key] = body
        response.set_data(body)
        response.headers["Content-Encoding"] = encoding
        response.headers.pop("Accept-Ranges", None)
        if etag:
            response.set_etag(f"{etag}-{encoding}")
        response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Compress responses (Flask-Compress) and fingerprint, cache and precompress the
    static files of `app`."""
    app.config.setdefault("COMPRESS_MIMETYPES", sorted(TEXT_TYPES))
    app.config.setdefault("COMPRESS_ALGORITHM", list(ENCODINGS))
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", list(ENCODINGS))
    app.config.setdefault("COMPRESS_MIN_SIZE", MIN_SIZE)
    Compress(app)
    assets = StaticAssets(Path(app.static_folder or ""))
    app.extensions[EXT] = assets
    app.url_defaults(assets.add_fingerprint)
    # Registered after Flask-Compress, so it runs before it (after_request runs in
    # reverse): Flask-Compress then leaves the already encoded static bodies alone.
    app.after_request(assets.after_request)
