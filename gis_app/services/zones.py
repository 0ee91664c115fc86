"""A relic's protection zones as chains of dated versions.

A zone of a relic (I, II or buffer) is a chain of `protection_zones` rows: each version
has its boundary, its decision (number, date) and the dates it is in force, `valid_from`
to `valid_to` (inclusive; NULL is open). Saving a new boundary or a new decision closes
the current version (valid_to = the new valid_from - 1 day) and inserts the new one;
nothing is overwritten, so a check "as of" a past date still finds the boundary of that
date (`layers.protection_zones.valid_on`). One open version per relic and zone is
enforced by the database (migration 0013). The survey import versions zones the same
way (importers/targets.py).

District reviewers and administrators save versions directly (`save_version`); a
commune editor's version goes through `services.zone_proposals` (saved at once on a
draft relic, proposed for review on a published one), which shares the checks
(`_prepare`) and the write (`_write`).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.clock import VIETNAM_TIME, today_in_vietnam
from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.geo import crs as crs_mod
from gis_app.importers.parcels import read_parcel_file
from gis_app.numbers import both
from gis_app.services.audit import set_actor
from gis_app.services.features import FULL_ACCESS_ROLES
from gis_app.services.zone_check import GEOD, MAX_AREA_M2
from layers.protection_zones import valid_on

log = logging.getLogger(__name__)

ZONE_KINDS = tuple(vocab.VOCAB["zone"])  # I, II, buffer
ACCURACIES = tuple(vocab.VOCAB["accuracy"])
MIN_AREA_M2 = 1.0
# Zone I may leave zone II by this much (m²) before a warning: snapped or transformed
# boundaries differ by floating-point slivers.
OUTSIDE_TOLERANCE_M2 = 1.0
MAX_TEXT = 200

Message = tuple[str, str]  # (en, vi)


def _message(en: str, vi: str) -> Message:
    return en, vi


class Actor(Protocol):
    id: int
    role: str


@dataclass
class ZoneVersion:
    id: int
    zone: str
    valid_from: date | None
    valid_to: date | None
    decision_no: str | None
    decision_date: date | None
    accuracy: str | None
    source: str | None
    area_m2: float
    saved_at: Any = None  # when the version was written (its insert revision)
    saved_by: str | None = None
    geometry: dict[str, Any] | None = None  # GeoJSON, lon/lat (versions in force only)

    @property
    def label(self) -> tuple[str, str]:
        return vocab.VOCAB["zone"].get(self.zone, (self.zone, self.zone))


@dataclass
class RelicZones:
    heritage_id: str
    name_vi: str
    name_en: str | None
    status: str
    lon: float
    lat: float
    on_date: date
    current: list[ZoneVersion]  # the versions in force on `on_date`, by zone
    versions: list[ZoneVersion]  # every version, by zone then newest first

    def bounds(self) -> list[float] | None:
        shapes = [shapely.from_geojson(json.dumps(v.geometry)) for v in self.current
                  if v.geometry]
        if not shapes:
            return None
        return list(shapely.total_bounds(shapes))


@dataclass
class SavedVersion:
    id: int
    zone: str
    valid_from: date
    closed_id: int | None  # the version it ended, if any
    warnings: list[Message] = field(default_factory=list)


def _site(db: Session, heritage_id: str, *, lock: bool = False) -> dict[str, Any]:
    row = db.execute(text(
        "SELECT id, heritage_id, name_vi, name_en, status, ST_X(geom) AS lon, "
        "ST_Y(geom) AS lat FROM sites WHERE heritage_id = :h"
        + (" FOR UPDATE" if lock else "")), {"h": heritage_id}).mappings().first()
    if row is None:
        raise RecordNotFound(f"There is no relic with the identifier {heritage_id}.",
                             f"Không có di tích nào mang mã định danh {heritage_id}.")
    return dict(row)


VERSIONS_SQL = """
    SELECT z.id, z.zone, z.valid_from, z.valid_to, z.decision_no, z.decision_date,
           z.accuracy, z.source, round(ST_Area(z.geom::geography)::numeric, 1) AS area_m2,
           made.changed_at AS saved_at, u.username AS saved_by,
           CASE WHEN {in_force} THEN ST_AsGeoJSON(z.geom, 8) END AS geometry,
           {in_force} AS in_force
      FROM protection_zones z
      LEFT JOIN LATERAL (
        SELECT r.changed_at, r.actor_id FROM revisions r
         WHERE r.table_name = 'protection_zones' AND r.row_id = z.id::text
           AND r.action = 'insert' ORDER BY r.id DESC LIMIT 1) made ON true
      LEFT JOIN users u ON u.id = made.actor_id
     WHERE z.site_id = :site
     ORDER BY array_position(ARRAY['I', 'II', 'buffer']::text[], z.zone::text),
              z.valid_from DESC NULLS LAST, z.id DESC"""


def relic_zones(db: Session, heritage_id: str, on_date: date | None = None) -> RelicZones:
    """The relic's zones in force on `on_date` (default today in Vietnam), with their
    boundaries as GeoJSON, and every version of each zone. For officials with full
    access (the caller checks); RecordNotFound for an unknown relic."""
    on_date = on_date or today_in_vietnam()
    site = _site(db, heritage_id)
    rows = db.execute(text(VERSIONS_SQL.format(in_force=valid_on("z", ":on"))),
                      {"site": site["id"], "on": on_date}).mappings().all()
    versions, current = [], []
    for row in rows:
        version = ZoneVersion(
            id=row["id"], zone=row["zone"], valid_from=row["valid_from"],
            valid_to=row["valid_to"], decision_no=row["decision_no"],
            decision_date=row["decision_date"], accuracy=row["accuracy"],
            source=row["source"], area_m2=float(row["area_m2"] or 0),
            saved_at=row["saved_at"].astimezone(VIETNAM_TIME) if row["saved_at"] else None,
            saved_by=row["saved_by"],
            geometry=json.loads(row["geometry"]) if row["geometry"] else None)
        versions.append(version)
        if row["in_force"]:
            current.append(version)
    return RelicZones(heritage_id=site["heritage_id"], name_vi=site["name_vi"],
                      name_en=site["name_en"], status=site["status"], lon=site["lon"],
                      lat=site["lat"], on_date=on_date, current=current, versions=versions)


# --- reading a boundary ----------------------------------------------------------------

def read_zone_geometry(value: str | dict[str, Any] | None) -> BaseGeometry:
    """A boundary sent by the page: a GeoJSON geometry or Feature (text or parsed), in
    lon/lat. InputError when it is missing or not GeoJSON; `check_zone_geometry` then
    validates it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError("Draw the zone on the map, or upload its file, before saving.",
                         "Hãy vẽ khu vực trên bản đồ, hoặc tải tệp của nó lên, rồi mới lưu.")
    try:
        payload = json.loads(value) if isinstance(value, str) else value
        if isinstance(payload, dict) and payload.get("type") == "Feature":
            payload = payload.get("geometry")
        shape = shapely.from_geojson(json.dumps(payload))
    except (ValueError, TypeError, RecursionError, shapely.errors.GEOSException) as exc:
        raise InputError("The boundary is not a GeoJSON polygon; draw it again.",
                         "Ranh giới không phải đa giác GeoJSON; hãy vẽ lại.") from exc
    if shape is None:
        raise InputError("Draw the zone on the map, or upload its file, before saving.",
                         "Hãy vẽ khu vực trên bản đồ, hoặc tải tệp của nó lên, rồi mới lưu.")
    return shape


