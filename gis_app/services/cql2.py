"""CQL2 filters (OGC API – Features Part 3: Filtering) over a declared layer, as SQL.

`compile_filter` reads a filter in cql2-text or cql2-json with pygeofilter, then walks
its syntax tree itself and writes a SQL boolean over the alias `src` (the layer's
source): property names only from `layer.properties` (their SQL comes from `layers/`),
every value a bound parameter named `cql_<n>`. Anything a client can send that we do not
answer is an `InputError` with an English and a Vietnamese message saying what to
change; nothing reaches the database unchecked (types, LIKE escapes, geometry validity),
so no database error can come back to the client.

What is supported (docs/ogc-filtering.md has examples for planners):

- comparisons `= <> < <= > >=`, `LIKE` (`%` any text, `_` one character, `\\` escape),
  `IN (...)`, `BETWEEN ... AND ...`, `IS [NOT] NULL`, `AND`, `OR`, `NOT`, and a
  property compared with another property of the same type;
- `CASEI(...)` and `ACCENTI(...)` around a text property or a text: accent-insensitive
  uses the database's `unaccent` like the name search, so `ACCENTI(CASEI(name_vi)) =
  ACCENTI(CASEI('da hoa'))` finds "Đền Đa Hòa" only when the whole name matches, and
  `... LIKE ACCENTI(CASEI('%da hoa%'))` finds it inside a name;
- `S_INTERSECTS`, `S_WITHIN`, `S_CONTAINS`, `S_DISJOINT`, `S_TOUCHES`, `S_CROSSES`,
  `S_OVERLAPS`, `S_EQUALS` between the property `geometry` and a POINT, LINESTRING,
  POLYGON, their MULTI forms or `BBOX(minx, miny, maxx, maxy)`, in `filter_crs`;
- on date properties: `T_BEFORE`, `T_AFTER`, `T_EQUALS`, `T_INTERSECTS` and `T_DURING`
  with `DATE('YYYY-MM-DD')` or an `INTERVAL(...)` (ends included; `..` open);
- array properties (relic `types`, a list of codes): `types = 'historical'` means "the
  list contains 'historical'", `types <> 'x'` "does not contain", `types IN ('a', 'b')`
  "contains any of them", `types LIKE 'arch%'` "an element is like"; in cql2-json also
  `a_contains`, `a_containedby`, `a_overlaps` and `a_equals` with a list.

Filter geometries are in CRS84 (longitude, latitude) unless `filter_crs` names EPSG:4326
(latitude first, as that CRS defines), VN-2000 / TM-3 105-30 (EPSG:9209) or VN-2000 /
UTM 48N (EPSG:3405), both easting first. They are transformed to EPSG:4326 here with
pyproj (the official VN-2000 shift, see gis_app/geo/crs.py), so the database needs no
VN-2000 row in spatial_ref_sys.
"""
from __future__ import annotations

import difflib
import json
import logging
import math
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import shapely
from lark import Lark, v_args
from lark.exceptions import UnexpectedEOF, UnexpectedInput
from pyproj import CRS, Transformer
from shapely.geometry import shape as to_shape
from shapely.geometry.base import BaseGeometry

from gis_app import vocab
from gis_app.clock import VIETNAM_TIME
from gis_app.errors import InputError
from gis_app.geo.crs import VIETNAM_BBOX
from gis_app.geo.limits import check_vertices
from gis_app.numbers import format_number
from layers import PROPERTY_TITLES, PROPERTY_VOCABS, Layer

# pygeofilter's cql2-text module sets lark's logger to DEBUG and builds its parser on
# import, which would print the grammar's conflicts to stderr: keep only warnings.
logging.getLogger("lark").addFilter(lambda record: record.levelno >= logging.WARNING)
from pygeofilter import ast, values  # noqa: E402
from pygeofilter.cql2 import get_op  # noqa: E402
from pygeofilter.parsers.cql2_json.parser import walk_cql_json  # noqa: E402

log = logging.getLogger(__name__)


@cache
def text_parser() -> Lark:
    """pygeofilter's own cql2-text grammar and transformer, in a parser built without
    lark's debug mode (which prints the parser's whole state to stdout on every rejected
    value).

    Built on first use, not on import: pygeofilter's module builds a parser of its own
    when imported and ours is another, about 0.9 s together, which every command-line
    run (an import, a backup) paid for filters it never reads. gunicorn.conf.py builds
    it in each worker before the worker serves, so no visitor waits for it. lark's own
    cache is not used: it unpickles a file from the shared temporary directory.
    """
    from pygeofilter.parsers.cql2_text import parser as cql2_text

    @v_args(meta=False, inline=True)
    class QuietTransformer(cql2_text.CQLTransformer):
        """pygeofilter 0.4's transformer without its stray print() calls."""

        def wkt__geometry_with_srid(self, srid: int, geometry: dict[str, Any]
                                    ) -> dict[str, Any]:
            return {**geometry, "crs": {"type": "name", "properties": {
                "name": f"urn:ogc:def:crs:EPSG::{srid}"}}}

        def wkt__multipoint_2(self, *coordinates: Any) -> dict[str, Any]:
            return {"type": "MultiPoint", "coordinates": coordinates}

    return Lark.open("grammar.lark", rel_to=cql2_text.__file__, parser="lalr",
                     maybe_placeholders=False, transformer=QuietTransformer(),
                     import_paths=[os.path.dirname(os.path.dirname(cql2_text.__file__))])


MAX_FILTER_CHARS = 8000
MAX_DEPTH = 20  # nested parentheses, NOT and functions (AND/OR chains are flat)
MAX_PREDICATES = 200
GEOMETRY = "geometry"  # the queryable name of a layer's geometry

CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
FILTER_PART = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
# The Part 3 and CQL2 conformance classes to advertise in /conformance: what this module
# answers, within the limits docs/ogc-filtering.md lists (not temporal-functions,
# array-functions, functions or arithmetic).
CONFORMANCE_CLASSES: tuple[str, ...] = (
    FILTER_PART + "queryables",
    FILTER_PART + "filter",
    FILTER_PART + "features-filter",
    CQL2 + "cql2-text",
    CQL2 + "cql2-json",
    CQL2 + "basic-cql2",
    CQL2 + "advanced-comparison-operators",
    CQL2 + "case-insensitive-comparison",
    CQL2 + "accent-insensitive-comparison",
    CQL2 + "basic-spatial-functions",
    CQL2 + "basic-spatial-functions-plus",
    CQL2 + "spatial-functions",
    CQL2 + "property-property",
)
FILTER_LANGS = ("cql2-text", "cql2-json")

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
# Accepted `filter-crs` values (the OGC URIs; `EPSG:<code>` is accepted too).
FILTER_CRS: tuple[str, ...] = (CRS84_URI, EPSG_URI.format(4326), EPSG_URI.format(9209),
                               EPSG_URI.format(3405))
