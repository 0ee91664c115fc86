"""Officials edit relics: every field of the relic criteria set and its position.

Who changes what, directly or through a proposal:

- a district reviewer or an administrator edits a relic directly: one UPDATE, recorded as
  a revision under them (`audit.set_actor`);
- a commune editor works on relics their scope covers TODAY (`services.scopes`, the one
  rule): a new relic is born a draft (invisible until a reviewer publishes it), and a
  draft is edited directly; a change to any other relic becomes a proposal
  (`change_proposals`) that the public never sees. A reviewer approves it (the changes
  are then applied under the reviewer) or sends it back with a comment; the author may
  withdraw it while it is pending.

Approval refuses when a field the proposal changes was changed on the record since it
was proposed (its value is no longer the "before" the author saw): the reviewer sends it
back and the author proposes again on the current record. Changes to other fields in the
meantime (a publication, another approved proposal on other fields) do not block it.

Values are validated here, once, with messages in Vietnamese and English: names and
texts (lengths), types and rank (the vocabularies of models.base), the ranking decision's
date, and the position, given as WGS 84 longitude/latitude (a dragged marker or typed),
as VN-2000 TM-3 Hưng Yên easting/northing (EPSG:9209, transformed by pyproj with the
official shift) or as one point in an uploaded GeoJSON/KML/zipped shapefile. It must lie
in Vietnam; outside the district's communes it is accepted with a warning. A relic's
communes follow from its position (`admin_units.assign_units`), never typed.
"""
from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import shapely
from pyproj import CRS
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.clock import VIETNAM_TIME, read_day, today_in_vietnam
from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.geo import crs as crs_mod
from gis_app.models.base import RANKS, RELIC_TYPES
from gis_app.services import scopes
from gis_app.services.admin_units import COMMUNE_LEVELS, assign_units
from gis_app.services.audit import set_actor
from gis_app.services.features import FULL_ACCESS_ROLES
from gis_app.services.identifiers import mint_identifier

log = logging.getLogger(__name__)

MAX_COMMENT = 2000
MAX_OTHER_NAMES = 20
COORD_DECIMALS = 7  # positions are kept to ~1 cm
MOVE_TOLERANCE = 5e-7  # degrees (~5 cm): a position that moved less is unchanged
ENDED = ("retired", "merged", "archived")


class Actor(Protocol):
    id: int
    role: str


@dataclass(frozen=True)
class Field:
    """One editable field of a relic: its form and change key, its column in `sites`
    (None: custodian, resolved to an organisation), its kind and its label (en, vi)."""

    name: str
    kind: str  # text, long_text, names, types, rank, date, flag, custodian
    label: tuple[str, str]
    max_len: int = 0
    required: bool = False

    @property
    def column(self) -> str | None:
        return None if self.kind == "custodian" else self.name

    def text(self, lang: str) -> str:
        return self.label[1] if lang == "vi" else self.label[0]


