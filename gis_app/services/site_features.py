"""Officials edit the landscapes (ponds, ancient trees, gardens, river banks: polygons) and
facilities (car parks, toilets, boards, exhibition houses…: a point or a polygon) of
relics.

Who, for the relic the feature belongs to (one rule: `proposals.may_edit`, which asks
`services.scopes` whether the user's scope covers the relic today):
- district reviewers and administrators change any feature directly;
- a commune editor changes the features of relics in their communes while the relic is a
  draft; for a published relic they are refused (403) with a message to ask the district
  reviewer (proposals only know relic fields so far: see the report of this change);
- anyone else is refused.
Each write is one statement, a revision under the actor (`audit.set_actor`).

Geometries: a polygon drawn on the map or read from a file is checked and repaired by
`zones.check_zone_geometry` (the zone page's rules: an area in Vietnam, 1 m² to 50 km²,
self-crossings repaired with a warning); a facility's point comes from
`proposals.read_position` (dragged, typed WGS 84 or VN-2000, or a file).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.models.base import ACCURACY, LANDSCAPE_KINDS
from gis_app.services import scopes
from gis_app.services.admin_units import COMMUNE_LEVELS
from gis_app.services.audit import set_actor
from gis_app.services.features import FULL_ACCESS_ROLES
from gis_app.services.proposals import Position, may_edit
from gis_app.services.record_fields import Field, changed, clean_text, stored, update_row, validate
from gis_app.services.zones import check_zone_geometry

log = logging.getLogger(__name__)

Message = tuple[str, str]  # (en, vi)
MAX_MATCHES = 5


class Actor(Protocol):
    id: int
    role: str


@dataclass(frozen=True)
class Kind:
    """A kind of feature: its table (an identifier from this declaration only), its
    fields, its labels and whether it may be a point."""

    table: str
    fields: tuple[Field, ...]
    one: tuple[str, str]  # (en, vi)
    points: bool


COMMON_TAIL = (
    Field("source", "text", ("Source", "Nguồn"), 500),
    Field("accuracy", "choice", ("Accuracy", "Độ chính xác"), choices=ACCURACY,
          vocab="accuracy"),
)
KINDS: dict[str, Kind] = {
    "landscapes": Kind("landscapes", (
        Field("name_vi", "text", ("Name (Vietnamese)", "Tên (tiếng Việt)"), 300, required=True),
        Field("name_en", "text", ("Name (English)", "Tên (tiếng Anh)"), 300),
        Field("kind", "choice", ("Kind of landscape", "Loại cảnh quan"), required=True,
              choices=LANDSCAPE_KINDS, vocab="landscape_kind"),
        *COMMON_TAIL), ("landscape", "cảnh quan"), points=False),
    "facilities": Kind("facilities", (
        Field("name_vi", "text", ("Name (Vietnamese)", "Tên (tiếng Việt)"), 300, required=True),
        Field("name_en", "text", ("Name (English)", "Tên (tiếng Anh)"), 300),
        Field("kind", "choice", ("Kind of facility", "Loại công trình, thiết bị"),
              required=True, vocab="facility_kind"),
        *COMMON_TAIL), ("facility", "công trình, thiết bị"), points=True),
}


def kind_of(name: str) -> Kind:
    if name not in KINDS:
        raise RecordNotFound(f"No such kind of record: {name}.",
                             f"Không có loại hồ sơ {name}.")
    return KINDS[name]


def facility_kinds(db: Session, lang: str) -> list[tuple[str, str]]:
    """(code, label) of the facility kinds (the `facility_kinds` table), by category."""
    return [(r.code, r.name_vi if lang == "vi" else r.name_en) for r in db.execute(text(
        "SELECT code, name_vi, name_en FROM facility_kinds ORDER BY category, name_vi"))]


def _choices(db: Session, kind: Kind) -> dict[str, list[tuple[str, str]]]:
    return {"kind": facility_kinds(db, "vi")} if kind.table == "facilities" else {}


# --- relics --------------------------------------------------------------------------------

def find_relic(db: Session, typed: str | None) -> dict[str, Any]:
    """The relic a user means by `typed`: its heritage identifier or survey code, or a
    name (without diacritics is fine) that only one relic in the register matches.
    InputError saying what to do otherwise (with up to 5 candidates)."""
    typed = clean_text(typed)
    if typed is None:
        raise InputError("Choose the relic: type its identifier (VN-HY-DT-…) or its name.",
                         "Hãy chọn di tích: nhập mã định danh (VN-HY-DT-…) hoặc tên di tích.")
    exact = db.execute(text("""
        SELECT id, heritage_id, name_vi, status FROM sites
         WHERE (upper(heritage_id) = upper(:t) OR survey_code = :t)
           AND status NOT IN ('retired', 'merged')"""), {"t": typed}).mappings().first()
    if exact is not None:
        return dict(exact)
    found = [dict(r) for r in db.execute(text("""
        SELECT id, heritage_id, name_vi, status FROM sites
         WHERE status NOT IN ('retired', 'merged')
           AND lower(f_unaccent(name_vi)) LIKE '%' || lower(f_unaccent(:t)) || '%'
         ORDER BY lower(f_unaccent(name_vi)) = lower(f_unaccent(:t)) DESC, name_vi
         LIMIT :n"""), {"t": typed, "n": MAX_MATCHES + 1}).mappings()]
    if len(found) == 1:
        return found[0]
    if found and found[0]["name_vi"].casefold() == typed.casefold() and (
            len(found) == 1 or found[1]["name_vi"].casefold() != typed.casefold()):
        return found[0]
    if not found:
        raise InputError(f"No relic is called {typed!r}; type its identifier (VN-HY-DT-…) "
                         f"or part of its name.",
                         f"Không có di tích nào tên {typed!r}; hãy nhập mã định danh "
                         f"(VN-HY-DT-…) hoặc một phần tên di tích.")
    listed = "; ".join(f"{r['heritage_id']} {r['name_vi']}" for r in found[:MAX_MATCHES])
    raise InputError(f"Several relics match {typed!r} ({listed}): type the identifier of "
                     f"the one you mean.",
                     f"Có nhiều di tích khớp với {typed!r} ({listed}): hãy nhập mã định danh "
                     f"của di tích cần chọn.")


def relic_lat_lon(db: Session, heritage_id: str) -> tuple[float, float] | None:
    """(lat, lon) of a relic, to centre a map; None for an unknown identifier."""
    found = db.execute(text("SELECT ST_Y(geom), ST_X(geom) FROM sites WHERE heritage_id = :h"),
                       {"h": heritage_id}).first()
    return (float(found[0]), float(found[1])) if found else None


def communes_today(db: Session) -> list[tuple[int, str]]:
    """(id, name) of today's communes and wards, by name (the lists' filter)."""
    today = today_in_vietnam()
    return [(int(r[0]), str(r[1])) for r in db.execute(text("""
        SELECT id, name FROM admin_units
         WHERE level = ANY(:levels) AND valid_from <= :today
           AND (valid_to IS NULL OR valid_to >= :today)
         ORDER BY name"""), {"levels": list(COMMUNE_LEVELS), "today": today})]


def check_may_edit(db: Session, user: Any, site: Mapping[str, Any]) -> None:
    """Raise PermissionDenied unless `user` may change the landscapes and facilities of
    relic `site` (id, heritage_id, status) now: see the module's rule."""
    role = getattr(user, "role", None)
    if role in FULL_ACCESS_ROLES:
        return
    hid = site["heritage_id"]
    if role != "commune_editor" or not may_edit(db, user, site["id"]):
        raise PermissionDenied(
            f"Relic {hid} is not in a commune of your account: you may not change its "
            f"landscapes or facilities.",
            f"Di tích {hid} không thuộc xã của tài khoản bạn: bạn không được sửa cảnh quan, "
            f"công trình của di tích này.")
    if site["status"] != "draft":
        raise PermissionDenied(
            f"Relic {hid} is published: ask the district reviewer to change its landscapes "
            f"and facilities (you change them yourself while a relic is a draft).",
            f"Di tích {hid} đã được công bố: hãy đề nghị cán bộ thẩm định cấp huyện sửa cảnh "
            f"quan, công trình của di tích (bạn chỉ tự sửa khi di tích còn là bản nháp).")


