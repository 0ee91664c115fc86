"""Coordinate reference systems of Vietnamese surveys: read a .prj, recognise VN-2000,
infer a CRS from coordinate ranges, and transform to EPSG:4326.

VN-2000 is a local datum: PROJ applies the official 7-parameter shift (EPSG:6960) only
when the CRS is one of the EPSG VN-2000 codes. So every VN-2000 variant we recognise is
resolved to its EPSG code, never kept as a hand-written `+towgs84` string (which is
usually 0.75 m off because of the rotation sign convention). See ../shared/domain/crs.md.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.database import query_crs_info
from pyproj.enums import PJType
from pyproj.exceptions import CRSError

from gis_app.errors import InputError

WGS84 = 4326
VN2000_GEOGRAPHIC = 4756
HUNG_YEN_TM3 = 9209  # VN-2000 / TM-3 105-30, the provincial zone of Hưng Yên

# lon/lat boxes. Vietnam's outline with its islands, and the former Khoái Châu district
# (with a ~3 km margin) used to tell VN-2000 zones apart when a file has no .prj: it is
# narrower than the 26 km between neighbouring TM-3 zones, a province is not.
VIETNAM_BBOX = (102.1, 6.0, 117.9, 23.5)
REGION_BBOX = (105.88, 20.72, 106.08, 20.94)
REGION_NAME = {"vi": "huyện Khoái Châu", "en": "Khoái Châu district"}

# Short names a user may type for --crs, besides any EPSG code or WKT.
ALIASES = {
    "wgs84": WGS84,
    "vn2000": VN2000_GEOGRAPHIC,
    "vn2000-hungyen": HUNG_YEN_TM3,
    "vn2000-tm3-105-30": HUNG_YEN_TM3,
    "vn2000-hanoi": 5897,
    "vn2000-utm48": 3405,
    "vn2000-utm49": 3406,
}

Message = tuple[str, str]  # (en, vi)


@dataclass(frozen=True)
class CrsChoice:
    """The CRS a file's coordinates are read in, and how we decided on it."""

    crs: CRS
    how: str  # "given", "prj", "format" (GPKG/GeoJSON/KML), "inferred", "no shapes"
    notes: list[Message] = field(default_factory=list)

    @property
    def label(self) -> str:
        code = self.crs.to_epsg(min_confidence=90)
        return f"EPSG:{code} {self.crs.name}" if code else self.crs.name

    def as_report(self) -> dict[str, object]:
        return {"crs": self.label, "how": self.how,
                "notes": [{"en": en, "vi": vi} for en, vi in self.notes]}


@dataclass(frozen=True)
class Vn2000Zone:
    epsg: int
    name: str
    central_meridian: float
    scale: float


@cache
def vn2000_zones() -> tuple[Vn2000Zone, ...]:
    """Every non-deprecated projected VN-2000 CRS in the EPSG database PROJ ships."""
    zones: dict[int, Vn2000Zone] = {}
    for info in query_crs_info(auth_name="EPSG", pj_types=[PJType.PROJECTED_CRS]):
        if not info.name.startswith("VN-2000") or info.deprecated:
            continue
        params = _tm_params(CRS.from_epsg(int(info.code)))
        if params:
            zones[int(info.code)] = Vn2000Zone(int(info.code), info.name, *params)
    return tuple(sorted(zones.values(), key=lambda z: z.epsg))


def _tm_params(crs: CRS) -> tuple[float, float] | None:
    """(central meridian, scale) of a Transverse Mercator CRS with x_0 500 km, else None."""
    op = crs.coordinate_operation
    if op is None or "transverse mercator" not in op.method_name.lower():
        # UTM zones are conversions named "UTM zone 48N" with the same method.
        if op is None or not op.name.startswith("UTM zone"):
            return None
    values = {p.name.lower(): p.value for p in op.params}
    lon0 = values.get("longitude of natural origin")
    k = values.get("scale factor at natural origin")
    x0 = values.get("false easting")
    lat0 = values.get("latitude of natural origin", 0.0)
    if lon0 is None or k is None or x0 != 500000 or lat0 != 0:
        return None
    return float(lon0), float(k)