# The relic criteria set (../shared/domain/criteria.md, DESIGN.md "Relics"), in form order.
FIELDS: tuple[Field, ...] = (
    Field("name_vi", "text", ("Name (Vietnamese)", "Tên (tiếng Việt)"), 300, required=True),
    Field("name_en", "text", ("Name (English)", "Tên (tiếng Anh)"), 300),
    Field("other_names", "names", ("Other names", "Tên gọi khác"), 300),
    Field("types", "types", ("Types", "Loại hình")),
    Field("rank", "rank", ("Rank", "Cấp xếp hạng")),
    Field("ranking_decision_no", "text", ("Ranking decision (number)",
                                          "Quyết định xếp hạng (số)"), 100),
    Field("ranking_decision_date", "date", ("Ranking decision (date)",
                                            "Quyết định xếp hạng (ngày)")),
    Field("period", "text", ("Period", "Niên đại"), 300),
    Field("materials", "text", ("Materials", "Chất liệu"), 500),
    Field("description_vi", "long_text", ("Description (Vietnamese)", "Mô tả (tiếng Việt)"),
          20000),
    Field("description_en", "long_text", ("Description (English)", "Mô tả (tiếng Anh)"),
          20000),
    Field("opening_hours_vi", "text", ("Opening hours (Vietnamese)",
                                       "Giờ mở cửa (tiếng Việt)"), 500),
    Field("opening_hours_en", "text", ("Opening hours (English)", "Giờ mở cửa (tiếng Anh)"),
          500),
    Field("custodian", "custodian", ("Custodian", "Đơn vị quản lý"), 300),
    Field("licence", "text", ("Licence", "Giấy phép sử dụng"), 200),
    Field("sensitive", "flag", ("Sensitive (kept from the public)",
                                "Nhạy cảm (không công khai)")),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
POSITION_LABEL = ("Position", "Vị trí")
POSITION_MODES = ("wgs84", "vn2000", "file")


@dataclass(frozen=True)
class Position:
    """A relic's position in WGS 84 (EPSG:4326) degrees."""

    lon: float
    lat: float

    def rounded(self) -> list[float]:
        return [round(self.lon, COORD_DECIMALS), round(self.lat, COORD_DECIMALS)]


@dataclass(frozen=True)
class PositionInput:
    """The position as the user gave it: `mode` wgs84 (x = longitude, y = latitude, as
    typed or set by dragging the marker), vn2000 (x = easting E, y = northing N in metres,
    EPSG:9209) or file (`path` to an uploaded file holding one point)."""

    mode: str = "wgs84"
    x: str = ""
    y: str = ""
    path: Path | None = None


@dataclass
class Outcome:
    """What a save did: `applied` (the record changed), `proposed` (a proposal waits for
    review) or `created` (a new draft); the changed fields and warnings (en, vi)."""

    kind: str
    heritage_id: str
    fields: list[str] = field(default_factory=list)
    proposal_id: int | None = None
    warnings: list[tuple[str, str]] = field(default_factory=list)


# --- reading a relic --------------------------------------------------------------------

def _site(db: Session, heritage_id: str, *, lock: bool = False) -> dict[str, Any]:
    row = db.execute(text(
        "SELECT s.id, s.heritage_id, s.status, s.name_vi, s.name_en, s.other_names, s.types,"
        " s.rank, s.ranking_decision_no, s.ranking_decision_date, s.period, s.materials,"
        " s.description_vi, s.description_en, s.opening_hours_vi, s.opening_hours_en,"
        " s.licence, s.sensitive, o.name AS custodian, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,"
        " u.name AS unit_name"
        " FROM sites s LEFT JOIN organisations o ON o.id = s.custodian_org_id"
        " LEFT JOIN admin_units u ON u.id = s.admin_unit_id"
        " WHERE s.heritage_id = :h" + (" FOR UPDATE OF s" if lock else "")),
        {"h": heritage_id}).mappings().first()
    if row is None:
        raise RecordNotFound(f"No relic has the identifier {heritage_id}.",
                             f"Không có di tích nào mang mã định danh {heritage_id}.")
    return dict(row)


def _normal(f: Field, value: Any) -> Any:
    """A stored value in the form the changes are compared and kept in (JSON-friendly)."""
    if f.kind in ("names", "types"):
        return list(value or [])
    if f.kind == "flag":
        return bool(value)
    if f.kind == "date":
        return value.isoformat() if isinstance(value, date) else (value or None)
    return value if value not in ("", None) else None


def current_values(site: Mapping[str, Any]) -> dict[str, Any]:
    """The editable values of a relic row (from `relic`), normalised, with `position`."""
    values = {f.name: _normal(f, site[f.name]) for f in FIELDS}
    values["position"] = Position(site["lon"], site["lat"]).rounded()
    return values


def relic(db: Session, heritage_id: str) -> dict[str, Any]:
    """A relic for its edit form: id, heritage_id, status, unit_name, `values` (see
    `current_values`) and its position in VN-2000 TM-3 (`vn2000`: [E, N] metres)."""
    site = _site(db, heritage_id)
    return {"id": site["id"], "heritage_id": site["heritage_id"], "status": site["status"],
            "unit_name": site["unit_name"], "values": current_values(site),
            "vn2000": to_vn2000(Position(site["lon"], site["lat"]))}


def custodians(db: Session) -> list[str]:
    """Names of the organisations already recorded (suggestions for the custodian)."""
    return list(db.scalars(text("SELECT DISTINCT name FROM organisations ORDER BY name")))


# --- who may edit -------------------------------------------------------------------------

def may_edit(db: Session, user: Any | None, site_id: int) -> bool:
    """May `user` edit (or propose changes to) relic `site_id`? District reviewers and
    admins: any relic; a commune editor: a relic their scope covers today."""
    role = getattr(user, "role", None)
    if role in FULL_ACCESS_ROLES:
        return True
    if role != "commune_editor":
        return False
    covered = scopes.covers_site_on("CAST(:site AS integer)", "CAST(:today AS date)")
    return bool(db.scalar(text(f"SELECT {covered}"),
                          {"site": site_id, "today": today_in_vietnam(), **scopes.bind(user)}))


def _refuse_edit(heritage_id: str) -> PermissionDenied:
    return PermissionDenied(
        f"Relic {heritage_id} is not in a commune of your account: you may not change it.",
        f"Di tích {heritage_id} không thuộc xã của tài khoản bạn: bạn không được sửa.")


def _is_reviewer(user: Any) -> bool:
    return getattr(user, "role", None) in FULL_ACCESS_ROLES


def _check_official(user: Any | None) -> None:
    if getattr(user, "role", None) not in (*FULL_ACCESS_ROLES, "commune_editor"):
        raise PermissionDenied("Only officials may edit relics.",
                               "Chỉ cán bộ được sửa di tích.")


# --- validation -------------------------------------------------------------------------

def _clean_text(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").strip()
    return cleaned or None


def _too_long(f: Field, limit: int) -> InputError:
    return InputError(f"{f.label[0]}: at most {limit} characters.",
                      f"{f.label[1]}: tối đa {limit} ký tự.")


def _read_date(f: Field, value: Any) -> str | None:
    raw = _clean_text(value)
    if raw is None:
        return None
    day = read_day(raw, f.label)
    if day.year < 1900 or day > today_in_vietnam():
        raise InputError(f"{f.label[0]}: {day:%d/%m/%Y} is not possible (between 1900 and "
                         f"today).",
                         f"{f.label[1]}: ngày {day:%d/%m/%Y} không hợp lệ (từ năm 1900 đến "
                         f"hôm nay).")
    return day.isoformat()


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [line for line in value.splitlines()]
    return [str(v) for v in value]


def validate_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The relic's fields from what the user typed (strings; lists for `types`, one name a
    line or a list for `other_names`, anything truthy for `sensitive`), normalised like
    `current_values`. Raises InputError naming the field and what to do."""
    out: dict[str, Any] = {}
    for f in FIELDS:
        value = raw.get(f.name)
        if f.kind in ("text", "long_text", "custodian"):
            cleaned = _clean_text(value)
            if cleaned is not None and len(cleaned) > f.max_len:
                raise _too_long(f, f.max_len)
            if f.required and cleaned is None:
                raise InputError(f"{f.label[0]} is required.", f"Cần nhập {f.label[1]}.")
            out[f.name] = cleaned
        elif f.kind == "names":
            names = list(dict.fromkeys(n for n in (_clean_text(v) for v in _as_list(value))
                                       if n))
            if len(names) > MAX_OTHER_NAMES:
                raise InputError(f"{f.label[0]}: at most {MAX_OTHER_NAMES} names.",
                                 f"{f.label[1]}: tối đa {MAX_OTHER_NAMES} tên.")
            if any(len(n) > f.max_len for n in names):
                raise _too_long(f, f.max_len)
            out[f.name] = names
        elif f.kind == "types":
            chosen = list(dict.fromkeys(v.strip() for v in _as_list(value) if v.strip()))
            unknown = [c for c in chosen if c not in RELIC_TYPES]
            if unknown:
                raise InputError(f"{unknown[0]!r} is not a type of relic; choose among "
                                 f"{', '.join(RELIC_TYPES)}.",
                                 f"{unknown[0]!r} không phải loại hình di tích; hãy chọn trong "
                                 f"{', '.join(vocab.labels('relic_type', 'vi').values())}.")
            if not chosen:
                raise InputError("Choose at least one type of relic.",
                                 "Hãy chọn ít nhất một loại hình di tích.")
            out[f.name] = [t for t in RELIC_TYPES if t in chosen]
        elif f.kind == "rank":
            rank = _clean_text(value)
            if rank is not None and rank not in RANKS:
                raise InputError(f"{rank!r} is not a rank; choose among {', '.join(RANKS)} "
                                 f"or leave it empty (ranked, level not verified).",
                                 f"{rank!r} không phải cấp xếp hạng; hãy chọn trong danh sách "
                                 f"hoặc để trống (đã xếp hạng, chưa xác minh cấp).")
            out[f.name] = rank
        elif f.kind == "date":
            out[f.name] = _read_date(f, value)
        elif f.kind == "flag":
            out[f.name] = value not in (None, "", False, "0", "false", "off")
    return out


NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def _number(value: str, what: tuple[str, str]) -> float:
    raw = (value or "").strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        raise InputError(f"Enter the {what[0]}.", f"Hãy nhập {what[1]}.")
    if not NUMBER.match(raw):
        raise InputError(f"The {what[0]} {value.strip()!r} is not a number.",
                         f"{what[1].capitalize()} {value.strip()!r} không phải là số.")
    number = float(raw.replace(",", "."))
    if not math.isfinite(number):
        raise InputError(f"The {what[0]} is not a number.",
                         f"{what[1].capitalize()} không phải là số.")
    return number


def to_vn2000(position: Position) -> list[float]:
    """[E, N] in metres of a WGS 84 position in VN-2000 TM-3 Hưng Yên (EPSG:9209)."""
    from pyproj import Transformer

    transformer = Transformer.from_crs(crs_mod.WGS84, crs_mod.HUNG_YEN_TM3, always_xy=True)
    east, north = transformer.transform(position.lon, position.lat)
    return [round(east, 2), round(north, 2)]


def _from_vn2000(east: float, north: float) -> Position:
    xy = np.array([[east, north]])
    lonlat = crs_mod.to_wgs84(CRS.from_epsg(crs_mod.HUNG_YEN_TM3))(xy)
    return Position(float(lonlat[0, 0]), float(lonlat[0, 1]))


def _from_file(path: Path) -> tuple[Position, list[tuple[str, str]]]:
    from gis_app.importers.parcels import read_parcel_file

    points = read_parcel_file(path, max_parcels=1, attributes=False, advice=(
        "Give a file with the relic's one point.", "Hãy gửi tệp chỉ có một điểm của di tích."))
    present = points.present()
    if len(points) == 0 or not present.any():
        raise InputError("The file holds no point with coordinates.",
                         "Tệp không có điểm nào có tọa độ.")
    geom = points.to_lonlat()[0]
    notes: list[tuple[str, str]] = []
    if geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    if geom.geom_type != "Point":
        geom = shapely.point_on_surface(geom)
        notes.append(("The file holds a shape, not a point: a point inside it is used.",
                      ("Tệp chứa một hình, không phải một điểm: hệ thống dùng một điểm nằm "
                      "trong hình đó.")))
    return Position(float(geom.x), float(geom.y)), notes


def read_position(spec: PositionInput) -> tuple[Position, list[tuple[str, str]]]:
    """The position the user gave, in WGS 84, and notes (en, vi). Raises InputError when
    it cannot be read or lies outside Vietnam."""
    notes: list[tuple[str, str]] = []
    if spec.mode == "vn2000":
        east = _number(spec.x, ("easting E (metres)", "tọa độ E (mét)"))
        north = _number(spec.y, ("northing N (metres)", "tọa độ N (mét)"))
        if north < 1_000_000 <= east:
            raise InputError(
                "E and N look swapped: the 7-digit value is the northing N. Swap them.",
                "E và N có vẻ bị đảo: giá trị 7 chữ số là tọa độ N. Hãy đổi chỗ hai giá trị.")
        if not (100_000 <= east <= 900_000 and 500_000 <= north <= 2_800_000):
            raise InputError(
                f"E {east:.0f}, N {north:.0f} are not VN-2000 TM-3 metres in Vietnam (E is "
                f"about 500 000–600 000, N about 2 300 000 in Hưng Yên).",
                f"E {east:.0f}, N {north:.0f} không phải tọa độ VN-2000 múi 3° ở Việt Nam "
                f"(ở Hưng Yên E khoảng 500 000–600 000, N khoảng 2 300 000).")
        position = _from_vn2000(east, north)
    elif spec.mode == "file":
        if spec.path is None:
            raise InputError("Choose the file that holds the relic's point.",
                             "Hãy chọn tệp chứa điểm của di tích.")
        position, notes = _from_file(spec.path)
    elif spec.mode == "wgs84":
        lon = _number(spec.x, ("longitude", "kinh độ"))
        lat = _number(spec.y, ("latitude", "vĩ độ"))
        west, south, east_, north_ = crs_mod.VIETNAM_BBOX
        if west <= lat <= east_ and south <= lon <= north_ and not (
                west <= lon <= east_ and south <= lat <= north_):
            raise InputError(
                "Longitude and latitude look swapped (in Vietnam the longitude is about 102–"
                "118 and the latitude 6–23). Swap them.",
                "Kinh độ và vĩ độ có vẻ bị đảo (ở Việt Nam kinh độ khoảng 102–118, vĩ độ "
                "6–23). Hãy đổi chỗ hai giá trị.")
        if 100_000 <= abs(lon) or 100_000 <= abs(lat):
            raise InputError(
                "These look like metres: choose VN-2000 (E, N) for projected coordinates.",
                "Đây có vẻ là tọa độ mét: hãy chọn VN-2000 (E, N) cho tọa độ phẳng.")
        position = Position(lon, lat)
    else:
        raise InputError("Choose how the position is given: WGS 84, VN-2000 or a file.",
                         "Hãy chọn cách nhập vị trí: WGS 84, VN-2000 hoặc tệp.")
    west, south, east_, north_ = crs_mod.VIETNAM_BBOX
    if not (west <= position.lon <= east_ and south <= position.lat <= north_):
        raise InputError(
            f"The position ({position.lat:.5f} N, {position.lon:.5f} E) is outside Vietnam. "
            "Check the coordinates and their system.",
            f"Vị trí ({position.lat:.5f} B, {position.lon:.5f} Đ) nằm ngoài Việt Nam. Hãy kiểm "
            "tra tọa độ và hệ tọa độ.")
    return position, notes


def _district_warning(db: Session, position: Position) -> list[tuple[str, str]]:
    inside = db.scalar(text("""
        SELECT EXISTS (SELECT 1 FROM admin_units
                        WHERE level = ANY(:levels) AND geom IS NOT NULL
                          AND valid_from <= :today AND (valid_to IS NULL OR valid_to >= :today)
                          AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)))"""),
        {"levels": list(COMMUNE_LEVELS), "today": today_in_vietnam(), "x": position.lon,
         "y": position.lat})
    if inside:
        return []
    region = crs_mod.REGION_NAME
    return [((f"The position is outside every commune of {region['en']}: check it. The relic "
             f"gets no commune until it lies in one."),
             (f"Vị trí nằm ngoài mọi xã của {region['vi']}: hãy kiểm tra. Di tích sẽ không "
             f"thuộc xã nào cho đến khi vị trí nằm trong một xã."))]


# --- changes ------------------------------------------------------------------------------

def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for every field (and `position`) that differs."""
    changes = {f.name: [before.get(f.name), after.get(f.name)] for f in FIELDS
               if f.name in after and before.get(f.name) != after.get(f.name)}
    if "position" in after and _moved(before.get("position"), after["position"]):
        changes["position"] = [before.get("position"), after["position"]]
    return changes


