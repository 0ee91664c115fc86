"""Zone checks kept under a reference number (KTBV-2026-000123), their printable map,
repeating one on today's data, and checking a whole file of parcels at once.

The reference number is a counter, for print and for quoting; a report's link carries
its random `token` instead, so that nobody can walk through other people's reports.
`get_check` opens a check by token; `get_check_by_number` (for staff) by its number.

A stored check is what `services.zone_check.check_parcel` answered for the checker's
role on a date, with the data version it was computed on; it is never recomputed. A
check made with full access (officials: unpublished and sensitive relics included) is
marked so that pages show it to signed-in staff only.

The bulk check loads the parcels into a temporary table and answers them all in one
statement (no loop of single checks): 10,000 parcels take seconds.
"""
from __future__ import annotations

import logging
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_app import spreadsheets
from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError, RecordNotFound
from gis_app.geo import crs as crs_mod
from gis_app.importers.parcels import ParcelFile, read_parcel_file
from gis_app.models import ZoneCheckRecord
from gis_app.services.visibility import public_site
from gis_app.services.zone_check import FULL_ACCESS_ROLES, GEOD, MAX_AREA_M2, check_parcel
from layers.protection_zones import valid_on

log = logging.getLogger(__name__)

REFERENCE_PREFIX = "KTBV"  # Kiểm tra (khu vực) bảo vệ
REFERENCE_PATTERN = re.compile(rf"{REFERENCE_PREFIX}-\d{{4}}-\d{{6,}}", re.IGNORECASE)
TOKEN_PATTERN = re.compile(r"[0-9a-f]{32}")
MAP_MARGIN_M = 300  # the report map shows the zones this far around the parcel
BULK_LIMIT = 10_000
MAX_ERRORS_SHOWN = 10
# Added to every feature of a bulk file, in this order.
BULK_COLUMNS = ("zones", "relics", "max_overlap_pct", "nearest_relic", "nearest_relic_name",
                "distance_m", "check_date")


# --- stored checks -------------------------------------------------------------------

def create_check(db: Session, parcel: BaseGeometry, on_date: date | None, role: str | None,
                 actor_id: int | None, crs_text: str | None = None, *,
                 repeated_from: int | None = None) -> ZoneCheckRecord:
    """Check `parcel` (lon/lat, validated by `zone_check.read_geometry`) on `on_date`
    (default today) as `role` sees the data, and store the answer under a new reference.

    The caller commits. Example reference: KTBV-2026-000123 (year of the check, then a
    number unique across years).
    """
    on_date = on_date or today_in_vietnam()
    result = check_parcel(db, parcel, on_date, role)
    number = db.scalar(text("SELECT nextval('zone_checks_id_seq')"))
    record = ZoneCheckRecord(
        id=number, reference=f"{REFERENCE_PREFIX}-{today_in_vietnam().year}-{number:06d}",
        token=secrets.token_hex(16),
        actor_id=actor_id, on_date=on_date, crs=crs_text, role=role,
        full_access=role in FULL_ACCESS_ROLES,
        parcel=from_shape(parcel, srid=4326),
        result=result.as_dict(), data_version=result.data_version,
        repeated_from=repeated_from)
    db.add(record)
    db.flush()
    log.info("zone check %s stored (actor %s, role %s, %d hits)", record.reference, actor_id,
             role, len(result.hits))
    return record


def is_reference(value: str) -> bool:
    """Whether `value` is a readable number (KTBV-2026-000123) rather than a token."""
    return REFERENCE_PATTERN.fullmatch(value.strip()) is not None


def link_not_found() -> RecordNotFound:
    """The 404 of a report link that opens nothing (also the public's answer to a
    readable number, so that it tells nothing about which numbers exist)."""
    return RecordNotFound(
        "There is no zone check at this link; open the report with the full link it was "
        "given when it was made (it is printed on the report).",
        "Không có phiếu kiểm tra nào ở đường dẫn này; hãy mở phiếu bằng đúng đường dẫn đầy "
        "đủ được cấp khi lập phiếu (in trên phiếu).")