# --- geometry ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """The geometry the user gave: a polygon (GeoJSON or file, lon/lat) or a point."""

    polygon: BaseGeometry | None = None
    point: Position | None = None


def _geometry_wkb(kind: Kind, shape: Shape | None) -> tuple[bytes | None, list[Message]]:
    if shape is None or (shape.polygon is None and shape.point is None):
        return None, []
    if shape.point is not None:
        if not kind.points:
            raise InputError(f"The {kind.one[0]}'s shape is an area: draw its outline.",
                             f"Hình của {kind.one[1]} là một vùng: hãy vẽ đường bao.")
        return shapely.to_wkb(shapely.Point(*shape.point.rounded())), []
    if shape.polygon.geom_type in ("Point", "MultiPoint") and kind.points:
        point = shape.polygon if shape.polygon.geom_type == "Point" else shape.polygon.geoms[0]
        return shapely.to_wkb(shapely.Point(point.x, point.y)), []
    return check_area(shape.polygon, kind.one)


def check_area(shape: BaseGeometry, what: tuple[str, str]) -> tuple[bytes, list[Message]]:
    """An outline (`what` names the record, en/vi) as checked, repaired WKB and warnings:
    the protection zones' rules (`zones.check_zone_geometry`), with a message naming the
    record when the shape is not an area."""
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(f"The {what[0]}'s shape is an area: draw its outline or send a "
                         f"polygon (this is a {shape.geom_type}).",
                         f"Hình của {what[1]} là một vùng: hãy vẽ đường bao hoặc gửi một đa "
                         f"giác (đây là {shape.geom_type}).")
    checked, warnings = check_zone_geometry(shape)
    return shapely.to_wkb(checked), warnings


