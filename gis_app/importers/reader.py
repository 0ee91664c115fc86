"""Open a survey file and read it in batches with pyogrio (GDAL), never all at once
for formats with random access (shapefile, GeoPackage, FlatGeobuf).

Text is read byte-transparently (ISO-8859-1) from DBF and CSV files, whose encoding we
decide ourselves (`gis_app.geo.encodings`); GeoPackage, GeoJSON and KML are UTF-8 by
their specifications.
"""
from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyogrio import raw as ogr
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from gis_app.errors import ImportFailed

from . import archive
from .mapping import fold

log = logging.getLogger(__name__)

RAW_ENCODING = "ISO-8859-1"  # iconv name; GDAL rejects "latin-1"
DRIVERS = {".shp": "ESRI Shapefile", ".gpkg": "GPKG", ".geojson": "GeoJSON",
           ".json": "GeoJSON", ".kml": "KML", ".csv": "CSV", ".fgb": "FlatGeobuf"}
ACCEPTED = ".zip (shapefile), .shp, .gpkg, .geojson, .json, .kml, .kmz, .csv, .fgb"
SEEKABLE = {"ESRI Shapefile", "GPKG", "FlatGeobuf"}
BATCH = 20_000

# CSV coordinate columns (folded names), in order of preference.
LON_NAMES = ("lon", "lng", "long", "longitude", "kinh_do", "kinhdo", "kinh do")
LAT_NAMES = ("lat", "latitude", "vi_do", "vido", "vi do")
X_NAMES = ("x", "toa_do_x", "toado_x", "toa do x", "x_vn2000", "easting")
Y_NAMES = ("y", "toa_do_y", "toado_y", "toa do y", "y_vn2000", "northing")

Message = tuple[str, str]


def fail(en: str, vi: str) -> ImportFailed:
    return ImportFailed(en, vi)


@dataclass
class Source:
    """An opened dataset: what the report and the pipeline need to know about it."""

    path: Path
    driver: str
    layer: str | None
    fields: list[str]
    count: int
    crs_wkt: str | None
    cpg: str | None = None
    legacy_text: bool = False  # DBF/CSV: text bytes whose encoding is decided by us
    coords: tuple[str, str] | None = None  # CSV: (x/lon field, y/lat field)
    no_geometry: bool = False  # a plain table (allowed when geometry_required is False)
    notes: list[Message] = field(default_factory=list)
    # Field names as GDAL gave them (raw bytes as ISO-8859-1 for DBF/CSV) -> as shown.
    raw_names: dict[str, str] = field(default_factory=dict)

    @property
    def encoding_arg(self) -> str | None:
        return RAW_ENCODING if self.legacy_text else None


def _header_names(raw: list[str], legacy: bool) -> dict[str, str]:
    """Field names read byte for byte (DBF/CSV) decoded as UTF-8 when they are UTF-8
    ("Tá»nh" -> "Tỉnh", the header of a UTF-8 CSV); other names stay as read."""
    names = {}
    for name in raw:
        shown = name
        if legacy and not name.isascii():
            try:
                shown = name.encode(RAW_ENCODING).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                shown = name
        names[name] = unicodedata.normalize("NFC", shown)
    return names


@dataclass
class Batch:
    first_row: int  # 1-based row number of the batch's first feature
    attrs: dict[str, Any]  # field -> array of values
    geoms: np.ndarray  # shapely geometries (None where the feature has none)

    def __len__(self) -> int:
        return len(self.geoms)