def get_check(db: Session, token: str) -> ZoneCheckRecord:
    """The stored check whose link carries `token`; RecordNotFound (404) otherwise."""
    record = None
    if TOKEN_PATTERN.fullmatch(token):
        record = db.scalar(select(ZoneCheckRecord).where(ZoneCheckRecord.token == token))
    if record is None:
        raise link_not_found()
    return record


def get_check_by_number(db: Session, reference: str) -> ZoneCheckRecord:
    """The stored check with this readable number (staff only: the caller enforces it);
    RecordNotFound (404) otherwise."""
    record = db.scalar(select(ZoneCheckRecord).where(
        ZoneCheckRecord.reference == reference.strip().upper()))
    if record is None:
        raise RecordNotFound(
            f"There is no zone check with the reference {reference}; check the number on the "
            f"printed report.",
            f"Không có phiếu kiểm tra nào mang số {reference}; hãy xem lại số trên phiếu đã in.")
    return record


def get_original(db: Session, record: ZoneCheckRecord) -> ZoneCheckRecord | None:
    return db.get(ZoneCheckRecord, record.repeated_from) if record.repeated_from else None


def repeat_check(db: Session, token: str, role: str | None,
                 actor_id: int | None) -> ZoneCheckRecord:
    """Check the parcel of the check at `token` again, today, on today's data; a new record
    linked to the old one (`repeated_from`).

    A repeat never sees more than the original did: an official repeating a public
    check gets the public view, so that what changed is a change of the data, not of
    access. (Who may repeat a full-access check is for the caller to enforce.)
    """
    original = get_check(db, token)
    if not original.full_access and role in FULL_ACCESS_ROLES:
        role = None
    parcel = to_shape(original.parcel)
    return create_check(db, parcel, today_in_vietnam(), role, actor_id, original.crs,
                        repeated_from=original.id)


def parcel_of(record: ZoneCheckRecord) -> BaseGeometry:
    return to_shape(record.parcel)


@dataclass
class Changes:
    """What a repeated check found differently from the original."""

    added: list[dict[str, Any]] = field(default_factory=list)  # hits new in the repeat
    removed: list[dict[str, Any]] = field(default_factory=list)  # hits no longer there
    changed: list[dict[str, Any]] = field(default_factory=list)  # hit, before_pct, after_pct
    data_changed: bool = False

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def compare_checks(before: dict[str, Any], after: dict[str, Any]) -> Changes:
    """Hits (relic, zone) added, removed, or whose overlap changed by ≥ 0.01 m²."""
    old = {(h["heritage_id"], h["zone"]): h for h in before.get("hits") or []}
    new = {(h["heritage_id"], h["zone"]): h for h in after.get("hits") or []}
    changes = Changes(data_changed=before.get("data_version") != after.get("data_version"))
    changes.added = [new[k] for k in new if k not in old]
    changes.removed = [old[k] for k in old if k not in new]
    for key in new.keys() & old.keys():
        if abs(new[key]["overlap_m2"] - old[key]["overlap_m2"]) >= 0.01:
            changes.changed.append({"hit": new[key], "before_m2": old[key]["overlap_m2"],
                                    "before_pct": old[key]["overlap_pct"]})
    return changes


# --- the report map ------------------------------------------------------------------

ZONE_STYLE = {"I": ("#c62828", 0.35), "II": ("#ef6c00", 0.25), "buffer": ("#f9a825", 0.15)}

