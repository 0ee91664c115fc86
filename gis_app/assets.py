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
- Bundles (`BUNDLES`): files a page's first view needs all of, served as one request
  at `/bundles/<name>?v=<hash>` (`url_for('bundle', name=...)`): on a phone network each
  request costs a round trip of 150 ms or more, so the home map's four style sheets and
  four scripts are two requests. Relative `url(...)` references in bundled CSS are
  rewritten to the file's folder under `static/`.

Flask-Compress, not WhiteNoise: WhiteNoise serves static files only (the pages and the
GeoJSON API, the bulk of the bytes, would stay uncompressed) and is not installable
here; Flask-Compress covers every response and brings brotli.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import posixpath
import re
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
LEAFLET = "vendor/leaflet-1.9.4"
MARKERCLUSTER = "vendor/leaflet.markercluster-1.5.3"
# name -> the files under static/ it joins, in order (the order the page linked them).
BUNDLES: dict[str, tuple[str, ...]] = {
    "home.css": ("css/site.css", f"{LEAFLET}/leaflet.css",
                 f"{MARKERCLUSTER}/MarkerCluster.css", "css/map.css"),
    "home.js": (f"{LEAFLET}/leaflet.js", f"{MARKERCLUSTER}/leaflet.markercluster.js",
                "js/heritage-map.js", "js/tourist-map.js"),
}
BUNDLE_TYPES = {".css": "text/css", ".js": "text/javascript"}
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


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


# Images referenced by bundled CSS up to this size are written into it (data: URLs, which
# the CSP's img-src allows): Leaflet's layer-control icon would be a request of its own.
INLINE_IMAGE_MAX = 2048
IMAGE_TYPES = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml"}


def rewrite_css_urls(css: str, path: str, fingerprints: dict[str, str],
                     folder: Path | None = None) -> str:
    """CSS of static file `path` with its relative url(...) references pointing from
    /bundles/ to the file's folder under /static/ (fingerprinted when known); with the
    static `folder`, small images are written in as data: URLs instead."""
    here = posixpath.dirname(path)

    def fix(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#", "/", "http:", "https:")):
            return match.group(0)
        target = posixpath.normpath(posixpath.join(here, ref))
        kind = IMAGE_TYPES.get(posixpath.splitext(target)[1].lower())
        if folder is not None and kind and (folder / target).is_file() \
                and (folder / target).stat().st_size <= INLINE_IMAGE_MAX:
            data = base64.b64encode((folder / target).read_bytes()).decode("ascii")
            return f'url("data:{kind};base64,{data}")'
        version = fingerprints.get(target)
        suffix = f"?{FINGERPRINT_ARG}={version}" if version else ""
        return f'url("../static/{target}{suffix}")'

    return CSS_URL.sub(fix, css)


def build_bundle(folder: Path, name: str, files: tuple[str, ...],
                 fingerprints: dict[str, str]) -> bytes:
    """The files of bundle `name` joined, each introduced by a comment naming it."""
    parts = []
    for path in files:
        body = (folder / path).read_text(encoding="utf-8")
        if name.endswith(".css"):
            body = rewrite_css_urls(body, path, fingerprints, folder)
            parts.append(f"/* {path} */\n{body}\n")
        else:  # a statement boundary, whatever the file ends with
            parts.append(f"/* {path} */\n{body}\n;\n")
    return "".join(parts).encode("utf-8")


class StaticAssets:
    """Fingerprints of the files under a static folder and their compressed bodies."""

    def __init__(self, folder: Path) -> None:
        started = time.perf_counter()
        self.folder = folder
        self.fingerprints = fingerprint_tree(folder)
        # (file, its ETag (mtime-size-checksum), encoding) -> compressed body
        self._compressed: dict[tuple[str, str, str], bytes] = {}
        self.bundles = {name: build_bundle(folder, name, files, self.fingerprints)
                        for name, files in BUNDLES.items()
                        if all((folder / f).is_file() for f in files)}
        self.bundle_fingerprints = {name: hashlib.sha256(body).hexdigest()[:12]
                                    for name, body in self.bundles.items()}
        log.info("fingerprinted %d static files in %.2f s", len(self.fingerprints),
                 time.perf_counter() - started)

    def add_fingerprint(self, endpoint: str, values: dict[str, object]) -> None:
        """`url_defaults` hook: `url_for('static', filename=f)` gains `v=<hash of f>`
        (and `url_for('bundle', name=b)` the hash of the bundle)."""
        if endpoint == "bundle" and FINGERPRINT_ARG not in values:
            name = values.get("name")
            if isinstance(name, str) and name in self.bundle_fingerprints:
                values[FINGERPRINT_ARG] = self.bundle_fingerprints[name]
            return
        if endpoint != "static" or FINGERPRINT_ARG in values:
            return
        filename = values.get("filename")
        if isinstance(filename, str) and filename in self.fingerprints:
            values[FINGERPRINT_ARG] = self.fingerprints[filename]

    def serve_bundle(self, name: str) -> Response:
        """A bundle, cached for a year when asked with its current hash."""
        body = self.bundles.get(name)
        if body is None:
            return Response("No such bundle.\n", status=404, mimetype="text/plain")
        response = Response(body, mimetype=BUNDLE_TYPES[Path(name).suffix])
        response.set_etag(self.bundle_fingerprints[name])
        fingerprinted = request.args.get(FINGERPRINT_ARG) == self.bundle_fingerprints[name]
        response.headers["Cache-Control"] = IMMUTABLE if fingerprinted else REVALIDATE
        self._compress(response, f"bundle:{name}")  # answers 304 itself when it encodes
        if "Content-Encoding" not in response.headers:
            response.make_conditional(request)
        return response

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
    app.add_url_rule("/bundles/<name>", "bundle", assets.serve_bundle)
    # Registered after Flask-Compress, so it runs before it (after_request runs in
    # reverse): Flask-Compress then leaves the already encoded static bodies alone.
    app.after_request(assets.after_request)
