"""read -> detect (CRS, encoding) -> map fields -> validate -> report -> load.

The whole import runs in one savepoint: any error rolls everything back, so the
database is exactly as it was. Rows are validated and transformed in batches and
staged with COPY into a temporary table; set-based SQL then upserts them (see
`targets.py`). Every row the import creates or changes gets a revision linked to the
`imports` record, which is what `services.imports.undo_import` reverses. The target
table is analysed at the end (fresh planner statistics), and the report keeps the
seconds each phase took (`timings`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import shapely
from sqlalchemy import text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from gis_app.clock import VIETNAM_TIME, today_in_vietnam
from gis_app.errors import ImportFailed, InputError
from gis_app.geo import crs as crs_mod
from gis_app.geo import encodings
from gis_app.models import ImportRun
from gis_app.services import proposals
from gis_app.services.admin_units import assign_units
from gis_app.services.audit import set_actor, set_import

from . import mapping, targets
from .reader import Batch, Source, open_source, read_batches, text_values

log = logging.getLogger(__name__)

MAX_ERRORS = 200  # listed in the report; the count is always exact
MAX_LISTED_ROWS = 50
MAX_UNKNOWN_ROWS = 10  # rows listed for each unknown vocabulary value
PREVIEW_FEATURES = 2000
CPG_NAMES = {"utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8",
             "1258": "cp1258", "cp1258": "cp1258", "windows-1258": "cp1258",
             "ansi 1258": "cp1258",
             "1252": "cp1252", "cp1252": "cp1252", "windows-1252": "cp1252",
             "ansi 1252": "cp1252", "iso-8859-1": "cp1252", "latin1": "cp1252"}

Progress = Callable[[int, int], None]  # (features just done, total)


@dataclass
class ImportOptions:
    layer: str
    preset: str | None = None
    # A preset file kept anywhere (the command line's --preset PATH), instead of `preset`.
    preset_path: str | None = None
    crs: str | None = None
    encoding: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    # Value mapping given by hand, over the preset's: {target field: {source value: code}}.
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    source_layer: str | None = None
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "preset": self.preset,
                "preset_path": self.preset_path, "crs": self.crs,
                "encoding": self.encoding, "mapping": self.mapping,
                "values": self.values, "source_layer": self.source_layer}


@dataclass
class ImportResult:
    import_id: int | None
    counts: dict[str, int]
    report: dict[str, Any]
    preview: dict[str, Any]  # GeoJSON FeatureCollection of the first features, EPSG:4326
    dry_run: bool


class Report:
    """What the user sees: decisions taken, repairs made, warnings and errors by row."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.error_count = 0
        self.repairs: dict[str, dict[str, Any]] = {}
        self.warnings: list[dict[str, Any]] = []
        self.info: dict[str, Any] = {}
        # (field, value) -> entry: each value outside a vocabulary once, with its rows.
        self.unknown: dict[tuple[str, str], dict[str, Any]] = {}

    def error(self, row: int | None, field_name: str | None, en: str, vi: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "field": field_name, "en": en, "vi": vi})

    def unknown_value(self, row: int, column: str, problem: mapping.UnknownValue) -> None:
        """A value outside its field's vocabulary: counted as one error per distinct
        value (not per row); the entry lists its count, first rows, the codes expected
        and the exact --value that maps it."""
        key = (problem.field, problem.value)
        entry = self.unknown.get(key)
        if entry is None:
            self.error_count += 1
            some_code = next(iter(problem.expected), "CODE")
            entry = self.unknown[key] = {
                "field": problem.field, "column": column, "value": problem.value,
                "label": problem.label, "count": 0, "rows": [], "expected": problem.expected,
                "suggestion": f'--value {problem.field} "{problem.value}={some_code}"'}
        entry["count"] += 1
        if len(entry["rows"]) < MAX_UNKNOWN_ROWS:
            entry["rows"].append(row)

    def _unknown_errors(self) -> list[dict[str, Any]]:
        """The unknown values as error entries (one per value), first row first."""
        out = []
        for entry in sorted(self.unknown.values(), key=lambda e: e["rows"][0]):
            rows = ", ".join(str(r) for r in entry["rows"])
            more = ", …" if entry["count"] > len(entry["rows"]) else ""
            codes = "; ".join(f"{code} ({vi})" for code, vi in entry["expected"].items())
            out.append({
                "row": entry["rows"][0], "field": entry["column"],
                "count": entry["count"], "value": entry["value"],
                "en": (f"{entry['value']!r} is not a known {entry['label']['en']} "
                       f"({entry['field']}; {entry['count']} row(s): {rows}{more}); expected "
                       f"one of: {codes}. To map it, choose its code in the web import's mapping "
                       f"step, or add {entry['suggestion']} on the command line."),
                "vi": (f"{entry['value']!r} không phải {entry['label']['vi']} hợp lệ "
                       f"({entry['field']}; {entry['count']} dòng: {rows}{more}); cần một "
                       f"trong: {codes}. Để ánh xạ, chọn mã cho giá trị này ở bước ghép cột "
                       f"khi nhập trên web, hoặc thêm {entry['suggestion']} khi nhập bằng "
                       f"dòng lệnh.")})
        return out

    def repair(self, kind: str, en: str, vi: str, rows: list[int]) -> None:
        entry = self.repairs.setdefault(kind, {"en": en, "vi": vi, "count": 0, "rows": []})
        entry["count"] += len(rows)
        room = MAX_LISTED_ROWS - len(entry["rows"])
        entry["rows"].extend(rows[:max(room, 0)])

    def warn(self, en: str, vi: str, rows: list[int] | None = None) -> None:
        self.warnings.append({"en": en, "vi": vi, "rows": (rows or [])[:MAX_LISTED_ROWS],
                              "count": len(rows or [])})

    def as_dict(self) -> dict[str, Any]:
        return {**self.info, "repairs": list(self.repairs.values()), "warnings": self.warnings,
                "errors": (self._unknown_errors() + self.errors)[:MAX_ERRORS],
                "error_count": self.error_count,
                "unknown_values": [dict(e) for e in self.unknown.values()]}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_import(db: Session, path: Path, options: ImportOptions, *,
               file_name: str | None = None, actor_id: int | None = None,
               progress: Progress | None = None) -> ImportResult:
    """Import the survey file at `path` into `options.layer`, all or nothing.

    The caller commits (a dry run rolls its own work back and returns the counts it would
    have produced). Raises InputError for bad options or an undecidable CRS/encoding, and
    ImportFailed (with the report in `details["report"]`) when the file or any row is
    rejected; in both cases nothing is written.
    """
    target = targets.get_target(options.layer)
    if target is None:
        names = ", ".join(targets.TARGETS)
        raise InputError(f"The layer {options.layer!r} cannot be imported into; importable "
                         f"layers: {names}.",
                         f"Không nhập được vào lớp {options.layer!r}; các lớp nhập được: "
                         f"{names}.")
    if options.preset_path:
        preset: mapping.Preset | None = mapping.read_preset_file(Path(options.preset_path),
                                                                 target.layer)
    else:
        preset = (mapping.get_preset(options.preset, target.layer) if options.preset
                  else None)
    given_crs = crs_mod.parse_crs(options.crs) if options.crs else None
    given_encoding = (encodings.normalise_encoding_name(options.encoding)
                      if options.encoding else None)
    file_name = file_name or path.name
    report = Report()
    report.info["file"] = {"name": file_name, "checksum": sha256(path),
                           "size": path.stat().st_size}
    with tempfile.TemporaryDirectory(prefix="gis-import-") as tmp:
        source = open_source(path, Path(tmp), options.source_layer,
                             geometry_required=not target.optional_geometry)
        report.info["file"].update({"dataset": source.path.name, "format": source.driver,
                                    "source_layer": source.layer, "features": source.count})
        field_map = mapping.build_field_map(target, source.fields, preset, options.mapping,
                                            options.values)
        if source.coords:
            field_map.ignored = [f for f in field_map.ignored if f not in source.coords]
        report.info["mapping"] = {**field_map.as_report(), "preset": preset.name if preset
                                  else None}
        encoding = decide_encoding(source, given_encoding, report)
        choice = decide_crs(source, given_crs, optional=target.optional_geometry)
        report.info["crs"] = choice.as_report()
        return _load(db, source, target, field_map, encoding, choice, report, options,
                     actor_id, progress)


