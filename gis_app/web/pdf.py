"""Printable pages as PDF (WeasyPrint): the zone-check report and the annual report.

Rendering takes seconds of CPU: each worker process renders one PDF at a time (others
wait up to RENDER_WAIT seconds, then get a 503 asking to retry), and a page whose HTML
is unchanged is served from a cache on disk (`PDF_CACHE_DIR`) instead of rendered again.
A page whose HTML takes seconds to build (the annual report) is cached by a name known
before building it (`cache_name`: what the page shows depends on nothing else); it is
built and rendered once per name by a background job (`render_into_cache`,
`web/report_pdf.py`), never inside a request.
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

from gis_app.errors import HeritageError, NotAvailable

RENDER_WAIT = 60  # seconds
CACHE_FILES = 500  # kept at most; the oldest go first
_RENDERING = threading.BoundedSemaphore(1)


class RenderingBusy(HeritageError):
    status = 503
    code = "busy"


def _cache_dir() -> Path:
    return Path(current_app.config["PDF_CACHE_DIR"])


def _render(html: str, *, wait: float = RENDER_WAIT,
            laid_out: Callable[[], None] | None = None) -> bytes:
    """`html` as PDF bytes; `laid_out()` is called between layout and writing (the two
    halves of the work). Relative URLs resolve against the current request's root."""
    from weasyprint import HTML  # heavy import (pango): only when a PDF is asked for

    if not _RENDERING.acquire(timeout=wait):
        raise RenderingBusy("PDF rendering is busy; try again in a minute.",
                            "Máy chủ đang bận tạo PDF; hãy thử lại sau một phút.")
    try:
        document = HTML(string=html, base_url=request.url_root, url_fetcher=_no_fetch).render()
        if laid_out is not None:
            laid_out()
        body: bytes = document.write_pdf()
        return body
    finally:
        _RENDERING.release()


def _cached(html: str) -> bytes:
    """The PDF of `html`, from the cache when the same HTML was rendered before."""
    return _cached_as(hashlib.sha256(html.encode()).hexdigest(), lambda: html)


def _cached_as(name: str, make_html: Callable[[], str]) -> bytes:
    """The PDF cached as `name`, else `make_html()` rendered and kept as `name`."""
    body = cached(name)
    if body is not None:
        return body
    body = _render(make_html())
    try:
        _keep(name, body)
    except OSError:
        pass  # a cache that cannot be written only costs a render next time
    return body


def cached(name: str) -> bytes | None:
    """The PDF kept as `name` (`cache_name`), or None."""
    try:
        return (_cache_dir() / (name + ".pdf")).read_bytes()
    except OSError:
        return None


def _keep(name: str, body: bytes) -> None:
    folder = _cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.replace(tmp, folder / (name + ".pdf"))
    finally:
        Path(tmp).unlink(missing_ok=True)
    try:
        _prune(folder)
    except OSError:
        pass  # e.g. another worker pruned the same file first: the PDF is kept all the same


def render_into_cache(name: str, html: str, *, wait: float = RENDER_WAIT,
                      laid_out: Callable[[], None] | None = None) -> int:
    """Render `html` and keep it as `name` for `cached`; its size in bytes. For a
    background job (inside a request context for the right base URL and language):
    raises NotAvailable when the cache cannot be written, since the PDF reaches its user
    only through the cache."""
    body = _render(html, wait=wait, laid_out=laid_out)
    try:
        _keep(name, body)
    except OSError as error:
        raise NotAvailable(
            "The PDF was made but could not be kept on the server; tell the administrator "
            "(the folder GIS_PDF_CACHE_DIR must be writable), then try again.",
            "Đã tạo PDF nhưng máy chủ không lưu được; hãy báo quản trị viên (thư mục "
            "GIS_PDF_CACHE_DIR phải ghi được), rồi thử lại.",
            log=f"PDF cache {_cache_dir()} not writable: {error}") from error
    return len(body)


def cache_name(key: Iterable[Any], templates: Iterable[str]) -> str:
    """The cache name of a page whose content is fixed by `key` (e.g. year, language,
    data version, day) and the source of `templates` (a changed template is rendered
    anew). Needs an app context."""
    env = current_app.jinja_env
    sources = [env.loader.get_source(env, name)[0] for name in templates] \
        if env.loader else []
    digest = hashlib.sha256()
    for part in [*map(str, key), *sources]:
        digest.update(part.encode())
        digest.update(b"\0")
    return "k-" + digest.hexdigest()


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.pdf"), key=lambda p: p.stat().st_mtime)
    for old in files[:max(0, len(files) - CACHE_FILES)]:
        old.unlink(missing_ok=True)


def pdf_response(html: str, filename: str, *, cache: bool = False) -> Response:
    """`html` (self-contained: inline CSS and SVG) rendered to an inline PDF download.
    Nothing is fetched while rendering. `cache`: keep the PDF for the same HTML."""
    body = _cached(html) if cache else _render(html)
    return pdf_file(body, filename)


def pdf_file(body: bytes, filename: str) -> Response:
    """PDF bytes as an inline download named `filename`."""
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _no_fetch(url: str, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"refused to fetch {url} while rendering a PDF")
