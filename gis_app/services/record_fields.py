"""Declared fields of the records officials edit besides relics (landscapes, facilities,
intangible heritage, festival dates, artisans): reading what a user typed, once, with
messages in Vietnamese and English, and writing the changes with identifiers taken only
from the declarations.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.clock import read_day, today_in_vietnam
from gis_app.errors import InputError


@dataclass(frozen=True)
class Field:
    """One editable column: its name (form key and column), kind, label (en, vi), the
    longest text allowed, whether it is required, and for a `choice` its codes and the
    vocabulary (gis_app.vocab) that labels them."""

    name: str
    kind: str  # text, long_text, choice, date, int
    label: tuple[str, str]
    max_len: int = 300
    required: bool = False
    choices: tuple[str, ...] = ()
    vocab: str | None = None
    low: int = 0
    high: int = 0

    def text(self, lang: str) -> str:
        return self.label[1] if lang == "vi" else self.label[0]


def clean_text(value: Any) -> str | None:
    """Text as stored: NFC, Unix line ends, trimmed; None when empty."""
    if value is None:
        return None
    cleaned = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").strip()
    return cleaned or None


def _int(f: Field, raw: str) -> int:
    try:
        number = int(raw)
    except ValueError:
        raise InputError(f"{f.label[0]}: {raw!r} is not a whole number.",
                         f"{f.label[1]}: {raw!r} không phải số nguyên.") from None
    if not f.low <= number <= f.high:
        raise InputError(f"{f.label[0]}: give a number from {f.low} to {f.high}.",
                         f"{f.label[1]}: hãy nhập số từ {f.low} đến {f.high}.")
    return number


def validate(fields: Sequence[Field], raw: Mapping[str, Any],
             choices: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> dict[str, Any]:
    """The fields' values from what the user typed (strings), normalised: text trimmed
    (None when empty), a choice among its codes, a date as ISO text (1900 to today), a
    whole number in its range. `choices` gives (code, vi label) lists read from a table
    (facility kinds) for fields declared without codes. Raises InputError naming the
    field and what to do."""
    out: dict[str, Any] = {}
    for f in fields:
        value = clean_text(raw.get(f.name))
        if value is None:
            if f.required:
                verb = "Choose" if f.kind == "choice" else "Enter"
                raise InputError(f"{verb} the {f.label[0].lower()}: it is required.",
                                 f"Hãy {'chọn' if f.kind == 'choice' else 'nhập'} "
                                 f"{f.label[1].lower()}: trường này bắt buộc.")
            out[f.name] = None
            continue
        if f.kind in ("text", "long_text"):
            if len(value) > f.max_len:
                raise InputError(f"{f.label[0]}: at most {f.max_len} characters.",
                                 f"{f.label[1]}: tối đa {f.max_len} ký tự.")
            out[f.name] = value
        elif f.kind == "choice":
            listed = [(c, c) for c in f.choices] if f.choices else \
                list((choices or {}).get(f.name, ()))
            codes = [c for c, _label in listed]
            if value not in codes:
                vi_labels = [vocab.label(f.vocab, c, "vi") if f.vocab else label
                             for c, label in listed]
                raise InputError(f"{f.label[0]}: {value!r} is not in the list; choose among "
                                 f"{', '.join(codes)}.",
                                 f"{f.label[1]}: {value!r} không có trong danh sách; hãy chọn "
                                 f"một trong: {', '.join(vi_labels)}.")
            out[f.name] = value
        elif f.kind == "date":
            day = read_day(value, f.label)
            if day is None or day.year < 1900 or day > today_in_vietnam():
                raise InputError(f"{f.label[0]}: the date must be between 1900 and today.",
                                 f"{f.label[1]}: ngày phải từ năm 1900 đến hôm nay.")
            out[f.name] = day.isoformat()
        elif f.kind == "int":
            out[f.name] = _int(f, value)
    return out


def stored(fields: Sequence[Field], row: Mapping[str, Any]) -> dict[str, Any]:
    """A row's values in the form `validate` returns (dates as ISO text)."""
    return {f.name: (row[f.name].isoformat() if isinstance(row[f.name], date)
                     else row[f.name]) for f in fields}


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The values of `after` that differ from `before`."""
    return {k: v for k, v in after.items() if before.get(k) != v}


def update_row(db: Session, table: str, fields: Sequence[Field], row_id: int,
               values: Mapping[str, Any], extra_sets: Sequence[str] = (),
               extra_params: Mapping[str, Any] | None = None) -> None:
    """UPDATE one row of `table` (a name from the caller's declarations, never from a
    request) with `values` of the declared `fields`; dates cast. The caller has set the
    actor."""
    by_name = {f.name: f for f in fields}
    sets = list(extra_sets)
    params: dict[str, Any] = {"row_id": row_id, **(extra_params or {})}
    for name, value in values.items():
        f = by_name[name]
        sets.append(f"{f.name} = CAST(:{f.name} AS date)" if f.kind == "date"
                    else f"{f.name} = :{f.name}")
        params[f.name] = value
    if sets:
        db.execute(text(f"UPDATE {table} SET {', '.join(sets)} WHERE id = :row_id"), params)


def labelled(f: Field, value: Any, lang: str) -> str:
    """A value as shown in lists."""
    if value in (None, ""):
        return "–"
    if f.vocab:
        return vocab.label(f.vocab, str(value), lang)
    return str(value)