def decide_encoding(source: Source, given: str | None, report: Report) -> str:
    """The text encoding of `source` (given, .cpg, or detected), noted in `report`."""
    if not source.legacy_text:
        report.info["encoding"] = {"encoding": "utf-8", "how": "format", "samples": []}
        return "utf-8"
    if given:
        report.info["encoding"] = {"encoding": given, "how": "given", "samples": []}
        return given
    if source.cpg:
        name = CPG_NAMES.get(source.cpg.strip().lower())
        if name is None:
            raise InputError(
                f"The .cpg file names the encoding {source.cpg!r}, which is not supported; "
                f"choose the encoding ({', '.join(encodings.ENCODINGS)}).",
                f"Tệp .cpg ghi bảng mã {source.cpg!r}, hệ thống chưa hỗ trợ; hãy chọn bảng mã "
                f"({', '.join(encodings.ENCODINGS)}).")
        report.info["encoding"] = {"encoding": name, "how": "cpg", "samples": []}
        return name
    detection = encodings.detect(text_values(source))
    report.info["encoding"] = {
        "encoding": detection.encoding, "how": "detected",
        "confidence": round(detection.confidence, 3),
        "samples": [{"field": f, "row": r, "before": b, "after": a}
                    for f, r, b, a in detection.samples]}
    return detection.encoding


def decide_crs(source: Source, given: Any, *, optional: bool = False) -> crs_mod.CrsChoice:
    """The CRS to read `source` in: `given`, else its .prj, else inferred (InputError).
    With `optional` (a target whose rows may have no shape), a file without any shape
    is read as WGS 84: there are no coordinates to read."""
    if given is not None:
        return crs_mod.CrsChoice(given, "given")
    if source.crs_wkt:
        choice = crs_mod.crs_from_prj(source.crs_wkt)
        if source.driver not in ("ESRI Shapefile", "CSV"):
            # A GeoPackage, GeoJSON or KML names its own CRS (no .prj to read).
            choice = dataclasses.replace(choice, how="format")
        return choice
    if optional and (source.no_geometry or _total_bounds(source, required=False) is None):
        return crs_mod.CrsChoice(crs_mod.parse_crs("EPSG:4326"), "no shapes")
    bounds = _total_bounds(source)
    assert bounds is not None
    return crs_mod.infer_crs(bounds)


def _total_bounds(source: Source, required: bool = True
                  ) -> tuple[float, float, float, float] | None:
    boxes = []
    for batch in read_batches(source):
        valid = [g for g in batch.geoms if g is not None and not g.is_empty]
        if valid:
            boxes.append(shapely.total_bounds(np.array(valid, dtype=object)))
    if not boxes and not required:
        return None
    if not boxes:
        raise ImportFailed("No feature of the file has coordinates.",
                           "Không đối tượng nào trong tệp có tọa độ.")
    arr = np.array(boxes)
    return (float(arr[:, 0].min()), float(arr[:, 1].min()),
            float(arr[:, 2].max()), float(arr[:, 3].max()))


def decode_value(value: Any, encoding: str) -> Any:
    """A cell read byte-transparently (ISO-8859-1) -> text in `encoding` (others as is)."""
    if not isinstance(value, str):
        return value
    if value.isascii() and value.isprintable():
        return value  # the same characters in every supported encoding
    raw = value.encode("latin-1")
    if encoding == "cp1252":
        return raw.decode("cp1252", errors="replace")
    return encodings.decode(raw, encoding)


