"""Every parser of what a user types or sends (query parameters, form fields, command
line values, GeoJSON bodies) answers any input with a value or an InputError, never
another exception: another exception would reach the user as a 500 or a traceback.

Hypothesis generates the input: any text (NUL, surrogates' neighbours, non-ASCII digits,
very long numbers), text shaped like the expected value, and for geometry any JSON
shaped like GeoJSON.
"""
from __future__ import annotations

import json
import math
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gis_app import clock
from gis_app.errors import InputError
from gis_app.geo import crs as crs_mod
from gis_app.importers import mapping
from gis_app.importers.targets import TARGETS
from gis_app.services import (
    explore,
    features,
    history,
    identifiers,
    proposals,
    submissions,
    zone_check,
    zones,
)

# Text a person or a client might send: anything, or something close to the expected.
ANY_TEXT = st.text(max_size=60)
DIGITS = st.text(alphabet="0123456789-/.,:+eE ", max_size=30)
UNICODE_DIGITS = st.text(alphabet="0123456789٠١٢٣٤٥٦٧٨٩²³¹０１２３-/.,", max_size=20)
TEXTS = st.one_of(ANY_TEXT, DIGITS, UNICODE_DIGITS, st.just(""), st.none())
FLOATS = st.floats(allow_nan=True, allow_infinity=True)

relaxed = settings(max_examples=200, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])


def value_or_input_error(parse, *args, **kwargs):
    """What `parse` returns, or None when it raised InputError; any other exception
    fails the test."""
    try:
        return parse(*args, **kwargs)
    except InputError as error:
        assert error.user_message("vi") and error.user_message("en")
        return None


# --- dates ---------------------------------------------------------------------------

@relaxed
@given(TEXTS)
@example("2026-02-30")
@example("9999-12-31")
@example("2026-01-01\x00")
def test_date_parsers(value) -> None:
    for parse in (zone_check.read_date, history.parse_as_of, clock.read_day,
                  features.read_as_of):
        result = value_or_input_error(parse, value)
        assert result is None or isinstance(result, date)
    day = value_or_input_error(features.read_as_of, value)
    assert day is None or features.EARLIEST_AS_OF <= day <= clock.today_in_vietnam()


@relaxed
@given(st.dates())
def test_date_parsers_read_what_they_document(day: date) -> None:
    assert zone_check.read_date(day.isoformat()) == day
    assert history.parse_as_of(f" {day.isoformat()} ") == day
    assert clock.read_day(f"{day.day:02d}/{day.month:02d}/{day.year:04d}") == day


# --- query parameters of the map and the APIs ----------------------------------------

@relaxed
@given(TEXTS)
@example("1e400,0,0,0")
@example("nan,0,1,1")
@example("9" * 5000)
def test_bbox(value) -> None:
    bbox = value_or_input_error(features.read_bbox, value)
    if bbox is not None:
        assert -180 <= bbox.minx <= bbox.maxx <= 180 and -90 <= bbox.miny <= bbox.maxy <= 90


@relaxed
@given(st.lists(FLOATS, min_size=4, max_size=4))
def test_bbox_of_numbers(numbers: list[float]) -> None:
    bbox = value_or_input_error(features.read_bbox, ",".join(map(repr, numbers)))
    if bbox is not None:
        assert all(math.isfinite(v) for v in (bbox.minx, bbox.miny, bbox.maxx, bbox.maxy))


@relaxed
@given(TEXTS, TEXTS)
@example("9" * 5000, "1")
@example("٣", "²")
def test_paging_and_counts(limit, offset) -> None:
    page = value_or_input_error(features.read_page, limit, offset, 500)
    if page is not None:
        assert 1 <= page.limit <= 500 and 0 <= page.offset
    number = value_or_input_error(explore.read_int, "limit", limit, 20, 1, 50)
    assert number is None or 1 <= number <= 50


@relaxed
@given(TEXTS)
@example("2026-13")
@example("٢٠٢٦-٠٣")
def test_festival_month(value) -> None:
    month = value_or_input_error(explore.read_month, value)
    assert month is None or 1 <= month[1] <= 12


@relaxed
@given(TEXTS, TEXTS)
@example("nan", "105")
@example("1e999", "105")
def test_position(lat, lon) -> None:
    point = value_or_input_error(explore.read_point, lat, lon)
    if point is not None:
        assert -90 <= point[0] <= 90 and -180 <= point[1] <= 180


FILTER_KEYS = ("q", "type", "rank", "commune", "festival_month", "bbox", "limit", "lang")


@relaxed
@given(st.dictionaries(st.sampled_from(FILTER_KEYS), st.one_of(ANY_TEXT, DIGITS)))
@example({"type": "historical,,scenic", "rank": " national "})
@example({"q": "x" * 101})
def test_site_filter(args: dict[str, str]) -> None:
    flt = value_or_input_error(explore.read_filter, args, max_limit=1000)
    if flt is not None:
        assert len(flt.query) <= 100 and 1 <= flt.limit <= 1000
        assert set(flt.types) <= set(explore.RELIC_TYPES)
        assert set(flt.ranks) <= set(explore.RANKS)


# --- coordinate systems and geometry -------------------------------------------------

@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ANY_TEXT, UNICODE_DIGITS, st.sampled_from(
    ["EPSG:9209", "vn2000-hungyen", "+proj=longlat", "EPSG:99999999", "9" * 30, "²",
     "+proj=tmerc +lon_0=nan", 'GEOGCS["x"]'])))
