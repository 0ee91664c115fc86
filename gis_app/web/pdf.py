"""Printable pages as PDF (WeasyPrint): the zone-check report and the annual report.

Rendering takes seconds of CPU: each worker process renders one PDF at a time (others
wait up to RENDER_WAIT seconds, then get a 503 asking to retry), and a page whose HTML
is unchanged is served from a cache on disk (`PDF_CACHE_DIR`) instead of rendered again.
A page whose HTML takes seconds to build (the annual report) is cached by a key known
before building it (`keyed_pdf_response`: what the page shows depends on nothing else),
so it is built and rendered once per key, whichever worker serves it.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Response, current_app, request

from gis_app.errors import HeritageError

RENDER_WAIT = 60  # seconds
CACHE_FILES = 500  # kept at most; the oldest go first
_RENDERING = threading.BoundedSemaphore(1)


class RenderingBusy(HeritageError):
    status = 503
    code = "busy"


def _cache_dir() -> Path:
    return Path(current_app.config["PDF_CACHE_DIR"])


def _render(html: str) -> bytes:
    from weasyprint import HTML  # heavy import (pango): only when a PDF is asked for

    if not _RENDERING.acquire(timeout=RENDER_WAIT):
        raise RenderingBusy("PDF rendering is busy; try again in a minute.",
                            "Máy chủ đang bận tạo PDF; hãy thử lại sau một phút.")
    try:
        return HTML(string=html, base_url=request.url_root, url_fetcher=_no_fetch).write_pdf()
    finally:
        _RENDERING.release()


def _cached(html: str) -> bytes:
    """The PDF of `html`, from the cache when the same HTML was rendered before."""
    return _cached_as(hashlib.sha256(html.encode()).hexdigest(), lambda: html)


def _cached_as(name: str, make_html: Callable[[], str]) -> bytes:
    """The PDF cached as `name`, else `make_html()` rendered and kept as `name`."""
    folder = _cache_dir()
    path = folder / (name + ".pdf")
    try:
        return path.read_bytes()
    except OSError:
        pass
    body = _render(make_html())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.replace(tmp, path)
        _prune(folder)
    except OSError:
        pass  # a cache that cannot be written only costs a render next time
    return body


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.pdf"), key=lambda p: p.stat().st_mtime)
    for old in files[:max(0, len(files) - CACHE_FILES)]:
        old.unlink(missing_ok=True)


def pdf_response(html: str, filename: str, *, cache: bool = False) -> Response:
    """`html` (self-contained: inline CSS and SVG) rendered to an inline PDF download.
    Nothing is fetched while rendering. `cache`: keep the PDF for the same HTML."""
    body = _cached(html) if cache else _render(html)
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


def keyed_pdf_response(key: Iterable[Any], templates: Iterable[str],
                       make_html: Callable[[], str], filename: str) -> Response:
    """Like `pdf_response`, for a page whose content is fixed by `key` (e.g. year,
    language, data version, day): served from the cache when a PDF was made for the
    same key with the same `templates` (their source is part of the key, so a changed
    template is rendered anew); otherwise `make_html()` is built and rendered once."""
    sources = [current_app.jinja_env.loader.get_source(current_app.jinja_env, name)[0]
               for name in templates] if current_app.jinja_env.loader else []
    digest = hashlib.sha256()
    for part in [*map(str, key), *sources]:
        digest.update(part.encode())
        digest.update(b"\0")
    body = _cached_as("k-" + digest.hexdigest(), make_html)
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _no_fetch(url: str, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"refused to fetch {url} while rendering a PDF")