@dataclass
class ZoneFile:
    geometry: BaseGeometry  # lon/lat
    crs: str  # how the file's coordinates were read, e.g. "EPSG:9209 (VN-2000 ...)"
    notes: list[Message]


def read_zone_file(path: Path) -> ZoneFile:
    """The one zone in an uploaded file (GeoJSON, KML, zipped shapefile, GeoPackage;
    VN-2000 or WGS 84, decided as for imports), in lon/lat. InputError / ImportFailed
    for a file with several features, none, or an undecidable CRS."""
    parcels = read_parcel_file(path, max_parcels=1, attributes=False,
                               advice=("Keep only the one zone to save (one polygon).",
                                       "Hãy chỉ giữ lại một khu vực cần lưu (một đa giác)."))
    present = parcels.present()
    if not present.any():
        raise InputError("The file has no polygon with coordinates.",
                         "Tệp không có đa giác nào có tọa độ.")
    shape = parcels.to_lonlat()[0]
    return ZoneFile(geometry=shape, crs=parcels.crs.label, notes=list(parcels.crs.notes))


def check_zone_geometry(shape: BaseGeometry) -> tuple[MultiPolygon, list[Message]]:
    """The boundary as a valid 2D MultiPolygon (exterior rings counter-clockwise), and
    warnings. A self-crossing shape is repaired (make_valid) with a warning; InputError
    for anything that is not an area, outside Vietnam, empty, smaller than 1 m² or larger
    than 50 km²."""
    warnings: list[Message] = []
    if shape is None or shape.is_empty:
        raise InputError("The boundary is empty; draw the zone again.",
                         "Ranh giới rỗng; hãy vẽ lại khu vực.")
    if shapely.has_z(shape):
        shape = shapely.force_2d(shape)
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(f"A zone is an area: draw a polygon (this is a {shape.geom_type}).",
                         f"Khu vực bảo vệ là một vùng: hãy vẽ đa giác (đây là "
                         f"{shape.geom_type}).")
    minx, miny, maxx, maxy = shape.bounds
    vx0, vy0, vx1, vy1 = crs_mod.VIETNAM_BBOX
    if minx < vx0 or miny < vy0 or maxx > vx1 or maxy > vy1:
        raise InputError("The zone lies outside Vietnam; check the coordinates and their "
                         "system (VN-2000 or WGS 84; longitude first in GeoJSON).",
                         "Khu vực nằm ngoài lãnh thổ Việt Nam; hãy kiểm tra tọa độ và hệ tọa "
                         "độ (VN-2000 hay WGS 84; GeoJSON ghi kinh độ trước).")
    if not shape.is_valid:
        reason = shapely.is_valid_reason(shape)
        repaired = shapely.make_valid(shape)
        parts = [p for p in shapely.get_parts(repaired) if p.geom_type in ("Polygon",
                                                                             "MultiPolygon")]
        shape = shapely.union_all(parts) if parts else Polygon()
        if shape.is_empty or shape.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(f"The boundary is invalid ({reason}) and cannot be repaired; "
                             f"draw it again without crossing edges.",
                             f"Ranh giới không hợp lệ ({reason}) và không sửa được; hãy vẽ "
                             f"lại, các cạnh không được cắt nhau.")
        warnings.append(_message(f"The boundary crossed itself ({reason}); it was repaired. Check "
                         f"the saved zone on the map.",
                         f"Ranh giới tự cắt nhau ({reason}); hệ thống đã sửa lại. Hãy kiểm "
                         f"tra khu vực đã lưu trên bản đồ."))
    area = abs(GEOD.geometry_area_perimeter(shape)[0])
    if area < MIN_AREA_M2:
        raise InputError("The zone has no area (less than 1 m²); draw at least three "
                         "corners apart.",
                         "Khu vực không có diện tích (nhỏ hơn 1 m²); hãy vẽ ít nhất ba đỉnh "
                         "cách xa nhau.")
    if area > MAX_AREA_M2:
        km2_en, km2_vi = both(area / 1e6, 1)
        raise InputError(f"The zone covers {km2_en} km²; a relic's zone is smaller than "
                         f"50 km². Check the coordinates and their system.",
                         f"Khu vực rộng {km2_vi} km²; khu vực bảo vệ di tích nhỏ hơn 50 km². "
                         f"Hãy kiểm tra tọa độ và hệ tọa độ.")
    shape = shapely.orient_polygons(shape)
    if shape.geom_type == "Polygon":
        shape = MultiPolygon([shape])
    return shape, warnings


