"""Officials edit intangible heritage: every field, the places where it is practised
(a multipolygon, optional), the relics where it is practised (`intangible_sites`), its
festival dates (`heritage_events`, lunar month/day or a solar date) and its artisans
(`people` + `intangible_artisans`, with a title such as "Nghệ nhân Ưu tú").

Who: intangible heritage spans communes, so only district reviewers and administrators
change it (the rule of its media too); anyone else gets PermissionDenied and nothing is
written. Each write is one statement per row, recorded as a revision under the actor
(`audit.set_actor`). A new record is a draft with a new heritage identifier; a reviewer
publishes it. The public sees published ones only: their festival dates reach the
calendar and its .ics (`services.festivals`, `visibility.intangible_visible`).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.models.base import ICH_TYPES
from gis_app.services.audit import set_actor
from gis_app.services.event_dates import EVENT_FIELDS as EVENT_FIELDS  # the editor forms
from gis_app.services.event_dates import check_event
from gis_app.services.features import FULL_ACCESS_ROLES
from gis_app.services.identifiers import mint_identifier
from gis_app.services.record_fields import Field, changed, clean_text, stored, update_row, validate
from gis_app.services.site_features import check_area, find_relic

log = logging.getLogger(__name__)

Message = tuple[str, str]  # (en, vi)


class Actor(Protocol):
    id: int
    role: str


FIELDS: tuple[Field, ...] = (
    Field("name_vi", "text", ("Name (Vietnamese)", "Tên (tiếng Việt)"), 300, required=True),
    Field("name_en", "text", ("Name (English)", "Tên (tiếng Anh)"), 300),
    Field("ich_type", "choice", ("Type", "Loại hình"), required=True, choices=ICH_TYPES,
          vocab="ich_type"),
    Field("community", "text", ("Bearer community", "Cộng đồng chủ thể"), 500),
    Field("description_vi", "long_text", ("Description (Vietnamese)", "Mô tả (tiếng Việt)"),
          20000),
    Field("description_en", "long_text", ("Description (English)", "Mô tả (tiếng Anh)"),
          20000),
    Field("national_listing_decision_no", "text",
          ("National listing decision (number)", "Quyết định ghi danh quốc gia (số)"), 100),
    Field("national_listing_date", "date",
          ("National listing decision (date)", "Quyết định ghi danh quốc gia (ngày)")),
    Field("source", "text", ("Source", "Nguồn"), 500),
)

ARTISAN_FIELDS: tuple[Field, ...] = (
    Field("full_name", "text", ("Full name", "Họ và tên"), 200, required=True),
    Field("title", "text", ("Title", "Danh hiệu"), 200),
    Field("notes", "text", ("Notes (birth year, village…)", "Ghi chú (năm sinh, thôn…)"),
          1000),
)
# Titles suggested on the form (free text is kept as typed).
ARTISAN_TITLES = ("Nghệ nhân Nhân dân", "Nghệ nhân Ưu tú", "Nghệ nhân dân gian")


def check_editor(user: Any) -> None:
    """Raise PermissionDenied unless `user` is a district reviewer or an administrator."""
    if getattr(user, "role", None) not in FULL_ACCESS_ROLES:
        raise PermissionDenied(
            "Intangible heritage spans communes: only a district reviewer or an "
            "administrator may change it. Ask the district reviewer.",
            "Di sản phi vật thể liên quan nhiều xã: chỉ cán bộ thẩm định cấp huyện hoặc quản "
            "trị viên được sửa. Hãy đề nghị cán bộ thẩm định cấp huyện.")


# --- reading -----------------------------------------------------------------------------

def _row(db: Session, heritage_id: str, *, lock: bool = False) -> dict[str, Any]:
    row = db.execute(text(
        "SELECT id, heritage_id, status, " + ", ".join(f.name for f in FIELDS)
        + ", ST_AsGeoJSON(geom, 7) AS geometry FROM intangible_heritage WHERE heritage_id = :h"
        + (" FOR UPDATE" if lock else "")), {"h": heritage_id}).mappings().first()
    if row is None:
        raise RecordNotFound(f"No intangible heritage has the identifier {heritage_id}.",
                             f"Không có di sản phi vật thể nào mang mã định danh {heritage_id}.")
    return dict(row)


def record(db: Session, heritage_id: str) -> dict[str, Any]:
    """An intangible heritage for its edit page: id, heritage_id, status, `values` (the
    declared fields), `geometry` (GeoJSON or None), `sites`, `events`, `artisans`."""
    row = _row(db, heritage_id)
    return {
        "id": row["id"], "heritage_id": row["heritage_id"], "status": row["status"],
        "values": stored(FIELDS, row),
        "geometry": json.loads(row["geometry"]) if row["geometry"] else None,
        "sites": [dict(r) for r in db.execute(text("""
            SELECT s.heritage_id, s.name_vi, s.status, u.name AS unit_name
              FROM intangible_sites x JOIN sites s ON s.id = x.site_id
              LEFT JOIN admin_units u ON u.id = s.admin_unit_id
             WHERE x.intangible_id = :id ORDER BY s.name_vi"""), {"id": row["id"]}).mappings()],
        "events": [dict(r) for r in db.execute(text("""
            SELECT e.id, e.name_vi, e.name_en, e.lunar_month, e.lunar_day, e.solar_date,
                   e.duration_days, s.heritage_id AS relic, s.name_vi AS relic_name
              FROM heritage_events e LEFT JOIN sites s ON s.id = e.site_id
             WHERE e.intangible_id = :id
             ORDER BY e.lunar_month NULLS LAST, e.lunar_day, e.solar_date, e.id"""),
            {"id": row["id"]}).mappings()],
        "artisans": [dict(r) for r in db.execute(text("""
            SELECT p.id, p.full_name, p.notes, a.title
              FROM intangible_artisans a JOIN people p ON p.id = a.person_id
             WHERE a.intangible_id = :id ORDER BY p.full_name, p.id"""),
            {"id": row["id"]}).mappings()],
    }


def listing(db: Session, *, relic: str | None = None, unit_id: int | None = None,
            status: str | None = None) -> list[dict[str, Any]]:
    """Every intangible heritage (drafts too: for officials), by name, narrowed to those
    practised at relic `relic` (heritage id) or at a relic in today's commune `unit_id`,
    and to a status. Each: heritage_id, name_vi, ich_type, status, relic and event counts."""
    return [dict(r) for r in db.execute(text("""
        SELECT i.heritage_id, i.name_vi, i.name_en, i.ich_type, i.status,
               (SELECT count(*) FROM intangible_sites x WHERE x.intangible_id = i.id) AS relics,
               (SELECT count(*) FROM heritage_events e WHERE e.intangible_id = i.id) AS events
          FROM intangible_heritage i
         WHERE (CAST(:relic AS text) IS NULL OR EXISTS (
                  SELECT 1 FROM intangible_sites x JOIN sites s ON s.id = x.site_id
                   WHERE x.intangible_id = i.id AND s.heritage_id = :relic))
           AND (CAST(:unit AS integer) IS NULL OR EXISTS (
                  SELECT 1 FROM intangible_sites x JOIN sites s ON s.id = x.site_id
                   WHERE x.intangible_id = i.id AND s.admin_unit_id = :unit))
           AND (CAST(:status AS text) IS NULL OR i.status = :status)
         ORDER BY i.name_vi, i.heritage_id"""),
        {"relic": relic or None, "unit": unit_id, "status": status or None}).mappings()]


# --- the record ----------------------------------------------------------------------------

def _places(shape: BaseGeometry | None) -> tuple[bytes | None, list[Message]]:
    if shape is None:
        return None, []
    return check_area(shape, ("places practised", "nơi thực hành"))


@dataclass
class Saved:
    heritage_id: str
    fields: list[str]
    warnings: list[Message]


def create(db: Session, user: Actor, raw: Mapping[str, Any],
           places: BaseGeometry | None = None) -> Saved:
    """A new intangible heritage, as a draft with a new identifier (VN-HY-PVT-…). The
    caller commits. Raises PermissionDenied, InputError."""
    check_editor(user)
    values = validate(FIELDS, raw)
    wkb, warnings = _places(places)
    set_actor(db, user.id)
    heritage_id = mint_identifier(db, "intangible")
    columns = [f.name for f in FIELDS]
    db.execute(text(
        f"INSERT INTO intangible_heritage (heritage_id, status, geom, {', '.join(columns)}) "
        f"VALUES (:heritage_id, 'draft', ST_GeomFromWKB(:wkb, 4326), "
        + ", ".join(f"CAST(:{c} AS date)" if c == "national_listing_date" else f":{c}"
                    for c in columns) + ")"),
        {"heritage_id": heritage_id, "wkb": wkb, **values})
    log.info("user %s created intangible heritage %s", user.id, heritage_id)
    return Saved(heritage_id, [k for k, v in values.items() if v is not None], warnings)


def update(db: Session, user: Actor, heritage_id: str, raw: Mapping[str, Any],
           places: BaseGeometry | None = None, *, clear_places: bool = False) -> Saved:
    """Save the fields (and the places practised: a new shape, or none with
    `clear_places`). Only what differs is written (one UPDATE). Raises PermissionDenied,
    RecordNotFound, InputError (bad values, nothing changed)."""
    check_editor(user)
    row = _row(db, heritage_id, lock=True)
    values = changed(stored(FIELDS, row), validate(FIELDS, raw))
    wkb, warnings = _places(places)
    extra: list[str] = []
    if wkb is not None:
        same = db.scalar(text("SELECT ST_Equals(geom, ST_GeomFromWKB(:w, 4326)) FROM "
                              "intangible_heritage WHERE id = :id"), {"w": wkb, "id": row["id"]})
        if not same:
            extra.append("geom = ST_GeomFromWKB(:wkb, 4326)")
    elif clear_places and row["geometry"] is not None:
        extra.append("geom = NULL")
    if not values and not extra:
        raise InputError("Nothing was changed: change a value or the places, then save.",
                         "Không có gì thay đổi: hãy sửa một giá trị hoặc nơi thực hành rồi lưu.")
    set_actor(db, user.id)
    update_row(db, "intangible_heritage", FIELDS, row["id"], values, extra, {"wkb": wkb})
    names = list(values) + (["geom"] if extra else [])
    log.info("user %s changed intangible heritage %s: %s", user.id, heritage_id, names)
    return Saved(heritage_id, names, warnings)


def set_status(db: Session, user: Actor, heritage_id: str, status: str) -> None:
    """Publish (`published`) or take back to draft (`draft`). Raises PermissionDenied,
    RecordNotFound, InputError (already so)."""
    check_editor(user)
    if status not in ("draft", "published"):
        raise InputError("Choose publish or back to draft.",
                         "Hãy chọn công bố hoặc trở lại bản nháp.")
    row = _row(db, heritage_id, lock=True)
    if row["status"] == status:
        raise InputError(f"{heritage_id} is already {status}.",
                         f"{heritage_id} đã ở trạng thái "
                         f"{'công bố' if status == 'published' else 'bản nháp'}.")
    set_actor(db, user.id)
    db.execute(text("UPDATE intangible_heritage SET status = :s WHERE id = :id"),
               {"s": status, "id": row["id"]})
    log.info("user %s set intangible heritage %s to %s", user.id, heritage_id, status)


# --- relics where it is practised ---------------------------------------------------------

def add_site(db: Session, user: Actor, heritage_id: str, relic: str) -> str:
    """Link the relic `relic` (identifier or name, see site_features.find_relic); its
    heritage id. InputError when it is already linked."""
    check_editor(user)
    row = _row(db, heritage_id, lock=True)
    site = find_relic(db, relic)
    set_actor(db, user.id)
    added = db.execute(text("""
        INSERT INTO intangible_sites (intangible_id, site_id) VALUES (:i, :s)
        ON CONFLICT DO NOTHING"""), {"i": row["id"], "s": site["id"]}).rowcount
    if not added:
        raise InputError(f"{site['heritage_id']} ({site['name_vi']}) is already listed.",
                         f"{site['heritage_id']} ({site['name_vi']}) đã có trong danh sách.")
    return str(site["heritage_id"])


def remove_site(db: Session, user: Actor, heritage_id: str, relic: str) -> None:
    check_editor(user)
    row = _row(db, heritage_id, lock=True)
    set_actor(db, user.id)
    removed = db.execute(text("""
        DELETE FROM intangible_sites x USING sites s
         WHERE x.site_id = s.id AND x.intangible_id = :i AND s.heritage_id = :h"""),
        {"i": row["id"], "h": relic}).rowcount
    if not removed:
        raise RecordNotFound(f"{relic} is not listed for {heritage_id}.",
                             f"{relic} không có trong danh sách của {heritage_id}.")


# --- festival dates ------------------------------------------------------------------------

def _event_values(db: Session, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A festival date from the form (see `check_event`), optionally with the relic
    where it is held."""
    values = check_event(raw)
    relic = clean_text(raw.get("relic"))
    values["site_id"] = find_relic(db, relic)["id"] if relic else None
    return values