def _factorize(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """(code of each cell, offset of the first cell of each code, in code order): cells
    share a code when they are equal; empty cells (None, NaN, NaT) share one code, which
    `mapping.convert` reads as empty whichever of them comes first."""
    try:
        codes, _uniques = pd.factorize(np.asarray(values), use_na_sentinel=False)
    except TypeError:  # cells that cannot be hashed (lists): each is its own value
        codes = np.arange(len(values))
    codes = np.asarray(codes, dtype=np.intp)
    firsts = np.unique(codes, return_index=True)[1]
    return codes, firsts


class Timings:
    """Seconds spent in each phase of an import, kept in its report (`timings`): where
    the time of a large import goes (bench/import.py prints them)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._phase: str | None = None
        self._since = 0.0

    def start(self, phase: str) -> None:
        """End the phase running (if any) and start `phase`, which may come again."""
        now = time.perf_counter()
        if self._phase is not None:
            self.seconds[self._phase] = self.seconds.get(self._phase, 0.0) + now - self._since
        self._phase, self._since = phase, now

    def as_dict(self) -> dict[str, float]:
        self.start("")
        self._phase = None
        self.seconds.pop("", None)
        return {name: round(value, 3) for name, value in self.seconds.items()}


class _Stager:
    """Converts batches into staged rows (COPY into import_stage)."""

    def __init__(self, db: Session, target: targets.Target, field_map: mapping.FieldMap,
                 encoding: str, choice: crs_mod.CrsChoice, source: Source,
                 report: Report) -> None:
        self.db = db
        self.target = target
        self.field_map = field_map
        self.encoding = encoding
        self.choice = choice
        self.source = source
        self.report = report
        self.columns = list(field_map.columns)
        # An identifier column may hold survey codes: they are staged in the survey-code
        # column (survey_code of a relic, site_survey_code of a zone's relic).
        self.code_source: str | None = None
        self.code_column = ""
        if target.codes and target.codes[0] in field_map.columns:
            self.code_source, self.code_column = target.codes
        if self.code_source and self.code_column not in self.columns:
            self.columns.append(self.code_column)
        self.to_wgs84 = crs_mod.to_wgs84(choice.crs)
        self.projected = choice.crs.is_projected
        self.samples: list[dict[str, Any]] = []
        self.preview: list[dict[str, Any]] = []
        self.outside_region: list[int] = []
        self.lossy: list[int] = []
        self.survey_code_rows: list[int] = []
        self.timings = Timings()

    def create_table(self) -> None:
        cols = ", ".join(f"{name} {self.target.field(name).sql_type}" for name in self.columns)
        self.db.execute(text("DROP TABLE IF EXISTS import_stage"))
        self.db.execute(text(f"CREATE TEMP TABLE import_stage (row_no integer PRIMARY KEY, "
                             f"{cols}, geom geometry(Geometry, 4326), "
                             f"{targets.stage_columns(self.target)}) ON COMMIT DROP"))
        # Every field of the target has a column (empty when the file has none): new
        # relics get an identifier and a survey code, a zone's relic is found by either
        # or by position, the load statements read the fields they need.
        for tf in self.target.fields:
            if tf.name not in self.columns:
                self.db.execute(text(f"ALTER TABLE import_stage ADD COLUMN {tf.name} "
                                     f"{tf.sql_type}"))

    def stage(self, batch: Batch) -> None:
        self.timings.start("convert")
        rows = self._convert_attributes(batch)
        self.timings.start("geometry")
        geoms = self._geometries(batch)
        wkb = shapely.to_wkb(shapely.set_srid(geoms, 4326), include_srid=True)
        self._collect_preview(batch, rows, geoms)
        if self.report.error_count:
            return  # keep validating, stop staging: nothing will be loaded
        self.timings.start("copy")
        names = ["row_no", *self.columns, "geom"]
        types = ["int4", *(self.target.field(n).sql_type for n in self.columns), "bytea"]
        links = self._links(rows)
        if links is not None:
            names.append("link")
            types.append("text")
        cursor = self.db.connection().connection.driver_connection.cursor()
        # Binary COPY: the geometry column receives EWKB as it is (geometry_recv).
        with cursor.copy(f"COPY import_stage ({', '.join(names)}) FROM STDIN "
                         f"(FORMAT BINARY)") as copy:
            copy.set_types(types)
            for offset, values in enumerate(rows):
                if wkb[offset] is None and not self.target.optional_geometry:
                    continue
                if links is None:
                    copy.write_row([batch.first_row + offset, *values, wkb[offset]])
                else:
                    copy.write_row([batch.first_row + offset, *values, wkb[offset],
                                    links[offset]])

    def _links(self, rows: list[list[Any]]) -> list[str] | None:
        """How each row of a linked layer names its relic (targets.relic_link), staged
        with the row rather than set by an UPDATE of the whole stage afterwards."""
        if self.target.layer not in targets.LINKED:
            return None
        by_id = (self.columns.index("site_heritage_id") if "site_heritage_id" in self.columns
                 else None)
        by_code = (self.columns.index("site_survey_code") if "site_survey_code" in self.columns
                   else None)
        return [targets.relic_link(None if by_id is None else row[by_id],
                                   None if by_code is None else row[by_code])
                for row in rows]

    def _convert_attributes(self, batch: Batch) -> list[list[Any]]:
        """Converted values by row. Each distinct cell value of a column is decoded and
        converted once per batch (survey columns repeat a few values many times); the
        rows then take their value by index, and only rows with a problem are visited
        one by one. Memory stays bounded by the batch, whatever the file's size."""
        n = len(batch)
        columns: list[list[Any]] = []
        for name, source in self.field_map.columns.items():
            tf = self.target.field(name)
            extra = self.field_map.value_maps.get(name, {})
            codes, firsts = _factorize(batch.attrs[source])
            values = batch.attrs[source]
            outcomes = [self._convert_cell(tf, values[first], extra, source,
                                           batch.first_row + int(first)) for first in firsts]
            results = np.empty(len(outcomes), dtype=object)
            for k, outcome in enumerate(outcomes):  # element by element: lists stay lists
                results[k] = outcome[0]
            attention = np.array([outcome[1] is not None or outcome[2]
                                  or (outcome[0] is None and tf.required)
                                  for outcome in outcomes], dtype=bool)
            for offset in np.flatnonzero(attention[codes]) if len(outcomes) else ():
                row_no = batch.first_row + int(offset)
                result, problem, lossy = outcomes[codes[offset]]
                if isinstance(problem, mapping.UnknownValue):
                    self.report.unknown_value(row_no, source, problem)
                elif problem:
                    self.report.error(row_no, source, *problem)
                elif result is None and tf.required:
                    self.report.error(row_no, source, f"{tf.label['en']} is empty.",
                                      f"{tf.label['vi']} để trống.")
                if lossy:
                    self.lossy.append(row_no)
            columns.append(results[codes].tolist() if n else [])
        if self.code_source:
            self._split_survey_codes(batch, columns)
        rows = [list(row) for row in zip(*columns, strict=True)] if columns else [[]] * n
        if self.target.check_row:
            self._check_rows(batch, rows)
        return rows

    def _check_rows(self, batch: Batch, rows: list[list[Any]]) -> None:
        """The target's checks across the fields of a row (a festival's lunar day and
        month); they may normalise the row's values."""
        assert self.target.check_row
        names = self.columns
        for offset, row in enumerate(rows):
            values = dict(zip(names, row, strict=True))
            problem = self.target.check_row(values)
            if problem:
                self.report.error(batch.first_row + offset, None, *problem)
            else:
                row[:] = [values[name] for name in names]

    def _split_survey_codes(self, batch: Batch, columns: list[list[Any]]) -> None:
        """Move the survey codes found in the identifier column to the survey-code
        column."""
        names = list(self.field_map.columns)
        ids = columns[names.index(self.code_source)]
        if self.code_column in names:
            codes = columns[names.index(self.code_column)]
            source = self.field_map.columns[self.code_column]
        else:
            codes = [None] * len(ids)
            columns.append(codes)
            source = None
        for offset, value in enumerate(ids):
            if not isinstance(value, mapping.SurveyCode):
                continue
            ids[offset] = None
            if codes[offset] and codes[offset] != str(value):
                row_no = batch.first_row + offset
                self.report.error(
                    row_no, self.field_map.columns[self.code_source],
                    f"{value} is a survey code, and the row has another survey code "
                    f"({codes[offset]}, column {source}); keep one of them.",
                    f"{value} là mã khảo sát, nhưng dòng này đã có mã khảo sát khác "
                    f"({codes[offset]}, cột {source}); hãy giữ một mã.")
                continue
            codes[offset] = str(value)
            self.survey_code_rows.append(batch.first_row + offset)

    def _convert_cell(self, tf: targets.TargetField, value: Any, extra: dict[str, str],
                      source: str, row_no: int
                      ) -> tuple[Any, tuple[str, str] | mapping.UnknownValue | None, bool]:
        """(stored value, (error en, vi) or an UnknownValue or None, text damaged before
        the file was made)."""
        lossy = False
        if self.source.legacy_text and isinstance(value, str):
            try:
                decoded = decode_value(value, self.encoding)
            except encodings.EncodingProblem:
                return None, ((f"The text {value!r} is not valid {self.encoding}; choose the "
                              f"file's text encoding."),
                              (f"Văn bản {value!r} không đúng bảng mã {self.encoding}; hãy chọn "
                              f"đúng bảng mã của tệp.")), False
            if (decoded != value and len(self.samples) < 5 and not value.isascii()
                    and all(s["before"] != value for s in self.samples)):
                self.samples.append({"field": source, "row": row_no, "before": value,
                                     "after": decoded})
            lossy = "?" in decoded and bool(encodings.lossy_values([(source, row_no, decoded)]))
            value = decoded
        try:
            return mapping.convert(tf, value, extra), None, lossy
        except mapping.UnknownValue as exc:
            return None, exc, lossy
        except mapping.ValueProblem as exc:
            return None, (exc.message_en, exc.message_vi), lossy

    def _geometries(self, batch: Batch) -> np.ndarray:
        geoms = batch.geoms
        rows = np.arange(batch.first_row, batch.first_row + len(batch))
        missing = np.array([g is None for g in geoms], dtype=bool)
        present = ~missing
        empty = np.zeros(len(geoms), dtype=bool)
        empty[present] = shapely.is_empty(geoms[present].astype(object))
        for row in rows[missing | empty] if not self.target.optional_geometry else ():
            self.report.error(int(row), None, "The feature has no geometry (empty shape).",
                              "Đối tượng không có hình học (hình rỗng).")
        ok = present & ~empty
        out = np.full(len(geoms), None, dtype=object)
        if not ok.any():
            return out
        work = geoms[ok].astype(object)
        work_rows = rows[ok]
        has_z = shapely.has_z(work)
        if has_z.any():
            work = shapely.force_2d(work)
            self.report.repair("3d", "Heights (Z) dropped: the map is 2D.",
                               "Đã bỏ độ cao (Z): bản đồ là 2D.", work_rows[has_z].tolist())
        work = self._coerce_type(work, work_rows)
        invalid = ~shapely.is_valid(work) & np.array([g is not None for g in work])
        if invalid.any():
            work = self._repair(work, work_rows, invalid)
        if "MultiPolygon" in self.target.geometry:
            oriented = shapely.orient_polygons(work, exterior_cw=False)
            # Shapefiles store outer rings clockwise by specification: turning them is
            # routine there (not compared), a repair worth reporting elsewhere.
            changed = np.zeros(len(work), dtype=bool)
            if self.source.driver != "ESRI Shapefile":
                changed = ~shapely.equals_exact(oriented, work, tolerance=0.0)
                changed &= np.array([g is not None for g in work])
            if changed.any():
                self.report.repair("orientation",
                                   "Ring orientation corrected (outer rings counter-clockwise).",
                                   "Đã sửa chiều vòng (vòng ngoài ngược chiều kim đồng hồ).",
                                   work_rows[changed].tolist())
            work = oriented
        lonlat = shapely.transform(work, self.to_wgs84)
        self._check_location(lonlat, work_rows)
        still_invalid = ~shapely.is_valid(lonlat) & np.array([g is not None for g in lonlat])
        if still_invalid.any():
            lonlat[still_invalid] = self._polygonal(shapely.make_valid(lonlat[still_invalid]))
        out[ok] = lonlat
        return out

    def _coerce_type(self, work: np.ndarray, rows: np.ndarray) -> np.ndarray:
        kinds = shapely.get_type_id(work)
        if self.target.geometry == "Point":
            single = (kinds == 4) & (shapely.get_num_geometries(work) == 1)
            if single.any():
                work[single] = shapely.get_geometry(work[single], 0)
                self.report.repair("single-point", "Multi-points of one point made points.",
                                   "Đã chuyển đa điểm một điểm thành điểm.", rows[single].tolist())
            # Survey teams often draw a relic's footprint: it is placed at a point inside
            # it (not the centroid, which can fall outside an L-shaped building).
            area = np.isin(kinds, (3, 6))
            if area.any():
                work[area] = shapely.point_on_surface(shapely.make_valid(work[area]))
                self.report.repair("footprint-point",
                                   "Footprints (polygons) placed at a point inside them.",
                                   "Đã đặt vị trí của các hình vùng (mặt bằng) tại một điểm "
                                   "bên trong hình.", rows[area].tolist())
            wrong = shapely.get_type_id(work) != 0
            label = ("a point", "điểm")
        elif self.target.geometry == "Point|MultiPolygon":
            single = (kinds == 4) & (shapely.get_num_geometries(work) == 1)
            work[single] = shapely.get_geometry(work[single], 0)
            polygon = kinds == 3
            if polygon.any():
                work[polygon] = shapely.multipolygons(work[polygon],
                                                      indices=np.arange(polygon.sum()))
            wrong = ~np.isin(shapely.get_type_id(work), (0, 6))
            label = ("a point or a polygon", "điểm hoặc vùng (polygon)")
        else:
            polygon = kinds == 3
            if polygon.any():
                work[polygon] = shapely.multipolygons(work[polygon],
                                                      indices=np.arange(polygon.sum()))
            wrong = ~np.isin(shapely.get_type_id(work), (6, 7))
            label = ("a polygon", "vùng (polygon)")
        for row, kind in zip(rows[wrong], shapely.get_type_id(work[wrong]), strict=True):
            self.report.error(int(row), None,
                              f"The feature is a {_TYPE_NAMES[int(kind)][0]}; this layer needs "
                              f"{label[0]}.",
                              f"Đối tượng là {_TYPE_NAMES[int(kind)][1]}; lớp này cần "
                              f"{label[1]}.")
        work[wrong] = None
        return work

    def _repair(self, work: np.ndarray, rows: np.ndarray, invalid: np.ndarray) -> np.ndarray:
        reasons = shapely.is_valid_reason(work[invalid])
        before = shapely.area(work[invalid])
        fixed = self._polygonal(shapely.make_valid(work[invalid], method="structure",
                                                   keep_collapsed=False))
        after = shapely.area(fixed)
        for row, reason, a0, a1, geom in zip(rows[invalid], reasons, before, after, fixed,
                                             strict=True):
            if geom is None or geom.is_empty:
                self.report.error(int(row), None,
                                  f"The shape is invalid ({reason}) and cannot be repaired.",
                                  f"Hình không hợp lệ ({reason}) và không sửa được.")
                continue
            unit = "m²" if self.projected else "deg²"
            self.report.repair("invalid", "Invalid shapes repaired (ST_MakeValid).",
                               "Đã sửa hình không hợp lệ (ST_MakeValid).", [int(row)])
            if a0 and abs(a1 - a0) / a0 > 0.01:
                self.report.warn(f"Row {row}: repairing the shape ({reason}) changed its area "
                                 f"from {a0:,.1f} to {a1:,.1f} {unit}; check it.",
                                 f"Dòng {row}: sửa hình ({reason}) làm diện tích đổi từ "
                                 f"{a0:,.1f} thành {a1:,.1f} {unit}; hãy kiểm tra.", [int(row)])
        work[invalid] = fixed
        return work

    def _polygonal(self, geoms: np.ndarray) -> np.ndarray:
        """Keep the polygon parts of repaired geometries, as MultiPolygons."""
        if "MultiPolygon" not in self.target.geometry:
            return geoms
        out = np.full(len(geoms), None, dtype=object)
        for i, geom in enumerate(geoms):
            parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"
                     and not p.is_empty] if geom is not None else []
            out[i] = shapely.MultiPolygon(parts) if parts else None
        return out

    def _check_location(self, lonlat: np.ndarray, rows: np.ndarray) -> None:
        present = np.array([g is not None for g in lonlat])
        if not present.any():
            return
        bounds = np.full((len(lonlat), 4), np.nan)
        bounds[present] = shapely.bounds(lonlat[present].astype(object))
        vx0, vy0, vx1, vy1 = crs_mod.VIETNAM_BBOX
        outside = present & ((bounds[:, 0] < vx0) | (bounds[:, 1] < vy0)
                             | (bounds[:, 2] > vx1) | (bounds[:, 3] > vy1))
        for row, box in zip(rows[outside], bounds[outside], strict=True):
            self.report.error(
                int(row), None,
                f"The feature lies outside Vietnam (lon {box[0]:.4f}, lat {box[1]:.4f}): the "
                f"coordinate system ({self.choice.label}) is probably wrong.",
                f"Đối tượng nằm ngoài lãnh thổ Việt Nam (kinh độ {box[0]:.4f}, vĩ độ "
                f"{box[1]:.4f}): có lẽ hệ tọa độ ({self.choice.label}) không đúng.")
            lonlat[np.where(rows == row)[0][0]] = None
        rx0, ry0, rx1, ry1 = crs_mod.REGION_BBOX
        away = present & ~outside & ((bounds[:, 2] < rx0) | (bounds[:, 3] < ry0)
                                     | (bounds[:, 0] > rx1) | (bounds[:, 1] > ry1))
        self.outside_region.extend(rows[away].tolist())

    def _collect_preview(self, batch: Batch, rows: list[list[Any]], geoms: np.ndarray) -> None:
        room = PREVIEW_FEATURES - len(self.preview)
        if room <= 0:
            return
        picked = [i for i in range(len(batch)) if geoms[i] is not None][:room]
        if not picked:
            return
        shapes = shapely.to_geojson(geoms[picked])
        for i, shape in zip(picked, shapes, strict=True):
            props = {name: _json_value(rows[i][k]) for k, name in enumerate(self.columns)}
            props["row"] = batch.first_row + i
            self.preview.append({"type": "Feature", "geometry": json.loads(shape),
                                 "properties": props})


