"""Open-data downloads: every layer as the public sees it, and the whole dataset, as
files (GeoJSON, GeoPackage, zipped Shapefile, CSV, KML), in WGS 84 or VN-2000 TM-3.

What is published comes from each layer's one declaration in `layers/` and the public
rule of `services.features` (published, non-sensitive records only): adding a layer adds
its downloads. The files are written by GDAL (pyogrio) from one query per layer and
prepared once per data state (`services.data_version.stamp_key`: the version and the
time of its revision, so a database restored or recreated with the same version number
never gets another's files): the first request after a change builds the file into
`DOWNLOAD_CACHE_DIR/v<key>/` (a lock file made with
O_EXCL keeps other workers from building the same file at once; they wait for it), every
later request is served from disk. Older versions are removed once they have gone
unused for a while.

Every file carries the licence, the attribution, the data date and the data dictionary
where its format has room for them: inside a GeoPackage (dataset metadata and a
`data_dictionary` table), as members of a GeoJSON FeatureCollection, in the KML
document's description, and as LICENCE.txt + dictionary.json beside the data in a zip.
A CSV has no room: the catalogue and the response's Link headers name them.

VN-2000 (EPSG:9209, TM-3 105°30′) is transformed by pyproj from the EPSG code, so PROJ
applies the official shift (EPSG:6960); GDAL writes the Shapefile's .prj as ESRI WKT
with datum D_Vietnam_2000, which QGIS, ogr2ogr and pyproj identify as EPSG:9209.
"""
from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.clock import VIETNAM_TIME, today_in_vietnam
from gis_app.errors import HeritageError, InputError, RecordNotFound
from gis_app.services import data_version
from gis_app.services.features import _visibility, find_layer, layer_summaries
from layers import Layer, all_layers

log = logging.getLogger(__name__)

WGS84 = 4326
VN2000_TM3 = 9209  # VN-2000 / TM-3 105-30: Hưng Yên
CRS_NAMES: dict[int, dict[str, str]] = {
    WGS84: {"vi": "WGS 84 (kinh độ, vĩ độ)", "en": "WGS 84 (longitude, latitude)"},
    VN2000_TM3: {"vi": "VN-2000 / TM-3 kinh tuyến trục 105°30′ (Hưng Yên)",
                 "en": "VN-2000 / TM-3 105°30′ (Hưng Yên)"},
}
ALL = "all"  # the file name of the whole dataset
LOCK_WAIT = 300  # seconds a request waits for another worker preparing the same file
STALE_LOCK = 900  # seconds after which a lock is taken to be left by a dead worker
KEEP_OLD_VERSIONS = 600  # seconds an unused older version's files are kept


@dataclass(frozen=True)
class Format:
    key: str
    label: str
    media_type: str
    suffix: str  # one layer's file
    all_suffix: str  # the whole dataset's file
    crs: tuple[int, ...] = (WGS84, VN2000_TM3)

    def media_type_of(self, layer: str | None) -> str:
        suffix = self.suffix if layer is not None else self.all_suffix
        return "application/zip" if suffix.endswith(".zip") else self.media_type


FORMATS: dict[str, Format] = {f.key: f for f in (
    Format("geojson", "GeoJSON", "application/geo+json", ".geojson", ".geojson.zip"),
    Format("gpkg", "GeoPackage", "application/geopackage+sqlite3", ".gpkg", ".gpkg"),
    Format("shp", "Shapefile", "application/zip", ".shp.zip", ".shp.zip"),
    Format("csv", "CSV", "text/csv", ".csv", ".csv.zip"),
    Format("kml", "KML", "application/vnd.google-earth.kml+xml", ".kml", ".kml.zip",
           crs=(WGS84,)),  # KML is WGS 84 by definition
)}


class DownloadBusy(HeritageError):
    """Another worker has been preparing the same file for too long."""

    status = 503
    code = "busy"


@dataclass(frozen=True)
class Download:
    """One downloadable file: a layer (None: the whole dataset), a format and a CRS."""

    layer: str | None
    fmt: Format
    crs: int = WGS84

    @property
    def name(self) -> str:
        return self.layer or ALL

    @property
    def suffix(self) -> str:
        return self.fmt.suffix if self.layer is not None else self.fmt.all_suffix

    @property
    def filename(self) -> str:
        """The URL's file name (the CRS is a query parameter)."""
        return self.name + self.suffix

    @property
    def download_name(self) -> str:
        """The name the file is saved under: a VN-2000 file says so."""
        tag = "" if self.crs == WGS84 else "-vn2000-tm3"
        return self.name + tag + self.suffix

    @property
    def media_type(self) -> str:
        return self.fmt.media_type_of(self.layer)

    @property
    def cache_name(self) -> str:
        return f"{self.name}-{self.crs}{self.suffix}"


