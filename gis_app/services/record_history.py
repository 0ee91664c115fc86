"""The history of a landscape, a facility or an intangible heritage: who changed what and
when, field by field, with each geometry change (before/after) for a small map.

Built on `revisions` like a relic's history (`services.history`, whose event and change
types and value formatting are reused): revisions written by one transaction form one
event. An intangible heritage's history gathers its own row, its festival dates, the
relics where it is practised and its artisans (links and the people's names).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.clock import VIETNAM_TIME
from gis_app.errors import PermissionDenied, RecordNotFound
from gis_app.numbers import DASH
from gis_app.services import intangible, site_features
from gis_app.services.features import FULL_ACCESS_ROLES
from gis_app.services.history import IGNORED, Change, Event, FieldChange, _date, _Names, _value
from gis_app.services.proposals import may_edit
from gis_app.services.record_fields import Field

# Labels (en, vi) and vocabularies of the tables these histories read.
LABELS: dict[str, dict[str, Field]] = {
    "landscapes": {f.name: f for f in site_features.KINDS["landscapes"].fields},
    "facilities": {f.name: f for f in site_features.KINDS["facilities"].fields},
    "intangible_heritage": {f.name: f for f in intangible.FIELDS},
    "heritage_events": {f.name: f for f in intangible.EVENT_FIELDS},
    "intangible_artisans": {"title": intangible.ARTISAN_FIELDS[1]},
    "people": {f.name: f for f in intangible.ARTISAN_FIELDS},
}
EXTRA_LABELS: dict[str, tuple[str, str]] = {
    "geom": ("Geometry", "Hình dạng"), "status": ("Status", "Trạng thái"),
    "site_id": ("Relic", "Di tích"),
}
SKIPPED = IGNORED | {"intangible_id", "person_id", "heritage_id", "roles",
                     "organisation_id", "admin_unit_id"}

TEXTS: dict[str, tuple[str, str]] = {
    "created": ("Created", "Tạo mới"), "edited": ("Edited", "Sửa"),
    "deleted": ("Removed", "Đã xóa"), "published": ("Published", "Công bố"),
    "unpublished": ("Returned to draft", "Trở lại bản nháp"),
    "event_added": ("Festival date added: {name}", "Thêm ngày lễ hội: {name}"),
    "event_changed": ("Festival date changed: {name}", "Sửa ngày lễ hội: {name}"),
    "event_removed": ("Festival date removed: {name}", "Xóa ngày lễ hội: {name}"),
    "site_added": ("Practised at relic {hid}", "Thực hành tại di tích {hid}"),
    "site_removed": ("No longer listed at relic {hid}", "Không còn ghi tại di tích {hid}"),
    "artisan_added": ("Artisan added: {name}", "Thêm nghệ nhân: {name}"),
    "artisan_changed": ("Artisan changed: {name}", "Sửa nghệ nhân: {name}"),
    "artisan_removed": ("Artisan removed: {name}", "Bỏ nghệ nhân: {name}"),
}


def _t(key: str, lang: str, **values: str) -> str:
    en, vi = TEXTS[key]
    return (vi if lang == "vi" else en).format(**values)


@dataclass
class RecordHistory:
    title: str
    identifier: str  # heritage id, or "#id"
    events: list[Event]
    geometries: list[dict[str, Any]]


REVISIONS = """
    SELECT r.id, r.table_name, r.row_id, r.action, r.actor_id, r.changed_at, r.before,
           r.after, r.import_id, coalesce(u.display_name, u.username) AS actor,
           CASE WHEN (r.before ->> 'geom') IS DISTINCT FROM (r.after ->> 'geom') THEN
             ST_AsGeoJSON(CAST(r.before ->> 'geom' AS geometry), 7) END AS before_geo,
           CASE WHEN (r.before ->> 'geom') IS DISTINCT FROM (r.after ->> 'geom') THEN
             ST_AsGeoJSON(CAST(r.after ->> 'geom' AS geometry), 7) END AS after_geo
      FROM revisions r LEFT JOIN users u ON u.id = r.actor_id
     WHERE {where}
     ORDER BY r.changed_at DESC, r.id DESC"""


def _field_text(table: str, key: str, value: Any, lang: str, names: _Names) -> str:
    f = LABELS.get(table, {}).get(key)
    if value in (None, "", []):
        return DASH
    if f is not None and f.vocab:
        return vocab.label(f.vocab, str(value), lang)
    if f is not None and f.kind == "date" or key == "solar_date":
        return _date(value)
    if key == "status":
        return vocab.label("record_status", str(value), lang)
    return _value(table, key, value, lang, names)


def _label(table: str, key: str, lang: str) -> str:
    f = LABELS.get(table, {}).get(key)
    if f is not None:
        return f.text(lang)
    pair = EXTRA_LABELS.get(key)
    return (pair[1] if lang == "vi" else pair[0]) if pair else key


def _fields(table: str, before: dict[str, Any], after: dict[str, Any], lang: str,
            names: _Names) -> list[FieldChange]:
    order = list(LABELS.get(table, {})) + sorted(set(before) | set(after))
    out = []
    for key in dict.fromkeys(order):
        if key in SKIPPED or key == "geom" or before.get(key) == after.get(key):
            continue
        out.append(FieldChange(_label(table, key, lang),
                               _field_text(table, key, before.get(key), lang, names),
                               _field_text(table, key, after.get(key), lang, names), key))
    return out


def _summary(row: dict[str, Any], main: str, lang: str, names: _Names,
             people: dict[int, str]) -> str:
    table, action = row["table_name"], row["action"]
    current = row["after"] or row["before"] or {}
    if table == main:
        was, now = (row["before"] or {}).get("status"), (row["after"] or {}).get("status")
        if action == "update" and was != now and now in ("published", "draft"):
            return _t("published" if now == "published" else "unpublished", lang)
        return _t({"insert": "created", "delete": "deleted"}.get(action, "edited"), lang)
    suffix = {"insert": "added", "delete": "removed"}.get(action, "changed")
    if table == "heritage_events":
        return _t(f"event_{suffix}", lang, name=str(current.get("name_vi") or ""))
    if table == "intangible_sites":
        hid = names.sites.get(int(current["site_id"]), str(current["site_id"]))
        return _t("site_removed" if action == "delete" else "site_added", lang, hid=hid)
    if table == "intangible_artisans":
        name = people.get(int(current["person_id"]), str(current["person_id"]))
        return _t(f"artisan_{suffix}", lang, name=name)
    return _t("artisan_changed", lang, name=str(current.get("full_name") or ""))


def _build(db: Session, rows: list[dict[str, Any]], main: str, lang: str
           ) -> tuple[list[Event], list[dict[str, Any]]]:
    names = _Names(db, [r["before"] for r in rows] + [r["after"] for r in rows])
    person_ids = {int((r["after"] or r["before"])["person_id"]) for r in rows
                  if r["table_name"] == "intangible_artisans"}
    people = dict(db.execute(text("SELECT id, full_name FROM people WHERE id = ANY(:ids)"),
                             {"ids": list(person_ids)}).all())
    events: list[Event] = []
    geometries: list[dict[str, Any]] = []
    last: tuple[Any, ...] | None = None
    for row in rows:
        key = (row["changed_at"], row["actor_id"], row["import_id"])
        if key != last:
            last = key
            events.append(Event(at=row["changed_at"].astimezone(VIETNAM_TIME),
                                actor=row["actor"], import_id=row["import_id"],
                                headline=[], changes=[]))
        fields = (_fields(row["table_name"], row["before"] or {}, row["after"] or {}, lang,
                          names) if row["action"] == "update" else [])
        change = Change(table=row["table_name"], row_id=row["row_id"], action=row["action"],
                        summary=_summary(row, main, lang, names, people), fields=fields)
        if row["before_geo"] or row["after_geo"]:
            change.shapes = (row["before_geo"], row["after_geo"])
            if row["action"] == "update":
                fields.insert(0, FieldChange(_label(main, "geom", lang),
                                             _geom_text(row["before_geo"], lang),
                                             _geom_text(row["after_geo"], lang), "geom"))
        events[-1].changes.append(change)
    for event in events:
        event.changes.reverse()
        for change in event.changes:
            if change.shapes[0] or change.shapes[1]:
                change.geometry = len(geometries)
                geometries.append({"label": f"{event.at:%d/%m/%Y %H:%M} – {change.summary}",
                                   "before": json.loads(change.shapes[0] or "null"),
                                   "after": json.loads(change.shapes[1] or "null")})
        event.headline = list(dict.fromkeys(c.summary for c in event.changes))
    return events, geometries


def _geom_text(geo: str | None, lang: str) -> str:
    if not geo:
        return DASH
    kind = json.loads(geo).get("type", "")
    return {"Point": ("point", "điểm"), "MultiPolygon": ("area", "vùng"),
            "Polygon": ("area", "vùng")}.get(kind, (kind, kind))[1 if lang == "vi" else 0]


def feature_history(db: Session, user: Any, kind_name: str, feature_id: int,
                    lang: str = "vi") -> RecordHistory:
    """The history of landscape or facility `feature_id` (still present or removed),
    newest first. Officials whose scope covers its relic today may read it (reviewers
    and admins always). Raises RecordNotFound, PermissionDenied."""
    kind = site_features.kind_of(kind_name)
    rows = [dict(r) for r in db.execute(text(REVISIONS.format(
        where="r.table_name = :t AND r.row_id = CAST(:id AS text)")),
        {"t": kind.table, "id": feature_id}).mappings()]
    if not rows:
        raise RecordNotFound(f"There is no {kind.one[0]} #{feature_id}.",
                             f"Không có {kind.one[1]} số {feature_id}.")
    latest = rows[0]["after"] or rows[0]["before"] or {}
    site_id = latest.get("site_id")
    if getattr(user, "role", None) not in FULL_ACCESS_ROLES and (
            site_id is None or not may_edit(db, user, int(site_id))):
        raise PermissionDenied("This history is open to officials whose communes include "
                               "the relic.",
                               "Lịch sử này chỉ dành cho cán bộ phụ trách xã có di tích.")
    events, geometries = _build(db, rows, kind.table, lang)
    return RecordHistory(title=str(latest.get("name_vi") or ""), identifier=f"#{feature_id}",
                         events=events, geometries=geometries)


def intangible_history(db: Session, user: Any, heritage_id: str, lang: str = "vi"
                       ) -> RecordHistory:
    """The history of an intangible heritage with its festival dates, relics and
    artisans, newest first. District reviewers and admins only."""
    intangible.check_editor(user)
    row = intangible.record(db, heritage_id)
    person_ids = [int(p) for p in db.scalars(text("""
        SELECT DISTINCT coalesce(after ->> 'person_id', before ->> 'person_id')
          FROM revisions WHERE table_name = 'intangible_artisans'
           AND coalesce(after ->> 'intangible_id', before ->> 'intangible_id')
               = CAST(:id AS text)"""), {"id": row["id"]})]
    rows = [dict(r) for r in db.execute(text(REVISIONS.format(where="""
        (r.table_name = 'intangible_heritage' AND r.row_id = CAST(:id AS text))
        OR (r.table_name IN ('heritage_events', 'intangible_sites', 'intangible_artisans')
            AND coalesce(r.after ->> 'intangible_id', r.before ->> 'intangible_id')
                = CAST(:id AS text))
        OR (r.table_name = 'people' AND r.action = 'update'
            AND r.row_id = ANY(CAST(:people AS text[])))""")),
        {"id": row["id"], "people": [str(p) for p in person_ids]}).mappings()]
    events, geometries = _build(db, rows, "intangible_heritage", lang)
    return RecordHistory(title=str(row["values"]["name_vi"]), identifier=heritage_id,
                         events=events, geometries=geometries)