_TYPE_NAMES = {0: ("point", "điểm"), 1: ("line", "đường"), 2: ("ring", "vòng"),
               3: ("polygon", "vùng"), 4: ("multi-point", "đa điểm"),
               5: ("multi-line", "đa đường"), 6: ("multi-polygon", "đa vùng"),
               7: ("geometry collection", "tập hình")}


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _load(db: Session, source: Source, target: targets.Target, field_map: mapping.FieldMap,
          encoding: str, choice: crs_mod.CrsChoice, report: Report, options: ImportOptions,
          actor_id: int | None, progress: Progress | None) -> ImportResult:
    """Stage, check and load in one savepoint. A database error on the way (a rule the
    checks before did not foresee, a concurrent import) becomes an ImportFailed report
    naming the rows concerned where they can be found; the savepoint is rolled back."""
    savepoint = db.begin_nested()
    try:
        return _stage_and_load(db, savepoint, source, target, field_map, encoding, choice,
                               report, options, actor_id, progress)
    except _RefusedByDatabase as refused:
        if savepoint.is_active:
            savepoint.rollback()
        raise _database_failure(refused.error, refused.rows, report) from None
    except (DBAPIError, psycopg.Error) as error:  # psycopg's own: from the COPY
        if savepoint.is_active:
            savepoint.rollback()
        raise _database_failure(error, [], report) from None
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise


