"""Heritage identifiers (mã định danh): minting new ones, and telling an identifier from
a survey team's own code.

An identifier is `VN-HY-{DT|PVT|HV}-nnnnnn` (relic, intangible heritage, artifact),
unique, permanent and never reused (the `heritage_identifiers` registry; retired ones stay
in it). New ones come from one sequence per kind through the SQL function
`mint_heritage_identifier` (migration 0006), which skips numbers already held and is safe
when several transactions mint at once. Numbers drawn by a transaction that rolls back
(a dry run, a failed import) are skipped for good: identifiers may have gaps.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

PROVINCE = "HY"  # the identifiers this installation holds and mints
KIND_CODES = {"site": "DT", "intangible": "PVT", "artifact": "HV"}
KIND_LABELS = {"site": ("a relic", "di tích"),
               "intangible": ("an intangible heritage", "di sản phi vật thể"),
               "artifact": ("an artifact", "hiện vật")}
WELL_FORMED = re.compile(r"^VN-([A-Z]{2})-(DT|PVT|HV)-([0-9]{6})$")
# What a person meant as a heritage identifier: "VN" then a separator ("VN-HY-DT-12",
# "vn_hy_dt_000012", "VN HY HV 000001"). Anything else is a survey's own code.
LOOKS_LIKE = re.compile(r"^VN[\s\-_./]", re.IGNORECASE)


def example(kind: str) -> str:
    """The shape of an identifier of `kind`, e.g. 'VN-HY-DT-000123'."""
    return f"VN-{PROVINCE}-{KIND_CODES[kind]}-000123"


def mint_identifier(db: Session, kind: str, note: str | None = None) -> str:
    """Register and return the next free identifier of `kind` ('site', 'intangible',
    'artifact'). The registry row is part of the caller's transaction."""
    if kind not in KIND_CODES:
        raise ValueError(f"unknown heritage identifier kind {kind!r}")
    return db.execute(text("SELECT mint_heritage_identifier(:k, :n)"),
                      {"k": kind, "n": note}).scalar_one()


@dataclass(frozen=True)
class CellReading:
    """What a cell of a 'heritage identifier' column holds: an identifier, a survey
    code, or a problem (en, vi) saying what is wrong and what is expected."""

    identifier: str | None = None
    survey_code: str | None = None
    problem: tuple[str, str] | None = None


def read_identifier_cell(value: str, kind: str = "site") -> CellReading:
    """Read a cell meant to identify a record of `kind`.

    - a well-formed identifier of this province and kind -> `identifier` (upper case);
    - one of another kind or province, or one that starts like an identifier ("VN-")
      but is malformed -> `problem`, naming the value and what is expected;
    - anything else (the survey's own numbering, e.g. "KC-01-000") -> `survey_code`.
    """
    cell = unicodedata.normalize("NFC", value).strip()
    if not cell:
        return CellReading()
    upper = cell.upper()
    expected = example(kind)
    match = WELL_FORMED.match(upper)
    if match:
        province, code, _number = match.groups()
        if code != KIND_CODES[kind]:
            other = next(k for k, c in KIND_CODES.items() if c == code)
            en, vi = KIND_LABELS[other]
            mine_en, mine_vi = KIND_LABELS[kind]
            return CellReading(problem=(
                (f"{cell} is the identifier of {en}, not of {mine_en}; {mine_en}'s looks "
                f"like {expected}. Correct it, or leave the cell empty for a new identifier."),
                (f"{cell} là mã định danh của {vi}, không phải của {mine_vi}; mã của "
                f"{mine_vi} có dạng {expected}. Hãy sửa, hoặc để trống để được cấp mã mới.")))
        if province != PROVINCE:
            return CellReading(problem=(
                (f"{cell} is an identifier of another province ({province}); this register "
                f"holds {PROVINCE} identifiers like {expected}. Leave the cell empty for a new "
                f"identifier."),
                (f"{cell} là mã định danh của tỉnh khác ({province}); hệ thống này quản lý mã "
                f"{PROVINCE} dạng {expected}. Hãy để trống để được cấp mã mới.")))
        return CellReading(identifier=upper)
    if LOOKS_LIKE.match(cell):
        return CellReading(problem=(
            (f"{cell!r} starts like a heritage identifier but is not one: expected "
            f"VN-{PROVINCE}-{KIND_CODES[kind]}- and six digits, e.g. {expected}. Correct it; "
            f"a survey's own code must not start with 'VN-'."),
            (f"{cell!r} bắt đầu giống mã định danh nhưng không đúng dạng: cần "
            f"VN-{PROVINCE}-{KIND_CODES[kind]}- và sáu chữ số, ví dụ {expected}. Hãy sửa lại; "
            f"mã khảo sát riêng không được bắt đầu bằng 'VN-'.")))
    return CellReading(survey_code=cell)