def read_crs(value: str | None) -> int:
    """Parse `crs` (absent: WGS 84): 4326, 9209, or EPSG:4326 / EPSG:9209.
    Raises InputError naming the choices."""
    if value is None or value.strip() == "":
        return WGS84
    code = value.strip().upper().removeprefix("EPSG:")
    if code.isdigit() and int(code) in CRS_NAMES:
        return int(code)
    raise InputError(f"crs must be 4326 (WGS 84, the default) or 9209 (VN-2000 / TM-3 105°30′ "
                     f"for Hưng Yên); got {value!r}.",
                     f"crs phải là 4326 (WGS 84, mặc định) hoặc 9209 (VN-2000 / TM-3 kinh "
                     f"tuyến trục 105°30′ của Hưng Yên); đã nhận {value!r}.")


def read_download(filename: str, crs: str | None) -> Download:
    """The download a URL's file name (`sites.gpkg`, `all.shp.zip`) and `crs` ask for.

    RecordNotFound for an unknown layer or format (the message lists the choices),
    InputError for a CRS the format cannot carry (KML is WGS 84 only).
    """
    code = read_crs(crs)
    for fmt in sorted(FORMATS.values(), key=lambda f: -len(f.suffix)):
        for suffix, whole in ((fmt.all_suffix, True), (fmt.suffix, False)):
            if not filename.endswith(suffix):
                continue
            name = filename[:-len(suffix)]
            if whole != (name == ALL):
                continue
            layer = None if whole else find_layer(name).name
            if code not in fmt.crs:
                raise InputError(f"{fmt.label} is always in WGS 84: leave out crs, or choose "
                                 f"another format for VN-2000.",
                                 f"{fmt.label} luôn dùng WGS 84: hãy bỏ crs hoặc chọn định "
                                 f"dạng khác cho VN-2000.")
            return Download(layer, fmt, code)
    names = ", ".join(["all", *all_layers()])
    suffixes = ", ".join(f.suffix for f in FORMATS.values())
    raise RecordNotFound(f"No download named '{filename}'. Files are <layer><format> with a "
                         f"layer from {names} and a format from {suffixes} (the whole "
                         f"dataset: all.gpkg, or all.<format>.zip); see /data.",
                         f"Không có tệp tải về '{filename}'. Tên tệp là <lớp><định dạng>, "
                         f"lớp là một trong {names}, định dạng là một trong {suffixes} (toàn "
                         f"bộ dữ liệu: all.gpkg hoặc all.<định dạng>.zip); xem /data.")


def every_download() -> list[Download]:
    """Every file of the catalogue: each layer in each format and CRS, then the whole
    dataset."""
    out = [Download(name, fmt, crs) for name in all_layers() for fmt in FORMATS.values()
           for crs in fmt.crs]
    out += [Download(None, fmt, crs) for fmt in FORMATS.values() for crs in fmt.crs]
    return out


# --- the data dictionary -------------------------------------------------------------

# Labels of the properties layers declare, where a layer's popup does not give one.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "id": {"vi": "Mã công khai của đối tượng (ổn định)", "en": "Public feature id (stable)"},
    "heritage_id": {"vi": "Mã định danh di tích", "en": "Heritage identifier of the relic"},
    "name": {"vi": "Tên", "en": "Name"},
    "name_vi": {"vi": "Tên tiếng Việt", "en": "Vietnamese name"},
    "name_en": {"vi": "Tên tiếng Anh", "en": "English name"},
    "code": {"vi": "Mã đơn vị hành chính", "en": "Administrative unit code"},
    "level": {"vi": "Cấp hành chính", "en": "Administrative level"},
    "valid_from": {"vi": "Hiệu lực từ ngày", "en": "Valid from"},
    "valid_to": {"vi": "Hiệu lực đến ngày", "en": "Valid until"},
    "accuracy": {"vi": "Độ chính xác vị trí", "en": "Positional accuracy"},
    "rank": {"vi": "Xếp hạng", "en": "Rank"},
    "types": {"vi": "Loại hình", "en": "Types"},
    "ranking_decision_no": {"vi": "Số quyết định xếp hạng", "en": "Ranking decision number"},
    "zone": {"vi": "Khu vực bảo vệ", "en": "Protection zone"},
    "site_name_vi": {"vi": "Tên di tích (tiếng Việt)", "en": "Relic name (Vietnamese)"},
    "site_name_en": {"vi": "Tên di tích (tiếng Anh)", "en": "Relic name (English)"},
    "decision_no": {"vi": "Số quyết định khoanh vùng", "en": "Zoning decision number"},
    "kind": {"vi": "Loại", "en": "Kind"},
    "category": {"vi": "Nhóm", "en": "Category"},
    "ref": {"vi": "Số hiệu đường", "en": "Road number"},
}
# Vocabularies (gis_app.vocab) of properties, where a layer's popup does not name one.
FIELD_VOCAB = {"types": "relic_type", "rank": "rank", "zone": "zone", "accuracy": "accuracy",
               "level": "admin_level"}
