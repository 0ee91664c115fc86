"""Field-mapping presets that officials save from the web import's mapping step.

They sit beside the file presets of data/presets (`importers.mapping.presets`) and are
found by the same `mapping.get_preset` through its lookup hook (`lookup_preset`, wired
by `init_app`), so the CLI's `--preset` and the web import use both alike. A saved
preset maps each target field to one column and keeps the value choices
({field: {source value: code}}).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import bindparam

from gis_app.errors import InputError
from gis_app.importers import mapping

log = logging.getLogger(__name__)

NAME_MAX = 80


_SELECT = "SELECT name, layer, title, fields, \"values\" AS values_ FROM import_presets"


def _from_row(row: Any) -> mapping.Preset:
    return mapping.Preset(
        name=row.name, layer=row.layer, title={"vi": row.title, "en": row.title},
        fields={k: (v,) if isinstance(v, str) else tuple(v) for k, v in row.fields.items()},
        values={k: dict(v) for k, v in row.values_.items()})


def saved_presets(db: Session, layer: str | None = None) -> list[mapping.Preset]:
    """The saved presets (of `layer`, if given), by name."""
    rows = db.execute(text(_SELECT + " WHERE CAST(:layer AS text) IS NULL OR layer = :layer "
                           "ORDER BY name"), {"layer": layer}).all()
    return [_from_row(r) for r in rows]


def find_saved_preset(db: Session, name: str) -> mapping.Preset | None:
    row = db.execute(text(_SELECT + " WHERE name = :name"), {"name": name}).first()
    return _from_row(row) if row else None


def all_presets(db: Session) -> list[mapping.Preset]:
    """File presets, then saved ones."""
    return [*mapping.presets().values(), *saved_presets(db)]


def save_preset(db: Session, *, name: str, layer: str, columns: dict[str, str],
                values: dict[str, dict[str, str]], user_id: int | None) -> mapping.Preset:
    """Save a mapping under `name` (its title too). The caller commits.

    Raises InputError for an empty or over-long name, or one that a file preset or a
    saved preset already has (a name means one mapping).
    """
    name = " ".join((name or "").split())
    if not name:
        raise InputError("Give the preset a name to save it (e.g. the survey team and year).",
                         "Hãy đặt tên cho mẫu ánh xạ để lưu (ví dụ: tên đơn vị khảo sát và năm).")
    if len(name) > NAME_MAX:
        raise InputError(f"The preset name is too long (at most {NAME_MAX} characters).",
                         f"Tên mẫu ánh xạ quá dài (tối đa {NAME_MAX} ký tự).")
    taken = InputError(f"A preset named {name!r} already exists; choose another name.",
                       f"Đã có mẫu ánh xạ tên {name!r}; hãy chọn tên khác.",
                       log=f"duplicate preset name {name!r}")
    if name in mapping.presets():
        raise taken
    statement = text(
        "INSERT INTO import_presets (name, layer, title, fields, \"values\", created_by) "
        "VALUES (:name, :layer, :name, :fields, :values, :user) "
        "ON CONFLICT (name) DO NOTHING RETURNING id"
    ).bindparams(bindparam("fields", type_=JSONB), bindparam("values", type_=JSONB))
    with db.begin_nested():
        try:
            new_id = db.execute(statement, {"name": name, "layer": layer, "fields": columns,
                                            "values": values, "user": user_id}).scalar()
        except IntegrityError as exc:  # pragma: no cover - ON CONFLICT covers the name
            raise taken from exc
    if new_id is None:
        raise taken
    log.info("user %s saved the import preset %r for %s", user_id, name, layer)
    return mapping.Preset(name=name, layer=layer, title={"vi": name, "en": name},
                          fields={k: (v,) for k, v in columns.items()},
                          values={k: dict(v) for k, v in values.items()})


def lookup_preset(session: Callable[[], Session | None]) -> Callable[[str], mapping.Preset | None]:
    """A hook for `mapping.PRESET_LOOKUPS`: finds a saved preset through `session()`
    (the current session, or None when there is none)."""
    def lookup(name: str) -> mapping.Preset | None:
        db = session()
        return find_saved_preset(db, name) if db is not None else None
    return lookup
