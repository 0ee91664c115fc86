"""A synthetic district survey as a surveyor's office sends it: a relic list and its
protection zones as VN-2000 TM-3 shapefiles (EPSG:9209 .prj, UTF-8 .cpg), the relics
numbered by the survey (MA_DT 1, 2, ...; no heritage identifiers) and described with the
commonest values of real relic lists ("Lịch sử - văn hoá", "Chưa xếp hạng", "KV1"...),
written the ways they are written, with and without diacritics.

Used by tests/test_import_survey_10k.py; bench scripts may use it too:
    survey = write_survey(folder, 10_000)  # survey.relics, survey.zones, survey.expected
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer

AREA = (105.88, 20.75, 106.03, 20.92)  # Khoái Châu, lon/lat

# (value as written, its share of the rows, the code it must become)
TYPES = [
    ("Lịch sử - văn hoá", 0.20, ["historical"]),
    ("Di tích lịch sử - văn hóa", 0.15, ["historical"]),
    ("lich su - van hoa", 0.05, ["historical"]),
    ("Lịch sử", 0.15, ["historical"]),
    ("Kiến trúc nghệ thuật", 0.15, ["architectural_artistic"]),
    ("Lịch sử - văn hóa; Kiến trúc nghệ thuật", 0.10, ["historical",
                                                        "architectural_artistic"]),
    ("Khảo cổ học", 0.05, ["archaeological"]),
    ("Danh lam thắng cảnh", 0.05, ["scenic"]),
    ("Hỗn hợp", 0.05, ["mixed"]),
    ("KTNT", 0.05, ["architectural_artistic"]),
]
RANKS = [
    ("Chưa xếp hạng", 0.40, "inventoried"),
    ("chua xep hang", 0.05, "inventoried"),
    ("Kiểm kê", 0.05, "inventoried"),
    ("Cấp tỉnh", 0.25, "provincial"),
    ("Di tích cấp tỉnh", 0.05, "provincial"),
    ("Quốc gia", 0.10, "national"),
    ("Cấp quốc gia", 0.05, "national"),
    ("Quốc gia đặc biệt", 0.05, "special_national"),
]
ZONE_I = ("Khu vực I", "KV1", "Khu vuc I", "KVBV I")
ZONE_II = ("Khu vực II", "KV2", "khu vuc 2", "KVBV II")
KINDS = ("Đình", "Chùa", "Đền", "Miếu", "Phủ", "Nhà thờ họ")


def _pick(rng: np.random.Generator, table: list, n: int) -> np.ndarray:
    shares = np.array([row[1] for row in table])
    return rng.choice(len(table), size=n, p=shares / shares.sum())


@dataclass
class Survey:
    relics: Path
    zones: Path
    # {survey code: (type codes, rank code)} each relic must get
    expected: dict[str, tuple[list[str], str]]


def write_survey(folder: Path, n: int, seed: int = 17) -> Survey:
    """Write `ds_ditich.shp` (n relic points) and `kvbv.shp` (2n zones: I, a 15-40 m
    square, and II, a ring to 60-150 m around it) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lon = rng.uniform(AREA[0], AREA[2], n)
    lat = rng.uniform(AREA[1], AREA[3], n)
    x, y = Transformer.from_crs(4326, 9209, always_xy=True).transform(lon, lat)
    types = _pick(rng, TYPES, n)
    ranks = _pick(rng, RANKS, n)
    kinds = rng.integers(0, len(KINDS), n)
    numbers = np.arange(1, n + 1)
    crs = CRS.from_epsg(9209).to_wkt("WKT1_ESRI")
    relics = folder / "ds_ditich.shp"
    pyogrio.raw.write(
        relics, shapely.to_wkb(shapely.points(x, y)), geometry_type="Point", crs=crs,
        driver="ESRI Shapefile", encoding="UTF-8",
        fields=["MA_DT", "TEN_DT", "LOAI", "CAP_XH"],
        field_data=[numbers.astype(np.int64),
                    np.array([f"{KINDS[k]} khảo sát số {i}" for k, i in zip(kinds, numbers,
                                                                             strict=True)],
                             dtype=object),
                    np.array([TYPES[t][0] for t in types], dtype=object),
                    np.array([RANKS[r][0] for r in ranks], dtype=object)])
    inner = rng.uniform(15.0, 40.0, n)
    outer = inner + rng.uniform(45.0, 110.0, n)
    centres = shapely.points(x, y)
    zone_i = shapely.box(x - inner, y - inner, x + inner, y + inner)
    zone_ii = shapely.difference(shapely.buffer(centres, outer, quad_segs=4), zone_i)
    geoms = np.empty(2 * n, dtype=object)
    geoms[0::2], geoms[1::2] = zone_i, zone_ii
    labels = np.empty(2 * n, dtype=object)
    labels[0::2] = np.array(ZONE_I, dtype=object)[rng.integers(0, len(ZONE_I), n)]
    labels[1::2] = np.array(ZONE_II, dtype=object)[rng.integers(0, len(ZONE_II), n)]
    zones = folder / "kvbv.shp"
    pyogrio.raw.write(
        zones, shapely.to_wkb(shapely.orient_polygons(geoms, exterior_cw=True)),
        geometry_type="Polygon", crs=crs, driver="ESRI Shapefile", encoding="UTF-8",
        fields=["MA_DT", "KVBV", "SO_QD"],
        field_data=[np.repeat(numbers, 2).astype(np.int64), labels,
                    np.array([f"{i % 97 + 1}/QĐ-UBND" for i in range(2 * n)], dtype=object)])
    return Survey(relics, zones, {
        str(i): (TYPES[t][2], RANKS[r][2])
        for i, t, r in zip(numbers.tolist(), types, ranks, strict=True)})