# Shapefile (DBF) field names are at most 10 characters.
SHAPEFILE_NAMES = {"heritage_id": "heritageid", "ranking_decision_no": "rankdec_no",
                   "site_name_vi": "site_vi", "site_name_en": "site_en",
                   "decision_no": "decis_no"}
# The coordinates a CSV gives beside its WKT: a point on the feature (the point itself,
# a point inside a polygon), in the file's CRS.
CSV_COORDS = {WGS84: ("lon", "lat"), VN2000_TM3: ("x_east", "y_north")}

_PG_KINDS = {16: "boolean", 20: "integer", 21: "integer", 23: "integer", 700: "real",
             701: "real", 1700: "real", 1082: "date", 1114: "datetime", 1184: "datetime",
             1009: "list", 1015: "list"}
_COLUMN_KINDS: dict[str, list[tuple[str, str, str]]] = {}


def _columns(db: Session, layer: Layer) -> list[tuple[str, str, str]]:
    """(name, SQL over `src`, kind) of the layer's output columns, `id` first; the kind
    (text, integer, real, boolean, date, datetime, list) from the database's answer."""
    if layer.name not in _COLUMN_KINDS:
        exprs = [("id", layer.feature_id_sql),
                 *((k, v) for k, v in layer.properties.items() if k != "id")]
        select = ", ".join(f'{expr} AS "{key}"' for key, expr in exprs)
        result = db.execute(text(f"SELECT {select} FROM {layer.source} AS src LIMIT 0"),
                            {"today": today_in_vietnam()})
        codes = [d.type_code for d in result.cursor.description]
        result.close()
        _COLUMN_KINDS[layer.name] = [(key, expr, _PG_KINDS.get(code, "text"))
                                     for (key, expr), code in zip(exprs, codes, strict=True)]
    return _COLUMN_KINDS[layer.name]


def shapefile_names(keys: Iterable[str]) -> dict[str, str]:
    """Output column -> its DBF field name (≤ 10 characters, unique)."""
    out: dict[str, str] = {}
    for key in keys:
        name = SHAPEFILE_NAMES.get(key, key)[:10]
        base, n = name, 1
        while name in out.values():
            n += 1
            name = f"{base[:10 - len(str(n))]}{n}"
        out[key] = name
    return out


_KIND_LABELS = {
    "text": {"vi": "văn bản", "en": "text"},
    "integer": {"vi": "số nguyên", "en": "integer"},
    "real": {"vi": "số thực", "en": "real number"},
    "boolean": {"vi": "đúng/sai", "en": "true/false"},
    "date": {"vi": "ngày (YYYY-MM-DD)", "en": "date (YYYY-MM-DD)"},
    "datetime": {"vi": "thời điểm (ISO 8601)", "en": "date and time (ISO 8601)"},
    "list": {"vi": "danh sách mã, cách nhau bởi ';'", "en": "list of codes separated by ';'"},
}


def data_dictionary(db: Session, layer: Layer) -> dict[str, Any]:
    """The layer's fields as downloaded: name, Shapefile name, type, label and the
    vocabulary of coded values (code, vi, en), in both languages."""
    popup = {p.key: p for p in layer.popup}
    columns = _columns(db, layer)
    shp = shapefile_names(key for key, _expr, _kind in columns)
    fields = []
    for key, _expr, kind in columns:
        hint = popup.get(key)
        vocab_name = (hint.vocab if hint and hint.vocab else None) or FIELD_VOCAB.get(key)
        fields.append({
            "name": key,
            "shapefile_name": shp[key],
            "type": kind,
            "type_label": _KIND_LABELS[kind],
            "label": FIELD_LABELS.get(key) or (dict(hint.label) if hint else
                                                 {"vi": key, "en": key}),
            "vocabulary": vocab_name,
            "values": [{"code": code, "vi": vi, "en": en}
                       for code, (vi, en) in vocab.VOCAB.get(vocab_name or "", {}).items()],
        })
    return {
        "layer": layer.name,
        "title": dict(layer.title),
        "description": dict(layer.description),
        "geometry_type": layer.geometry_type,
        "crs": {f"EPSG:{code}": names for code, names in CRS_NAMES.items()},
        "fields": fields,
        "csv_coordinates": {f"EPSG:{code}": list(names) for code, names in CSV_COORDS.items()},
        "public_rule": {"vi": "Chỉ dữ liệu đã công bố, không nhạy cảm.",
                        "en": "Published, non-sensitive records only."},
    }


