"""Starts this process's background job worker (services/jobs.py): survey imports too
large to wait for and the annual report's PDF."""
from __future__ import annotations

import os

from flask import Flask, current_app

from gis_app.db import database
from gis_app.services import jobs


def init_app(app: Flask) -> None:
    app.before_request(_start_job_worker)


def _start_job_worker() -> None:
    """This process's job worker, started on its first request (after gunicorn forked);
    it runs each job in an app context of this app (the annual report's PDF job renders
    templates). `JOBS_WORKER` off: another process works the jobs; unset: on, except
    in tests (TESTING), which turn it on where they need it."""
    config = current_app.config
    enabled = config.get("JOBS_WORKER")
    if enabled or (enabled is None and not config.get("TESTING")):
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        jobs.start_worker(database().session, os.getpid(), context=app.app_context)