def _moved(before: list[float] | None, after: list[float]) -> bool:
    """Whether a position moved by more than MOVE_TOLERANCE degrees (~5 cm): VN-2000
    coordinates typed back as shown (to the centimetre) are no move."""
    if before is None:
        return True
    return max(abs(before[0] - after[0]), abs(before[1] - after[1])) > MOVE_TOLERANCE


def _organisation(db: Session, name: str | None) -> int | None:
    """The id of the organisation called `name`, created when none is (None: no name)."""
    if name is None:
        return None
    found = db.scalar(text("SELECT id FROM organisations WHERE name = :n ORDER BY id LIMIT 1"),
                      {"n": name})
    if found is not None:
        return int(found)
    return int(db.execute(text("INSERT INTO organisations (name) VALUES (:n) RETURNING id"),
                          {"n": name}).scalar_one())


def _apply(db: Session, site_id: int, changes: Mapping[str, list[Any]]) -> None:
    """Write the `after` side of `changes` to relic `site_id` (one UPDATE); its communes
    follow when the position changed. The caller has set the actor."""
    sets: list[str] = []
    params: dict[str, Any] = {"id": site_id}
    for name, (_before, after) in changes.items():
        if name == "position":
            sets.append("geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)")
            params.update(lon=after[0], lat=after[1])
            continue
        f = FIELD_BY_NAME[name]  # identifiers only from the declaration
        if f.kind == "custodian":
            sets.append("custodian_org_id = :custodian_org_id")
            params["custodian_org_id"] = _organisation(db, after)
        elif f.kind == "date":
            sets.append(f"{f.column} = CAST(:{f.name} AS date)")
            params[f.name] = after
        elif f.kind in ("names", "types"):
            sets.append(f"{f.column} = CAST(:{f.name} AS text[])")
            params[f.name] = list(after)
        else:
            sets.append(f"{f.column} = :{f.name}")
            params[f.name] = after
    if not sets:
        return
    db.execute(text(f"UPDATE sites SET {', '.join(sets)}, updated_at = now() WHERE id = :id"),
               params)
    if "position" in changes:
        assign_units(db, [site_id])