def _is_vn2000_datum(crs: CRS) -> bool:
    geodetic = crs.geodetic_crs
    name = (geodetic.datum.name if geodetic and geodetic.datum else "").lower().replace("_", " ")
    return "vietnam 2000" in name or "vn-2000" in name or "vn 2000" in name


def _is_wgs84_datum(crs: CRS) -> bool:
    geodetic = crs.geodetic_crs
    name = (geodetic.datum.name if geodetic and geodetic.datum else "").lower().replace("_", " ")
    return "wgs 84" in name or "wgs 1984" in name or name.startswith("world geodetic system 1984")


def _has_vn2000_shift(bound: CRS) -> bool:
    """Whether a bound CRS's TOWGS84 is (any sign variant of) the VN-2000 shift."""
    op = bound.coordinate_operation
    values = {p.name.lower(): p.value for p in (op.params if op else [])}
    shift = (values.get("x-axis translation"), values.get("y-axis translation"),
             values.get("z-axis translation"))
    if None in shift:
        return False
    return all(abs(a - b) < 5 for a, b in zip(shift, (-191.9, -39.3, -111.5), strict=True))


def _zone_for(params: tuple[float, float]) -> Vn2000Zone | None:
    lon0, k = params
    for zone in vn2000_zones():
        if abs(zone.central_meridian - lon0) < 1e-9 and abs(zone.scale - k) < 1e-9:
            return zone
    return None


def parse_crs(text: str) -> CRS:
    """A CRS typed by a user: an alias (`vn2000-hungyen`), `EPSG:9209`, `9209`, WKT or a
    PROJ string. VN-2000 definitions are resolved to their EPSG code (see module doc).

    Raises InputError naming what is accepted.
    """
    value = text.strip()
    key = value.lower()
    try:
        if key in ALIASES:
            return CRS.from_epsg(ALIASES[key])
        if key.isascii() and key.isdigit():  # not "²": str.isdigit takes it, int() not
            return CRS.from_epsg(int(key))
        crs = CRS.from_user_input(value)
    except CRSError as exc:
        raise InputError(
            f"Unknown coordinate system {value!r}. Give an EPSG code (e.g. EPSG:9209 for "
            f"VN-2000 TM-3 Hưng Yên, EPSG:4326 for GPS latitude/longitude) or one of: "
            f"{', '.join(ALIASES)}.",
            f"Không nhận ra hệ tọa độ {value!r}. Hãy nhập mã EPSG (ví dụ EPSG:9209 cho "
            f"VN-2000 múi chiếu 3° Hưng Yên, EPSG:4326 cho tọa độ GPS) hoặc một trong: "
            f"{', '.join(ALIASES)}.") from exc
    resolved = resolve_vn2000(crs)
    return resolved.crs if resolved else crs