# --- reading -------------------------------------------------------------------------------

def feature(db: Session, kind_name: str, feature_id: int, *, lock: bool = False
            ) -> dict[str, Any]:
    """One landscape or facility: id, `values`, `geometry` (GeoJSON dict), `geom_type`, its
    relic (`site`: id, heritage_id, name_vi, status or None)."""
    kind = kind_of(kind_name)
    row = db.execute(text(
        f"SELECT f.id, f.site_id, {', '.join('f.' + x.name for x in kind.fields)}, "
        f"ST_AsGeoJSON(f.geom, 7) AS geometry, GeometryType(f.geom) AS geom_type, "
        f"s.heritage_id, s.name_vi AS site_name, s.status AS site_status "
        f"FROM {kind.table} f LEFT JOIN sites s ON s.id = f.site_id WHERE f.id = :id"
        + (" FOR UPDATE OF f" if lock else "")), {"id": feature_id}).mappings().first()
    if row is None:
        raise RecordNotFound(f"There is no {kind.one[0]} #{feature_id}.",
                             f"Không có {kind.one[1]} số {feature_id}.")
    site = ({"id": row["site_id"], "heritage_id": row["heritage_id"],
             "name_vi": row["site_name"], "status": row["site_status"]}
            if row["site_id"] is not None else None)
    return {"id": row["id"], "values": stored(kind.fields, row), "site": site,
            "geometry": json.loads(row["geometry"]) if row["geometry"] else None,
            "geom_type": row["geom_type"]}


def listing(db: Session, user: Any, kind_name: str, *, relic: str | None = None,
            unit_id: int | None = None) -> list[dict[str, Any]]:
    """The landscapes or facilities `user` may see in lists (officials: all; a commune
    editor: those of relics their scope covers today), narrowed to relic `relic` or to
    relics in today's commune `unit_id`, by relic then name."""
    kind = kind_of(kind_name)
    covered = scopes.covers_site_on("f.site_id", "CAST(:today AS date)")
    return [dict(r) for r in db.execute(text(f"""
        SELECT f.id, f.name_vi, f.name_en, f.kind, f.accuracy, GeometryType(f.geom) AS geom_type,
               s.heritage_id, s.name_vi AS site_name, s.status AS site_status
          FROM {kind.table} f LEFT JOIN sites s ON s.id = f.site_id
         WHERE (CAST(:relic AS text) IS NULL OR s.heritage_id = :relic)
           AND (CAST(:unit AS integer) IS NULL OR s.admin_unit_id = :unit)
           AND {covered}
         ORDER BY s.name_vi NULLS LAST, s.heritage_id, f.name_vi, f.id"""),
        {"relic": relic or None, "unit": unit_id, "today": today_in_vietnam(),
         **scopes.bind(user)}).mappings()]


# --- writing -------------------------------------------------------------------------------

