"""The survey import as a background job (`services.jobs`): the dry run behind the
web import's preview, and the real import once the official confirms.

The payload names the waiting upload (`path`, the user's `file_name`), the import
options (`ImportOptions.as_dict()`), `dry_run` and the acting `user_id`. The result is
what the pages show: counts and report, and for a dry run the preview features; a real
import's upload is deleted whatever happens, as the request did before.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gis_app.importers.pipeline import ImportOptions, run_import

from . import jobs

KIND = "import"


def payload(path: Path, file_name: str, token: str, options: ImportOptions, *,
            dry_run: bool, user_id: int | None) -> dict[str, Any]:
    return {"path": str(path), "file_name": file_name, "token": token,
            "options": options.as_dict(), "dry_run": dry_run, "user_id": user_id}


def options_of(payload: dict[str, Any]) -> ImportOptions:
    return ImportOptions(**payload["options"], dry_run=bool(payload.get("dry_run")))


@jobs.handler(KIND)
def run_import_job(db: Session, payload: dict[str, Any], progress: jobs.Progress
                   ) -> dict[str, Any]:
    """Run the import the payload describes; raises what `run_import` raises."""
    path = Path(payload["path"])
    options = options_of(payload)
    try:
        result = run_import(db, path, options, file_name=payload["file_name"],
                            actor_id=payload.get("user_id"), progress=progress)
    finally:
        if not options.dry_run:
            shutil.rmtree(path.parent, ignore_errors=True)
    out: dict[str, Any] = {"counts": result.counts, "report": result.report,
                           "import_id": result.import_id}
    if options.dry_run:
        out["preview"] = result.preview
    return out