MAP_SQL = text(f"""
    WITH p AS (SELECT ST_Transform(parcel, :srid) AS g, parcel FROM zone_checks WHERE id = :id),
    box AS (SELECT ST_Expand(ST_Envelope(g), :margin) AS b FROM p),
    look AS (SELECT ST_Transform(b, 4326) AS b4 FROM box)
    SELECT 'zone' AS kind, z.zone, s.heritage_id, s.name_vi,
           ST_AsSVG(ST_CollectionExtract(ST_Intersection(ST_Transform(z.geom, :srid), box.b), 3),
                    0, 1) AS svg
      FROM protection_zones z JOIN sites s ON s.id = z.site_id, box, look
     WHERE z.geom && look.b4
       AND {valid_on("z", ":on_date")}
       AND (:full OR {public_site('s')})
    UNION ALL
    SELECT 'relic', NULL, s.heritage_id, s.name_vi, ST_AsSVG(ST_Transform(s.geom, :srid), 0, 1)
      FROM sites s, box, look
     WHERE s.geom && look.b4 AND ST_Intersects(ST_Transform(s.geom, :srid), box.b)
       AND (:full OR {public_site('s')})
    UNION ALL
    SELECT 'parcel', NULL, NULL, NULL, ST_AsSVG(g, 0, 1) FROM p
    UNION ALL
    SELECT 'box', NULL, NULL, NULL,
           concat_ws(' ', ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)) FROM box
""")