def _stage_and_load(db: Session, savepoint: Any, source: Source, target: targets.Target,
                    field_map: mapping.FieldMap, encoding: str, choice: crs_mod.CrsChoice,
                    report: Report, options: ImportOptions, actor_id: int | None,
                    progress: Progress | None) -> ImportResult:
    stager = _Stager(db, target, field_map, encoding, choice, source, report)
    stager.create_table()
    timings = stager.timings
    timings.start("read")
    for batch in read_batches(source):
        stager.stage(batch)
        if progress:
            progress(len(batch), source.count)
        timings.start("read")
    timings.start("check")
    for en, vi in source.notes:
        report.warn(en, vi)
    if stager.samples and not report.info["encoding"]["samples"]:
        report.info["encoding"]["samples"] = stager.samples
    if stager.lossy:
        report.warn("Some text was already damaged before this file was made: letters are "
                    "replaced by '?' (e.g. an earlier conversion to a Western code page). "
                    "The text is stored as it is; correct it from the original survey.",
                    "Một số văn bản đã bị hỏng từ trước khi tạo tệp: chữ cái bị thay bằng "
                    "'?' (ví dụ do chuyển sang bảng mã phương Tây). Văn bản được lưu như "
                    "hiện có; hãy sửa lại theo hồ sơ khảo sát gốc.", stager.lossy)
    if stager.survey_code_rows and target.layer != "sites":
        column = field_map.columns[stager.code_source]
        report.warn(f"The column {column} holds the survey's own relic codes, not heritage "
                    f"identifiers: each row is linked to the relic imported with that survey "
                    f"code.",
                    f"Cột {column} ghi mã khảo sát riêng của di tích, không phải mã định danh: "
                    f"mỗi dòng được gắn với di tích đã nhập với mã khảo sát đó.",
                    stager.survey_code_rows)
    elif stager.survey_code_rows:
        column = field_map.columns[stager.code_source]
        report.warn(f"The column {column} holds the survey's own codes, not heritage "
                    f"identifiers: they are kept as survey codes (matching a later import of "
                    f"the same survey), and new relics get new identifiers.",
                    f"Cột {column} ghi mã riêng của đợt khảo sát, không phải mã định danh: "
                    f"hệ thống lưu thành mã khảo sát (để khớp khi nhập lại cùng đợt khảo "
                    f"sát), di tích mới được cấp mã định danh mới.", stager.survey_code_rows)
    if stager.outside_region:
        report.warn("Features outside Khoái Châu district: check they belong here.",
                    "Có đối tượng nằm ngoài huyện Khoái Châu: hãy kiểm tra.",
                    stager.outside_region)
    if not report.error_count:
        db.execute(text("ANALYZE import_stage"))
        for sql in targets.prepare_statements(target, stager.columns):
            db.execute(text(sql), {"today": today_in_vietnam()})
        _check_staged(db, target, report)
        if stager.code_source and target.layer == "sites":
            _check_identifiers(db, report)
        _note_links(db, target, report)
    if report.error_count:
        raise ImportFailed(
            f"The file was not imported: {report.error_count} problem(s) were found "
            f"(listed by row). Nothing was changed; correct the file and try again.",
            f"Tệp chưa được nhập: phát hiện {report.error_count} lỗi (liệt kê theo dòng). "
            f"Dữ liệu không thay đổi; hãy sửa tệp rồi nhập lại.",
            details={"report": report.as_dict()})
    run = ImportRun(layer=target.layer, file_name=report.info["file"]["name"],
                    checksum=report.info["file"]["checksum"],
                    size_bytes=report.info["file"]["size"], actor_id=actor_id,
                    options=options.as_dict(), counts={}, report={})
    db.add(run)
    db.flush()
    set_actor(db, actor_id)
    set_import(db, run.id)
    counts = {"read": source.count, "inserted": 0, "updated": 0}
    params = {"source": f"import #{run.id}: {run.file_name}"}
    timings.start("load")  # the target's statements, with their revision triggers
    for counter, sql in targets.load_statements(target, stager.columns):
        rowcount = _execute_load(db, sql, params)
        if counter:
            counts[counter] = counts.get(counter, 0) + rowcount
    timings.start("after")
    if target.layer == "sites":
        counts["proposed"] = _propose_published(db, stager.columns, actor_id,
                                                params["source"], report, options.dry_run)
    if target.located:
        _assign_units(db, report, target.layer == "sites")
    set_import(db, None)
    counts["unchanged"] = (source.count - counts["inserted"] - counts["updated"]
                           - counts.get("proposed", 0))
    counts["repaired"] = sum(r["count"] for r in report.repairs.values())
    db.execute(text("DROP TABLE IF EXISTS import_stage"))
    if not options.dry_run:
        # Fresh statistics for the next queries (the next import's matching, the map):
        # autovacuum would take its time to notice a table that just doubled.
        timings.start("analyze")
        db.execute(text(f"ANALYZE {target.table}"))
    report.info["timings"] = timings.as_dict()
    run.counts = counts
    run.report = report.as_dict()
    db.flush()
    preview = {"type": "FeatureCollection", "features": stager.preview}
    if options.dry_run:
        savepoint.rollback()
        return ImportResult(None, counts, report.as_dict(), preview, True)
    savepoint.commit()
    log.info("import #%s: %s into %s by user %s: %s", run.id, run.file_name,
             target.layer, actor_id, counts)
    return ImportResult(run.id, counts, report.as_dict(), preview, False)