# --- reading a layer --------------------------------------------------------------------

def _output_sql(expr: str, kind: str) -> str:
    """A column as the files carry it: lists joined by ';', dates as ISO text."""
    if kind == "list":
        return f"array_to_string({expr}, ';')"
    if kind == "date":
        return f"to_char({expr}, 'YYYY-MM-DD')"
    if kind == "datetime":
        return (f"to_char({expr} AT TIME ZONE 'Asia/Ho_Chi_Minh', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS+07:00')")
    if kind == "real":
        return f"CAST({expr} AS double precision)"
    if kind == "text":
        return f"CAST({expr} AS text)"
    return expr


def read_layer_frame(db: Session, layer: Layer, crs: int = WGS84) -> gpd.GeoDataFrame:
    """The layer's public features (one query, the public rule of services.features) as
    a GeoDataFrame in `crs` (EPSG code; transformed by pyproj), ordered by row key."""
    columns = _columns(db, layer)
    select = ", ".join(f'{_output_sql(expr, kind)} AS "{key}"' for key, expr, kind in columns)
    sql = (f"SELECT {select}, ST_AsBinary(src.{layer.geom_column}) AS geom_wkb "
           f"FROM {layer.source} AS src WHERE {_visibility(layer, None)} "
           f"ORDER BY src.{layer.id_column}")
    rows = db.execute(text(sql), {"today": today_in_vietnam()}).all()
    keys = [key for key, _expr, _kind in columns]
    frame = pd.DataFrame.from_records(rows, columns=[*keys, "geom_wkb"])
    wkb = frame.pop("geom_wkb").to_numpy(dtype=object)
    for key, _expr, kind in columns:
        if kind == "integer":
            frame[key] = frame[key].astype("Int64")
        elif kind == "real":
            frame[key] = frame[key].astype("float64")
        elif kind in ("text", "list", "date", "datetime"):
            frame[key] = frame[key].astype(object)
    geoms = shapely.from_wkb(wkb)
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)
    return out if crs == WGS84 else out.to_crs(crs)


# --- writing files ----------------------------------------------------------------------

@dataclass
class Metadata:
    """What every file says about itself."""

    licence: str
    licence_url: str
    attribution: str
    version: int
    data_date: date
    source_url: str = "/data"
    dictionaries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def members(self, layer: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "license": self.licence, "license_url": self.licence_url,
            "attribution": self.attribution, "data_date": self.data_date.isoformat(),
            "data_version": self.version, "source": self.source_url,
        }
        if layer is not None:
            out["data_dictionary"] = self.dictionaries[layer]
        return out

    def readme(self, crs: int) -> str:
        return (f"Bản đồ di sản Khoái Châu — dữ liệu mở / Khoái Châu heritage map — open data\n"
                f"\n"
                f"Giấy phép / Licence: {self.licence} ({self.licence_url})\n"
                f"Ghi công / Attribution: {self.attribution}\n"
                f"Ngày dữ liệu / Data date: {self.data_date.isoformat()} "
                f"(phiên bản / version {self.version})\n"
                f"Hệ tọa độ / CRS: EPSG:{crs} {CRS_NAMES[crs]['vi']} / {CRS_NAMES[crs]['en']}\n"
                f"Nguồn / Source: {self.source_url}\n"
                f"Từ điển dữ liệu / Data dictionary: dictionary.json\n"
                f"Chỉ dữ liệu đã công bố, không nhạy cảm. / Published, non-sensitive "
                f"records only.\n")


_GEOMETRY_TYPES = {"Point": "Point", "MultiPolygon": "MultiPolygon",
                   "MultiLineString": "MultiLineString", "Geometry": "Unknown"}
_FAMILIES = {"Point": "points", "MultiPoint": "points", "LineString": "lines",
             "MultiLineString": "lines", "Polygon": "polygons", "MultiPolygon": "polygons"}
_FAMILY_TYPES = {"points": "Point", "lines": "MultiLineString", "polygons": "MultiPolygon"}