def _nothing_changed() -> InputError:
    return InputError("Nothing was changed: change a value or the position, then save.",
                      "Không có gì thay đổi: hãy sửa một giá trị hoặc vị trí rồi lưu.")


def _latest_revision(db: Session, site_id: int) -> int | None:
    return db.scalar(text("SELECT max(id) FROM revisions WHERE table_name = 'sites' "
                          "AND row_id = CAST(:id AS text)"), {"id": site_id})


def create_relic(db: Session, user: Actor, raw: Mapping[str, Any],
                 position: PositionInput) -> Outcome:
    """Create a relic as a draft (invisible until a district reviewer publishes it), with a
    new heritage identifier; its communes from its position. A commune editor may create
    one only where their scope covers the position today. The caller commits.
    Raises PermissionDenied, InputError."""
    _check_official(user)
    values = validate_values(raw)
    point, notes = read_position(position)
    warnings = notes + _district_warning(db, point)
    set_actor(db, user.id)
    heritage_id = mint_identifier(db, "site")
    lon, lat = point.rounded()
    site_id = db.execute(text("""
        INSERT INTO sites (heritage_id, name_vi, types, geom, status)
        VALUES (:h, :name, CAST(:types AS text[]), ST_SetSRID(ST_MakePoint(:x, :y), 4326),
                'draft') RETURNING id"""),
        {"h": heritage_id, "name": values["name_vi"], "types": values["types"], "x": lon,
         "y": lat}).scalar_one()
    rest = {k: [None, v] for k, v in values.items()
            if k not in ("name_vi", "types") and v not in (None, [], False)}
    _apply(db, site_id, rest)
    assign_units(db, [site_id])
    if not may_edit(db, user, site_id):
        raise PermissionDenied(
            "The position is not in a commune of your account: you may create relics only "
            "in your communes.",
            "Vị trí không thuộc xã của tài khoản bạn: bạn chỉ được tạo di tích trong các xã "
            "của mình.")
    log.info("user %s created draft relic %s", user.id, heritage_id)
    return Outcome("created", heritage_id, [f.name for f in FIELDS if f.name in values],
                   warnings=warnings)