# --- saving a version ------------------------------------------------------------------

def _day(value: date, lang: str) -> str:
    return value.strftime("%d/%m/%Y") if lang == "vi" else value.isoformat()


def _clean(value: str | None, label: Message) -> str | None:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise InputError(f"{label[0]} is too long (at most {MAX_TEXT} characters).",
                         f"{label[1]} quá dài (tối đa {MAX_TEXT} ký tự).")
    return value or None


def save_version(db: Session, actor: Actor, heritage_id: str, *, zone: str,
                 geometry: BaseGeometry, valid_from: date | None,
                 decision_no: str | None = None, decision_date: date | None = None,
                 accuracy: str = "digitised", source: str | None = None) -> SavedVersion:
    """Save a new version of the relic's `zone` (I, II, buffer), in force from
    `valid_from`: the version in force until then ends the day before. The caller
    commits.

    Raises PermissionDenied for anyone but a district reviewer or an administrator,
    RecordNotFound for an unknown relic, InputError (nothing written) for a retired or
    merged relic, a missing or bad field, a boundary `check_zone_geometry` refuses, a
    `valid_from` not after the latest version's, or a version identical to the current
    one. Warnings (e.g. zone I reaching outside zone II) are returned, not raised.
    A commune editor goes through `submit_version`.
    """
    if actor.role not in FULL_ACCESS_ROLES:
        raise PermissionDenied(
            "Only a district reviewer or an administrator may change protection zones.",
            "Chỉ cán bộ thẩm định cấp huyện hoặc quản trị viên được thay đổi khu vực bảo vệ.")
    new = _prepare(db, heritage_id, zone=zone, geometry=geometry, valid_from=valid_from,
                   decision_no=decision_no, decision_date=decision_date, accuracy=accuracy)
    return _write(db, actor, new, source)