def _write_layer(frame: gpd.GeoDataFrame, layer: Layer, fmt: Format, folder: Path,
                 crs: int, meta: Metadata, gpkg: Path | None = None) -> list[Path]:
    """Write one layer's frame in `fmt` into `folder` (GeoPackage: into `gpkg`, a layer
    per call); the files written."""
    name = layer.name
    geometry_type = _GEOMETRY_TYPES.get(layer.geometry_type, "Unknown")
    if fmt.key == "gpkg":
        target = gpkg or folder / f"{name}.gpkg"
        pyogrio.write_dataframe(
            frame, target, layer=name, driver="GPKG", geometry_type=geometry_type,
            promote_to_multi=False, append=target.exists(),
            layer_metadata={"DESCRIPTION": layer.text(layer.title, "vi") + " / "
                            + layer.text(layer.title, "en"),
                            **{k: str(v) for k, v in meta.members().items()}})
        return [target]
    if fmt.key == "geojson":
        target = folder / f"{name}.geojson"
        options: dict[str, Any] = {
            "FOREIGN_MEMBERS_COLLECTION": json.dumps(meta.members(name), ensure_ascii=False)}
        if crs == WGS84:
            options["RFC7946"] = "YES"
        pyogrio.write_dataframe(frame, target, driver="GeoJSON", layer=name,
                                geometry_type=geometry_type, promote_to_multi=False,
                                layer_options=options)
        return [target]
    if fmt.key == "csv":
        target = folder / f"{name}.csv"
        x_name, y_name = CSV_COORDS[crs]
        points = shapely.point_on_surface(frame.geometry.to_numpy())
        digits = 7 if crs == WGS84 else 3
        table = frame.copy()
        table[x_name] = pd.Series(shapely.get_x(points), index=frame.index).round(digits)
        table[y_name] = pd.Series(shapely.get_y(points), index=frame.index).round(digits)
        pyogrio.write_dataframe(table, target, driver="CSV", layer=name,
                                geometry_type=geometry_type, promote_to_multi=False,
                                layer_options={"GEOMETRY": "AS_WKT"})
        return [target]
    if fmt.key == "kml":
        target = folder / f"{name}.kml"
        description = (f"{layer.text(layer.title, 'vi')} / {layer.text(layer.title, 'en')}. "
                       f"Giấy phép / Licence: {meta.licence} ({meta.licence_url}). "
                       f"Ghi công / Attribution: {meta.attribution}. "
                       f"Ngày dữ liệu / Data date: {meta.data_date.isoformat()}. "
                       f"Từ điển dữ liệu / Data dictionary: {meta.source_url}/{name}/dictionary")
        pyogrio.write_dataframe(frame, target, driver="LIBKML", layer=name,
                                dataset_options={"NAME": layer.text(layer.title, "vi"),
                                                 "DESCRIPTION": description})
        return [target]
    if fmt.key == "shp":
        return _write_shapefiles(frame, layer, folder)
    raise ValueError(f"unknown format {fmt.key}")


def _write_shapefiles(frame: gpd.GeoDataFrame, layer: Layer, folder: Path) -> list[Path]:
    """A Shapefile per geometry family (a Shapefile holds one): `facilities_points.shp`
    and `facilities_polygons.shp` for a mixed layer, `sites.shp` otherwise. UTF-8 .cpg,
    the CRS's .prj (ESRI WKT), field names of `shapefile_names`."""
    table = frame.rename(columns=shapefile_names(c for c in frame.columns
                                                 if c != frame.geometry.name))
    if layer.geometry_type in _GEOMETRY_TYPES and layer.geometry_type != "Geometry":
        groups = {"": (table, layer.geometry_type)}
    else:
        family = table.geometry.geom_type.map(_FAMILIES)
        groups = {f"_{fam}": (table[family == fam], _FAMILY_TYPES[fam])
                  for fam in ("points", "lines", "polygons") if (family == fam).any()}
        if not groups:
            groups = {"_points": (table, "Point")}
    written: list[Path] = []
    for tag, (part, geometry_type) in groups.items():
        target = folder / f"{layer.name}{tag}.shp"
        pyogrio.write_dataframe(part, target, driver="ESRI Shapefile",
                                geometry_type=geometry_type, promote_to_multi=False,
                                encoding="UTF-8")
        written += sorted(folder.glob(f"{layer.name}{tag}.*"))
    return written


def _zip(target: Path, files: Iterable[Path], extra: dict[str, str]) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.name)
        for name, content in extra.items():
            archive.writestr(name, content)