_SUPPORTED_EPSG = (4326, 9209, 3405)
_CRS84_RE = re.compile(r"^(?:https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84|OGC:CRS84|"
                       r"CRS84|urn:ogc:def:crs:OGC:1\.3:CRS84)$", re.IGNORECASE)
_EPSG_RE = re.compile(r"^(?:https?://www\.opengis\.net/def/crs/EPSG/0/|EPSG:|"
                      r"urn:ogc:def:crs:EPSG::)(\d{1,6})$", re.IGNORECASE)

EXAMPLE = "name_vi = 'Đền Đa Hòa' AND rank IN ('national', 'provincial')"

# How a type is named to a person: (en, vi).
TYPE_NAMES = {
    "string": ("text", "văn bản"), "number": ("a number", "số"),
    "integer": ("a whole number", "số nguyên"), "date": ("a date", "ngày"),
    "array": ("a list of codes", "danh sách mã"), "boolean": ("true/false", "đúng/sai"),
    "geometry": ("a geometry", "hình học"), "timestamp": ("a timestamp", "thời điểm"),
    "interval": ("an interval", "khoảng thời gian"), "list": ("a list", "danh sách"),
}


def _error(en: str, vi: str) -> InputError:
    return InputError(en, vi)


# --- reading the filter ---------------------------------------------------------------

def compile_filter(text_or_json: str, lang: str | None, layer: Layer,
                   filter_crs: str | None = None) -> tuple[str, dict[str, Any]]:
    """A CQL2 filter as a SQL boolean over `src` (the layer's source) and its bound
    parameters (`cql_0`, `cql_1`, ...).

    `lang` is `cql2-text` (None: the default) or `cql2-json`; `filter_crs` is the CRS of
    geometry literals (None: CRS84, lon/lat; see FILTER_CRS). Raises InputError with a
    message in English and Vietnamese for anything it cannot answer: a syntax error (with
    its position), a property the layer does not declare (listing its queryables), a
    value of the wrong type, an operator or function not supported, a filter longer than
    MAX_FILTER_CHARS or nested deeper than MAX_DEPTH.

    >>> compile_filter("rank = 'national'", None, get_layer("sites"))
    ("((src.rank) = CAST(:cql_0 AS text))", {'cql_0': 'national'})
    """
    text_value = _check_text(text_or_json)
    crs = _read_crs(filter_crs)
    filter_lang = (lang or "cql2-text").strip().lower()
    if filter_lang == "cql2-text":
        tree = _read_text(text_value)
    elif filter_lang == "cql2-json":
        tree = _read_json(text_value)
    else:
        raise _error(f"filter-lang must be cql2-text or cql2-json (got {lang!r}).",
                     f"filter-lang phải là cql2-text hoặc cql2-json (đã nhận {lang!r}).")
    compiler = _Compiler(layer, crs)
    return compiler.condition(tree, 0), compiler.params


def _check_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _error(f"The filter is empty; write a condition, e.g. {EXAMPLE}.",
                     f"Bộ lọc đang trống; hãy viết một điều kiện, ví dụ {EXAMPLE}.")
    if len(value) > MAX_FILTER_CHARS:
        raise _error(f"The filter is {format_number(len(value), 'en')} characters long; at "
                     f"most {format_number(MAX_FILTER_CHARS, 'en')}. Split it into simpler "
                     f"requests or use a bbox.",
                     f"Bộ lọc dài {format_number(len(value), 'vi')} ký tự; tối đa "
                     f"{format_number(MAX_FILTER_CHARS, 'vi')}. Hãy tách thành các yêu cầu "
                     f"đơn giản hơn hoặc dùng bbox.")
    if "\x00" in value or not _encodable(value):
        raise _error("The filter contains a character that is not text (NUL or a broken "
                     "Unicode sequence); retype it.",
                     "Bộ lọc chứa ký tự không phải văn bản (NUL hoặc mã Unicode hỏng); hãy "
                     "gõ lại.")
    return value.strip()


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_deep() -> InputError:
    return _error(f"The filter is nested too deeply (more than {MAX_DEPTH} levels of "
                  f"parentheses, NOT or functions); simplify it.",
                  f"Bộ lọc lồng nhau quá sâu (hơn {MAX_DEPTH} mức ngoặc, NOT hoặc hàm); "
                  f"hãy viết đơn giản hơn.")


def _paren_depth(text_value: str) -> int:
    """The deepest nesting of parentheses outside quoted text."""
    depth = deepest = 0
    quote = ""
    for char in text_value:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def _read_text(text_value: str) -> Any:
    # Geometry literals add two or three levels of their own parentheses.
    if _paren_depth(text_value) > MAX_DEPTH + 3:
        raise _too_deep()
    try:
        return text_parser().parse(text_value)
    except UnexpectedEOF as exc:
        raise _error("The filter ends too early: a value, an operator or a closing "
                     f"parenthesis is missing. Example: {EXAMPLE}.",
                     "Bộ lọc kết thúc quá sớm: thiếu một giá trị, một phép toán hoặc dấu "
                     f"đóng ngoặc. Ví dụ: {EXAMPLE}.") from exc
    except UnexpectedInput as exc:
        raise _syntax_error(text_value, exc) from exc
    except Exception as exc:  # noqa: BLE001 - pygeofilter's transformer raises anything
        log.info("cql2-text not read: %r", exc)
        raise _error("The filter could not be read: check the quotes ('text'), "
                     "DATE('YYYY-MM-DD'), TIMESTAMP('YYYY-MM-DDThh:mm:ssZ') and the "
                     f"geometry. Example: {EXAMPLE}.",
                     "Không đọc được bộ lọc: hãy kiểm tra dấu nháy ('văn bản'), "
                     "DATE('NNNN-TT-NN'), TIMESTAMP('NNNN-TT-NNThh:mm:ssZ') và hình học. "
                     f"Ví dụ: {EXAMPLE}.") from exc


