"""Who is acting: the revision trigger reads these transaction-local settings."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def set_actor(db: Session, user_id: int | None) -> None:
    """Attribute the changes of the current transaction to `user_id` (None: nobody)."""
    db.execute(text("SELECT set_config('gis.actor_id', :v, true)"),
               {"v": "" if user_id is None else str(user_id)})


def set_import(db: Session, import_id: int | None) -> None:
    """Link the revisions written from now on in this transaction to an import."""
    db.execute(text("SELECT set_config('gis.import_id', :v, true)"),
               {"v": "" if import_id is None else str(import_id)})
