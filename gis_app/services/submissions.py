"""Forms that create records are saved once, and what an official typed survives a lost
session.

Every record-creating form carries a one-time token (a UUID made when the form is shown).
`claim` takes the token inside the transaction that creates the record: a second arrival
of the same submission waits on the first one's row lock and then finds the token taken,
so however the duplicate arrives (double click, retry, another worker) one record is made.

`save_draft` keeps the fields of a form whose POST came without a valid session (signed
out, an expired form) so that the form can be shown again filled in after signing in.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

DRAFT_DAYS = 2  # typed values kept this long for the official to come back to
SUBMISSION_DAYS = 90  # tokens kept this long: a form is not re-sent months later


def parse_token(value: str | None) -> uuid.UUID | None:
    """The form token as a UUID, or None when absent or not a UUID."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def claim(db: Session, token: uuid.UUID, user_id: int | None, endpoint: str) -> str | None:
    """Take `token` for this submission in the caller's transaction.

    Returns None when this is the first arrival (go on and create the record, then commit),
    else the URL of the first arrival's result ('' while it is not known).
    """
    taken = db.execute(text("""
        INSERT INTO form_submissions (token, user_id, endpoint) VALUES (:t, :u, :e)
        ON CONFLICT (token) DO NOTHING RETURNING token"""),
        {"t": token, "u": user_id, "e": endpoint}).first()
    if taken is not None:
        return None
    return db.execute(text("SELECT coalesce(result_url, '') FROM form_submissions "
                           "WHERE token = :t"), {"t": token}).scalar_one()


def finish(db: Session, token: uuid.UUID, result_url: str) -> None:
    """Remember where the submission's result is (a duplicate is sent there). The caller
    commits."""
    db.execute(text("UPDATE form_submissions SET result_url = :url WHERE token = :t"),
               {"t": token, "url": result_url})
    db.execute(text("DELETE FROM form_submissions WHERE created_at < now() - "
                    "make_interval(days => :days)"), {"days": SUBMISSION_DAYS})


def save_draft(db: Session, path: str, data: dict[str, list[str]], had_files: bool) -> str:
    """Keep a form's typed values for the page at `path`; the draft's id. The caller
    commits. Drafts older than DRAFT_DAYS are dropped on the way."""
    db.execute(text("DELETE FROM form_drafts WHERE created_at < now() - "
                    "make_interval(days => :days)"), {"days": DRAFT_DAYS})
    draft_id = uuid.uuid4()
    db.execute(text("INSERT INTO form_drafts (id, path, data, had_files) "
                    "VALUES (:id, :path, CAST(:data AS jsonb), :files)"),
               {"id": draft_id, "path": path, "data": json.dumps(data, ensure_ascii=False),
                "files": had_files})
    return str(draft_id)


def get_draft(db: Session, draft_id: str | None, path: str) -> dict[str, Any] | None:
    """The draft saved for the page at `path` ({"data": {name: [values]}, "had_files"}),
    or None when there is none (unknown id, another page, expired)."""
    key = parse_token(draft_id)
    if key is None:
        return None
    row = db.execute(text("""
        SELECT data, had_files FROM form_drafts
         WHERE id = :id AND path = :path
           AND created_at >= now() - make_interval(days => :days)"""),
        {"id": key, "path": path, "days": DRAFT_DAYS}).mappings().first()
    return dict(row) if row else None