def _syntax_error(text_value: str, exc: UnexpectedInput) -> InputError:
    position = getattr(exc, "pos_in_stream", None)
    if position is None and getattr(exc, "token", None) is not None:
        position = getattr(exc.token, "start_pos", None)
    position = position if isinstance(position, int) else 0
    near = text_value[position:position + 30].replace("\n", " ")
    column = position + 1
    token = ""
    if getattr(exc, "token", None) is not None and str(exc.token):
        token = str(exc.token)[:30]
    if getattr(getattr(exc, "token", None), "type", "") == "$END":
        return InputError(
            "The filter ends too early: a value, an operator or a closing parenthesis is "
            f"missing. Example: {EXAMPLE}.",
            "Bộ lọc kết thúc quá sớm: thiếu một giá trị, một phép toán hoặc dấu đóng ngoặc. "
            f"Ví dụ: {EXAMPLE}.", details={"position": column})
    what_en = f"unexpected “{token}”" if token else "unexpected text"
    what_vi = f"không mong đợi “{token}”" if token else "đoạn không hợp lệ"
    return InputError(
        f"Syntax error at character {column}: {what_en} at “{near}”. Write text in "
        f"single quotes, property names as listed in the queryables, operators such as = "
        f"<> < > LIKE IN BETWEEN IS NULL AND OR NOT, and balance the parentheses. "
        f"Example: {EXAMPLE}.",
        f"Lỗi cú pháp ở ký tự thứ {column}: {what_vi} tại “{near}”. Hãy đặt văn bản trong "
        f"dấu nháy đơn, dùng tên thuộc tính như trong danh sách queryables, các phép toán "
        f"như = <> < > LIKE IN BETWEEN IS NULL AND OR NOT, và đóng đủ ngoặc. "
        f"Ví dụ: {EXAMPLE}.",
        details={"position": column})