def submit_edit(db: Session, user: Actor, heritage_id: str, raw: Mapping[str, Any],
                position: PositionInput, note: str | None = None) -> Outcome:
    """Save the edit form of a relic: applied at once for a district reviewer or admin
    (and for a commune editor's draft), else kept as a proposal for review. Only what
    differs from the record counts. The caller commits.

    Raises PermissionDenied (not the user's relic), RecordNotFound, InputError (bad
    values, nothing changed, a retired or merged relic, a pending proposal of the same
    author on this relic).
    """
    _check_official(user)
    site = _site(db, heritage_id, lock=True)
    if not may_edit(db, user, site["id"]):
        raise _refuse_edit(heritage_id)
    if site["status"] in ENDED:
        raise InputError(f"Relic {heritage_id} is no longer in the register; restore it "
                         f"before editing.",
                         f"Di tích {heritage_id} không còn trong danh mục; hãy khôi phục "
                         f"trước khi sửa.")
    values = validate_values(raw)
    point, notes = read_position(position)
    values["position"] = point.rounded()
    changes = diff(current_values(site), values)
    if not changes:
        raise _nothing_changed()
    warnings = notes + (_district_warning(db, point) if "position" in changes else [])
    note = _clean_text(note)
    if note is not None and len(note) > MAX_COMMENT:
        raise InputError(f"The note is too long (at most {MAX_COMMENT} characters).",
                         f"Ghi chú quá dài (tối đa {MAX_COMMENT} ký tự).")
    if _is_reviewer(user) or site["status"] == "draft":
        set_actor(db, user.id)
        _apply(db, site["id"], changes)
        if not may_edit(db, user, site["id"]):
            raise PermissionDenied(
                "The new position is not in a commune of your account; a draft must stay in "
                "your communes.",
                "Vị trí mới không thuộc xã của tài khoản bạn; bản nháp phải nằm trong các xã "
                "của bạn.")
        log.info("user %s changed relic %s: %s", user.id, heritage_id, sorted(changes))
        return Outcome("applied", heritage_id, list(changes), warnings=warnings)
    waiting = db.scalar(text("""
        SELECT id FROM change_proposals WHERE record_kind = 'site' AND record_id = :s
           AND author_id = :u AND status = 'pending' LIMIT 1"""),
        {"s": site["id"], "u": user.id})
    if waiting is not None:
        raise InputError(
            f"You already have a pending proposal (#{waiting}) for this relic: withdraw it "
            f"or wait for the reviewer's answer.",
            f"Bạn đã có một đề xuất đang chờ duyệt (số {waiting}) cho di tích này: hãy rút "
            f"lại hoặc chờ ý kiến của cán bộ thẩm định.")
    proposal_id = _insert_proposal(db, site["id"], user.id, changes, note)
    log.info("user %s proposed changes to relic %s (#%d): %s", user.id, heritage_id,
             proposal_id, sorted(changes))
    return Outcome("proposed", heritage_id, list(changes), proposal_id=int(proposal_id),
                   warnings=warnings)