@dataclass
class Saved:
    id: int
    site: str | None
    fields: list[str] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)


def create(db: Session, user: Actor, kind_name: str, relic: str | None,
           raw: Mapping[str, Any], shape: Shape | None) -> Saved:
    """A new landscape or facility of relic `relic` (identifier or name). The caller
    commits. Raises PermissionDenied, InputError (nothing written)."""
    kind = kind_of(kind_name)
    site = find_relic(db, relic)
    check_may_edit(db, user, site)
    values = validate(kind.fields, raw, _choices(db, kind))
    wkb, warnings = _geometry_wkb(kind, shape)
    if wkb is None:
        raise InputError(
            f"Give the {kind.one[0]}'s place: draw it on the map, type coordinates or send a "
            f"file.",
            f"Hãy cho biết vị trí của {kind.one[1]}: vẽ trên bản đồ, nhập tọa độ hoặc gửi "
            f"tệp.")
    set_actor(db, user.id)
    columns = [f.name for f in kind.fields]
    new_id = int(db.execute(text(
        f"INSERT INTO {kind.table} (site_id, geom, {', '.join(columns)}) "
        f"VALUES (:site, ST_GeomFromWKB(:wkb, 4326), {', '.join(':' + c for c in columns)}) "
        f"RETURNING id"), {"site": site["id"], "wkb": wkb, **values}).scalar_one())
    log.info("user %s created %s %s of %s", user.id, kind.one[0], new_id, site["heritage_id"])
    return Saved(new_id, site["heritage_id"], columns, warnings)


def update(db: Session, user: Actor, kind_name: str, feature_id: int,
           raw: Mapping[str, Any], shape: Shape | None) -> Saved:
    """Save a landscape or facility: the changed fields and the new geometry if one is
    given and differs (one UPDATE). Raises PermissionDenied, RecordNotFound, InputError."""
    kind = kind_of(kind_name)
    current = feature(db, kind_name, feature_id, lock=True)
    if current["site"] is None:
        if getattr(user, "role", None) not in FULL_ACCESS_ROLES:
            raise PermissionDenied("This record belongs to no relic: ask the district "
                                   "reviewer.",
                                   "Hồ sơ này không thuộc di tích nào: hãy đề nghị cán bộ "
                                   "thẩm định cấp huyện.")
    else:
        check_may_edit(db, user, current["site"])
    values = changed(current["values"], validate(kind.fields, raw, _choices(db, kind)))
    wkb, warnings = _geometry_wkb(kind, shape)
    extra: list[str] = []
    if wkb is not None and not db.scalar(text(
            f"SELECT ST_Equals(geom, ST_GeomFromWKB(:w, 4326)) FROM {kind.table} "
            f"WHERE id = :id"), {"w": wkb, "id": feature_id}):
        extra.append("geom = ST_GeomFromWKB(:wkb, 4326)")
    if not values and not extra:
        raise InputError("Nothing was changed: change a value or the shape, then save.",
                         "Không có gì thay đổi: hãy sửa một giá trị hoặc hình dạng rồi lưu.")
    set_actor(db, user.id)
    update_row(db, kind.table, kind.fields, feature_id, values, extra, {"wkb": wkb})
    names = list(values) + (["geom"] if extra else [])
    log.info("user %s changed %s %s: %s", user.id, kind.one[0], feature_id, names)
    return Saved(feature_id, current["site"]["heritage_id"] if current["site"] else None,
                 names, warnings)


def delete(db: Session, user: Actor, kind_name: str, feature_id: int) -> Saved:
    """Remove a landscape or facility (its revisions keep it)."""
    kind = kind_of(kind_name)
    current = feature(db, kind_name, feature_id, lock=True)
    if current["site"] is None:
        if getattr(user, "role", None) not in FULL_ACCESS_ROLES:
            raise PermissionDenied("Only a district reviewer may remove this record.",
                                   "Chỉ cán bộ thẩm định cấp huyện được xóa hồ sơ này.")
    else:
        check_may_edit(db, user, current["site"])
    set_actor(db, user.id)
    db.execute(text(f"DELETE FROM {kind.table} WHERE id = :id"), {"id": feature_id})
    log.info("user %s removed %s %s", user.id, kind.one[0], feature_id)
    return Saved(feature_id, current["site"]["heritage_id"] if current["site"] else None)