@dataclass
class _NewVersion:
    """A validated new version, not written yet (`_prepare`)."""

    site: dict[str, Any]
    zone: str
    shape: MultiPolygon
    valid_from: date
    decision_no: str | None
    decision_date: date | None
    accuracy: str
    latest_id: int | None  # the zone's latest version, which the new one follows
    warnings: list[Message]


def _prepare(db: Session, heritage_id: str, *, zone: str, geometry: BaseGeometry,
             valid_from: date | None, decision_no: str | None, decision_date: date | None,
             accuracy: str) -> _NewVersion:
    """Validate a new version of a relic's zone (see `save_version`); the relic row is
    locked until the transaction ends. Raises RecordNotFound, InputError."""
    if zone not in ZONE_KINDS:
        raise InputError("Choose the zone: I, II or buffer.",
                         "Hãy chọn khu vực: I, II hoặc vùng đệm.")
    if accuracy not in ACCURACIES:
        raise InputError("Choose how accurate the boundary is.",
                         "Hãy chọn độ chính xác của ranh giới.")
    if valid_from is None:
        raise InputError("Give the date the zone is in force from.",
                         "Hãy nhập ngày khu vực bắt đầu có hiệu lực.")
    decision_no = _clean(decision_no, ("The decision number", "Số quyết định"))
    today = today_in_vietnam()
    if decision_date is not None and decision_date > today:
        raise InputError(f"The decision date {_day(decision_date, 'en')} is in the future; "
                         f"give the date the decision was signed.",
                         f"Ngày quyết định {_day(decision_date, 'vi')} nằm trong tương lai; "
                         f"hãy nhập ngày ký quyết định.")
    shape, warnings = check_zone_geometry(geometry)
    site = _site(db, heritage_id, lock=True)  # one save of a relic's zones at a time
    if site["status"] in ("retired", "merged"):
        raise InputError(f"{heritage_id} is no longer in the register ({site['status']}); "
                         f"its zones have ended and cannot change.",
                         f"{heritage_id} không còn trong danh mục; các khu vực bảo vệ của di "
                         f"tích đã hết hiệu lực và không thay đổi được.")
    zone_en, zone_vi = vocab.VOCAB["zone"][zone][1], vocab.VOCAB["zone"][zone][0]
    latest = db.execute(text("""
        SELECT id, valid_from, decision_no, decision_date, accuracy,
               ST_Equals(geom, ST_GeomFromWKB(:wkb, 4326)) AS same_shape
          FROM protection_zones WHERE site_id = :site AND zone = :zone
         ORDER BY valid_from DESC NULLS LAST, id DESC LIMIT 1"""),
        {"site": site["id"], "zone": zone, "wkb": shapely.to_wkb(shape)}).mappings().first()
    if latest is not None and latest["valid_from"] is not None \
            and valid_from <= latest["valid_from"]:
        after = latest["valid_from"] + timedelta(days=1)
        raise InputError(
            f"{zone_en} of {heritage_id} has a version in force from "
            f"{_day(latest['valid_from'], 'en')}; a new version must start after it (from "
            f"{_day(after, 'en')} on). Earlier boundaries stay as they were.",
            f"{zone_vi} của {heritage_id} đã có phiên bản hiệu lực từ "
            f"{_day(latest['valid_from'], 'vi')}; phiên bản mới phải bắt đầu sau ngày đó (từ "
            f"{_day(after, 'vi')}). Các ranh giới trước đó được giữ nguyên.")
    if latest is not None and latest["same_shape"] \
            and (latest["decision_no"], latest["decision_date"], latest["accuracy"]) \
            == (decision_no, decision_date, accuracy):
        raise InputError(
            "This is the same boundary and decision as the latest version; nothing was "
            "saved. Change the boundary or give the new decision.",
            "Ranh giới và quyết định giống hệt phiên bản mới nhất; chưa lưu gì. Hãy sửa ranh "
            "giới hoặc nhập quyết định mới.")
    if decision_date is not None and valid_from < decision_date:
        warnings.append(_message(
            f"The version is in force from {_day(valid_from, 'en')}, before its decision "
            f"({_day(decision_date, 'en')}); check the dates.",
            f"Phiên bản có hiệu lực từ {_day(valid_from, 'vi')}, trước ngày quyết định "
            f"({_day(decision_date, 'vi')}); hãy kiểm tra lại ngày."))
    return _NewVersion(site=site, zone=zone, shape=shape, valid_from=valid_from,
                       decision_no=decision_no, decision_date=decision_date,
                       accuracy=accuracy, latest_id=latest["id"] if latest else None,
                       warnings=warnings)


