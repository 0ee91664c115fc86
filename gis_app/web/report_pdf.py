"""The annual report's PDF, made in the background: the request never renders it.

`/officials/report/<year>.pdf` serves the PDF from the cache (`web/pdf.py`) when it was
made for the current cache name (year, language, data state, day, template source);
otherwise it asks for it (`ask`: one job per name, however many officials click, in
whichever worker process) and answers at once with a progress page. The job
(`run`, kind KIND) builds the report's data and HTML and renders the PDF into the same
cache, inside a request context of its own (the asking request's base URL and
language), so the next request for the same name gets the PDF.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from gis_app.services import annual_report, jobs
from gis_app.web import pdf

KIND = "annual-report-pdf"
TEMPLATES = ("officials/report.html", "planning/report_pdf.html")
# A job waits this long for this process's PDF renderer (a zone-check report may be
# rendering); its heartbeat keeps it from being taken for a dead one meanwhile.
RENDER_WAIT = 600.0  # seconds
# Shares of the progress bar, from where the time goes at district scale (bench/officials.py).
STEP_DATA, STEP_HTML, STEP_LAYOUT, STEP_WRITE = 40, 5, 45, 10
STEPS = STEP_DATA + STEP_HTML + STEP_LAYOUT + STEP_WRITE

RenderHtml = Callable[[dict[str, Any], int], str]


def cache_name(db: Session, year: int, lang: str) -> str:
    """The PDF cache's name for the report of `year` in `lang` as the data stand now
    (needs an app context: the templates' source is part of it)."""
    return pdf.cache_name(("annual-report", year, lang, annual_report.state(db)), TEMPLATES)


def ask(db: Session, name: str, year: int, lang: str, base_url: str, user_id: int | None,
        *, retry: bool = False) -> jobs.Job:
    """The job making the PDF cached as `name`: the one already queued or running, the
    failed one (unless `retry`), else a new one. The caller commits, then wakes the
    worker (`jobs.wake`)."""
    return jobs.enqueue_once(db, KIND, name, {"year": year, "lang": lang,
                                              "base_url": base_url}, user_id, retry=retry)


def latest(db: Session, name: str) -> jobs.Job | None:
    """The newest job for the PDF cached as `name`, or None."""
    return jobs.latest_by_key(db, KIND, name)


def run(db: Session, payload: dict[str, Any], progress: jobs.Progress,
        render_html: RenderHtml) -> dict[str, Any]:
    """The job: build the report of payload["year"] in payload["lang"] and render it into
    the PDF cache, under the name of the data it read. Needs an app context (the job
    worker gives one); the page is rendered in a request context of its own with the
    asking request's base URL, so links and language are those the official saw."""
    year, lang = int(payload["year"]), str(payload["lang"])
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # A fresh app context: `g` (language, session) must not leak between jobs.
    with app.app_context(), app.test_request_context(
            f"/officials/report/{year}.pdf", base_url=payload.get("base_url"),
            query_string={"lang": lang}):
        name = cache_name(db, year, lang)
        if pdf.cached(name) is not None:  # made meanwhile (e.g. `flask reports prepare`)
            progress(STEPS, STEPS)
            return {"name": name, "year": year, "lang": lang, "cached": True}
        data = annual_report.build(db, year)
        progress(STEP_DATA, STEPS)
        html = render_html(data, year)
        progress(STEP_HTML, STEPS)
        size = pdf.render_into_cache(name, html, wait=RENDER_WAIT,
                                     laid_out=lambda: progress(STEP_LAYOUT, STEPS))
        progress(STEP_WRITE, STEPS)
    return {"name": name, "year": year, "lang": lang, "bytes": size}