class _RefusedByDatabase(Exception):
    """A load statement failed; `rows` are the file rows it names (maybe none)."""

    def __init__(self, error: DBAPIError, rows: list[int]) -> None:
        super().__init__(str(error))
        self.error = error
        self.rows = rows


def _execute_load(db: Session, sql: str, params: dict[str, Any]) -> int:
    """Run one load statement in its own savepoint, so that when the database refuses
    it the stage is still there to find the rows the refusal names."""
    inner = db.begin_nested()
    try:
        result = db.execute(text(sql), params)
    except DBAPIError as error:
        inner.rollback()
        raise _RefusedByDatabase(error, _rows_named_in(db, _error_text(error))) from error
    inner.commit()
    return result.rowcount


def _driver_error(error: Exception) -> Any:
    """psycopg's exception behind a SQLAlchemy one (or the psycopg one itself)."""
    return getattr(error, "orig", None) or error


def _error_text(error: Exception) -> str:
    diag = getattr(_driver_error(error), "diag", None)
    parts = [getattr(diag, "message_primary", None), getattr(diag, "message_detail", None)]
    return " ".join(p for p in parts if p) or str(_driver_error(error))


def _rows_named_in(db: Session, message: str) -> list[int]:
    """File rows whose identifier, survey code or relic reference the message quotes."""
    staged = _staged_columns(db)
    rows: list[int] = []
    for column in ("heritage_id", "survey_code", "site_heritage_id", "site_survey_code"):
        if column in staged:
            rows += db.scalars(text(
                f"SELECT row_no FROM import_stage WHERE {column} IS NOT NULL "
                f"AND strpos(:m, {column}) > 0 ORDER BY row_no LIMIT :n"),
                {"m": message, "n": MAX_LISTED_ROWS}).all()
    return sorted(set(rows))[:MAX_LISTED_ROWS]