def resolve_vn2000(crs: CRS) -> CrsChoice | None:
    """The EPSG VN-2000 CRS that `crs` describes, or None when it is not VN-2000.

    A projected CRS on datum WGS 84 with the VN-2000 TM-3 parameters (k 0.9999 and a
    VN-2000 central meridian) is an export that lost its datum: it is resolved to VN-2000
    too, with a note, because read as WGS 84 it would land about 224 m off.
    """
    vn2000_shift = False
    if crs.is_bound:  # a PROJ string or WKT with +towgs84 / TOWGS84
        vn2000_shift = _has_vn2000_shift(crs)
        crs = crs.source_crs
    if crs.is_geographic:
        if _is_vn2000_datum(crs) or vn2000_shift:
            return CrsChoice(CRS.from_epsg(VN2000_GEOGRAPHIC), "prj")
        return None
    params = _tm_params(crs)
    if params is None:
        return None
    zone = _zone_for(params)
    if zone is None:
        return None
    notes: list[Message] = []
    if _is_vn2000_datum(crs) or vn2000_shift:
        if vn2000_shift or "TOWGS84" in (crs.to_wkt("WKT1_GDAL") or "").upper():
            notes.append((
                f"The .prj carries its own datum shift (TOWGS84); the official EPSG "
                f"parameters of {zone.name} are used instead.",
                f"Tệp .prj có tham số chuyển đổi riêng (TOWGS84); hệ thống dùng tham số chính "
                f"thức EPSG của {zone.name}."))
        return CrsChoice(CRS.from_epsg(zone.epsg), "prj", notes)
    if _is_wgs84_datum(crs) and zone.scale == 0.9999:
        notes.append((
            f"The .prj says datum WGS 84 but has the VN-2000 TM-3 parameters (central "
            f"meridian {zone.central_meridian}°, k 0.9999); it is read as {zone.name} "
            f"(EPSG:{zone.epsg}). Read as WGS 84 it would be about 224 m off. If the file "
            f"really is WGS 84, give --crs.",
            f"Tệp .prj ghi hệ WGS 84 nhưng có tham số VN-2000 múi 3° (kinh tuyến trục "
            f"{zone.central_meridian}°, k 0,9999); hệ thống đọc theo {zone.name} "
            f"(EPSG:{zone.epsg}). Nếu đọc theo WGS 84 sẽ lệch khoảng 224 m. Nếu tệp đúng là "
            f"WGS 84, hãy chọn hệ tọa độ."))
        return CrsChoice(CRS.from_epsg(zone.epsg), "prj", notes)
    return None


def crs_from_prj(wkt: str) -> CrsChoice:
    """The CRS of a .prj (ESRI or OGC WKT), with VN-2000 resolved to its EPSG code."""
    try:
        crs = CRS.from_user_input(wkt)
    except CRSError as exc:
        raise InputError(
            "The .prj file cannot be read as a coordinate system. Remove it and choose the "
            "CRS (e.g. VN-2000 TM-3 Hưng Yên, EPSG:9209), or replace it with the .prj "
            "exported by the survey software.",
            "Không đọc được tệp .prj. Hãy bỏ tệp này và chọn hệ tọa độ (ví dụ VN-2000 múi "
            "3° Hưng Yên, EPSG:9209), hoặc thay bằng tệp .prj xuất từ phần mềm đo đạc.") from exc
    resolved = resolve_vn2000(crs)
    if resolved:
        return resolved
    code = crs.to_epsg(min_confidence=70)
    return CrsChoice(CRS.from_epsg(code) if code else crs, "prj")


def _inside(bounds: tuple[float, float, float, float],
            box: tuple[float, float, float, float]) -> bool:
    return (bounds[0] >= box[0] and bounds[1] >= box[1]
            and bounds[2] <= box[2] and bounds[3] <= box[3])


def lonlat_bounds(bounds: tuple[float, float, float, float], crs: CRS
                  ) -> tuple[float, float, float, float]:
    """The lon/lat box of a box given in `crs` (densified edges)."""
    transformer = _transformer(crs.to_wkt())
    return transformer.transform_bounds(*bounds, densify_pts=11)


