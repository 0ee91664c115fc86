"""Cells for spreadsheets the product writes (CSV and xlsx), safe to open in Excel or
LibreOffice: text that starts like a formula (= + - @, or a tab or carriage return
before one) would run as one there, e.g. a relic named `=HYPERLINK("http://…"&A1)`
sending the sheet's contents away. In CSV such text gets a leading apostrophe (OWASP's
advice: shown as text by spreadsheet programs); in xlsx it is stored as a string cell,
which is never evaluated. Numbers, dates and empty cells pass unchanged."""
from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """`value` for a CSV cell: formula-like text prefixed with an apostrophe."""
    return "'" + value if looks_like_formula(value) else value


class SafeWriter:
    """csv.writer whose rows are made safe cell by cell (same writerow/writerows)."""

    def __init__(self, handle: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(handle, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def append_xlsx_row(worksheet: Any, row: list[Any]) -> None:
    """Append `row` to an openpyxl worksheet, formula-like text kept as text.

    The string cells are made before appending: finding the appended row afterwards
    (`worksheet.max_row`) scans every cell of the sheet, which made a sheet of n rows
    cost n² (a minute for the 22,000-line priority list of the annual report)."""
    from openpyxl.cell.cell import Cell

    values: list[Any] = []
    for value in row:
        if looks_like_formula(value):
            cell = Cell(worksheet, value=value)
            cell.data_type = "s"
            value = cell
        values.append(value)
    worksheet.append(values)
