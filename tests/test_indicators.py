"""The plan's indicators (a1–d) over a small hand-built history, checked against figures
computed by hand from the history in tests/history.py (not from the code under test)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from gis_app.errors import InputError
from gis_app.services import indicators
from tests.history import build_history


@pytest.fixture
def history(db):
    return build_history(db)


def _by_code(board):
    return {row["indicator"].code: row for row in board}


def _district(board, code):
    d = _by_code(board)[code]["district"]
    return d["numerator"], d["denominator"], d["pct"], d["status"]


def test_district_figures_for_2024(db, history):
    board = indicators.dashboard(db, 2024)
    # a1: 3 of 6 artifacts inventoried in 2024.
    assert _district(board, "a1") == (3, 6, 50.0, "not_met")
    # a2: one preventive action in 2024 (Sắc phong 1): 1/6 = 16.7% < 20%.
    assert _district(board, "a2") == (1, 6, 16.7, "not_met")
    # a3: at risk = Sắc phong 1, Bia đá, Kiệu; conserved in 2024: Sắc phong 1, Bia đá.
    assert _district(board, "a3") == (2, 3, 66.7, "met")
    # b: typical = Sắc phong 1, Sắc phong 2, Kiệu; by end 2024 only Sắc phong 1 has media
    # with metadata (Sắc phong 2's record has no metadata).
    assert _district(board, "b") == (1, 3, 33.3, "not_met")
    # c: S1, S2, S3 (demo relics archived): only S1 is complete and published.
    assert _district(board, "c") == (1, 3, 33.3, "not_met")
    # d: one heritage listed by end 2024, not yet digitised.
    assert _district(board, "d") == (0, 1, 0.0, "not_met")


def test_district_figures_for_2025(db, history):
    board = indicators.dashboard(db, 2025)
    assert _district(board, "a1") == (5, 6, 83.3, "not_met")
    # Kiệu (2 Feb) and Hoành phi (31 Dec) preventive: 2/6.
    assert _district(board, "a2") == (2, 6, 33.3, "met")
    # Only Kiệu of the at-risk three (its 2026 action does not count for 2025).
    assert _district(board, "a3") == (1, 3, 33.3, "met")
    assert _district(board, "b") == (2, 3, 66.7, "not_met")
    assert _district(board, "d") == (1, 2, 50.0, "not_met")


def test_communes_follow_the_reorganisation(db, history):
    units = history["units"]
    before = {c["unit_id"]: c for c in _by_code(indicators.dashboard(db, 2024))["a1"]["communes"]}
    after = {c["unit_id"]: c for c in _by_code(indicators.dashboard(db, 2025))["a1"]["communes"]}
    # 2024: S1's artifacts count for An Thử (3 of 4 inventoried), S2's for Bình Thử (0/2).
    assert set(before) == {units["an"], units["binh"]}
    assert (before[units["an"]]["numerator"], before[units["an"]]["denominator"]) == (3, 4)
    assert (before[units["binh"]]["numerator"], before[units["binh"]]["denominator"]) == (0, 2)
    # 2025: An Thử is gone; its relic is in Tân Thử.
    assert set(after) == {units["tan"], units["binh"]}
    assert after[units["tan"]]["unit_name"] == "Tân Thử"
    assert (after[units["tan"]]["numerator"], after[units["tan"]]["denominator"]) == (3, 4)
    assert (after[units["binh"]]["numerator"], after[units["binh"]]["denominator"]) == (2, 2)


def test_intangible_heritage_counts_once_in_the_district_and_in_each_commune(db, history):
    units = history["units"]
    d = _by_code(indicators.dashboard(db, 2025))["d"]
    communes = {c["unit_id"]: (c["numerator"], c["denominator"]) for c in d["communes"]}
    assert communes == {units["tan"]: (1, 1), units["binh"]: (1, 2)}
    assert (d["district"]["numerator"], d["district"]["denominator"]) == (1, 2)


def test_records_behind_a_figure_say_why(db, history):
    rows = indicators.indicator_rows(db, "c", 2025, unit_id=history["units"]["binh"])
    why = {r["name"]: (r["met"], r["detail"]) for r in rows}
    assert why == {"Đình S2": (False, "materials"), "Đình S3": (False, "status=draft")}
    rows = indicators.indicator_rows(db, "a2", 2025)
    met = sorted(r["name"] for r in rows if r["met"])
    assert met == ["Hoành phi", "Kiệu"]
    assert {r["detail"] for r in rows if r["met"]} == {"2025-02-02", "2025-12-31"}


def test_no_records_is_no_data_not_zero(db, history):
    db.execute(text("UPDATE artifacts SET at_risk = false"))
    a3 = _by_code(indicators.dashboard(db, 2025))["a3"]["district"]
    assert (a3["denominator"], a3["pct"], a3["status"]) == (0, None, "no_data")


@pytest.mark.parametrize("value", ["20x5", "2019", "2031"])
def test_a_year_outside_the_programme_is_refused(value):
    with pytest.raises(InputError):
        indicators.check_year(value)