def _json_depth(node: Any) -> int:
    deepest = 0
    stack = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > 3 * MAX_DEPTH + 10:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _standardise_json(node: Any) -> Any:
    """CQL2 JSON as the standard writes it, in the forms pygeofilter 0.4 reads:
    `accenti` as a function, `bbox` as our BBOX function (pygeofilter reads its numbers
    in the wrong order), `between` with three arguments."""
    if isinstance(node, list):
        return [_standardise_json(item) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"}:
        return {"function": {"name": "bbox", "arguments": node["bbox"]}}
    if node.get("op") == "accenti" and isinstance(node.get("args"), list):
        return {"function": {"name": "accenti",
                             "arguments": _standardise_json(node["args"])}}
    out = {key: _standardise_json(value) for key, value in node.items()}
    args = out.get("args")
    if out.get("op") == "between" and isinstance(args, list) and len(args) == 3:
        out["args"] = [args[0], [args[1], args[2]]]
    if out.get("op") == "like" and isinstance(args, list) and len(args) == 2 \
            and isinstance(args[1], dict):
        out["args"] = [args[0], walk_cql_json(args[1])]
    return out


def _read_json(text_value: str) -> Any:
    try:
        document = json.loads(text_value)
    except (ValueError, RecursionError) as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" at character {exc.pos + 1}"
        raise _error(f"The filter is not valid JSON{where}; cql2-json looks like "
                     '{"op": "=", "args": [{"property": "rank"}, "national"]}.',
                     f"Bộ lọc không phải JSON hợp lệ{where.replace('at character', 'ở ký tự thứ')}"
                     '; cql2-json có dạng {"op": "=", "args": [{"property": "rank"}, '
                     '"national"]}.') from exc
    if _json_depth(document) > 3 * MAX_DEPTH + 10:
        raise _too_deep()
    try:
        return walk_cql_json(_standardise_json(document))
    except Exception as exc:  # noqa: BLE001 - pygeofilter raises anything on bad JSON
        log.info("cql2-json not read: %r", exc)
        raise _error("The cql2-json filter could not be read: each condition is "
                     '{"op": ..., "args": [...]}, a property is {"property": "name"}, a '
                     'date {"date": "YYYY-MM-DD"}, a box {"bbox": [minx, miny, maxx, '
                     'maxy]}, a geometry GeoJSON.',
                     "Không đọc được bộ lọc cql2-json: mỗi điều kiện có dạng "
                     '{"op": ..., "args": [...]}, thuộc tính là {"property": "tên"}, ngày là '
                     '{"date": "NNNN-TT-NN"}, khung là {"bbox": [minx, miny, maxx, maxy]}, '
                     "hình học theo GeoJSON.") from exc


# --- filter CRS ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _FilterCrs:
    epsg: int | None  # None: CRS84
    label: str


def _read_crs(value: str | None) -> _FilterCrs:
    if value is None or not value.strip() or _CRS84_RE.match(value.strip()):
        return _FilterCrs(None, "CRS84")
    match = _EPSG_RE.match(value.strip())
    if match and int(match.group(1)) in _SUPPORTED_EPSG:
        return _FilterCrs(int(match.group(1)), f"EPSG:{int(match.group(1))}")
    known = ", ".join(FILTER_CRS)
    raise _error(f"filter-crs {value[:100]!r} is not supported; use one of {known} "
                 f"(EPSG:9209 is VN-2000 / TM-3 105-30 of Hưng Yên).",
                 f"filter-crs {value[:100]!r} không được hỗ trợ; hãy dùng một trong {known} "
                 f"(EPSG:9209 là VN-2000 múi chiếu 3° kinh tuyến trục 105°30' của Hưng Yên).")


@cache
def _to_lonlat(epsg: int) -> Transformer:
    return Transformer.from_crs(CRS.from_epsg(epsg), CRS.from_epsg(4326), always_xy=True)


# --- compiling --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Operand:
    sql: str
    kind: str  # a TYPE_NAMES key
    en: str  # how to name it in a message
    vi: str
    prop: str | None = None  # the property it reads, if any
    literal: Any = None  # the Python value of a text literal (through CASEI/ACCENTI)
    is_literal: bool = False


_COMPARISONS: dict[type, str] = {ast.Equal: "=", ast.NotEqual: "<>", ast.LessThan: "<",
                                 ast.LessEqual: "<=", ast.GreaterThan: ">",
                                 ast.GreaterEqual: ">="}
_SPATIAL: dict[type, str] = {
    ast.GeometryIntersects: "ST_Intersects", ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryContains: "ST_Contains", ast.GeometryWithin: "ST_Within",
    ast.GeometryTouches: "ST_Touches", ast.GeometryCrosses: "ST_Crosses",
    ast.GeometryOverlaps: "ST_Overlaps", ast.GeometryEquals: "ST_Equals"}
_ARRAYS: dict[type, str] = {ast.ArrayContains: "@>", ast.ArrayContainedBy: "<@",
                            ast.ArrayOverlaps: "&&", ast.ArrayEquals: "="}
# pygeofilter reads T_INTERSECTS as TimeOverlaps; on a date (an instant) T_OVERLAPS has
# no meaning of its own, so both are answered as "intersects".
_TEMPORAL = {ast.TimeBefore: "before", ast.TimeAfter: "after", ast.TimeEquals: "equals",
             ast.TimeOverlaps: "intersects", ast.TimeDuring: "during"}


class _Compiler:
    def __init__(self, layer: Layer, crs: _FilterCrs) -> None:
        self.layer = layer
        self.crs = crs
        self.params: dict[str, Any] = {}
        self.predicates = 0

    # - helpers -
    def bind(self, value: Any, sql_type: str | None = None) -> str:
        name = f"cql_{len(self.params)}"
        self.params[name] = value
        return f"CAST(:{name} AS {sql_type})" if sql_type else f":{name}"

    def type_of(self, prop: str) -> str:
        return self.layer.property_types.get(prop, "string")

    def queryables_text(self) -> str:
        return ", ".join([*self.layer.properties, GEOMETRY])

    # - conditions -
    def condition(self, node: Any, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(node, ast.And | ast.Or):
            joiner = " AND " if isinstance(node, ast.And) else " OR "
            parts = [self.condition(leaf, depth + 1) for leaf in _flatten(node)]
            return "(" + joiner.join(parts) + ")"
        if isinstance(node, ast.Not):
            return f"(NOT {self.condition(node.sub_node, depth + 1)})"
        self.predicates += 1
        if self.predicates > MAX_PREDICATES:
            raise _error(f"The filter has more than {MAX_PREDICATES} conditions; use IN "
                         f"(...) or a simpler filter.",
                         f"Bộ lọc có hơn {MAX_PREDICATES} điều kiện; hãy dùng IN (...) "
                         f"hoặc viết đơn giản hơn.")
        if isinstance(node, ast.Include):
            return "FALSE" if node.not_ else "TRUE"
        if type(node) in _COMPARISONS:
            return self.comparison(node, depth)
        if isinstance(node, ast.Like):
            return self.like(node, depth)
        if isinstance(node, ast.In):
            return self.in_(node, depth)
        if isinstance(node, ast.Between):
            return self.between(node, depth)
        if isinstance(node, ast.IsNull):
            operand = self.operand(node.lhs, depth + 1)
            if operand.is_literal:
                raise _error("IS NULL applies to a property, e.g. name_en IS NULL.",
                             "IS NULL dùng cho một thuộc tính, ví dụ name_en IS NULL.")
            return f"({operand.sql} IS {'NOT ' if node.not_ else ''}NULL)"
        if type(node) in _SPATIAL:
            return self.spatial(_SPATIAL[type(node)], node.lhs, node.rhs, depth)
        if isinstance(node, ast.BBox):  # ECQL's BBOX(geometry, minx, miny, maxx, maxy)
            if node.crs:
                raise _error("Give the CRS as filter-crs, not inside BBOX(...).",
                             "Hãy ghi hệ tọa độ bằng filter-crs, không ghi trong BBOX(...).")
            box = ast.Function("bbox", [node.minx, node.miny, node.maxx, node.maxy])
            return self.spatial("ST_Intersects", node.lhs, box, depth)
        if type(node) in _TEMPORAL:
            return self.temporal(_TEMPORAL[type(node)], node, depth)
        if type(node) in _ARRAYS:
            return self.array(_ARRAYS[type(node)], node, depth)
        return self.unsupported(node)

    def unsupported(self, node: Any) -> str:
        if isinstance(node, ast.Node) and not isinstance(
                node, ast.Attribute | ast.Function | ast.Arithmetic):
            name = (get_op(node) or type(node).__name__).upper()
            raise _error(
                f"The operator {name} is not supported here. Supported: = <> < <= > >= "
                f"LIKE IN BETWEEN IS NULL AND OR NOT, CASEI, ACCENTI, S_INTERSECTS, "
                f"S_WITHIN, S_CONTAINS, S_DISJOINT, S_TOUCHES, S_CROSSES, S_OVERLAPS, "
                f"S_EQUALS, T_BEFORE, T_AFTER, T_EQUALS, T_INTERSECTS, T_DURING.",
                f"Phép toán {name} chưa được hỗ trợ. Được hỗ trợ: = <> < <= > >= LIKE IN "
                f"BETWEEN IS NULL AND OR NOT, CASEI, ACCENTI, S_INTERSECTS, S_WITHIN, "
                f"S_CONTAINS, S_DISJOINT, S_TOUCHES, S_CROSSES, S_OVERLAPS, S_EQUALS, "
                f"T_BEFORE, T_AFTER, T_EQUALS, T_INTERSECTS, T_DURING.")
        raise _error(f"The filter must be a condition that is true or false, e.g. {EXAMPLE}.",
                     f"Bộ lọc phải là một điều kiện đúng hoặc sai, ví dụ {EXAMPLE}.")

    # - operands -
    def operand(self, node: Any, depth: int) -> _Operand:
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(node, ast.Attribute):
            return self.attribute(node.name)
        if isinstance(node, bool):
            return _Operand(self.bind(node, "boolean"), "boolean", f"the value {node}",
                            f"giá trị {node}", is_literal=True)
        if isinstance(node, int | float):
            if not math.isfinite(node):
                raise _error("Numbers in a filter must be finite.",
                             "Số trong bộ lọc phải là số hữu hạn.")
            return _Operand(self.bind(node, "numeric"), "number", f"the number {node}",
                            f"số {node}", is_literal=True)
        if isinstance(node, str):
            value = _text_value(node)
            return _Operand(self.bind(value, "text"), "string", f"the text '{value[:40]}'",
                            f"văn bản '{value[:40]}'", literal=value, is_literal=True)
        if isinstance(node, datetime):
            return _Operand("", "timestamp", f"the timestamp {node.isoformat()}",
                            f"thời điểm {node.isoformat()}", literal=node, is_literal=True)
        if isinstance(node, date):
            return _Operand(self.bind(node, "date"), "date", f"the date {node.isoformat()}",
                            f"ngày {node.isoformat()}", literal=node, is_literal=True)
        if isinstance(node, ast.Function):
            return self.function(node, depth)
        if isinstance(node, values.Geometry):
            return self.geometry_literal(node.geometry)
        if isinstance(node, values.Envelope):
            raise _error("ENVELOPE(...) is not CQL2; write BBOX(minx, miny, maxx, maxy).",
                         "ENVELOPE(...) không thuộc CQL2; hãy viết BBOX(minx, miny, maxx, "
                         "maxy).")
        if isinstance(node, ast.Arithmetic):
            raise _error("Arithmetic (+ - * /) is not supported in filters; compare a "
                         "property with a value.",
                         "Bộ lọc không hỗ trợ phép tính (+ - * /); hãy so sánh thuộc tính "
                         "với một giá trị.")
        if isinstance(node, values.Interval):
            raise _error("An INTERVAL(...) can only follow T_INTERSECTS, T_DURING, T_BEFORE, "
                         "T_AFTER or T_EQUALS on a date property.",
                         "INTERVAL(...) chỉ dùng sau T_INTERSECTS, T_DURING, T_BEFORE, "
                         "T_AFTER hoặc T_EQUALS với thuộc tính ngày.")
        if node is None:
            raise _error("Compare with NULL by writing IS NULL or IS NOT NULL.",
                         "Để so sánh với NULL hãy viết IS NULL hoặc IS NOT NULL.")
        if isinstance(node, ast.Node):
            raise _error("A condition cannot be used as a value here; compare a property "
                         f"with a value, e.g. {EXAMPLE}.",
                         "Không thể dùng một điều kiện làm giá trị ở đây; hãy so sánh thuộc "
                         f"tính với một giá trị, ví dụ {EXAMPLE}.")
        raise _error("This value cannot be used here: give text in quotes, a number, "
                     "DATE('YYYY-MM-DD') or a geometry.",
                     "Không dùng được giá trị này ở đây: hãy ghi văn bản trong dấu nháy, "
                     "một số, DATE('NNNN-TT-NN') hoặc một hình học.")

    def attribute(self, name: Any) -> _Operand:
        if not isinstance(name, str):
            raise _error('A property is named by text, e.g. {"property": "name_vi"}.',
                         'Thuộc tính được gọi bằng tên, ví dụ {"property": "name_vi"}.')
        if name == GEOMETRY or name == self.layer.geom_column:
            return _Operand(f"src.{self.layer.geom_column}", "geometry",
                            "the property geometry", "thuộc tính geometry", prop=GEOMETRY)
        expr = self.layer.properties.get(name)
        if expr is None:
            close = difflib.get_close_matches(name, [*self.layer.properties, GEOMETRY], n=1)
            hint_en = f" Did you mean {close[0]}?" if close else ""
            hint_vi = f" Có phải bạn muốn viết {close[0]}?" if close else ""
            shown = name[:60]
            raise InputError(
                f"The layer '{self.layer.name}' has no property '{shown}'.{hint_en} Its "
                f"queryables are: {self.queryables_text()}.",
                f"Lớp '{self.layer.name}' không có thuộc tính '{shown}'.{hint_vi} Các thuộc "
                f"tính lọc được: {self.queryables_text()}.",
                details={"queryables": [*self.layer.properties, GEOMETRY]})
        kind = self.type_of(name)
        en, vi = TYPE_NAMES.get(kind, TYPE_NAMES["string"])
        return _Operand(f"({expr})", kind, f"the property {name} ({en})",
                        f"thuộc tính {name} ({vi})", prop=name)

    def function(self, node: ast.Function, depth: int) -> _Operand:
        name = str(node.name).lower()
        args = node.arguments if isinstance(node.arguments, list) else [node.arguments]
        if name == "bbox":
            return self.bbox_literal(args)
        if name in ("lower", "casei", "accenti"):
            label = "CASEI" if name != "accenti" else "ACCENTI"
            if len(args) != 1:
                raise _error(f"{label}(...) takes one text value, e.g. {label}(name_vi).",
                             f"{label}(...) nhận một giá trị văn bản, ví dụ {label}(name_vi).")
            inner = self.operand(args[0], depth + 1)
            if inner.kind != "string":
                raise _error(f"{label}(...) applies to text, not {inner.en}.",
                             f"{label}(...) chỉ dùng cho văn bản, không dùng cho {inner.vi}.")
            sql = f"lower({inner.sql})" if label == "CASEI" else f"f_unaccent({inner.sql})"
            return _Operand(sql, "string", f"{label}({inner.en})", f"{label}({inner.vi})",
                            prop=inner.prop, literal=inner.literal,
                            is_literal=inner.is_literal)
        shown = str(node.name)[:40].upper()
        raise _error(f"The function {shown}() is not supported; filters know CASEI(), "
                     f"ACCENTI() and BBOX().",
                     f"Hàm {shown}() chưa được hỗ trợ; bộ lọc dùng được CASEI(), ACCENTI() "
                     f"và BBOX().")

    # - predicates -
    def comparison(self, node: Any, depth: int) -> str:
        op = _COMPARISONS[type(node)]
        lhs = self.operand(node.lhs, depth + 1)
        rhs = self.operand(node.rhs, depth + 1)
        if lhs.is_literal and not rhs.is_literal:
            lhs, rhs = rhs, lhs
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        if lhs.kind == "array":
            if rhs.kind != "string" or not rhs.is_literal:
                raise self.type_error(lhs, rhs)
            if op not in ("=", "<>"):
                raise _error(f"{lhs.prop} is a list of codes: use = (contains), <> (does "
                             f"not contain), IN (contains any) or LIKE.",
                             f"{lhs.prop} là danh sách mã: hãy dùng = (có chứa), <> (không "
                             f"chứa), IN (chứa một trong) hoặc LIKE.")
            contains = f"({rhs.sql} = ANY(CAST({lhs.sql} AS text[])))"
            return contains if op == "=" else f"(NOT {contains})"
        if lhs.kind == "geometry" or rhs.kind == "geometry":
            raise _error("Compare geometries with S_INTERSECTS, S_EQUALS, S_WITHIN, ..., "
                         "e.g. S_INTERSECTS(geometry, BBOX(105.93, 20.86, 105.95, 20.88)).",
                         "Hãy so sánh hình học bằng S_INTERSECTS, S_EQUALS, S_WITHIN, ..., "
                         "ví dụ S_INTERSECTS(geometry, BBOX(105.93, 20.86, 105.95, 20.88)).")
        self.check_comparable(lhs, rhs)
        if op not in ("=", "<>") and lhs.kind == "boolean":
            raise _error(f"{lhs.en} can only be compared with = or <>.",
                         f"{lhs.vi} chỉ so sánh được bằng = hoặc <>.")
        return f"({lhs.sql} {op} {rhs.sql})"

    def check_comparable(self, lhs: _Operand, rhs: _Operand) -> None:
        numbers = ("number", "integer")
        if lhs.kind == rhs.kind or (lhs.kind in numbers and rhs.kind in numbers):
            if lhs.kind == "timestamp":
                raise self.type_error(lhs, rhs)
            return
        raise self.type_error(lhs, rhs)

    def type_error(self, lhs: _Operand, rhs: _Operand) -> InputError:
        hint_en = hint_vi = ""
        if lhs.kind == "date" or rhs.kind == "date":
            hint_en = " Write a date as DATE('2024-05-31')."
            hint_vi = " Hãy ghi ngày dạng DATE('2024-05-31')."
        elif lhs.kind in ("string", "array") or rhs.kind in ("string", "array"):
            hint_en = " Put text in single quotes, e.g. rank = 'national'."
            hint_vi = " Hãy đặt văn bản trong dấu nháy đơn, ví dụ rank = 'national'."
        return _error(f"Cannot compare {lhs.en} with {rhs.en}.{hint_en}",
                      f"Không thể so sánh {lhs.vi} với {rhs.vi}.{hint_vi}")

    def property_operand(self, node: Any, depth: int, what: str) -> _Operand:
        operand = self.operand(node, depth + 1)
        if operand.prop is None or operand.is_literal:
            raise _error(f"{what} needs a property on its left, e.g. name_vi {what} ...",
                         f"{what} cần một thuộc tính ở bên trái, ví dụ name_vi {what} ...")
        return operand

    def like(self, node: ast.Like, depth: int) -> str:
        lhs = self.property_operand(node.lhs, depth, "LIKE")
        pattern = self.operand(node.pattern, depth + 1)
        if pattern.kind != "string" or not pattern.is_literal:
            raise _error("LIKE needs a text pattern in quotes, e.g. name_vi LIKE 'Đình%'.",
                         "LIKE cần một mẫu văn bản trong dấu nháy, ví dụ name_vi LIKE "
                         "'Đình%'.")
        trailing = len(pattern.literal) - len(pattern.literal.rstrip("\\"))
        if trailing % 2:
            raise _error("A LIKE pattern cannot end with a single backslash (\\ escapes "
                         "the next character: \\% is a percent sign).",
                         "Mẫu LIKE không được kết thúc bằng một dấu gạch chéo ngược (\\ dùng "
                         "để thoát ký tự sau nó: \\% là dấu phần trăm).")
        negate = "NOT " if node.not_ else ""
        if lhs.kind == "array":
            return (f"({negate}EXISTS (SELECT 1 FROM unnest(CAST({lhs.sql} AS text[])) "
                    f"AS cql_element(v) WHERE cql_element.v LIKE {pattern.sql}))")
        if lhs.kind != "string":
            raise _error(f"LIKE applies to text properties, not {lhs.en}.",
                         f"LIKE chỉ dùng cho thuộc tính văn bản, không dùng cho {lhs.vi}.")
        return f"({lhs.sql} {negate}LIKE {pattern.sql})"

    def in_(self, node: ast.In, depth: int) -> str:
        lhs = self.property_operand(node.lhs, depth, "IN")
        options = node.sub_nodes
        if isinstance(options, list) and len(options) == 1 and isinstance(options[0], list):
            options = options[0]
        if not isinstance(options, list) or not options:
            raise _error("IN needs a list of values, e.g. rank IN ('national', 'provincial').",
                         "IN cần một danh sách giá trị, ví dụ rank IN ('national', "
                         "'provincial').")
        items = [self.operand(item, depth + 1) for item in options]
        negate = "NOT " if node.not_ else ""
        if lhs.kind == "array":
            for item in items:
                if item.kind != "string" or not item.is_literal:
                    raise self.type_error(lhs, item)
            listed = ", ".join(item.sql for item in items)
            return f"({negate}(CAST({lhs.sql} AS text[]) && ARRAY[{listed}]))"
        for item in items:
            if not item.is_literal:
                raise _error("IN lists values, not properties.",
                             "IN chỉ liệt kê giá trị, không liệt kê thuộc tính.")
            self.check_comparable(lhs, item)
        if lhs.kind == "geometry":
            raise _error("IN does not apply to the geometry; use S_INTERSECTS.",
                         "IN không dùng cho hình học; hãy dùng S_INTERSECTS.")
        return f"({lhs.sql} {negate}IN ({', '.join(item.sql for item in items)}))"

    def between(self, node: ast.Between, depth: int) -> str:
        lhs = self.property_operand(node.lhs, depth, "BETWEEN")
        if lhs.kind not in ("string", "number", "integer", "date"):
            raise _error(f"BETWEEN applies to numbers, dates and text, not {lhs.en}.",
                         f"BETWEEN dùng cho số, ngày và văn bản, không dùng cho {lhs.vi}.")
        low = self.operand(node.low, depth + 1)
        high = self.operand(node.high, depth + 1)
        self.check_comparable(lhs, low)
        self.check_comparable(lhs, high)
        negate = "NOT " if node.not_ else ""
        return f"({lhs.sql} {negate}BETWEEN {low.sql} AND {high.sql})"

    def spatial(self, function: str, lhs_node: Any, rhs_node: Any, depth: int) -> str:
        lhs = self.operand(lhs_node, depth + 1)
        rhs = self.operand(rhs_node, depth + 1)
        name = function.replace("ST_", "S_").upper()
        if lhs.kind != "geometry" or rhs.kind != "geometry" or \
                (lhs.prop is None) == (rhs.prop is None):
            raise _error(f"{name}(...) compares the property geometry with a geometry, e.g. "
                         f"{name}(geometry, POLYGON((105.93 20.86, 105.95 20.86, 105.95 "
                         f"20.88, 105.93 20.86))) or {name}(geometry, BBOX(105.93, 20.86, "
                         f"105.95, 20.88)).",
                         f"{name}(...) so sánh thuộc tính geometry với một hình học, ví dụ "
                         f"{name}(geometry, POLYGON((105.93 20.86, 105.95 20.86, 105.95 "
                         f"20.88, 105.93 20.86))) hoặc {name}(geometry, BBOX(105.93, 20.86, "
                         f"105.95, 20.88)).")
        return f"{function}({lhs.sql}, {rhs.sql})"

    def temporal(self, relation: str, node: Any, depth: int) -> str:
        lhs = self.operand(node.lhs, depth + 1)
        rhs_node = node.rhs
        if lhs.is_literal and isinstance(rhs_node, ast.Attribute):
            raise _error("Put the date property first, e.g. valid_from T_AFTER "
                         "DATE('2020-01-01').",
                         "Hãy ghi thuộc tính ngày trước, ví dụ valid_from T_AFTER "
                         "DATE('2020-01-01').")
        if lhs.kind != "date" or lhs.prop is None:
            raise _error(f"Temporal operators (T_...) apply to date properties, not "
                         f"{lhs.en}. Date properties here: {self.dates_text()}.",
                         f"Các phép toán thời gian (T_...) dùng cho thuộc tính ngày, không "
                         f"dùng cho {lhs.vi}. Thuộc tính ngày ở đây: {self.dates_text()}.")
        if isinstance(rhs_node, values.Interval):
            start = self.day(rhs_node.start)
            end = self.day(rhs_node.end)
            if start is not None and end is not None and start > end:
                raise _error("The INTERVAL starts after it ends.",
                             "Khoảng thời gian INTERVAL bắt đầu sau khi kết thúc.")
            d = lhs.sql
            s = self.bind(start, "date") if start is not None else None
            e = self.bind(end, "date") if end is not None else None
            if relation == "before":
                return f"({d} < {s})" if s else "FALSE"
            if relation == "after":
                return f"({d} > {e})" if e else "FALSE"
            if relation == "equals":
                return f"({d} = {s} AND {d} = {e})" if s and e else "FALSE"
            bounds = [f"{d} >= {s}"] if s else []
            bounds += [f"{d} <= {e}"] if e else []
            return "(" + " AND ".join(bounds) + ")" if bounds else f"({d} IS NOT NULL)"
        day = self.day(rhs_node)
        if day is None:
            raise _error("Compare a date property with DATE('YYYY-MM-DD') or an "
                         "INTERVAL(...).",
                         "Hãy so sánh thuộc tính ngày với DATE('NNNN-TT-NN') hoặc "
                         "INTERVAL(...).")
        if relation == "during":
            raise _error("T_DURING needs an INTERVAL(start, end); for one day use "
                         "T_EQUALS.",
                         "T_DURING cần một INTERVAL(đầu, cuối); với một ngày hãy dùng "
                         "T_EQUALS.")
        op = {"before": "<", "after": ">", "equals": "=", "intersects": "="}[relation]
        return f"({lhs.sql} {op} {self.bind(day, 'date')})"

    def dates_text(self) -> str:
        dates = [k for k, v in self.layer.property_types.items() if v == "date"]
        return ", ".join(dates) or "—"

    def day(self, value: Any) -> date | None:
        """A date literal, a timestamp (its day in Vietnam) or an open end (None)."""
        if value is None or value == "..":
            return None
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                return value.astimezone(VIETNAM_TIME).date()  # that day in Vietnam
            return value.date()
        if isinstance(value, date):
            return value
        raise _error("Temporal operators take DATE('YYYY-MM-DD'), TIMESTAMP(...) or "
                     "INTERVAL(...) values.",
                     "Các phép toán thời gian nhận giá trị DATE('NNNN-TT-NN'), "
                     "TIMESTAMP(...) hoặc INTERVAL(...).")

    def array(self, op: str, node: Any, depth: int) -> str:
        lhs = self.operand(node.lhs, depth + 1)
        if lhs.kind != "array" or lhs.prop is None:
            raise _error(f"Array operators (A_...) apply to list properties, not {lhs.en}.",
                         f"Các phép toán danh sách (A_...) dùng cho thuộc tính danh sách, "
                         f"không dùng cho {lhs.vi}.")
        rhs = node.rhs
        if not isinstance(rhs, list) or not all(isinstance(v, str) for v in rhs):
            raise _error('Array operators compare with a list of texts, e.g. ["historical"].',
                         'Các phép toán danh sách so sánh với một danh sách văn bản, ví dụ '
                         '["historical"].')
        items = [_text_value(v) for v in rhs]
        return f"(CAST({lhs.sql} AS text[]) {op} {self.bind(items, 'text[]')})"

    # - geometry literals -
    def bbox_literal(self, args: list[Any]) -> _Operand:
        numbers = [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]
        if len(numbers) != len(args) or len(args) not in (4, 6):
            raise _error("BBOX takes 4 numbers: BBOX(minx, miny, maxx, maxy).",
                         "BBOX nhận 4 số: BBOX(minx, miny, maxx, maxy).")
        if len(args) == 6:
            numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
        minx, miny, maxx, maxy = numbers
        if self.crs.epsg == 4326:  # latitude first
            minx, miny, maxx, maxy = miny, minx, maxy, maxx
        if not (minx <= maxx and miny <= maxy):
            raise _error("BBOX is minx, miny, maxx, maxy with minx <= maxx and miny <= maxy.",
                         "BBOX là minx, miny, maxx, maxy với minx <= maxx và miny <= maxy.")
        box = shapely.box(minx, miny, maxx, maxy)
        return self.geometry_operand(box, already_lonlat_order=True)

    def geometry_literal(self, geometry: dict[str, Any]) -> _Operand:
        if "crs" in geometry:
            raise _error("Give the CRS of filter geometries as filter-crs, not as SRID=… "
                         "in the filter.",
                         "Hãy ghi hệ tọa độ của hình học bằng filter-crs, không ghi SRID=… "
                         "trong bộ lọc.")
        if geometry.get("type") == "GeometryCollection":
            raise _error("GEOMETRYCOLLECTION is not supported; combine the parts with OR.",
                         "Không hỗ trợ GEOMETRYCOLLECTION; hãy nối các phần bằng OR.")
        try:
            shape = to_shape(geometry)
        except Exception as exc:  # noqa: BLE001 - shapely raises several kinds here
            raise _error("The geometry could not be read: a polygon ring needs at least 4 "
                         "points and ends where it starts, e.g. POLYGON((105.93 20.86, "
                         "105.95 20.86, 105.95 20.88, 105.93 20.86)).",
                         "Không đọc được hình học: vòng của đa giác cần ít nhất 4 điểm và "
                         "khép kín, ví dụ POLYGON((105.93 20.86, 105.95 20.86, 105.95 20.88, "
                         "105.93 20.86)).") from exc
        return self.geometry_operand(shape, already_lonlat_order=False)

    def geometry_operand(self, shape: BaseGeometry, already_lonlat_order: bool) -> _Operand:
        if shape.is_empty:
            raise _error("The filter geometry is empty.", "Hình học trong bộ lọc rỗng.")
        check_vertices(shape, "Filter geometry: ", "Hình học trong bộ lọc: ")
        coords = shapely.get_coordinates(shape)
        if not all(math.isfinite(v) for v in coords.ravel()):
            raise _error("Coordinates must be finite numbers.", "Tọa độ phải là số hữu hạn.")
        shape = shapely.force_2d(shape)
        if self.crs.epsg in (9209, 3405):
            shape = shapely.transform(shape, _vectorised(_to_lonlat(self.crs.epsg)))
        elif self.crs.epsg == 4326 and not already_lonlat_order:
            shape = shapely.transform(shape, lambda xy: xy[:, ::-1])
        lonlat = shapely.get_coordinates(shape)
        if not (all(math.isfinite(v) for v in lonlat.ravel())
                and (abs(lonlat[:, 0]) <= 180).all() and (abs(lonlat[:, 1]) <= 90).all()):
            raise self.range_error()
        if self.crs.epsg in (9209, 3405):
            minx, miny, maxx, maxy = VIETNAM_BBOX
            if not ((lonlat[:, 0] >= minx) & (lonlat[:, 0] <= maxx) & (lonlat[:, 1] >= miny)
                    & (lonlat[:, 1] <= maxy)).all():
                raise self.range_error()
        if not shape.is_valid:
            reason = shapely.is_valid_reason(shape)
            raise _error(f"The filter geometry is not valid ({reason}); a polygon's outline "
                         f"must not cross itself.",
                         f"Hình học trong bộ lọc không hợp lệ ({reason}); đường bao của đa "
                         f"giác không được tự cắt.")
        sql = f"ST_GeomFromWKB({self.bind(shapely.to_wkb(shape), 'bytea')}, 4326)"
        return _Operand(sql, "geometry", "a geometry", "một hình học", is_literal=True)

    def range_error(self) -> InputError:
        if self.crs.epsg == 4326:
            return _error("With filter-crs EPSG:4326 coordinates are latitude first, then "
                          "longitude (e.g. POINT(20.87 105.94)); for longitude first leave "
                          "out filter-crs (CRS84).",
                          "Với filter-crs EPSG:4326 tọa độ ghi vĩ độ trước, kinh độ sau (ví "
                          "dụ POINT(20.87 105.94)); muốn ghi kinh độ trước hãy bỏ filter-crs "
                          "(CRS84).")
        if self.crs.epsg is None:
            return _error("Filter coordinates are longitude, latitude in degrees (CRS84), "
                          "e.g. POINT(105.94 20.87). For VN-2000 metres add "
                          f"filter-crs={EPSG_URI.format(9209)}.",
                          "Tọa độ trong bộ lọc là kinh độ, vĩ độ tính bằng độ (CRS84), ví dụ "
                          "POINT(105.94 20.87). Với tọa độ mét VN-2000 hãy thêm "
                          f"filter-crs={EPSG_URI.format(9209)}.")
        return _error(f"These coordinates are not in {self.crs.label}: give easting, "
                      f"northing in metres (e.g. POINT(546633 2306413)).",
                      f"Tọa độ này không thuộc {self.crs.label}: hãy ghi tọa độ X (đông), Y "
                      f"(bắc) bằng mét (ví dụ POINT(546633 2306413)).")


def _text_value(value: str) -> str:
    """A text literal as stored (NFC, as the data is); InputError for NUL or broken
    Unicode, which cql2-json can carry as escapes (\\u0000, \\ud800)."""
    if "\x00" in value or not _encodable(value):
        raise _error("A text in the filter contains a character that is not text (NUL or a "
                     "broken Unicode sequence); retype it.",
                     "Một văn bản trong bộ lọc chứa ký tự không hợp lệ (NUL hoặc mã Unicode "
                     "hỏng); hãy gõ lại.")
    return unicodedata.normalize("NFC", value)


def _vectorised(transformer: Transformer) -> Callable[[Any], Any]:
    import numpy as np

    def apply(xy: Any) -> Any:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])
    return apply