def _dictionary_table(meta: Metadata) -> pd.DataFrame:
    """The data dictionary as one table (a row per field, or per coded value)."""
    rows = []
    for layer, dictionary in meta.dictionaries.items():
        for item in dictionary["fields"]:
            base = {"layer": layer, "field": item["name"],
                    "shapefile_field": item["shapefile_name"], "type": item["type"],
                    "label_vi": item["label"]["vi"], "label_en": item["label"]["en"],
                    "vocabulary": item["vocabulary"] or ""}
            values = item["values"] or [{"code": "", "vi": "", "en": ""}]
            rows += [{**base, "code": v["code"], "code_vi": v["vi"], "code_en": v["en"]}
                     for v in values]
    return pd.DataFrame(rows).astype(object)


def build(db: Session, download: Download, folder: Path, meta: Metadata) -> Path:
    """Write `download` into `folder` (empty, private); the finished file's path."""
    names = [download.layer] if download.layer else list(all_layers())
    layers = [all_layers()[n] for n in names]
    for layer in layers:
        meta.dictionaries[layer.name] = data_dictionary(db, layer)
    fmt, crs = download.fmt, download.crs
    parts = folder / "parts"
    parts.mkdir()
    if fmt.key == "gpkg":
        target = folder / f"{download.name}.gpkg"
        pyogrio.write_dataframe(_dictionary_table(meta), target, layer="data_dictionary",
                                driver="GPKG",
                                dataset_metadata={k: str(v)
                                                  for k, v in meta.members().items()})
        for layer in layers:
            _write_layer(read_layer_frame(db, layer, crs), layer, fmt, parts, crs, meta,
                         gpkg=target)
        return target
    files: list[Path] = []
    for layer in layers:
        files += _write_layer(read_layer_frame(db, layer, crs), layer, fmt, parts, crs, meta)
    if download.suffix.endswith(".zip"):
        target = folder / download.cache_name
        dictionary = meta.dictionaries if download.layer is None else \
            meta.dictionaries[download.layer]
        _zip(target, files, {"LICENCE.txt": meta.readme(crs),
                             "dictionary.json": json.dumps(dictionary, ensure_ascii=False,
                                                           indent=1)})
        return target
    return files[0]


# --- the cache --------------------------------------------------------------------------

@dataclass(frozen=True)
class Prepared:
    path: Path
    version: int
    key: str  # data_version.stamp_key of the data the file was built from
    size: int

    @property
    def gzip_path(self) -> Path | None:
        """The gzip-compressed copy of a text file (GeoJSON, CSV), made with it: sent to
        clients that accept gzip, so no request compresses the file again."""
        path = self.path.with_name(self.path.name + ".gz")
        return path if path.exists() else None


COMPRESSED_SUFFIXES = (".geojson", ".csv")


@dataclass(frozen=True)
class DataState:
    version: int  # data_version.current
    key: str  # data_version.stamp_key: what the cache is keyed by
    day: date  # the day in Vietnam of the newest change


def data_state(db: Session) -> DataState:
    """The register's data version, its stamp's key and the day of its newest change,
    from one read of the newest revision."""
    row = db.execute(text(data_version.STAMP_SQL)).first()
    if row is None:
        return DataState(0, data_version.key_of("0"), today_in_vietnam())
    version, changed = int(row[0]), row[1]
    return DataState(version, data_version.key_of(f"{version}@{changed.isoformat()}"),
                     changed.astimezone(VIETNAM_TIME).date())


def cached_path(cache_dir: Path, key: str, download: Download) -> Path:
    """Where `download` built at the data state `key` is kept."""
    return cache_dir / f"v{key}" / download.cache_name


