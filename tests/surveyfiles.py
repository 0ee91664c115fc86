"""Builders of survey files for the importer tests: shapefiles in VN-2000 TM-3 with or
without .prj, DBF text in TCVN3 / VNI / cp1258, CSV, GeoJSON, KML, GeoPackage, and
broken or hostile archives. Everything is generated in a temporary directory.
"""
from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
from pyproj import CRS, Transformer
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from gis_app.geo import encodings

# Verified round trip in ../shared/domain/crs.md: WGS 84 (20.83 N, 105.96 E) is
# E 547 679.957, N 2 304 201.899 in EPSG:9209 (VN-2000 TM-3 105-30, Hưng Yên).
REF_LONLAT = (105.96, 20.83)
REF_TM3 = (547_679.957, 2_304_201.899)


def tm3(lon: float, lat: float) -> tuple[float, float]:
    """A pyproj reference: lon/lat (WGS 84) -> VN-2000 TM-3 105-30 metres."""
    return Transformer.from_crs(4326, 9209, always_xy=True).transform(lon, lat)


def square(x: float, y: float, half: float = 20.0, clockwise: bool = False) -> Polygon:
    ring = [(x - half, y - half), (x + half, y - half), (x + half, y + half),
            (x - half, y + half)]
    return Polygon(ring[::-1] if clockwise else ring)


def write_shapefile(folder: Path, name: str, records: list[dict[str, Any]],
                    geoms: list[BaseGeometry | None], *, epsg: int | None = 9209,
                    prj: str | None = None, encoding: str = "utf-8",
                    cpg: str | None = None) -> Path:
    """A shapefile whose DBF text is stored in `encoding` (utf-8, tcvn3, vni, cp1258).

    `epsg=None` writes no .prj; `prj` writes that text as the .prj instead. A .cpg is
    written only when `cpg` is given (legacy survey files have none).
    """
    folder.mkdir(parents=True, exist_ok=True)
    raw_records = [{k: _raw(v, encoding) for k, v in rec.items()} for rec in records]
    frame = gpd.GeoDataFrame(raw_records, geometry=geoms,
                             crs=CRS.from_epsg(epsg) if epsg else None)
    path = folder / f"{name}.shp"
    with warnings.catch_warnings():  # a file without a CRS is what the test wants
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        pyogrio.write_dataframe(frame, path, driver="ESRI Shapefile", encoding="ISO-8859-1")
    for suffix in (".cpg", ".prj"):
        part = path.with_suffix(suffix)
        if part.exists():
            part.unlink()
    if epsg and prj is None:
        path.with_suffix(".prj").write_text(CRS.from_epsg(epsg).to_wkt("WKT1_ESRI"))
    if prj is not None:
        path.with_suffix(".prj").write_text(prj)
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def _raw(value: Any, encoding: str) -> Any:
    """Text as latin-1 characters standing for the bytes of `encoding`."""
    if isinstance(value, str):
        return encodings.encode(value, encoding).decode("latin-1")
    return value


def zip_files(target: Path, files: list[Path], folder: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in files:
            zf.write(file, f"{folder}{file.name}")
    return target


def shapefile_parts(shp: Path) -> list[Path]:
    return sorted(p for p in shp.parent.iterdir() if p.stem == shp.stem)


def write_vector(path: Path, records: list[dict[str, Any]], geoms: list[BaseGeometry],
                 *, epsg: int = 4326, driver: str | None = None, layer: str | None = None
                 ) -> Path:
    """GeoJSON / GeoPackage / KML written by GDAL (UTF-8)."""
    frame = gpd.GeoDataFrame(records, geometry=geoms, crs=CRS.from_epsg(epsg))
    kwargs: dict[str, Any] = {"layer": layer} if layer else {}
    pyogrio.write_dataframe(frame, path, driver=driver, **kwargs)
    return path


def zone_records(site_ids: list[str], zones: tuple[str, ...] = ("I",)) -> list[dict[str, Any]]:
    return [{"MA_DT": sid, "KVBV": zone, "SO_QD": "12/QĐ-UBND", "NGAY_QD": "15/03/2021"}
            for sid in site_ids for zone in zones]


def point(x: float, y: float) -> Point:
    return Point(x, y)