def test_crs(text: str) -> None:
    value_or_input_error(crs_mod.parse_crs, text)


COORD = st.one_of(st.floats(-200, 200), FLOATS, st.integers(-10**20, 10**20),
                  st.sampled_from([105.95, 20.85]), st.text(max_size=3), st.none())
POSITION = st.lists(COORD, min_size=0, max_size=4)
RING = st.lists(POSITION, min_size=0, max_size=6)
GEOMETRY = st.fixed_dictionaries({
    "type": st.sampled_from(["Point", "LineString", "Polygon", "MultiPoint",
                             "MultiLineString", "MultiPolygon", "GeometryCollection",
                             "Feature", "polygon", "Circle"]),
    "coordinates": st.one_of(POSITION, RING, st.lists(RING, max_size=3),
                             st.lists(st.lists(RING, max_size=2), max_size=2), COORD)})
JSON = st.recursive(st.none() | st.booleans() | FLOATS | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(["type", "coordinates", "geometry",
                                                       "features", "geometries", "x"]),
                                      inner, max_size=4), max_leaves=12)
PAYLOAD = st.one_of(
    GEOMETRY, JSON,
    st.builds(lambda g: {"type": "Feature", "geometry": g, "properties": {}}, GEOMETRY),
    st.builds(lambda gs: {"type": "FeatureCollection",
                          "features": [{"type": "Feature", "geometry": g} for g in gs]},
              st.lists(GEOMETRY, max_size=3)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAYLOAD, st.sampled_from([None, "EPSG:9209", "EPSG:4326", "EPSG:3857"]))
@example({"type": "Point", "coordinates": [105.95, 20.85]}, None)
@example({"type": "Point", "coordinates": [float("nan"), 20.85]}, None)
@example({"type": "Point", "coordinates": [1e308, 1e308]}, "EPSG:9209")
@example({"type": "Polygon", "coordinates": [[[0, 0], [0, 0], [0, 0], [0, 0]]]}, None)
@example({"type": "Feature", "geometry": None}, None)
@example({"type": "FeatureCollection", "features": "abc"}, None)
def test_parcel_geometry(payload, crs_text) -> None:
    parcels = value_or_input_error(zone_check.read_geometry, payload, crs_text)
    if parcels is not None:
        assert parcels and all(p.is_valid and not p.is_empty for p in parcels)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ANY_TEXT, PAYLOAD.map(json.dumps), PAYLOAD))
@example("[" * 5000)
@example('{"type": "Feature"}')
def test_zone_boundary(value) -> None:
    value_or_input_error(zones.read_zone_geometry, value)


@relaxed
@given(st.sampled_from(["wgs84", "vn2000"]), TEXTS, TEXTS)
@example("vn2000", "1e400", "2300000")
@example("wgs84", "105,95", "20,85")
@example("vn2000", "550000", "nan")
def test_typed_relic_position(mode: str, x, y) -> None:
    spec = proposals.PositionInput(mode=mode, x=x or "", y=y or "")
    value_or_input_error(proposals.read_position, spec)


# --- command line and import values --------------------------------------------------

@relaxed
@given(st.lists(ANY_TEXT, max_size=4), st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=4))
@example(["name_vi=TEN=X"], [("rank", "a=b=c")])
def test_import_mappings(pairs: list[str], values: list[tuple[str, str]]) -> None:
    manual = value_or_input_error(mapping.parse_manual, pairs)
    assert manual is None or all(k and v for k, v in manual.items())
    coded = value_or_input_error(mapping.parse_values, values)
    assert coded is None or all(k and m for k, m in coded.items())


@relaxed
@given(ANY_TEXT, st.sampled_from(["site", "intangible", "artifact"]))
@example("VN-HY-DT-000001", "site")
@example("vn-hy-pvt-1", "artifact")
def test_identifier_cells(value: str, kind: str) -> None:
    reading = identifiers.read_identifier_cell(value, kind)
    assert [reading.identifier, reading.survey_code, reading.problem].count(None) >= 2


@relaxed
@given(TEXTS)
def test_form_tokens(value) -> None:
    token = submissions.parse_token(value)
    assert token is None or str(token) in (value or "").lower() or token.hex in (
        value or "").lower().replace("-", "").replace("{", "").replace("}", "")


@pytest.mark.parametrize("value", ["", " ", "\x00", "9" * 5000])
def test_every_date_parser_refuses_or_accepts_edge_text(value: str) -> None:
    for parse in (zone_check.read_date, history.parse_as_of, clock.read_day):
        value_or_input_error(parse, value)


TARGET_FIELDS = [tf for target in TARGETS.values() for tf in target.fields]
CELLS = st.one_of(ANY_TEXT, UNICODE_DIGITS, DIGITS, FLOATS, st.integers(), st.dates(),
                  st.datetimes(), st.none(), st.booleans(),
                  st.sampled_from(["Quốc gia đặc biệt", "Di tích cấp tỉnh", "31/02/2026",
                                   "VN-HY-DT-000001", "VN-HY-XX-1", "Lịch sử và Khảo cổ"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TARGET_FIELDS), CELLS)
def test_import_cells(tf, cell) -> None:
    """A survey file's cell becomes the stored value, or a ValueProblem the import report
    lists with its row (never another exception, which would stop the whole import)."""
    try:
        mapping.convert(tf, cell, {})
    except mapping.ValueProblem as problem:
        assert problem.message_en and problem.message_vi