def utm_srid(lon: float, lat: float) -> int:
    """The WGS 84 / UTM zone holding lon/lat (32648 for Hưng Yên): metres on the map."""
    zone = min(max(int((lon + 180) // 6) + 1, 1), 60)
    return (32600 if lat >= 0 else 32700) + zone


def _nice_length(span: float) -> int:
    """A round scale-bar length, about a quarter of `span` metres."""
    target = span / 4
    steps = [1, 2, 5]
    power = 10 ** math.floor(math.log10(max(target, 1)))
    return int(max(s * power for s in steps if s * power <= target) if target >= 1 else 1)


def _escape(value: str | None) -> str:
    return (value or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def report_svg(db: Session, record: ZoneCheckRecord) -> str:
    """An inline SVG map of the parcel and the zones within 300 m, in metres (UTM), with
    a scale bar and a north arrow. It draws what the record's access allowed and loads
    nothing from elsewhere. SVG y runs down, so ST_AsSVG negates northings."""
    centre = parcel_of(record).centroid
    srid = utm_srid(centre.x, centre.y)
    rows = db.execute(MAP_SQL, {"id": record.id, "srid": srid, "margin": MAP_MARGIN_M,
                                "on_date": record.on_date,
                                "full": bool(record.full_access)}).all()
    x0, y0, x1, y1 = (float(v) for v in next(r.svg for r in rows if r.kind == "box").split())
    width, height = x1 - x0, y1 - y0
    unit = max(width, height) / 200  # stroke and text sizes scale with the map
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" class="report-map" role="img" '
        f'viewBox="{x0:.1f} {-y1:.1f} {width:.1f} {height:.1f}" '
        f'width="640" height="{640 * height / width:.0f}" '
        f'font-family="Noto Sans, DejaVu Sans, sans-serif">'),
        (f'<rect x="{x0:.1f}" y="{-y1:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="#fafaf7" stroke="#999" stroke-width="{unit / 2:.2f}"/>'),
    ]
    order = {"buffer": 0, "II": 1, "I": 2}
    zones = sorted((r for r in rows if r.kind == "zone" and r.svg),
                   key=lambda r: order.get(r.zone, 0))
    for row in zones:
        colour, opacity = ZONE_STYLE.get(row.zone, ("#777", 0.2))
        parts.append(f'<path d="{row.svg}" fill="{colour}" fill-opacity="{opacity}" '
                     f'stroke="{colour}" stroke-width="{unit / 2:.2f}" fill-rule="evenodd">'
                     f'<title>{_escape(row.name_vi)} – {row.zone}</title></path>')
    parcel_svg = next(r.svg for r in rows if r.kind == "parcel")
    if parcel_svg.startswith("cx="):  # a point, or several separated by commas
        parts.extend(f'<circle {point} r="{unit * 2.5:.1f}" fill="#1565c0" stroke="#fff" '
                     f'stroke-width="{unit / 2:.2f}"/>' for point in parcel_svg.split(","))
    elif parcel_svg.startswith("M") and " Z" not in parcel_svg and "z" not in parcel_svg:
        parts.append(f'<path d="{parcel_svg}" fill="none" stroke="#1565c0" '
                     f'stroke-width="{unit * 1.2:.2f}"/>')
    else:
        parts.append(f'<path d="{parcel_svg}" fill="#1565c0" fill-opacity="0.25" '
                     f'stroke="#1565c0" stroke-width="{unit:.2f}" fill-rule="evenodd"/>')
    for row in rows:
        if row.kind == "relic" and row.svg:
            cx, cy = (float(v.split('"')[1]) for v in row.svg.split(" "))
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{unit * 1.5:.1f}" '
                         f'fill="#6d1b1b" stroke="#fff" stroke-width="{unit / 3:.2f}"/>'
                         f'<text x="{cx + unit * 2.5:.1f}" y="{cy + unit:.1f}" '
                         f'font-size="{unit * 4:.1f}" fill="#3e2723">'
                         f'{_escape(row.name_vi)}</text>')
    # Scale bar, bottom left.
    length = _nice_length(width)
    sx, sy = x0 + unit * 6, -y0 - unit * 8
    parts.append(f'<g class="scale-bar"><rect x="{sx:.1f}" y="{sy:.1f}" width="{length}" '
                 f'height="{unit * 1.5:.1f}" fill="#222"/>'
                 f'<text x="{sx:.1f}" y="{sy - unit:.1f}" font-size="{unit * 4:.1f}">'
                 f'{length} m</text></g>')
    # North arrow, top right (UTM grid north: within a degree of true north here).
    nx, ny = x1 - unit * 10, -y1 + unit * 6
    parts.append(f'<g class="north-arrow"><path d="M {nx:.1f} {ny:.1f} L {nx + unit * 3:.1f} '
                 f'{ny + unit * 10:.1f} L {nx:.1f} {ny + unit * 7.5:.1f} L {nx - unit * 3:.1f} '
                 f'{ny + unit * 10:.1f} Z" fill="#222"/>'
                 f'<text x="{nx:.1f}" y="{ny + unit * 15:.1f}" font-size="{unit * 5:.1f}" '
                 f'text-anchor="middle">N</text></g>')
    parts.append("</svg>")
    return "".join(parts)


# --- bulk check ----------------------------------------------------------------------

@dataclass
class BulkResult:
    checked: int
    zone_i: int  # parcels touching a zone I
    zone_ii: int  # parcels touching a zone II
    none: int  # parcels touching no zone
    on_date: str
    crs: str
    files: dict[str, Path]  # "csv", "gpkg" -> written file

    def summary(self) -> dict[str, Any]:
        return {"checked": self.checked, "zone_i": self.zone_i, "zone_ii": self.zone_ii,
                "none": self.none, "on_date": self.on_date, "crs": self.crs}


BULK_SQL = text(f"""
    WITH z AS (
      SELECT z.geom, z.zone, s.heritage_id
        FROM protection_zones z JOIN sites s ON s.id = z.site_id
       WHERE {valid_on("z", ":on_date")}
         AND (:full OR {public_site('s')})
    ),
    hits AS (
      SELECT p.n, z.zone, z.heritage_id,
             CASE WHEN p.area > 0
                  THEN 100 * ST_Area(ST_Intersection(z.geom, p.g)::geography) / p.area
                  ELSE 0 END AS pct
        FROM bulk_parcels p JOIN z ON ST_Intersects(z.geom, p.g)
    ),
    agg AS (
      SELECT n,
             concat_ws(';', CASE WHEN bool_or(zone = 'I') THEN 'I' END,
                            CASE WHEN bool_or(zone = 'II') THEN 'II' END,
                            CASE WHEN bool_or(zone = 'buffer') THEN 'buffer' END) AS zones,
             string_agg(DISTINCT heritage_id, ';' ORDER BY heritage_id) AS relics,
             round(max(pct)::numeric, 2)::float8 AS max_pct
        FROM hits GROUP BY n
    )
    SELECT p.n, coalesce(agg.zones, '') AS zones, coalesce(agg.relics, '') AS relics,
           coalesce(agg.max_pct, 0) AS max_pct, near.heritage_id AS nearest,
           near.name_vi AS nearest_name, round(near.d::numeric, 1)::float8 AS distance
      FROM bulk_parcels p
      LEFT JOIN agg ON agg.n = p.n
      LEFT JOIN LATERAL (
        SELECT s.heritage_id, s.name_vi, ST_Distance(s.geom::geography, p.g::geography) AS d
          FROM sites s
         WHERE :full OR {public_site('s')}
         ORDER BY s.geom <-> p.g LIMIT 1) near ON true
     ORDER BY p.n
""")


def bulk_check(db: Session, path: Path, role: str | None, *, on_date: date | None = None,
               crs_text: str | None = None, out_dir: Path | None = None) -> BulkResult:
    """Check every feature of a survey file (shapefile zip, GeoPackage, GeoJSON, KML,
    CSV with lon/lat or x/y columns) and write the features back with the columns
    `BULK_COLUMNS` added, as `zone_check.csv` and `zone_check.gpkg` in `out_dir`.

    The CRS is decided as for imports (given, else the .prj, else inferred from the
    coordinates), and so is the text encoding of a DBF or CSV (.cpg, else detected).
    Raises InputError / ImportFailed, writing nothing, for a file with more than 10,000
    features or any feature that cannot be checked (listing the rows).
    """
    on_date = on_date or today_in_vietnam()
    out_dir = out_dir or path.parent
    parcels = read_parcel_file(path, max_parcels=BULK_LIMIT, crs_text=crs_text,
                               advice=("Split it into several files.",
                                       "Hãy chia thành nhiều tệp."))
    lonlat = _validate_parcels(parcels)
    _load_parcels(db, lonlat)
    # JIT compiling this statement costs more (~0.9 s) than it saves on 10,000 parcels.
    db.execute(text("SET LOCAL jit = off"))
    rows = db.execute(BULK_SQL, {"on_date": on_date,
                                 "full": role in FULL_ACCESS_ROLES}).all()
    db.execute(text("DROP TABLE bulk_parcels"))
    added = {
        "zones": [r.zones for r in rows], "relics": [r.relics for r in rows],
        "max_overlap_pct": [r.max_pct for r in rows],
        "nearest_relic": [r.nearest or "" for r in rows],
        "nearest_relic_name": [r.nearest_name or "" for r in rows],
        "distance_m": [r.distance for r in rows],
        "check_date": [on_date.isoformat()] * len(rows)}
    files = _write_outputs(out_dir, parcels, added, lonlat)
    zone_sets = [set(r.zones.split(";")) if r.zones else set() for r in rows]
    result = BulkResult(checked=len(rows), zone_i=sum("I" in s for s in zone_sets),
                        zone_ii=sum("II" in s for s in zone_sets),
                        none=sum(not s for s in zone_sets), on_date=on_date.isoformat(),
                        crs=parcels.crs.label, files=files)
    log.info("bulk zone check of %s: %s", path.name, result.summary())
    return result


def _validate_parcels(parcels: ParcelFile) -> np.ndarray:
    """The parcels in lon/lat; InputError naming the rows (1-based) that cannot be checked."""
    problems: list[tuple[int, str, str]] = []
    present = parcels.present()
    for index in np.flatnonzero(~present):
        problems.append((int(index) + 1, "no geometry or coordinates",
                         "không có hình học hoặc tọa độ"))
    out = parcels.to_lonlat()
    choice = parcels.crs
    vx0, vy0, vx1, vy1 = crs_mod.VIETNAM_BBOX
    for index in np.flatnonzero(present):
        shape, row = out[index], int(index) + 1
        if not shapely.is_valid(shape):
            reason = shapely.is_valid_reason(shape)
            problems.append((row, f"invalid shape ({reason})",
                             f"hình không hợp lệ ({reason})"))
            continue
        minx, miny, maxx, maxy = shape.bounds
        if not all(map(math.isfinite, (minx, miny, maxx, maxy))) or minx < vx0 \
                or miny < vy0 or maxx > vx1 or maxy > vy1:
            problems.append((row, f"outside Vietnam in {choice.label}",
                             f"nằm ngoài lãnh thổ Việt Nam theo hệ {choice.label}"))
            continue
        if abs(GEOD.geometry_area_perimeter(shape)[0]) > MAX_AREA_M2:
            problems.append((row, "larger than 50 km²", "rộng hơn 50 km²"))
    if problems:
        problems.sort()
        shown = problems[:MAX_ERRORS_SHOWN]
        more = len(problems) - len(shown)
        en = "; ".join(f"row {r}: {e}" for r, e, _ in shown)
        vi = "; ".join(f"dòng {r}: {v}" for r, _, v in shown)
        raise InputError(
            f"{len(problems)} parcel(s) cannot be checked, so nothing was checked: {en}"
            + (f"; and {more} more" if more else "")
            + ". Correct these rows (or remove them) and upload the file again.",
            f"Có {len(problems)} thửa không kiểm tra được nên chưa kiểm tra thửa nào: {vi}"
            + (f"; và {more} thửa khác" if more else "")
            + ". Hãy sửa (hoặc bỏ) các dòng này rồi tải tệp lên lại.")
    return out


def _load_parcels(db: Session, lonlat: np.ndarray) -> None:
    """Copy the parcels into a temporary table `bulk_parcels` (n, g, area) with an index."""
    db.execute(text("""CREATE TEMP TABLE bulk_parcels (n integer PRIMARY KEY,
                       g geometry(Geometry, 4326) NOT NULL, area float8) ON COMMIT DROP"""))
    hexes = shapely.to_wkb(shapely.set_srid(lonlat.astype(object), 4326), hex=True,
                           include_srid=True)
    raw = db.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy("COPY bulk_parcels (n, g) FROM STDIN") as copy:
        for number, value in enumerate(hexes, start=1):
            copy.write_row((number, value))
    db.execute(text("UPDATE bulk_parcels SET area = ST_Area(g::geography)"))
    db.execute(text("CREATE INDEX ON bulk_parcels USING gist (g)"))
    db.execute(text("ANALYZE bulk_parcels"))


def _write_outputs(out_dir: Path, parcels: ParcelFile, added: dict[str, list[Any]],
                   lonlat: np.ndarray) -> dict[str, Path]:
    """The features with the added columns as CSV (UTF-8 with BOM, for Excel; WKT
    geometry unless the input was a lon/lat CSV) and GeoPackage (EPSG:4326)."""
    columns: dict[str, list[Any]] = {}
    for name, values in parcels.attrs.items():
        columns[name if name not in added else f"{name}_source"] = [
            v.isoformat() if hasattr(v, "isoformat") else v for v in values]
    columns.update(added)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = gpd.GeoDataFrame(columns, geometry=list(lonlat), crs="EPSG:4326")
    gpkg = out_dir / "zone_check.gpkg"
    frame.to_file(gpkg, driver="GPKG", layer="zone_check", engine="pyogrio")
    csv_path = out_dir / "zone_check.csv"
    header = list(columns)
    with_wkt = parcels.coordinate_columns is None
    if with_wkt:
        header.append("wkt")
        wkts = shapely.to_wkt(lonlat.astype(object), rounding_precision=8)
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = spreadsheets.SafeWriter(handle)
        writer.writerow(header)
        for index in range(len(lonlat)):
            row = [columns[name][index] for name in columns]
            if with_wkt:
                row.append(wkts[index])
            writer.writerow(["" if v is None else v for v in row])
    return {"csv": csv_path, "gpkg": gpkg}