def prepare(db: Session, cache_dir: Path, download: Download, *, licence: str,
            licence_url: str, attribution: str) -> Prepared:
    """The file of `download` at the current data version, built once.

    The first caller builds it in a private temporary folder and renames it into
    `cache_dir/v<version>/` (atomic on one file system); callers meanwhile wait for it
    (DownloadBusy after LOCK_WAIT seconds). Older versions unused for KEEP_OLD_VERSIONS
    seconds are removed after a build.
    """
    state = data_state(db)
    version, key = state.version, state.key
    path = cached_path(cache_dir, key, download)
    if path.exists():
        return Prepared(path, version, key, path.stat().st_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            if path.exists():
                return Prepared(path, version, key, path.stat().st_size)
            try:
                if time.time() - lock.stat().st_mtime > STALE_LOCK:
                    lock.unlink(missing_ok=True)  # left by a worker that died
                    continue
            except FileNotFoundError:
                continue
            if time.monotonic() > deadline:
                raise DownloadBusy("The file is still being prepared; try again in a few "
                                   "minutes.",
                                   "Tệp đang được chuẩn bị; hãy thử lại sau vài phút.") \
                    from None
            time.sleep(0.25)
    try:
        if path.exists():  # finished by another worker between our check and the lock
            return Prepared(path, version, key, path.stat().st_size)
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(dir=path.parent, prefix=".build-"))
        try:
            meta = Metadata(licence, licence_url, attribution, version, state.day)
            built = build(db, download, work, meta)
            if download.suffix in COMPRESSED_SUFFIXES:
                packed = work / "packed.gz"
                with built.open("rb") as source, gzip.open(packed, "wb", 6) as target:
                    shutil.copyfileobj(source, target, 1 << 20)
                os.replace(packed, path.with_name(path.name + ".gz"))
            os.replace(built, path)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log.info("prepared download %s (EPSG:%d) at version %d: %d bytes in %.1f s",
                 download.filename, download.crs, version, path.stat().st_size,
                 time.monotonic() - started)
    finally:
        os.close(fd)
        lock.unlink(missing_ok=True)
    remove_old_versions(cache_dir, key)
    return Prepared(path, version, key, path.stat().st_size)


def remove_old_versions(cache_dir: Path, current: str,
                        keep_seconds: float = KEEP_OLD_VERSIONS) -> list[Path]:
    """Remove the folders of data states other than `current` (a stamp key) untouched
    for `keep_seconds` (a request may still be building or sending one); the folders
    removed."""
    removed = []
    now = time.time()
    for folder in cache_dir.glob("v*"):
        if folder.name == f"v{current}" or not folder.is_dir():
            continue
        try:
            if now - folder.stat().st_mtime >= keep_seconds:
                shutil.rmtree(folder)
                removed.append(folder)
        except OSError:
            continue
    return removed


# --- the catalogue ----------------------------------------------------------------------

FileRow = tuple[Format, list[tuple[int, Download | None, int | None]]]


def file_rows(files: list[tuple[Download, int | None]]) -> list[FileRow]:
    """The files as a table: a row per format, a (CRS, file or None, size) per CRS."""
    found = {(d.fmt.key, d.crs): (d, size) for d, size in files}
    return [(fmt, [(crs, *found.get((fmt.key, crs), (None, None))) for crs in CRS_NAMES])
            for fmt in FORMATS.values()]


@dataclass
class LayerEntry:
    layer: Layer
    count: int
    bbox: list[float] | None
    files: list[tuple[Download, int | None]]  # size when already prepared

    def rows(self) -> list[FileRow]:
        return file_rows(self.files)


@dataclass
class Catalogue:
    version: int
    data_date: date
    layers: list[LayerEntry]
    whole: list[tuple[Download, int | None]]
    licence: str
    licence_url: str
    attribution: str

    def whole_rows(self) -> list[FileRow]:
        return file_rows(self.whole)

    @property
    def bbox(self) -> list[float] | None:
        boxes = [e.bbox for e in self.layers if e.bbox]
        if not boxes:
            return None
        return [min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes)]


def catalogue(db: Session, cache_dir: Path, *, licence: str, licence_url: str,
              attribution: str) -> Catalogue:
    """Every layer as the public sees it (count, extent) with its files, and the whole
    dataset's; a file's size is known once it has been prepared at this version."""
    state = data_state(db)

    def size(download: Download) -> int | None:
        path = cached_path(cache_dir, state.key, download)
        return path.stat().st_size if path.exists() else None

    entries = []
    for item in layer_summaries(db, None):
        layer = item["layer"]
        files = [(d, size(d)) for d in every_download() if d.layer == layer.name]
        entries.append(LayerEntry(layer, item["count"], item["bbox"], files))
    whole = [(d, size(d)) for d in every_download() if d.layer is None]
    return Catalogue(state.version, state.day, entries, whole, licence, licence_url,
                     attribution)