def infer_crs(bounds: tuple[float, float, float, float],
              region: tuple[float, float, float, float] = REGION_BBOX) -> CrsChoice:
    """Guess the CRS of coordinates with no .prj from their extent (minx, miny, maxx, maxy).

    Longitude/latitude inside Vietnam are read as WGS 84. Metres are tried in every
    VN-2000 zone (Hưng Yên's TM-3 first); the one that puts the data inside `region` wins.
    Ranges cannot tell some zones apart (TM-3 105-00 and UTM 48N differ by about 30 m):
    then, or when nothing fits, InputError asks for the CRS.
    """
    minx, miny, maxx, maxy = bounds
    if _inside(bounds, VIETNAM_BBOX):
        return CrsChoice(CRS.from_epsg(WGS84), "inferred", [(
            "The file has no .prj; its coordinates are longitude/latitude in Vietnam, so "
            "they are read as WGS 84 (GPS).",
            "Tệp không có .prj; tọa độ là kinh độ/vĩ độ trong lãnh thổ Việt Nam nên được đọc "
            "theo WGS 84 (GPS).")])
    if _inside((miny, minx, maxy, maxx), VIETNAM_BBOX):
        raise InputError(
            "The coordinates look like latitude/longitude in the wrong order (x is the "
            "latitude). Swap the columns, or export the file with longitude as x.",
            "Tọa độ có vẻ bị đảo thứ tự (x là vĩ độ). Hãy đổi chỗ hai cột hoặc xuất lại tệp "
            "với kinh độ là x.")
    if 100_000 <= minx and maxx <= 900_000 and 500_000 <= miny and maxy <= 2_700_000:
        fits = []
        for zone in sorted(vn2000_zones(), key=lambda z: z.epsg != HUNG_YEN_TM3):
            crs = CRS.from_epsg(zone.epsg)
            if _inside(lonlat_bounds(bounds, crs), region):
                fits.append(zone)
        if len(fits) == 1:
            zone = fits[0]
            return CrsChoice(CRS.from_epsg(zone.epsg), "inferred", [(
                f"The file has no .prj; its coordinates are metres that fall inside "
                f"{REGION_NAME['en']} only in {zone.name} (EPSG:{zone.epsg}), so they are "
                f"read in that system. Check the preview; give --crs if it is wrong.",
                f"Tệp không có .prj; tọa độ (mét) chỉ nằm trong {REGION_NAME['vi']} khi đọc "
                f"theo {zone.name} (EPSG:{zone.epsg}) nên được đọc theo hệ này. Hãy kiểm tra "
                f"bản xem trước; nếu sai, hãy chọn hệ tọa độ.")])
        if len(fits) > 1:
            names = ", ".join(f"EPSG:{z.epsg} ({z.name})" for z in fits)
            raise InputError(
                f"The file has no .prj and its coordinates fit {REGION_NAME['en']} in more "
                f"than one coordinate system: {names}. Choose the one the survey used.",
                f"Tệp không có .prj và tọa độ khớp {REGION_NAME['vi']} theo nhiều hệ: "
                f"{names}. Hãy chọn hệ tọa độ mà đơn vị đo đạc đã dùng.")
    if _inside((miny, minx, maxy, maxx), (100_000, 500_000, 900_000, 2_700_000)):
        raise InputError(
            "The coordinates look like metres with X and Y swapped (the 7-digit value is "
            "the northing and must be y). Swap the columns and import again.",
            "Tọa độ (mét) có vẻ bị đảo X và Y (giá trị 7 chữ số là tọa độ Bắc, phải là y). "
            "Hãy đổi chỗ hai cột rồi nhập lại.")
    raise InputError(
        f"The file has no .prj and its coordinates (x {minx:.6g}–{maxx:.6g}, y "
        f"{miny:.6g}–{maxy:.6g}) do not fall in {REGION_NAME['en']} in any VN-2000 zone "
        f"or as GPS longitude/latitude. Choose the coordinate system (e.g. EPSG:9209) or add "
        f"the .prj.",
        f"Tệp không có .prj và tọa độ (x {minx:.6g}–{maxx:.6g}, y {miny:.6g}–{maxy:.6g}) "
        f"không nằm trong {REGION_NAME['vi']} theo hệ VN-2000 nào, cũng không phải kinh "
        f"độ/vĩ độ GPS. Hãy chọn hệ tọa độ (ví dụ EPSG:9209) hoặc thêm tệp .prj.")


@cache
def _transformer(crs_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(crs_wkt), CRS.from_epsg(WGS84), always_xy=True)


def to_wgs84(crs: CRS) -> Callable[[np.ndarray], np.ndarray]:
    """A function mapping an (n, 2) array of coordinates in `crs` to lon/lat, for
    `shapely.transform`. PROJ picks the operation (EPSG:6960 for VN-2000)."""
    if crs.to_epsg(min_confidence=100) == WGS84:
        return lambda xy: xy
    transformer = _transformer(crs.to_wkt())

    def apply(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack((x, y))
    return apply


def transform_geometries(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """Shapely geometries in `crs` → EPSG:4326 lon/lat (2D), vectorised."""
    return shapely.transform(geoms, to_wgs84(crs))
