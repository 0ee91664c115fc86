"""The record of survey imports, and undoing one as a whole."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_app.errors import InputError, RecordNotFound
from gis_app.models import ImportRun, Revision

from .audit import set_actor, set_import


def list_imports(db: Session, limit: int = 100) -> list[ImportRun]:
    return list(db.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)))


def get_import(db: Session, import_id: int) -> ImportRun:
    run = db.get(ImportRun, import_id)
    if run is None:
        raise RecordNotFound(f"There is no import #{import_id}.",
                             f"Không có lần nhập số {import_id}.")
    return run


def _columns(db: Session, table: str) -> list[str]:
    return list(db.execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 "
        "AND NOT attisdropped AND attname <> 'id' ORDER BY attnum"), {"t": table}).scalars())


def undo_import(db: Session, import_id: int, actor_id: int | None) -> dict[str, Any]:
    """Reverse every change an import made: delete the rows it inserted, restore the rows
    it updated to their state before it. The identifiers of relics it created are retired
    (never reused). The caller commits.

    Raises InputError when the import was already undone, or when a row it touched was
    changed again later (undoing would silently discard that later work; list the rows).
    """
    run = get_import(db, import_id)
    if run.status == "undone":
        raise InputError(f"Import #{import_id} was already undone.",
                         f"Lần nhập số {import_id} đã được hoàn tác.")
    revisions = list(db.scalars(select(Revision).where(Revision.import_id == import_id)
                                .order_by(Revision.id.desc())))
    later = db.execute(text("""
        SELECT DISTINCT r.table_name, r.row_id FROM revisions r
          JOIN revisions mine ON mine.table_name = r.table_name AND mine.row_id = r.row_id
         WHERE mine.import_id = :id AND r.id > mine.id
           AND r.import_id IS DISTINCT FROM :id
           AND NOT EXISTS (SELECT 1 FROM imports i
                            WHERE i.id = r.import_id AND i.status = 'undone')
         LIMIT 20"""), {"id": import_id}).all()
    if later:
        rows = ", ".join(f"{t} #{r}" for t, r in later)
        raise InputError(
            f"Import #{import_id} cannot be undone: these records were changed after it: "
            f"{rows}. Correct them by hand, or import a corrected file.",
            f"Không hoàn tác được lần nhập số {import_id}: các bản ghi sau đã được sửa sau "
            f"đó: {rows}. Hãy sửa trực tiếp, hoặc nhập tệp đã chỉnh sửa.")
    savepoint = db.begin_nested()
    try:
        set_actor(db, actor_id)
        # The undo's own revisions carry the import's id too: once it is undone, its
        # changes and their reversal cancel out for the undo of an earlier import.
        set_import(db, import_id)
        counts = {"deleted": 0, "restored": 0}
        retired: list[str] = []
        for rev in revisions:
            if rev.action == "insert":
                db.execute(text(f"DELETE FROM {_table(rev.table_name)} WHERE id = :id"),
                           {"id": int(rev.row_id)})
                counts["deleted"] += 1
                if rev.table_name == "sites" and rev.after:
                    retired.append(rev.after["heritage_id"])
            elif rev.action == "update":
                cols = ", ".join(_columns(db, rev.table_name))
                db.execute(text(
                    f"UPDATE {_table(rev.table_name)} SET ({cols}) = (SELECT {cols} FROM "
                    f"jsonb_populate_record(NULL::{_table(rev.table_name)}, "
                    f"CAST(:before AS jsonb))) WHERE id = :id"),
                    {"before": json.dumps(rev.before), "id": int(rev.row_id)})
                counts["restored"] += 1
        if retired:
            db.execute(text("UPDATE heritage_identifiers SET retired_at = now(), "
                            "note = coalesce(note || '; ', '') || :note WHERE id = ANY(:ids)"),
                       {"ids": retired, "note": f"import #{import_id} undone"})
        set_import(db, None)
        run.status = "undone"
        run.undone_at = datetime.now(UTC)
        run.undone_by = actor_id
        db.flush()
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    return counts


_TABLES = {"sites", "protection_zones", "landscapes", "facilities", "site_admin_units"}


def _table(name: str) -> str:
    if name not in _TABLES:
        raise ValueError(f"undo does not handle table {name}")
    return name