def _flatten(node: ast.Combination) -> list[Any]:
    """The operands of a chain of the same AND (or OR), left to right, without recursion
    (pygeofilter nests `a AND b AND c` to the left)."""
    kind = type(node)
    out: list[Any] = []
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if type(item) is kind:
            stack.extend([item.rhs, item.lhs])
        else:
            out.append(item)
    return out


# --- queryables -------------------------------------------------------------------------

_GEOMETRY_FORMATS = {"Point": "geometry-point", "MultiPolygon": "geometry-multipolygon",
                     "Polygon": "geometry-polygon", "MultiLineString": "geometry-multilinestring",
                     "LineString": "geometry-linestring"}


def queryables(layer: Layer, lang: str | None, id_url: str | None = None) -> dict[str, Any]:
    """The JSON Schema of the layer's queryables (`/collections/{id}/queryables`, OGC API
    Features Part 3): every declared property with its type and title in `lang` (vi,
    default, or en), codes of a controlled vocabulary as `enum` (their labels in the
    description), and `geometry`. `id_url` becomes `$id` (the endpoint's own URL)."""
    lang = "en" if lang == "en" else "vi"
    popup = {f.key: f for f in layer.popup}
    props: dict[str, Any] = {}
    for key in layer.properties:
        field = popup.get(key)
        title = layer.property_titles.get(key) or (field.label if field else None) \
            or PROPERTY_TITLES.get(key)
        schema: dict[str, Any] = {"title": layer.text(title, lang) if title else key}
        kind = layer.property_types.get(key, "string")
        if kind == "date":
            schema.update(type="string", format="date")
        elif kind == "array":
            schema.update(type="array", items={"type": "string"})
        else:
            schema["type"] = kind
        vocab_name = (field.vocab if field and field.vocab else None) or \
            PROPERTY_VOCABS.get(key)
        codes = vocab.VOCAB.get(vocab_name or "")
        if codes:
            target = schema["items"] if kind == "array" else schema
            target["enum"] = list(codes)
            index = 1 if lang == "en" else 0
            schema["description"] = "; ".join(f"{code}: {labels[index]}"
                                              for code, labels in codes.items())
        props[key] = schema
    props[GEOMETRY] = {
        "title": "Hình học" if lang == "vi" else "Geometry",
        "format": _GEOMETRY_FORMATS.get(layer.geometry_type, "geometry-any"),
        "x-ogc-role": "primary-geometry"}
    document: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "title": layer.text(layer.title, lang),
        "properties": props,
        "additionalProperties": False,
    }
    if id_url:
        document["$id"] = id_url
    return document