def _database_failure(error: Exception, rows: list[int], report: Report) -> ImportFailed:
    """The report of an import the database refused (nothing was written)."""
    diag = getattr(_driver_error(error), "diag", None)
    rule = getattr(diag, "constraint_name", None)
    table = getattr(diag, "table_name", None)
    log.warning("import refused by the database (rows %s): %s", rows or "-",
                _error_text(error))
    if rule:
        en = (f"refused by the database rule {rule}" + (f" of the table {table}" if table
                                                          else ""))
        vi = (f"bị cơ sở dữ liệu từ chối theo quy tắc {rule}" + (f" của bảng {table}"
                                                                 if table else ""))
    else:
        en, vi = "refused by the database", "bị cơ sở dữ liệu từ chối"
    if isinstance(error, (IntegrityError, DataError, psycopg.IntegrityError,
                          psycopg.DataError)):
        advice_en = "correct the row(s) and import again"
        advice_vi = "hãy sửa (các) dòng đó rồi nhập lại"
    else:
        advice_en = "import again; if it fails again, send the file to the administrator"
        advice_vi = "hãy nhập lại; nếu vẫn lỗi, gửi tệp cho quản trị viên"
    for row in rows or [None]:
        report.error(row, None, f"The row was {en}; {advice_en}." if row else
                     f"The import was {en}; {advice_en}.",
                     f"Dòng này {vi}; {advice_vi}." if row else
                     f"Lần nhập {vi}; {advice_vi}.")
    return ImportFailed(
        f"The file was not imported: the database refused it ({report.error_count} "
        f"problem(s), listed by row). Nothing was changed.",
        f"Tệp chưa được nhập: cơ sở dữ liệu từ chối ({report.error_count} lỗi, liệt kê "
        f"theo dòng). Dữ liệu không thay đổi.",
        log=_error_text(error), details={"report": report.as_dict()})


def _propose_published(db: Session, columns: list[str], actor_id: int | None, note: str,
                       report: Report, dry_run: bool) -> int:
    """Rows matching a published relic change nothing in place: what differs (the
    fields an official edits, and the position) becomes one pending proposal per relic,
    authored by the importing user (none for an import without one), with `note`
    naming the import. The proposals' ids go in the report (undo removes them); their
    number is returned."""
    fields = [c for c in columns if c in proposals.FIELD_BY_NAME]
    listed = "".join(f", st.{c}" for c in fields)
    rows = db.execute(text(
        f"SELECT st.row_no, st.target_id, ST_X(st.geom), ST_Y(st.geom){listed} "
        f"FROM import_stage st WHERE st.published ORDER BY st.row_no")).all()
    made: list[tuple[int, int]] = []
    for row in rows:
        proposal_id = proposals.propose_imported(
            db, row[1], actor_id, dict(zip(fields, row[4:], strict=True)), row[2], row[3],
            note)
        if proposal_id is not None:
            made.append((row[0], proposal_id))
    kept = db.scalars(text(
        "SELECT st.row_no FROM import_stage st JOIN sites s ON s.id = st.target_id "
        "WHERE st.published AND ("
        + ("s.accuracy IS DISTINCT FROM st.accuracy" if "accuracy" in columns else "false")
        + " OR "
        + ("s.survey_code IS DISTINCT FROM coalesce(st.survey_code, s.survey_code)"
           if "survey_code" in columns else "false")
        + ") ORDER BY st.row_no")).all()
    if kept:
        report.warn("These rows match published relics and give another accuracy or survey "
                    "code; those are kept as they are (a published relic is not changed by an "
                    "import). Change them on the relic if the file is right.",
                    "Các dòng này khớp với di tích đã công bố và ghi độ chính xác hoặc mã khảo "
                    "sát khác; các giá trị đó được giữ nguyên (lần nhập không sửa di tích đã "
                    "công bố). Nếu tệp đúng, hãy sửa trực tiếp trên di tích.", list(kept))
    if made:
        ids = "" if dry_run else " (" + ", ".join(f"#{p}" for _row, p in made) + ")"
        report.warn(f"{len(made)} published relic(s) are not changed: what the file changes "
                    f"becomes proposals for review{ids}; a reviewer approves or sends each "
                    f"back.",
                    f"{len(made)} di tích đã công bố không bị sửa: các thay đổi trong tệp được "
                    f"chuyển thành đề xuất chờ duyệt{ids}; cán bộ thẩm định sẽ duyệt hoặc "
                    f"trả lại từng đề xuất.", [row for row, _p in made])
    report.info["proposals"] = [p for _row, p in made]
    return len(made)


def _assign_units(db: Session, report: Report, skip_published: bool) -> None:
    """Each imported relic's communes, today's and former, from its location (not those
    of published relics, which the import leaves as they are: `skip_published`)."""
    site_ids = db.scalars(text("SELECT target_id FROM import_stage WHERE target_id IS NOT "
                               "NULL" + (" AND NOT published" if skip_published else ""))
                          ).all()
    assign_units(db, site_ids)
    outside = db.scalars(text("""
        SELECT st.row_no FROM import_stage st JOIN sites s ON s.id = st.target_id
         WHERE s.admin_unit_id IS NULL AND s.id = ANY(:ids) ORDER BY st.row_no"""),
        {"ids": list(site_ids)}).all()
    if outside:
        report.warn("These relics lie in no commune of today: they will not appear under any "
                    "commune (filter, commune editors, targets). Check their coordinates.",
                    "Các di tích này không nằm trong xã nào hiện nay: sẽ không hiện theo xã "
                    "(bộ lọc, cán bộ xã, chỉ tiêu). Hãy kiểm tra tọa độ.", list(outside))


def _check_staged(db: Session, target: targets.Target, report: Report) -> None:
    """Errors only visible across rows: duplicate keys, references to unknown relics."""
    staged = _staged_columns(db)
    groups = [tuple(k for k in target.key if k in staged)]
    groups += [(name,) for name in target.unique if name in staged]
    for keys in groups:
        if not keys:
            continue
        dupes = db.execute(text(
            f"SELECT {', '.join(keys)}, array_agg(row_no ORDER BY row_no) FROM import_stage "
            f"WHERE {' AND '.join(f'{k} IS NOT NULL' for k in keys)} "
            f"GROUP BY {', '.join(keys)} HAVING count(*) > 1 LIMIT 50")).all()
        for row in dupes:
            key = " / ".join(str(v) for v in row[:-1])
            rows = ", ".join(str(r) for r in row[-1])
            report.error(row[-1][1], None,
                         f"{key} appears in more than one row (rows {rows}).",
                         f"{key} xuất hiện ở nhiều dòng (các dòng {rows}).")
    sql = targets.unknown_reference_sql(target)
    if sql:
        for row_no, en, vi in db.execute(text(sql)):
            report.error(row_no, None, en, vi)
    sql = targets.row_errors_sql(target)
    if sql:
        for row_no, en, vi in db.execute(text(sql)):
            report.error(row_no, None, en, vi)


