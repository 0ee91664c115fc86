"""What a survey file's columns hold, for a person choosing the field mapping: each
column with a few sample values, and the distinct values of chosen columns with how
many rows hold each (a survey column repeats a few values many times).

Text is decoded as the import would decode it (`pipeline.decide_encoding`), so the
values shown are the values the mapping will meet.
"""
from __future__ import annotations

import math
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import mapping, pipeline
from .mapping import LIST_SEPARATORS
from .reader import open_source, read_batches
from .targets import Target, TargetField

SAMPLES = 3  # sample values shown per column
SAMPLE_ROWS = 500  # rows looked at for samples
MAX_DISTINCT = 300  # distinct values listed per column; the rest are counted


@dataclass
class Column:
    name: str
    samples: list[str] = field(default_factory=list)


@dataclass
class DistinctValues:
    """A column's distinct values, most frequent first: [(value, rows)]."""

    values: list[tuple[str, int]]
    more: int = 0  # distinct values not listed (past MAX_DISTINCT)
    empty: int = 0  # rows with no value


@dataclass
class FileColumns:
    file_name: str
    count: int  # features
    columns: list[Column]
    encoding: str
    distinct: dict[str, DistinctValues] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _text(value: Any, encoding: str, legacy: bool) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.datetime64):  # GDAL date/time fields
        if np.isnat(value):
            return None
        value = value.astype("datetime64[s]").item()
    if legacy and isinstance(value, str):
        try:
            value = pipeline.decode_value(value, encoding)
        except Exception:  # noqa: BLE001 - an undecodable cell is shown as it is
            pass
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text or None


def read_columns(path: Path, *, source_layer: str | None = None,
                 encoding: str | None = None,
                 value_columns: dict[str, bool] | None = None,
                 geometry_required: bool = True) -> FileColumns:
    """The columns of the survey file at `path` with sample values, and the distinct
    values of `value_columns` ({column: split lists}: with True a cell such as
    "Lịch sử; Kiến trúc" counts as two values, as a vocab_list field reads it).

    Raises what `reader.open_source` and `pipeline.decide_encoding` raise (ImportFailed,
    InputError) for a file that cannot be read.
    """
    wanted = dict(value_columns or {})
    with tempfile.TemporaryDirectory(prefix="gis-columns-") as tmp:
        source = open_source(path, Path(tmp), source_layer,
                             geometry_required=geometry_required)
        given = (pipeline.encodings.normalise_encoding_name(encoding) if encoding else None)
        chosen = pipeline.decide_encoding(source, given, pipeline.Report())
        names = [f for f in source.fields if not source.coords or f not in source.coords]
        columns = {name: Column(name) for name in names}
        counters = {name: Counter() for name in wanted if name in columns}
        empty = dict.fromkeys(counters, 0)
        seen_rows = 0
        for batch in read_batches(source, geometry=False):
            if seen_rows < SAMPLE_ROWS:
                for name, column in columns.items():
                    if len(column.samples) >= SAMPLES:
                        continue
                    for value in batch.attrs[name][:SAMPLE_ROWS - seen_rows]:
                        shown = _text(value, chosen, source.legacy_text)
                        if shown and shown not in column.samples:
                            column.samples.append(shown[:60])
                            if len(column.samples) >= SAMPLES:
                                break
            seen_rows += len(batch)
            if not counters:
                if seen_rows >= SAMPLE_ROWS:
                    break
                continue
            for name, counter in counters.items():
                memo: dict[Any, str | None] = {}
                for value in batch.attrs[name]:
                    key = value if isinstance(value, str | int | float | type(None)) else str(value)
                    if key not in memo:
                        memo[key] = _text(value, chosen, source.legacy_text)
                    shown = memo[key]
                    if shown is None:
                        empty[name] += 1
                    elif wanted[name]:
                        counter.update(dict.fromkeys(
                            (p for p in LIST_SEPARATORS.split(shown) if p), 1))
                    else:
                        counter[shown] += 1
        distinct = {}
        for name, counter in counters.items():
            ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
            distinct[name] = DistinctValues(ranked[:MAX_DISTINCT],
                                            max(len(ranked) - MAX_DISTINCT, 0), empty[name])
        return FileColumns(path.name, source.count, list(columns.values()), chosen, distinct)


# --- what a mapping makes of them -------------------------------------------------------

def guess_columns(target: Target, names: list[str], preset: mapping.Preset | None
                  ) -> dict[str, str]:
    """{target field: column}: the preset's candidates first, then a column named like
    the field or its label ("Tên di tích"), compared without case and diacritics."""
    by_fold = {mapping.fold(n): n for n in names}
    columns: dict[str, str] = {}
    for tf in target.fields:
        candidates = ((preset.fields.get(tf.name, ()) if preset else ())
                      + (tf.name, tf.label["vi"], tf.label["en"]))
        found = next((by_fold[mapping.fold(c)] for c in candidates
                      if mapping.fold(c) in by_fold), None)
        if found:
            columns[tf.name] = found
    return columns


def value_columns(target: Target, columns: dict[str, str]) -> dict[str, bool]:
    """The `value_columns` argument of `read_columns` for a mapping: each column mapped to
    a vocabulary field, split when the field holds a list."""
    return {column: target.field(name).kind == "vocab_list"
            for name, column in columns.items() if target.field(name).vocab}


def reads_as(tf: TargetField, value: str) -> str | None:
    """The code the importer reads `value` as without any value map, or None."""
    try:
        read = mapping.convert(tf, value, {})
    except mapping.ValueProblem:
        return None
    if isinstance(read, list):
        return read[0] if len(read) == 1 else None
    return read if isinstance(read, str) else None


@dataclass
class ValueRow:
    source: str
    rows: int
    code: str  # "" while the value is unknown
    known: bool  # the importer reads it without a choice


def value_rows(target: Target, found: FileColumns, columns: dict[str, str],
               values: dict[str, dict[str, str]]) -> dict[str, list[ValueRow]]:
    """For each vocabulary field mapped to a column of `found`: the column's distinct
    values, each with the code it becomes (chosen in `values`, else read as it is) or ""."""
    tables: dict[str, list[ValueRow]] = {}
    for tf in target.fields:
        column = columns.get(tf.name)
        if not tf.vocab or column not in found.distinct:
            continue
        chosen = {mapping.fold(k): v for k, v in values.get(tf.name, {}).items()}
        rows = []
        for value, count in found.distinct[column].values:
            read = reads_as(tf, value)
            rows.append(ValueRow(value, count, chosen.get(mapping.fold(value)) or read or "",
                                 read is not None))
        tables[tf.name] = rows
    return tables