EVENT_COLUMNS = ("name_vi", "name_en", "lunar_month", "lunar_day", "solar_date",
                 "duration_days", "site_id")


def add_event(db: Session, user: Actor, heritage_id: str, raw: Mapping[str, Any]) -> int:
    """Add a festival date; its id. Raises PermissionDenied, RecordNotFound, InputError."""
    check_editor(user)
    row = _row(db, heritage_id, lock=True)
    values = _event_values(db, raw)
    set_actor(db, user.id)
    return int(db.execute(text("""
        INSERT INTO heritage_events (intangible_id, name_vi, name_en, lunar_month, lunar_day,
                                     solar_date, duration_days, site_id)
        VALUES (:i, :name_vi, :name_en, :lunar_month, :lunar_day, CAST(:solar_date AS date),
                :duration_days, :site_id) RETURNING id"""),
        {"i": row["id"], **values}).scalar_one())


def _event(db: Session, heritage_id: str, event_id: int) -> dict[str, Any]:
    row = _row(db, heritage_id, lock=True)
    event = db.execute(text("""
        SELECT id, name_vi, name_en, lunar_month, lunar_day, solar_date, duration_days,
               site_id FROM heritage_events WHERE id = :e AND intangible_id = :i FOR UPDATE"""),
        {"e": event_id, "i": row["id"]}).mappings().first()
    if event is None:
        raise RecordNotFound(f"{heritage_id} has no festival date #{event_id}.",
                             f"{heritage_id} không có ngày lễ hội số {event_id}.")
    return dict(event)


