"""Printable pages as PDF (WeasyPrint): the zone-check report and the annual report."""
from __future__ import annotations

from typing import Any

from flask import Response, request


def pdf_response(html: str, filename: str) -> Response:
    """`html` (self-contained: inline CSS and SVG) rendered to an inline PDF download.
    Nothing is fetched while rendering."""
    from weasyprint import HTML  # heavy import (pango): only when a PDF is asked for

    body = HTML(string=html, base_url=request.url_root, url_fetcher=_no_fetch).write_pdf()
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _no_fetch(url: str, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"refused to fetch {url} while rendering a PDF")
