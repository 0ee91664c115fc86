"""Read a file of parcels that a planner sent us, for the zone checks (one upload on the
planning page, or the bulk check of a whole survey).

Any format the importer reads (zipped shapefile, .gpkg, .geojson, .kml/.kmz, .csv with
coordinate columns, .fgb). An archive is unpacked, and a bare GeoJSON feature array
wrapped, in a scratch folder of this reader's own that is gone when it returns, so
callers only hand over the saved upload. The CRS is decided as for imports (given, else
the .prj, else inferred from the coordinates), and DBF/CSV text is decoded as for imports
(.cpg, else detected).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from babel.numbers import format_decimal

from gis_app.errors import InputError
from gis_app.geo import crs as crs_mod
from gis_app.geo.limits import check_all_vertices

from . import archive
from .pipeline import Report, decide_crs, decide_encoding, decode_value
from .reader import open_source, read_batches

# A parcel file (a planning upload, a bulk check, one zone or one position) unpacks to
# far less than a survey: 999 members of 1 MiB of zeros each pass the ratio check (too
# small to be judged) and would write 1 GB; the total stops them.
PARCEL_ARCHIVE_LIMITS = archive.Limits(max_total_bytes=200 * 1024**2,
                                       max_member_bytes=200 * 1024**2)

Advice = tuple[str, str]  # (en, vi): what to do with a file that has too many features


@dataclass
class ParcelFile:
    """The features of a parcel file, in file order (row n is index n - 1)."""

    dataset: str  # the file that was read (inside the archive, for a zip)
    fields: list[str]
    attrs: dict[str, list[Any]]  # field -> values, text decoded (empty without attributes)
    geoms: np.ndarray  # 2D shapely geometries in `crs.crs`; None where a feature has none
    crs: crs_mod.CrsChoice
    coordinate_columns: tuple[str, str] | None  # CSV: the columns holding x/lon and y/lat

    def __len__(self) -> int:
        return len(self.geoms)

    def present(self) -> np.ndarray:
        """Which features have a non-empty geometry (a boolean mask)."""
        return np.array([g is not None and not g.is_empty for g in self.geoms], dtype=bool)

    def to_lonlat(self) -> np.ndarray:
        """The geometries in EPSG:4326 (lon/lat, 2D); None where a feature has none."""
        out = np.full(len(self.geoms), None, dtype=object)
        present = self.present()
        if present.any():
            out[present] = crs_mod.transform_geometries(
                self.geoms[present].astype(object), self.crs.crs)
        return out


def read_parcel_file(path: Path, *, max_parcels: int, advice: Advice,
                     crs_text: str | None = None, attributes: bool = True) -> ParcelFile:
    """Read the parcels in `path` (an uploaded file, saved under its own suffix).

    `crs_text` overrides the file's CRS (as typed by a user: `EPSG:9209`, an alias, WKT).
    With `attributes=False` only geometries are read and no text encoding is decided.

    Raises InputError when the file has more than `max_parcels` features (the message
    ends with `advice`) or a CRS cannot be decided, ImportFailed (ArchiveRejected) for an
    empty, unreadable or unsafe file or a shapefile with parts missing.
    """
    given = crs_mod.parse_crs(crs_text) if crs_text else None
    with tempfile.TemporaryDirectory(prefix="gis-parcels-") as scratch:
        source = open_source(path, Path(scratch), limits=PARCEL_ARCHIVE_LIMITS)
        if source.count > max_parcels:
            raise _too_many(source.count, max_parcels, advice)
        choice = decide_crs(source, given)
        attrs: dict[str, list[Any]] = {name: [] for name in source.fields} if attributes \
            else {}
        # DBF and CSV text was read byte for byte; its encoding is ours to decide.
        encoding = decide_encoding(source, None, Report()) \
            if attributes and source.legacy_text else None
        geoms: list[Any] = []
        for batch in read_batches(source):
            for name, column in attrs.items():
                values = batch.attrs[name]
                column.extend(values if encoding is None
                              else (decode_value(v, encoding) for v in values))
            geoms.extend(batch.geoms)
        dataset = source.path.name
    flat = shapely.force_2d(np.asarray(geoms, dtype=object))
    check_all_vertices(flat)
    return ParcelFile(dataset=dataset, fields=list(attrs), attrs=attrs, geoms=flat,
                      crs=choice, coordinate_columns=source.coords)


def _too_many(count: int, limit: int, advice: Advice) -> InputError:
    def number(value: int, lang: str) -> str:
        return format_decimal(value, locale=lang)

    return InputError(
        f"The file has {number(count, 'en')} features; at most {number(limit, 'en')} parcels "
        f"can be checked at once. {advice[0]}",
        f"Tệp có {number(count, 'vi')} đối tượng; mỗi lần chỉ kiểm tra được tối đa "
        f"{number(limit, 'vi')} thửa. {advice[1]}")