def open_source(path: Path, workdir: Path, source_layer: str | None = None,
                limits: archive.Limits | None = None, *,
                geometry_required: bool = True) -> Source:
    """Find the dataset in `path` (unpacking an archive into `workdir`) and describe it.
    Without `geometry_required`, a file without shapes (a CSV without coordinate
    columns, a table) is read too (`no_geometry`).

    Raises ImportFailed with a message a person can act on: empty file, unknown format,
    shapefile parts missing, several datasets or layers without `source_layer`, a file
    GDAL cannot read.
    """
    if not path.exists():
        raise fail(f"The file {path.name} does not exist.", f"Không tìm thấy tệp {path.name}.")
    if path.stat().st_size == 0:
        raise fail(f"The file {path.name} is empty (0 bytes); upload it again.",
                   f"Tệp {path.name} rỗng (0 byte); hãy tải lên lại.")
    dataset = path
    if archive.is_archive(path):
        files = archive.unpack(path, workdir, limits or archive.Limits())
        datasets = archive.find_datasets(files)
        dataset = _choose_dataset(datasets, source_layer, path.name)
        if dataset.suffix.lower() != ".gpkg":
            source_layer = None
    suffix = dataset.suffix.lower()
    if suffix not in DRIVERS:
        raise fail(f"{dataset.name}: this kind of file cannot be imported. Accepted: {ACCEPTED}.",
                   f"{dataset.name}: không nhập được loại tệp này. Chấp nhận: {ACCEPTED}.")
    if suffix == ".shp":
        _check_shapefile_parts(dataset)
    if suffix in (".json", ".geojson"):
        dataset = _wrap_feature_array(dataset, workdir)
    driver = DRIVERS[suffix]
    layer = _choose_layer(dataset, source_layer)
    legacy = driver in ("ESRI Shapefile", "CSV")
    try:
        info = pyogrio.read_info(dataset, layer=layer,
                                 encoding=RAW_ENCODING if legacy else None)
    except (DataSourceError, DataLayerError) as exc:
        raise _unreadable(dataset, exc) from exc
    cpg = _read_cpg(dataset) if driver == "ESRI Shapefile" else None
    raw_names = _header_names(list(info["fields"]), legacy)
    source = Source(path=dataset, driver=driver, layer=layer, fields=list(raw_names.values()),
                    count=int(info["features"]), crs_wkt=info["crs"], cpg=cpg,
                    legacy_text=legacy, raw_names=raw_names)
    if driver == "CSV":
        source.coords = _csv_coordinates(source, geometry_required)
        source.no_geometry = source.coords is None
    elif info["geometry_type"] is None and not geometry_required:
        source.no_geometry = True
    elif info["geometry_type"] is None:
        raise fail(f"{dataset.name} has no geometry (no shapes or coordinates); it cannot be "
                   f"placed on the map.",
                   f"{dataset.name} không có dữ liệu hình học (không có tọa độ); không thể "
                   f"đưa lên bản đồ.")
    if source.count < 0:
        source.count = int(pyogrio.read_info(dataset, layer=layer, force_feature_count=True,
                                             encoding=source.encoding_arg)["features"])
    if source.count == 0:
        raise fail(f"{dataset.name} has no features.", f"{dataset.name} không có đối tượng nào.")
    return source


def _choose_dataset(datasets: list[Path], wanted: str | None, archive_name: str) -> Path:
    if len(datasets) == 1:
        return datasets[0]
    if wanted:
        for candidate in datasets:
            if candidate.stem == wanted or candidate.name == wanted:
                return candidate
    names = ", ".join(p.name for p in datasets)
    raise fail(f"{archive_name} holds several datasets ({names}); choose one with the source "
               f"layer option.",
               f"{archive_name} chứa nhiều bộ dữ liệu ({names}); hãy chọn một bộ bằng tùy chọn "
               f"lớp nguồn.")


def _choose_layer(dataset: Path, wanted: str | None) -> str | None:
    try:
        layers = [str(name) for name, _kind in pyogrio.list_layers(dataset)]
    except (DataSourceError, DataLayerError) as exc:
        raise _unreadable(dataset, exc) from exc
    if wanted:
        if wanted not in layers:
            raise fail(f"{dataset.name} has no layer {wanted!r}; its layers: {', '.join(layers)}.",
                       f"{dataset.name} không có lớp {wanted!r}; các lớp trong tệp: "
                       f"{', '.join(layers)}.")
        return wanted
    if len(layers) > 1:
        raise fail(f"{dataset.name} has several layers ({', '.join(layers)}); choose one with "
                   f"the source layer option.",
                   f"{dataset.name} có nhiều lớp ({', '.join(layers)}); hãy chọn một lớp bằng "
                   f"tùy chọn lớp nguồn.")
    return layers[0] if layers else None


def _sibling(path: Path, suffix: str) -> Path | None:
    for candidate in path.parent.iterdir():
        if candidate.stem == path.stem and candidate.suffix.lower() == suffix:
            return candidate
    return None


def _check_shapefile_parts(shp: Path) -> None:
    for suffix, role_en, role_vi in ((".shx", "index", "chỉ mục"),
                                     (".dbf", "attribute table", "bảng thuộc tính")):
        if _sibling(shp, suffix) is None:
            raise fail(
                f"{shp.name} has no {suffix} file (its {role_en}). A shapefile needs .shp, "
                f".shx and .dbf (and .prj) with the same name; zip them together and upload "
                f"the zip.",
                f"{shp.name} thiếu tệp {suffix} ({role_vi}). Shapefile cần đủ các tệp .shp, "
                f".shx, .dbf (và .prj) cùng tên; hãy nén chung vào một tệp zip rồi tải lên.")


def _read_cpg(shp: Path) -> str | None:
    cpg = _sibling(shp, ".cpg")
    if cpg is None:
        return None
    return cpg.read_text(encoding="ascii", errors="replace").strip() or None


def _wrap_feature_array(path: Path, workdir: Path) -> Path:
    """A bare JSON array of Features (not a FeatureCollection) is wrapped in one."""
    with path.open("rb") as fh:
        head = fh.read(64).lstrip()
    if not head.startswith(b"["):
        return path
    try:
        items = json.loads(path.read_bytes())
    except ValueError as exc:
        raise fail(f"{path.name} is not valid JSON: {exc}.",
                   f"{path.name} không phải JSON hợp lệ: {exc}.") from exc
    if not items or not all(isinstance(i, dict) and i.get("type") == "Feature" for i in items):
        raise fail(f"{path.name} is a JSON list, not GeoJSON; export it as a FeatureCollection.",
                   f"{path.name} là một danh sách JSON, không phải GeoJSON; hãy xuất lại dưới "
                   f"dạng FeatureCollection.")
    wrapped = workdir / f"{path.stem}.wrapped.geojson"
    wrapped.write_text(json.dumps({"type": "FeatureCollection", "features": items}),
                       encoding="utf-8")
    return wrapped