def dcat_catalog(cat: Catalogue, base_url: str, ogc_url: str) -> dict[str, Any]:
    """The catalogue as DCAT-AP 2 JSON-LD: a dcat:Catalog with a dcat:Dataset per layer
    and a dcat:Distribution per file. `base_url` is the catalogue's absolute URL
    (".../data"), `ogc_url` the OGC API's."""
    modified = cat.data_date.isoformat()
    publisher = {"@type": "foaf:Agent", "foaf:name": cat.attribution}
    licence = {"@id": cat.licence_url}

    def spatial(bbox: list[float] | None) -> dict[str, Any] | None:
        if not bbox:
            return None
        minx, miny, maxx, maxy = bbox
        wkt = (f"POLYGON(({minx} {miny},{maxx} {miny},{maxx} {maxy},{minx} {maxy},"
               f"{minx} {miny}))")
        return {"@type": "dct:Location",
                "dcat:bbox": {"@value": wkt, "@type": "gsp:wktLiteral"}}

    def bilingual(value: dict[str, str]) -> list[dict[str, str]]:
        return [{"@value": v, "@language": k} for k, v in value.items() if v]

    def distribution(d: Download, size: int | None, title: dict[str, str]) -> dict[str, Any]:
        url = f"{base_url}/{d.filename}" + ("" if d.crs == WGS84 else f"?crs={d.crs}")
        out: dict[str, Any] = {
            "@id": url, "@type": "dcat:Distribution",
            "dct:title": bilingual({k: f"{v} — {d.fmt.label}, {CRS_NAMES[d.crs][k]}"
                                    for k, v in title.items()}),
            "dcat:accessURL": {"@id": url}, "dcat:downloadURL": {"@id": url},
            "dcat:mediaType": {"@id": "https://www.iana.org/assignments/media-types/"
                               + d.media_type},
            "dct:format": d.fmt.label,
            "dct:license": licence, "dct:modified": {"@value": modified,
                                                     "@type": "xsd:date"},
            "dct:conformsTo": {"@id": f"http://www.opengis.net/def/crs/EPSG/0/{d.crs}"},
        }
        if size is not None:
            out["dcat:byteSize"] = {"@value": str(size), "@type": "xsd:nonNegativeInteger"}
        return out

    datasets = []
    for entry in cat.layers:
        layer = entry.layer
        dataset: dict[str, Any] = {
            "@id": f"{base_url}/{layer.name}", "@type": "dcat:Dataset",
            "dct:identifier": layer.name,
            "dct:title": bilingual(layer.title),
            "dct:description": bilingual(layer.description or layer.title),
            "dct:publisher": publisher, "dct:license": licence,
            "dct:modified": {"@value": modified, "@type": "xsd:date"},
            "dct:language": [{"@id": "http://publications.europa.eu/resource/authority/"
                                     "language/VIE"},
                             {"@id": "http://publications.europa.eu/resource/authority/"
                                     "language/ENG"}],
            "dcat:landingPage": {"@id": f"{base_url}#{layer.name}"},
            "foaf:page": {"@id": f"{base_url}/{layer.name}/dictionary"},
            "dcat:distribution": [distribution(d, size, layer.title)
                                  for d, size in entry.files],
        }
        if spatial(entry.bbox):
            dataset["dct:spatial"] = spatial(entry.bbox)
        datasets.append(dataset)
    whole_title = {"vi": "Toàn bộ dữ liệu bản đồ di sản Khoái Châu",
                   "en": "The whole Khoái Châu heritage map dataset"}
    whole: dict[str, Any] = {
        "@id": f"{base_url}/{ALL}", "@type": "dcat:Dataset", "dct:identifier": ALL,
        "dct:title": bilingual(whole_title), "dct:description": bilingual(whole_title),
        "dct:publisher": publisher, "dct:license": licence,
        "dct:modified": {"@value": modified, "@type": "xsd:date"},
        "dcat:distribution": [distribution(d, size, whole_title) for d, size in cat.whole],
    }
    if spatial(cat.bbox):
        whole["dct:spatial"] = spatial(cat.bbox)
    datasets.append(whole)
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/", "xsd": "http://www.w3.org/2001/XMLSchema#",
            "gsp": "http://www.opengis.net/ont/geosparql#",
        },
        "@id": base_url, "@type": "dcat:Catalog",
        "dct:title": bilingual({"vi": "Dữ liệu mở bản đồ di sản Khoái Châu",
                                "en": "Khoái Châu heritage map open data"}),
        "dct:description": bilingual({
            "vi": "Di tích, khu vực bảo vệ, cảnh quan, hạ tầng và bản đồ nền của huyện "
                  "Khoái Châu (Hưng Yên); chỉ dữ liệu đã công bố, không nhạy cảm.",
            "en": "Relics, protection zones, landscapes, facilities and basemap of Khoái "
                  "Châu district (Hưng Yên); published, non-sensitive records only."}),
        "dct:publisher": publisher, "dct:license": licence,
        "dct:modified": {"@value": modified, "@type": "xsd:date"},
        "foaf:homepage": {"@id": base_url},
        "dcat:service": {"@type": "dcat:DataService", "dcat:endpointURL": {"@id": ogc_url},
                         "dct:title": bilingual({"vi": "OGC API – Features",
                                                 "en": "OGC API – Features"})},
        "dcat:dataset": datasets,
    }