def update_event(db: Session, user: Actor, heritage_id: str, event_id: int,
                 raw: Mapping[str, Any]) -> list[str]:
    """Change a festival date; the names of the changed columns."""
    check_editor(user)
    event = _event(db, heritage_id, event_id)
    values = _event_values(db, raw)
    before = {c: (event[c].isoformat() if c == "solar_date" and event[c] else event[c])
              for c in EVENT_COLUMNS}
    diff = changed(before, values)
    if not diff:
        raise InputError("Nothing was changed in this festival date.",
                         "Ngày lễ hội này không có gì thay đổi.")
    set_actor(db, user.id)
    db.execute(text("""
        UPDATE heritage_events SET name_vi = :name_vi, name_en = :name_en,
               lunar_month = :lunar_month, lunar_day = :lunar_day,
               solar_date = CAST(:solar_date AS date), duration_days = :duration_days,
               site_id = :site_id
         WHERE id = :e"""), {"e": event_id, **values})
    return list(diff)


def remove_event(db: Session, user: Actor, heritage_id: str, event_id: int) -> None:
    check_editor(user)
    _event(db, heritage_id, event_id)
    set_actor(db, user.id)
    db.execute(text("DELETE FROM heritage_events WHERE id = :e"), {"e": event_id})


# --- artisans ------------------------------------------------------------------------------