def _insert_proposal(db: Session, site_id: int, author_id: int | None,
                     changes: Mapping[str, list[Any]], note: str | None) -> int:
    """Store a pending proposal of `changes` ({field: [before, after]}) to relic
    `site_id`; its id."""
    moved = "position" in changes
    return int(db.execute(text("""
        INSERT INTO change_proposals (record_kind, record_id, author_id, base_revision_id,
                                      changes, geom_before, geom_after, note)
        VALUES ('site', :s, :u, :base, CAST(:changes AS jsonb),
                CASE WHEN :moved THEN ST_SetSRID(ST_MakePoint(:bx, :by), 4326) END,
                CASE WHEN :moved THEN ST_SetSRID(ST_MakePoint(:ax, :ay), 4326) END, :note)
        RETURNING id"""),
        {"s": site_id, "u": author_id, "base": _latest_revision(db, site_id),
         "changes": _json(changes), "moved": moved,
         "bx": changes["position"][0][0] if moved and changes["position"][0] else None,
         "by": changes["position"][0][1] if moved and changes["position"][0] else None,
         "ax": changes["position"][1][0] if moved else None,
         "ay": changes["position"][1][1] if moved else None, "note": note}).scalar_one())


def propose_imported(db: Session, site_id: int, author_id: int | None,
                     values: Mapping[str, Any], lon: float | None, lat: float | None,
                     note: str) -> int | None:
    """A survey import's values for a published relic, kept as a pending proposal instead
    of overwriting the record: only the fields in `values` (raw values of the file, as
    staged: text, lists, dates) and the position that differ from the record. The id of
    the new proposal, or None when nothing differs or the same change already waits for
    review (an import run twice proposes once). `author_id` None: an import without an
    acting user (the proposal shows no author; `note` names the import)."""
    site = dict(db.execute(text(
        "SELECT s.heritage_id FROM sites s WHERE s.id = :s"), {"s": site_id}).mappings().one())
    now = current_values(_site(db, site["heritage_id"], lock=True))
    after = {name: _normal(FIELD_BY_NAME[name], value) for name, value in values.items()
             if name in FIELD_BY_NAME}
    if lon is not None and lat is not None:
        after["position"] = Position(lon, lat).rounded()
    changes = diff(now, after)
    if not changes:
        return None
    waiting = db.scalar(text("""
        SELECT id FROM change_proposals WHERE record_kind = 'site' AND record_id = :s
           AND status = 'pending' AND changes = CAST(:changes AS jsonb) LIMIT 1"""),
        {"s": site_id, "changes": _json(changes)})
    if waiting is not None:
        return None
    return _insert_proposal(db, site_id, author_id, changes, note)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