def _write(db: Session, actor: Actor, new: _NewVersion, source: str | None) -> SavedVersion:
    """Close the zone's current version and insert `new` under `actor` (a revision)."""
    site, zone, valid_from = new.site, new.zone, new.valid_from
    set_actor(db, actor.id)
    closed_id = db.scalar(text("""
        UPDATE protection_zones SET valid_to = :last
         WHERE site_id = :site AND zone = :zone
           AND (valid_to IS NULL OR valid_to >= :first)
        RETURNING id"""), {"site": site["id"], "zone": zone, "first": valid_from,
                           "last": valid_from - timedelta(days=1)})
    new_id = db.scalar(text("""
        INSERT INTO protection_zones (site_id, zone, geom, decision_no, decision_date,
                                      valid_from, source, accuracy)
        VALUES (:site, :zone, ST_GeomFromWKB(:wkb, 4326), :no, :on, :first, :source,
                :accuracy) RETURNING id"""),
        {"site": site["id"], "zone": zone, "wkb": shapely.to_wkb(new.shape),
         "no": new.decision_no, "on": new.decision_date, "first": valid_from,
         "accuracy": new.accuracy, "source": source or f"drawn by user #{actor.id}"})
    warnings = new.warnings + _containment_warnings(db, site["id"], valid_from)
    log.info("user %s saved %s zone %s version %s from %s (closed %s)", actor.id,
             site["heritage_id"], zone, new_id, valid_from, closed_id)
    return SavedVersion(id=new_id, zone=zone, valid_from=valid_from, closed_id=closed_id,
                        warnings=warnings)


def _containment_warnings(db: Session, site_id: int, on: date) -> list[Message]:
    """Zone II should contain zone I: a warning when, on `on`, zone I reaches outside it."""
    outside = db.scalar(text(f"""
        SELECT ST_Area(ST_Difference(i.geom, ii.geom)::geography)
          FROM protection_zones i JOIN protection_zones ii
            ON ii.site_id = i.site_id AND ii.zone = 'II'
         WHERE i.site_id = :site AND i.zone = 'I'
           AND {valid_on("i", ":on")} AND {valid_on("ii", ":on")}
         LIMIT 1"""), {"site": site_id, "on": on})
    if outside is None or outside <= OUTSIDE_TOLERANCE_M2:
        return []
    m2_en, m2_vi = both(outside, 0)
    return [_message(f"Zone I reaches {m2_en} m² outside zone II from {_day(on, 'en')}: zone II "
             f"should contain zone I. Check both boundaries.",
             f"Khu vực I vượt ra ngoài khu vực II {m2_vi} m² từ {_day(on, 'vi')}: khu vực II "
             f"phải bao trùm khu vực I. Hãy kiểm tra cả hai ranh giới.")]


def end_zones(db: Session, site_id: int, on: date) -> None:
    """End the zones of a relic that leaves the register on `on`: the versions in force
    end the day before and stay for checks as of earlier dates; versions that were to
    start on `on` or later never come into force and are removed (their revisions keep
    them)."""
    last = on - timedelta(days=1)
    db.execute(text("""
        DELETE FROM protection_zones WHERE site_id = :id AND valid_from > :last"""),
        {"id": site_id, "last": last})
    db.execute(text("""
        UPDATE protection_zones SET valid_to = :last
         WHERE site_id = :id AND (valid_to IS NULL OR valid_to > :last)"""),
        {"id": site_id, "last": last})


def geojson(shape: BaseGeometry) -> dict[str, Any]:
    return dict(mapping(shape))