def add_artisan(db: Session, user: Actor, heritage_id: str, raw: Mapping[str, Any]) -> int:
    """Record an artisan (a new person) of the heritage with a title; the person's id."""
    check_editor(user)
    row = _row(db, heritage_id, lock=True)
    values = validate(ARTISAN_FIELDS, raw)
    set_actor(db, user.id)
    person_id = int(db.execute(text("""
        INSERT INTO people (full_name, roles, notes) VALUES (:n, 'artisan', :notes)
        RETURNING id"""), {"n": values["full_name"], "notes": values["notes"]}).scalar_one())
    db.execute(text("INSERT INTO intangible_artisans (intangible_id, person_id, title) "
                    "VALUES (:i, :p, :t)"), {"i": row["id"], "p": person_id,
                                             "t": values["title"]})
    return person_id


def _artisan(db: Session, heritage_id: str, person_id: int) -> dict[str, Any]:
    row = _row(db, heritage_id, lock=True)
    found = db.execute(text("""
        SELECT p.id, p.full_name, p.notes, a.title, a.intangible_id
          FROM intangible_artisans a JOIN people p ON p.id = a.person_id
         WHERE a.intangible_id = :i AND a.person_id = :p"""),
        {"i": row["id"], "p": person_id}).mappings().first()
    if found is None:
        raise RecordNotFound(f"Person #{person_id} is not an artisan of {heritage_id}.",
                             f"Người số {person_id} không phải nghệ nhân của {heritage_id}.")
    return dict(found)


def update_artisan(db: Session, user: Actor, heritage_id: str, person_id: int,
                   raw: Mapping[str, Any]) -> list[str]:
    """Change an artisan's name, title or notes; the changed fields."""
    check_editor(user)
    artisan = _artisan(db, heritage_id, person_id)
    values = validate(ARTISAN_FIELDS, raw)
    diff = changed(artisan, values)
    if not diff:
        raise InputError("Nothing was changed for this artisan.",
                         "Thông tin nghệ nhân này không có gì thay đổi.")
    set_actor(db, user.id)
    if "full_name" in diff or "notes" in diff:
        db.execute(text("UPDATE people SET full_name = :n, notes = :notes WHERE id = :p"),
                   {"n": values["full_name"], "notes": values["notes"], "p": person_id})
    if "title" in diff:
        db.execute(text("UPDATE intangible_artisans SET title = :t "
                        "WHERE intangible_id = :i AND person_id = :p"),
                   {"t": values["title"], "i": artisan["intangible_id"], "p": person_id})
    return list(diff)


def remove_artisan(db: Session, user: Actor, heritage_id: str, person_id: int) -> None:
    """No longer list the person as an artisan of this heritage (the person stays)."""
    check_editor(user)
    artisan = _artisan(db, heritage_id, person_id)
    set_actor(db, user.id)
    db.execute(text("DELETE FROM intangible_artisans WHERE intangible_id = :i "
                    "AND person_id = :p"), {"i": artisan["intangible_id"], "p": person_id})