# --- review -------------------------------------------------------------------------------

def _check_reviewer(user: Any) -> None:
    if not _is_reviewer(user):
        raise PermissionDenied("Only a district reviewer or an administrator reviews proposals.",
                               "Chỉ cán bộ thẩm định cấp huyện hoặc quản trị viên được duyệt "
                               "đề xuất.")


def _proposal(db: Session, proposal_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = db.execute(text(
        "SELECT p.*, s.heritage_id FROM change_proposals p JOIN sites s ON s.id = p.record_id"
        " WHERE p.id = :p" + (" FOR UPDATE OF p" if lock else "")),
        {"p": proposal_id}).mappings().first()
    if row is None:
        raise RecordNotFound(f"There is no proposal #{proposal_id}.",
                             f"Không có đề xuất số {proposal_id}.")
    return dict(row)


def _pending(proposal: Mapping[str, Any]) -> None:
    if proposal["status"] != "pending":
        en, vi = STATUS_TEXT[proposal["status"]]
        raise InputError(f"Proposal #{proposal['id']} is no longer pending: it was {en}.",
                         f"Đề xuất số {proposal['id']} không còn chờ duyệt: đã {vi}.")


STATUS_TEXT = {"pending": ("pending", "chờ duyệt"), "approved": ("approved", "được duyệt"),
               "returned": ("sent back", "bị trả lại"),
               "withdrawn": ("withdrawn", "được rút lại")}


def approve(db: Session, reviewer: Actor, proposal_id: int) -> str:
    """Apply a pending proposal under the reviewer (a revision) and mark it approved; the
    relic's heritage identifier. Refuses (InputError, nothing changes) when a field it
    changes was changed on the record since it was proposed. The caller commits."""
    _check_reviewer(reviewer)
    proposal = _proposal(db, proposal_id, lock=True)
    _pending(proposal)
    site = _site(db, proposal["heritage_id"], lock=True)
    if site["status"] in ENDED:
        raise InputError(f"Relic {site['heritage_id']} is no longer in the register; send the "
                         "proposal back.",
                         f"Di tích {site['heritage_id']} không còn trong danh mục; hãy trả lại "
                         "đề xuất.")
    if proposal["record_kind"] == "zone":
        # A new zone boundary: saved through services.zones (which imports this module).
        from gis_app.services import zone_proposals

        return zone_proposals.approve(db, reviewer, proposal)
    now = current_values(site)
    stale = [name for name, (before, _after) in proposal["changes"].items()
             if now.get(name) != before]
    if stale:
        labels_en = ", ".join(field_label(n, "en") for n in stale)
        labels_vi = ", ".join(field_label(n, "vi") for n in stale)
        raise InputError(
            f"The relic was changed since this proposal was made ({labels_en}): approving it "
            f"would overwrite that change. Send it back so the author proposes again on the "
            f"current record.",
            f"Di tích đã được sửa sau khi đề xuất này được gửi ({labels_vi}): duyệt sẽ ghi đè "
            f"thay đổi đó. Hãy trả lại để người đề xuất gửi lại trên bản hiện tại.")
    set_actor(db, reviewer.id)
    _apply(db, site["id"], proposal["changes"])
    db.execute(text("""UPDATE change_proposals SET status = 'approved', reviewer_id = :r,
                              reviewed_at = now() WHERE id = :p"""),
               {"r": reviewer.id, "p": proposal_id})
    log.info("user %s approved proposal #%d on relic %s", reviewer.id, proposal_id,
             site["heritage_id"])
    return str(site["heritage_id"])


def send_back(db: Session, reviewer: Actor, proposal_id: int, comment: str | None) -> None:
    """Return a pending proposal to its author with `comment` (required: it says what to
    change). The record does not change. The caller commits."""
    _check_reviewer(reviewer)
    comment = _clean_text(comment)
    if comment is None:
        raise InputError("Say why the proposal is sent back (the author reads it).",
                         "Hãy nêu lý do trả lại đề xuất (người đề xuất sẽ đọc).")
    if len(comment) > MAX_COMMENT:
        raise InputError(f"The comment is too long (at most {MAX_COMMENT} characters).",
                         f"Ý kiến quá dài (tối đa {MAX_COMMENT} ký tự).")
    proposal = _proposal(db, proposal_id, lock=True)
    _pending(proposal)
    db.execute(text("""UPDATE change_proposals SET status = 'returned', reviewer_id = :r,
                              reviewed_at = now(), comment = :c WHERE id = :p"""),
               {"r": reviewer.id, "c": comment, "p": proposal_id})
    log.info("user %s sent proposal #%d back", reviewer.id, proposal_id)


def withdraw(db: Session, user: Actor, proposal_id: int) -> None:
    """The author withdraws their pending proposal. The caller commits."""
    proposal = _proposal(db, proposal_id, lock=True)
    if proposal["author_id"] != getattr(user, "id", None):
        raise PermissionDenied("Only its author may withdraw a proposal.",
                               "Chỉ người đề xuất được rút lại đề xuất.")
    _pending(proposal)
    db.execute(text("UPDATE change_proposals SET status = 'withdrawn' WHERE id = :p"),
               {"p": proposal_id})
    log.info("user %s withdrew proposal #%d", user.id, proposal_id)


# --- reading proposals ----------------------------------------------------------------------

def field_label(name: str, lang: str) -> str:
    if name == "position":
        return POSITION_LABEL[1] if lang == "vi" else POSITION_LABEL[0]
    return FIELD_BY_NAME[name].text(lang)


def display(name: str, value: Any, lang: str) -> str:
    """A field's value as text for the diff table ("" when empty)."""
    if name == "rank" and value is None:
        return "Đã xếp hạng, chưa xác minh cấp" if lang == "vi" else \
            "Ranked; level not yet verified"
    if value in (None, [], ""):
        return ""
    if name == "position":
        return f"{value[1]:.6f} N, {value[0]:.6f} E" if lang == "en" else \
            f"{value[1]:.6f} B, {value[0]:.6f} Đ"
    f = FIELD_BY_NAME.get(name)
    if f is None:
        return str(value)
    if f.kind == "types":
        return ", ".join(vocab.label("relic_type", v, lang) for v in value)
    if f.kind == "names":
        return "; ".join(value)
    if f.kind == "rank":
        return vocab.label("rank", value, lang)
    if f.kind == "flag":
        return ("có" if value else "không") if lang == "vi" else ("yes" if value else "no")
    if f.kind == "date":
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    return str(value)


LIST_SQL = """
    SELECT p.id, p.record_kind, p.status, p.created_at, p.reviewed_at, p.comment, p.note,
           p.changes,
           s.heritage_id, s.name_vi, s.name_en, u.name AS unit_name,
           coalesce(a.display_name, a.username) AS author,
           coalesce(r.display_name, r.username) AS reviewer
      FROM change_proposals p
      JOIN sites s ON s.id = p.record_id
      LEFT JOIN admin_units u ON u.id = s.admin_unit_id
      LEFT JOIN users a ON a.id = p.author_id
      LEFT JOIN users r ON r.id = p.reviewer_id
"""


def _listed(rows: Any, lang: str) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        item = dict(row)
        for key in ("created_at", "reviewed_at"):
            if item[key] is not None:
                item[key] = item[key].astimezone(VIETNAM_TIME)
        changes = item.pop("changes")
        if item["record_kind"] == "zone":
            from gis_app.services.zone_proposals import zone_title

            item["fields"] = [zone_title(changes, lang)]
        else:
            item["fields"] = [field_label(n, lang) for n in changes]
        out.append(item)
    return out


def pending_proposals(db: Session, reviewer: Actor, lang: str) -> list[dict[str, Any]]:
    """The reviewer's queue: pending proposals, oldest first, with the relic, its commune,
    the author and the labels of the fields changed."""
    _check_reviewer(reviewer)
    return _listed(db.execute(text(LIST_SQL + " WHERE p.status = 'pending' "
                                   "ORDER BY p.created_at, p.id")).mappings(), lang)


def proposals_of(db: Session, user: Actor, lang: str) -> list[dict[str, Any]]:
    """The user's own proposals, newest first, with the answers (status, reviewer,
    comment)."""
    return _listed(db.execute(text(LIST_SQL + " WHERE p.author_id = :u "
                                   "ORDER BY p.created_at DESC, p.id DESC"),
                              {"u": user.id}).mappings(), lang)


def proposal_detail(db: Session, user: Actor, proposal_id: int, lang: str) -> dict[str, Any]:
    """One proposal for its reviewer or its author: the listing fields, `rows` of the diff
    (field, label, before, after, and `now` when the record's value has changed since) and
    `before`/`after` positions ([lon, lat] or None)."""
    proposal = _proposal(db, proposal_id)
    if not _is_reviewer(user) and proposal["author_id"] != getattr(user, "id", None):
        raise PermissionDenied("This proposal is not yours to see.",
                               "Bạn không được xem đề xuất này.")
    item = _listed(db.execute(text(LIST_SQL + " WHERE p.id = :p"), {"p": proposal_id})
                   .mappings(), lang)[0]
    if proposal["record_kind"] == "zone":
        from gis_app.services import zone_proposals

        site = _site(db, proposal["heritage_id"])
        item.update(zone_proposals.detail(db, proposal, lang), before=None, after=None,
                    current=current_values(site)["position"],
                    author_id=proposal["author_id"])
        return item
    now = current_values(_site(db, proposal["heritage_id"]))
    rows = []
    for name, (before, after) in proposal["changes"].items():
        rows.append({"field": name, "label": field_label(name, lang),
                     "before": display(name, before, lang), "after": display(name, after, lang),
                     "changed_since": proposal["status"] == "pending" and now.get(name) != before,
                     "now": display(name, now.get(name), lang)})
    position = proposal["changes"].get("position")
    item.update(rows=rows, before=position[0] if position else None,
                after=position[1] if position else None,
                current=now["position"], author_id=proposal["author_id"])
    return item