def _note_links(db: Session, target: targets.Target, report: Report) -> None:
    """Say how the rows found their relic (by identifier, survey code, position)."""
    if target.layer not in targets.LINKED:
        return
    counts = dict(db.execute(text(
        "SELECT link, count(*) FROM import_stage GROUP BY link")).all())
    report.info["links"] = {k: counts.get(k, 0) for k in ("id", "code", "contains")}
    contained = db.scalars(text(
        "SELECT row_no FROM import_stage WHERE link = 'contains' AND site_id IS NOT NULL "
        "ORDER BY row_no")).all()
    if contained:
        report.warn("These rows name no relic: each is linked to the one relic point it "
                    "contains. Check the links in the preview.",
                    "Các dòng này không ghi mã di tích: mỗi dòng được gắn với điểm di tích "
                    "duy nhất nằm trong hình của nó. Hãy kiểm tra trong bản xem trước.",
                    list(contained))


DUPLICATE_RADIUS_M = 100
MAX_DUPLICATE_WARNINGS = 50


def _check_identifiers(db: Session, report: Report) -> None:
    """Relics: identifiers that are retired or of another kind (errors), survey codes
    held by several relics (errors), identifiers new to the register and new rows that
    look like relics already recorded (warnings). Runs after `prepare_statements`."""
    for row_no, hid, kind, retired, note in db.execute(text("""
            SELECT st.row_no, st.heritage_id, h.kind, h.retired_at, h.note
              FROM import_stage st JOIN heritage_identifiers h ON h.id = st.heritage_id
             WHERE h.retired_at IS NOT NULL OR h.kind <> 'site'
             ORDER BY st.row_no LIMIT 200""")):
        if retired is not None:
            when = retired.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y")
            why = f" ({note})" if note else ""
            report.error(row_no, None,
                         f"{hid} was retired on {when}{why}; identifiers are never reused. "
                         f"Give the relic's current identifier, or leave the cell empty for "
                         f"a new one.",
                         f"{hid} đã bị hủy ngày {when}{why}; mã định danh không bao giờ được "
                         f"dùng lại. Hãy ghi mã hiện hành của di tích, hoặc để trống để được "
                         f"cấp mã mới.")
        else:
            report.error(row_no, None,
                         f"{hid} is registered for another kind of record ({kind}), not a "
                         f"relic.",
                         f"{hid} đã được cấp cho loại hồ sơ khác ({kind}), không phải di "
                         f"tích.")
    for row_no, code, ids in db.execute(text("""
            SELECT st.row_no, st.survey_code, array_agg(s.heritage_id ORDER BY s.heritage_id)
              FROM import_stage st JOIN sites s ON s.survey_code = st.survey_code
             WHERE st.heritage_id IS NULL
             GROUP BY st.row_no, st.survey_code HAVING count(*) > 1
             ORDER BY st.row_no LIMIT 200""")):
        listed = ", ".join(ids)
        report.error(row_no, None,
                     f"Several relics have the survey code {code} ({listed}); give the row "
                     f"the heritage identifier of the one it describes.",
                     f"Nhiều di tích có cùng mã khảo sát {code} ({listed}); hãy ghi mã định "
                     f"danh của di tích mà dòng này mô tả.")
    new_ids = db.execute(text("""
        SELECT st.row_no, st.heritage_id FROM import_stage st
         WHERE st.heritage_id IS NOT NULL AND st.target_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM heritage_identifiers h WHERE h.id = st.heritage_id)
         ORDER BY st.row_no""")).all()
    if new_ids:
        listed = ", ".join(hid for _row, hid in new_ids[:10])
        report.warn(f"Identifiers not yet in the register will be registered for new relics "
                    f"({listed}{', …' if len(new_ids) > 10 else ''}): check they were issued "
                    f"for these relics.",
                    f"Các mã định danh chưa có trong sổ sẽ được đăng ký cho di tích mới "
                    f"({listed}{', …' if len(new_ids) > 10 else ''}): hãy kiểm tra mã đã được "
                    f"cấp cho đúng các di tích này.", [row for row, _hid in new_ids])
    # ~0.002° is more than 100 m here: a box the GIST index can use, then the distance.
    duplicates = db.execute(text("""
        SELECT st.row_no, st.name_vi, s.heritage_id, s.name_vi AS existing,
               round(ST_Distance(s.geom::geography, st.geom::geography)) AS metres
          FROM import_stage st
          JOIN sites s ON s.geom && ST_Expand(st.geom, 0.002)
                      AND ST_DWithin(s.geom::geography, st.geom::geography, :radius)
                      AND lower(f_unaccent(s.name_vi)) = lower(f_unaccent(st.name_vi))
         WHERE st.target_id IS NULL AND st.geom IS NOT NULL
         ORDER BY st.row_no, metres, s.heritage_id
         LIMIT :limit"""), {"radius": DUPLICATE_RADIUS_M,
                            "limit": MAX_DUPLICATE_WARNINGS + 1}).all()
    for row_no, name, hid, existing, metres in duplicates[:MAX_DUPLICATE_WARNINGS]:
        report.warn(f"Row {row_no} ({name}) may be a relic already recorded: {hid} "
                    f"{existing}, {metres:.0f} m away. To update it instead of adding a "
                    f"copy, give the row that identifier (or the survey code it was "
                    f"imported with).",
                    f"Dòng {row_no} ({name}) có thể trùng di tích đã có: {hid} {existing}, "
                    f"cách {metres:.0f} m. Để cập nhật di tích đó thay vì thêm bản sao, hãy "
                    f"ghi mã định danh đó (hoặc mã khảo sát đã dùng khi nhập) vào dòng này.",
                    [row_no])
    if len(duplicates) > MAX_DUPLICATE_WARNINGS:
        report.warn(f"More rows may be relics already recorded; only the first "
                    f"{MAX_DUPLICATE_WARNINGS} are listed.",
                    f"Còn các dòng khác có thể trùng di tích đã có; chỉ liệt kê "
                    f"{MAX_DUPLICATE_WARNINGS} dòng đầu.")


def _staged_columns(db: Session) -> set[str]:
    return set(db.execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'import_stage'::regclass "
        "AND attnum > 0 AND NOT attisdropped")).scalars())
