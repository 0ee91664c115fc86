"""Numbers as a reader of the page's language writes them (Babel's CLDR data).

Vietnamese groups thousands with "." and writes decimals with ",": 3.503 m², 83,3 %;
English: 3,503 m², 83.3 %. Use these helpers (or the `number` / `pct` template filters)
for every number a person reads, in pages, PDFs, XLSX labels and messages; never an
f-string's `:,` (which is English only). Browsers do the same with Intl.NumberFormat and
the page's `lang`.
"""
from __future__ import annotations

from babel.numbers import format_decimal

DASH = "–"  # shown for a missing value


def format_number(value: float | None, lang: str, digits: int | None = None) -> str:
    """`value` in `lang` ('vi' or 'en'): with exactly `digits` decimals, or with up to 3
    when `digits` is None (integers then have none).

    >>> format_number(3503, "vi"), format_number(3503.4, "en", 0)
    ('3.503', '3,503')
    >>> format_number(1234.5, "vi", 2)
    '1.234,50'
    """
    if value is None:
        return DASH
    pattern = "#,##0.###" if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=lang)


def format_pct(value: float | None, lang: str, digits: int = 1) -> str:
    """A value already in per cent, e.g. 83.33 -> "83,3 %" (vi) or "83.3 %" (en)."""
    if value is None:
        return DASH
    return format_number(value, lang, digits) + " %"


def both(value: float | None, digits: int | None = None) -> tuple[str, str]:
    """(English, Vietnamese) of a number, for the two messages of a HeritageError."""
    return format_number(value, "en", digits), format_number(value, "vi", digits)