def _unreadable(path: Path, exc: Exception) -> ImportFailed:
    detail = str(exc).splitlines()[0][:300]
    return fail(f"{path.name} cannot be read; it may be damaged or truncated (GDAL: {detail}). "
                f"Export it again from the survey software.",
                f"Không đọc được {path.name}; tệp có thể bị hỏng hoặc không đầy đủ (GDAL: "
                f"{detail}). Hãy xuất lại tệp từ phần mềm đo đạc.")


def _csv_coordinates(source: Source, required: bool = True) -> tuple[str, str] | None:
    by_fold = {fold(name): name for name in source.fields}
    for xs, ys in ((LON_NAMES, LAT_NAMES), (X_NAMES, Y_NAMES)):
        x = next((by_fold[n] for n in xs if n in by_fold), None)
        y = next((by_fold[n] for n in ys if n in by_fold), None)
        if x and y:
            return x, y
    if not required:
        return None
    raise fail(
        f"{source.path.name} has no coordinate columns. A CSV needs lon and lat (or kinh_do "
        f"and vi_do) in degrees, or x and y in metres (VN-2000); its columns are: "
        f"{', '.join(source.fields)}.",
        f"{source.path.name} không có cột tọa độ. Tệp CSV cần cột lon và lat (hoặc kinh_do "
        f"và vi_do) theo độ, hoặc x và y theo mét (VN-2000); các cột hiện có: "
        f"{', '.join(source.fields)}.")


def read_batches(source: Source, batch_size: int | None = None, geometry: bool = True
                 ) -> Iterator[Batch]:
    """The features in order, `batch_size` (default BATCH) at a time (all at once for
    formats GDAL cannot seek in). With `geometry=False` only attributes are read."""
    batch_size = batch_size or BATCH
    if source.driver not in SEEKABLE:
        batch_size = max(source.count, 1)
    for start in range(0, source.count, batch_size):
        try:
            meta, _fids, geoms, values = ogr.read(
                source.path, layer=source.layer, encoding=source.encoding_arg,
                read_geometry=geometry and source.coords is None and not source.no_geometry,
                skip_features=start,
                max_features=batch_size)
        except (DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
            raise _unreadable(source.path, exc) from exc
        attrs = dict(zip((source.raw_names.get(n, n) for n in meta["fields"]), values,
                         strict=True))
        if not geometry or source.no_geometry or (geoms is None and source.coords is None):
            shapes = [None] * (len(values[0]) if values else 0)
        elif source.coords is None:
            shapes = shapely.from_wkb(geoms, on_invalid="ignore")
        else:
            shapes = _csv_points(source, attrs, start)
        yield Batch(start + 1, attrs, np.asarray(shapes, dtype=object))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    text = str(value).strip().replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # decimal comma
    try:
        return float(text)
    except ValueError:
        return None


def _csv_points(source: Source, attrs: dict[str, Any], start: int) -> list[Any]:
    assert source.coords
    xs = [_number(v) for v in attrs[source.coords[0]]]
    ys = [_number(v) for v in attrs[source.coords[1]]]
    known = [(x, y) for x, y in zip(xs, ys, strict=True) if x is not None and y is not None]
    if known and all(x >= 1_000_000 > y for x, y in known):
        # Vietnamese survey tables call the northing X (the 7-digit value).
        xs, ys = ys, xs
        note = (
            (f"The column {source.coords[0]} holds the northing (7-digit values), as in "
            f"Vietnamese survey tables; it is read as y and {source.coords[1]} as x."),
            (f"Cột {source.coords[0]} chứa tọa độ Bắc (7 chữ số) theo cách ghi của bảng "
            f"đo đạc Việt Nam; hệ thống đọc cột này là y và cột {source.coords[1]} là x."))
        if note not in source.notes:
            source.notes.append(note)
    points: list[Any] = []
    for x, y in zip(xs, ys, strict=True):
        points.append(None if x is None or y is None else shapely.Point(x, y))
    return points


def text_values(source: Source) -> Iterator[tuple[str, int, bytes]]:
    """(field, row, raw bytes) of every non-empty text value, for encoding detection."""
    text_fields: list[str] | None = None
    for batch in read_batches(source, geometry=False):
        if text_fields is None:
            text_fields = [name for name, col in batch.attrs.items()
                           if any(isinstance(v, str) for v in col[:1000])]
        for name in text_fields:
            for offset, value in enumerate(batch.attrs[name]):
                if isinstance(value, str) and value:
                    yield name, batch.first_row + offset, value.encode("latin-1")
