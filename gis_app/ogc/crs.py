"""The coordinate reference systems the OGC API serves and accepts (Part 2).

Each is one declaration: its URI, the PostGIS SRID and whether the URI's axis order is
latitude first (EPSG:4326 is lat/lon; CRS84 and the projected VN-2000 ones are
east/north). Geometry is stored as CRS84 (lon/lat, SRID 4326): that is the storage CRS
and the default of every response and every `bbox`.
"""
from __future__ import annotations

from dataclasses import dataclass

from gis_app.errors import InputError


@dataclass(frozen=True)
class ServedCrs:
    uri: str
    srid: int
    lat_first: bool  # the URI's first axis is latitude (northing)
    decimals: int  # output precision: 7 for degrees (~1 cm), 3 for metres (1 mm)
    title: dict[str, str]

    @property
    def geographic(self) -> bool:
        return self.srid == 4326


EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = ServedCrs("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, False, 7,
                  {"vi": "WGS 84 (kinh độ, vĩ độ)", "en": "WGS 84 (longitude, latitude)"})
SERVED: tuple[ServedCrs, ...] = (
    CRS84,
    ServedCrs(EPSG + "4326", 4326, True, 7,
              {"vi": "WGS 84 (vĩ độ, kinh độ)", "en": "WGS 84 (latitude, longitude)"}),
    ServedCrs(EPSG + "9209", 9209, False, 3,
              {"vi": "VN-2000 / TM-3 kinh tuyến trục 105°30′ (Hưng Yên)",
               "en": "VN-2000 / TM-3 105-30 (Hưng Yên)"}),
    ServedCrs(EPSG + "3405", 3405, False, 3,
              {"vi": "VN-2000 / UTM múi 48N", "en": "VN-2000 / UTM zone 48N"}),
)
BY_URI = {c.uri: c for c in SERVED}
# Short spellings clients send besides the URIs.
ALIASES = {"CRS84": CRS84, "OGC:CRS84": CRS84, "EPSG:4326": BY_URI[EPSG + "4326"],
           "EPSG:9209": BY_URI[EPSG + "9209"], "EPSG:3405": BY_URI[EPSG + "3405"],
           "[OGC:CRS84]": CRS84, "[EPSG:4326]": BY_URI[EPSG + "4326"],
           "[EPSG:9209]": BY_URI[EPSG + "9209"], "[EPSG:3405]": BY_URI[EPSG + "3405"]}


def read_crs(name: str, value: str | None) -> ServedCrs:
    """The served CRS a `crs`/`bbox-crs` value names (CRS84 when absent); InputError
    listing the supported URIs otherwise."""
    if value is None or value.strip() == "":
        return CRS84
    text = value.strip()
    found = BY_URI.get(text) or ALIASES.get(text) or ALIASES.get(text.upper())
    if found is None:
        known = ", ".join(c.uri for c in SERVED)
        raise InputError(f"{name} {text!r} is not served; use one of: {known}",
                         f"{name} {text!r} không được hỗ trợ; hãy dùng một trong: {known}")
    return found
