"""A relic's history, the relic as it stood on a date, and restoring it to that date.

Everything comes from `revisions` (written by the database triggers, so no code path can
skip them): full rows before and after each change, geometries as hex EWKB, the actor
(`gis.actor_id`) and the import (`gis.import_id`). A relic's history gathers the
revisions of its `sites` row and of the rows a person reads as part of the record:
its protection zones, its communes (`site_admin_units`), its photos and documents
(`digital_records`) and its condition assessments. Revisions written by one transaction
share `changed_at` (PostgreSQL's now()) and form one event of the history. Events say
by name (display name, else username) what they were part of: the import ("Import #7 by
…, file …"), the review of a change proposal ("Proposal #12 by … approved by …", which
is the event of the changes the approval applied; "sent back by …: comment" and each
proposal made are events of their own, from `change_proposals`) and the restore
("Restored to the version of … by …").

A restore writes the relic's fields as they stood at the end of a day in Vietnam in one
UPDATE: a new revision under the acting reviewer, logged in `restores` so the history
says "restored" (history is never rewritten). Identifiers, created_at and the merge link
are never restored; a merged relic is not brought back by a restore; restoring a retired
relic to a date when it was live un-retires it and puts back the zones its retirement
ended. Its communes then follow from the restored position (`admin_units.assign_units`).

The page (web/history.py) and the CLI verbs (`records history|restore`) call these.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.clock import VIETNAM_TIME, start_of_day_in_vietnam
from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.numbers import DASH, format_number
from gis_app.services import admin_units, scopes
from gis_app.services.audit import set_actor
from gis_app.services.features import FULL_ACCESS_ROLES, OFFICIAL_ROLES
from gis_app.services.proposals import field_label

log = logging.getLogger(__name__)


class Actor(Protocol):
    id: int
    role: str


# The tables whose rows hang on a relic by `site_id` (indexed by migration 0014).
ON_SITE = ("protection_zones", "site_admin_units", "digital_records", "condition_assessments")
# Never compared nor restored: the row's identity and bookkeeping.
IGNORED = frozenset({"id", "updated_at", "created_at"})
# Not restored: identity, the merge link (only a merge sets it) and today's commune
# (it follows from the position).
NOT_RESTORED = IGNORED | {"heritage_id", "merged_into_id", "admin_unit_id"}

# Labels (vi, en) of the fields a person reads, per table.
FIELD_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "sites": {
        "name_vi": ("Tên (tiếng Việt)", "Name (Vietnamese)"),
        "name_en": ("Tên (tiếng Anh)", "Name (English)"),
        "other_names": ("Tên gọi khác", "Other names"),
        "types": ("Loại hình", "Type"),
        "rank": ("Xếp hạng", "Rank"),
        "ranking_decision_no": ("Số quyết định xếp hạng", "Ranking decision number"),
        "ranking_decision_date": ("Ngày quyết định xếp hạng", "Ranking decision date"),
        "period": ("Niên đại", "Period"),
        "materials": ("Chất liệu", "Materials"),
        "description_vi": ("Mô tả (tiếng Việt)", "Description (Vietnamese)"),
        "description_en": ("Mô tả (tiếng Anh)", "Description (English)"),
        "geom": ("Vị trí", "Position"),
        "admin_unit_id": ("Xã/phường hiện nay", "Commune today"),
        "custodian_org_id": ("Tổ chức quản lý", "Custodian"),
        "status": ("Trạng thái", "Status"),
        "sensitive": ("Không công khai (nhạy cảm)", "Sensitive (not public)"),
        "licence": ("Giấy phép", "Licence"),
        "source": ("Nguồn", "Source"),
        "accuracy": ("Độ chính xác", "Accuracy"),
        "accuracy_note": ("Ghi chú độ chính xác", "Accuracy note"),
        "opening_hours_vi": ("Giờ mở cửa (tiếng Việt)", "Opening hours (Vietnamese)"),
        "opening_hours_en": ("Giờ mở cửa (tiếng Anh)", "Opening hours (English)"),
        "survey_code": ("Mã khảo sát", "Survey code"),
        "retired_on": ("Ngày hủy", "Retired on"),
        "retired_reason": ("Lý do hủy", "Reason for retiring"),
        "retired_decision": ("Quyết định hủy", "Retirement decision"),
        "merged_into_id": ("Hợp nhất vào", "Merged into"),
    },
    "protection_zones": {
        "zone": ("Khu vực", "Zone"),
        "geom": ("Ranh giới", "Boundary"),
        "decision_no": ("Số quyết định", "Decision number"),
        "decision_date": ("Ngày quyết định", "Decision date"),
        "valid_from": ("Hiệu lực từ", "In force from"),
        "valid_to": ("Hiệu lực đến", "In force until"),
        "source": ("Nguồn", "Source"),
        "accuracy": ("Độ chính xác", "Accuracy"),
    },
    "site_admin_units": {
        "admin_unit_id": ("Đơn vị hành chính", "Administrative unit"),
        "valid_from": ("Từ ngày", "From"),
        "valid_to": ("Đến ngày", "Until"),
    },
    "digital_records": {
        "uri": ("Tệp", "File"),
        "metadata": ("Chú thích", "Caption"),
        "credit": ("Tác giả", "Credit"),
        "licence": ("Giấy phép", "Licence"),
        "media_type": ("Loại tệp", "File type"),
        "position": ("Thứ tự", "Order"),
        "approved_at": ("Duyệt lúc", "Approved at"),
        "approved_by": ("Người duyệt", "Approved by"),
        "removed_at": ("Gỡ lúc", "Removed at"),
        "removed_by": ("Người gỡ", "Removed by"),
        "removed_reason": ("Lý do gỡ", "Reason for removal"),
    },
    "condition_assessments": {
        "assessed_on": ("Ngày đánh giá", "Assessed on"),
        "overall": ("Tình trạng chung", "Overall condition"),
    },
}
# Fields whose codes have vocabulary labels.
VOCAB_OF = {"rank": "rank", "types": "relic_type", "status": "record_status",
            "accuracy": "accuracy", "zone": "zone", "overall": "condition"}
DATE_FIELDS = frozenset({"ranking_decision_date", "retired_on", "decision_date", "valid_from",
                         "valid_to", "assessed_on"})

TEXTS: dict[str, tuple[str, str]] = {
    "created": ("Tạo mới", "Created"),
    "deleted": ("Đã xóa", "Deleted"),
    "edited": ("Sửa", "Edited"),
    "published": ("Công bố", "Published"),
    "unpublished": ("Trở lại bản nháp", "Returned to draft"),
    "retired": ("Hủy di tích", "Retired"),
    "unretired": ("Bỏ hủy: di tích hoạt động trở lại", "Un-retired: the relic is live again"),
    "merged": ("Hợp nhất vào {hid}", "Merged into {hid}"),
    "restored_by": ("Khôi phục về phiên bản ngày {d}, do {who} thực hiện",
                    "Restored to the version of {d} by {who}"),
    "restored_before_by": ("Khôi phục về hồ sơ ngay trước thay đổi lúc {at}, do {who} thực "
                           "hiện", "Restored to the record just before the change of {at} "
                           "by {who}"),
    "import": ("Lần nhập #{n} của {who}, tệp {file}", "Import #{n} by {who}, file {file}"),
    "proposal_approved": ("Đề xuất #{n} của {author} được {reviewer} duyệt",
                          "Proposal #{n} by {author} approved by {reviewer}"),
    "proposal_returned": ("Đề xuất #{n} của {author} bị {reviewer} trả lại: {comment}",
                          "Proposal #{n} by {author} sent back by {reviewer}: {comment}"),
    "proposal_made": ("Đề xuất #{n} của {author}: {fields}",
                      "Proposal #{n} by {author}: {fields}"),
    "proposal_pending": ("chờ duyệt", "waiting for review"),
    "proposal_withdrawn": ("đã rút lại", "withdrawn"),
    "nobody": ("không rõ", "unknown"),
    "zone_added": ("Thêm {zone}", "{zone} added"),
    "zone_changed": ("Sửa {zone}", "{zone} changed"),
    "zone_removed": ("Xóa {zone}", "{zone} removed"),
    "unit_added": ("Thuộc {unit} (từ {d})", "In {unit} (from {d})"),
    "unit_changed": ("Sửa thời gian thuộc {unit}", "Dates in {unit} changed"),
    "unit_removed": ("Không còn thuộc {unit}", "No longer in {unit}"),
    "photo_added": ("Thêm ảnh/tài liệu: {name}", "Photo or document added: {name}"),
    "photo_changed": ("Sửa ảnh/tài liệu: {name}", "Photo or document changed: {name}"),
    "photo_removed": ("Xóa ảnh/tài liệu: {name}", "Photo or document removed: {name}"),
    "assessment_added": ("Đánh giá hiện trạng ngày {d}: {overall}",
                         "Condition assessment of {d}: {overall}"),
    "moved_in": ("{what} chuyển từ di tích {hid} sang (hợp nhất)",
                 "{what} moved here from relic {hid} (merge)"),
    "moved_out": ("{what} chuyển sang di tích {hid} (hợp nhất)",
                  "{what} moved to relic {hid} (merge)"),
    "photo": ("Ảnh/tài liệu", "Photo or document"),
    "assessment": ("Phiếu đánh giá hiện trạng ngày {d}", "Condition assessment of {d}"),
    "moved_m": ("dời {m} m", "moved {m} m"),
    "area": ("diện tích {a} m²", "area {a} m²"),
    "yes": ("có", "yes"),
    "no": ("không", "no"),
    "relic": ("Di tích", "Relic"),
}


def _t(key: str, lang: str, **values: str) -> str:
    vi, en = TEXTS[key]
    return (vi if lang == "vi" else en).format(**values)


@dataclass
class FieldChange:
    label: str
    before: str
    after: str
    field: str = ""


@dataclass
class Change:
    """One row's change inside an event: a summary line and its field changes."""

    table: str
    row_id: str
    action: str  # insert, update, delete
    summary: str
    fields: list[FieldChange] = field(default_factory=list)
    geometry: int | None = None  # index into History.geometries
    note: str = ""
    # The row's status before and after (relics only), and what its words need.
    status: tuple[str | None, str | None] = (None, None)
    words: dict[str, str] = field(default_factory=dict)
    shapes: tuple[str | None, str | None] = (None, None)  # GeoJSON before, after


@dataclass
class Event:
    """The changes one transaction made to the record: when (Vietnam's time), who."""

    at: datetime
    actor: str | None
    import_id: int | None
    headline: list[str]
    changes: list[Change]
    restored_as_of: date | None = None
    actor_id: int | None = None
    # What the event was part of, in words with names: the import (number, who, file),
    # the review of a proposal (number, author, reviewer), the restore (date, who).
    context: list[str] = field(default_factory=list)


@dataclass
class History:
    heritage_id: str
    site_id: int
    name_vi: str
    status: str
    events: list[Event]
    # Geometry changes for the map: label, before and after as GeoJSON geometries.
    geometries: list[dict[str, Any]]


@dataclass
class Snapshot:
    """The relic as it stood at the end of `on` in Vietnam."""

    on: date
    row: dict[str, Any]
    fields: list[tuple[str, str]]
    zones: list[dict[str, str]]
    communes: list[dict[str, str]]
    photos: list[str]
    assessments: list[str]


@dataclass
class Restored:
    heritage_id: str
    as_of: date
    fields: list[str]  # labels of the fields put back
    unretired: bool
    zones_reopened: int


# --- access -------------------------------------------------------------------------

def check_can_view(db: Session, user: Any, heritage_id: str) -> dict[str, Any]:
    """The relic (id, heritage_id, name_vi, status) when `user` may read its history:
    district reviewers and admins always, a commune editor when their scope covered the
    relic on some date. Raises RecordNotFound, PermissionDenied."""
    site = db.execute(text("SELECT id, heritage_id, name_vi, status FROM sites "
                           "WHERE heritage_id = :h"), {"h": heritage_id}).mappings().first()
    if site is None:
        raise RecordNotFound(f"No relic has the identifier {heritage_id}.",
                             f"Không có di tích nào mang mã định danh {heritage_id}.")
    role = getattr(user, "role", None)
    allowed = role in OFFICIAL_ROLES and db.scalar(
        text(f"SELECT {scopes.covers_site_ever(':site')}"),
        {"site": site["id"], **scopes.bind(user)})
    if not allowed:
        raise PermissionDenied(
            "The history of this relic is open to officials whose communes include it.",
            "Lịch sử của di tích này chỉ dành cho cán bộ phụ trách xã/phường có di tích.")
    return dict(site)


def _check_reviewer(actor: Actor) -> None:
    if getattr(actor, "role", None) not in FULL_ACCESS_ROLES:
        raise PermissionDenied("Only a district reviewer or an administrator may restore a "
                               "relic to a past version.",
                               "Chỉ cán bộ thẩm định cấp huyện hoặc quản trị viên được khôi "
                               "phục di tích về phiên bản cũ.")


# --- formatting ---------------------------------------------------------------------

class _Names:
    """Names of the units, organisations and relics that revisions refer to by id."""

    def __init__(self, db: Session, rows: Iterable[dict[str, Any] | None]) -> None:
        units: set[int] = set()
        orgs: set[int] = set()
        sites: set[int] = set()
        for row in rows:
            if not row:
                continue
            for key, bucket in (("admin_unit_id", units), ("custodian_org_id", orgs),
                                ("merged_into_id", sites), ("site_id", sites)):
                if row.get(key) is not None:
                    bucket.add(int(row[key]))
        self.units = dict(db.execute(text("SELECT id, name FROM admin_units "
                                          "WHERE id = ANY(:ids)"), {"ids": list(units)}).all())
        self.orgs = dict(db.execute(text("SELECT id, name FROM organisations "
                                         "WHERE id = ANY(:ids)"), {"ids": list(orgs)}).all())
        self.sites = dict(db.execute(text("SELECT id, heritage_id FROM sites "
                                          "WHERE id = ANY(:ids)"), {"ids": list(sites)}).all())


def _date(value: str | None) -> str:
    if not value:
        return DASH
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def _value(table: str, name: str, value: Any, lang: str, names: _Names) -> str:
    """A stored value as a person reads it in `lang`."""
    if value is None or value == "" or value == []:
        return DASH
    if name in VOCAB_OF:
        codes = value if isinstance(value, list) else [value]
        return ", ".join(vocab.label(VOCAB_OF[name], str(c), lang) for c in codes)
    if name in DATE_FIELDS:
        return _date(value)
    if isinstance(value, bool):
        return _t("yes" if value else "no", lang)
    if name == "admin_unit_id":
        return names.units.get(int(value), str(value))
    if name == "custodian_org_id":
        return names.orgs.get(int(value), str(value))
    if name in ("merged_into_id", "site_id"):
        return names.sites.get(int(value), str(value))
    if name == "metadata" and isinstance(value, dict):
        caption = value.get("caption_vi" if lang == "vi" else "caption_en") or \
            value.get("caption_vi") or value.get("title")
        return str(caption) if caption else DASH
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, (int, float)):
        return format_number(value, lang)
    return str(value)


def _changed_fields(table: str, before: dict[str, Any], after: dict[str, Any], lang: str,
                    names: _Names) -> list[FieldChange]:
    """Field by field what differs between two full rows (geometry aside), in the order
    of the table's labels, unlabelled fields after."""
    labels = FIELD_LABELS.get(table, {})
    keys = [k for k in labels if k in before or k in after]
    keys += sorted(k for k in set(before) | set(after) if k not in labels)
    out = []
    for key in keys:
        if key in IGNORED or key == "geom" or before.get(key) == after.get(key):
            continue
        label = labels.get(key)
        out.append(FieldChange(label=(label[0] if lang == "vi" else label[1]) if label else key,
                               before=_value(table, key, before.get(key), lang, names),
                               after=_value(table, key, after.get(key), lang, names),
                               field=key))
    return out


def _label(table: str, key: str, lang: str) -> str:
    pair = FIELD_LABELS.get(table, {}).get(key)
    return (pair[0] if lang == "vi" else pair[1]) if pair else key


def _coords(geo: str | None, lang: str) -> str:
    if not geo:
        return DASH
    point = json.loads(geo)
    if point.get("type") != "Point":
        return point.get("type", DASH)
    lon, lat = point["coordinates"]
    return f"{format_number(lat, lang, 6)}; {format_number(lon, lang, 6)}"


# --- history ------------------------------------------------------------------------

RELIC_REVISIONS = """
    SELECT r.id, r.table_name, r.row_id, r.action, r.actor_id, r.changed_at, r.before,
           r.after, r.import_id, coalesce(u.display_name, u.username) AS actor,
           g.before_geo, g.after_geo, g.moved_m, g.area_before, g.area_after
      FROM revisions r
      LEFT JOIN users u ON u.id = r.actor_id
      LEFT JOIN LATERAL (
        SELECT ST_AsGeoJSON(b, 7) AS before_geo, ST_AsGeoJSON(a, 7) AS after_geo,
               CASE WHEN r.table_name = 'sites'
                    THEN ST_Distance(CAST(b AS geography), CAST(a AS geography)) END AS moved_m,
               CASE WHEN r.table_name = 'protection_zones'
                    THEN ST_Area(CAST(b AS geography)) END AS area_before,
               CASE WHEN r.table_name = 'protection_zones'
                    THEN ST_Area(CAST(a AS geography)) END AS area_after
          FROM (SELECT CAST(r.before ->> 'geom' AS geometry) AS b,
                       CAST(r.after ->> 'geom' AS geometry) AS a) x
         WHERE r.table_name IN ('sites', 'protection_zones')
           AND (r.before ->> 'geom') IS DISTINCT FROM (r.after ->> 'geom')) g ON true
     WHERE (r.table_name = 'sites' AND r.row_id = CAST(:site AS text))
        OR (r.table_name IN ('protection_zones', 'site_admin_units', 'digital_records',
                             'condition_assessments')
            AND r.after ->> 'site_id' = CAST(:site AS text))
        OR (r.table_name IN ('protection_zones', 'site_admin_units', 'digital_records',
                             'condition_assessments')
            AND r.before ->> 'site_id' = CAST(:site AS text))
     ORDER BY r.changed_at DESC, r.id DESC"""


def relic_history(db: Session, user: Any, heritage_id: str, lang: str = "vi") -> History:
    """The history of relic `heritage_id`, newest first, in `lang` ('vi' or 'en'), for
    `user` (see `check_can_view`; None: no check, e.g. the CLI)."""
    site = _find(db, heritage_id) if user is None else check_can_view(db, user, heritage_id)
    rows = [dict(r) for r in db.execute(text(RELIC_REVISIONS),
                                        {"site": site["id"]}).mappings()]
    restores = {r["restored_at"]: r for r in db.execute(text(RESTORES),
                                                         {"s": str(site["id"])}).mappings()}
    names = _Names(db, [r["before"] for r in rows] + [r["after"] for r in rows])
    events: list[Event] = []
    geometries: list[dict[str, Any]] = []
    last_key: tuple[Any, ...] | None = None
    for row in rows:
        key = (row["changed_at"], row["actor_id"], row["import_id"])
        if key != last_key:
            last_key = key
            restored = restores.get(row["changed_at"])
            events.append(Event(at=row["changed_at"].astimezone(VIETNAM_TIME),
                                actor=row["actor"], import_id=row["import_id"], headline=[],
                                changes=[], actor_id=row["actor_id"],
                                restored_as_of=restored["as_of"] if restored else None))
            if restored and restored["before_change"] is not None:
                events[-1].context.append(_t(
                    "restored_before_by", lang, at=restored["before_change"].astimezone(
                        VIETNAM_TIME).strftime("%d/%m/%Y %H:%M"),
                    who=restored["actor"] or _t("nobody", lang)))
            elif restored:
                events[-1].context.append(_t(
                    "restored_by", lang, d=restored["as_of"].strftime("%d/%m/%Y"),
                    who=restored["actor"] or _t("nobody", lang)))
        event = events[-1]
        change = _describe(row, site["id"], lang, names)
        change.shapes = (row["before_geo"], row["after_geo"])
        event.changes.append(change)
    for event in events:
        event.changes.reverse()  # within an event, in the order they were made
        _fold_creations(event)
        for change in event.changes:
            if change.shapes[0] or change.shapes[1]:
                change.geometry = len(geometries)
                geometries.append({"label": f"{event.at:%d/%m/%Y %H:%M} – {change.summary}",
                                   "before": json.loads(change.shapes[0] or "null"),
                                   "after": json.loads(change.shapes[1] or "null")})
    events = _with_reviews_and_imports(db, site["id"], events, lang)
    for event in events:
        event.headline = event.context + _headline(event, lang)
    return History(heritage_id=site["heritage_id"], site_id=site["id"],
                   name_vi=site["name_vi"], status=site["status"], events=events,
                   geometries=geometries)


RESTORES = """
    SELECT x.restored_at, x.as_of, x.before_change,
           coalesce(u.display_name, u.username) AS actor
      FROM restores x LEFT JOIN users u ON u.id = x.actor_id
     WHERE x.table_name = 'sites' AND x.row_id = :s"""

IMPORTS = """
    SELECT i.id, i.file_name, coalesce(u.display_name, u.username) AS actor
      FROM imports i LEFT JOIN users u ON u.id = i.actor_id WHERE i.id = ANY(:ids)"""

PROPOSALS = """
    SELECT p.id, p.status, p.created_at, p.reviewed_at, p.comment, p.changes,
           p.author_id, p.reviewer_id,
           coalesce(a.display_name, a.username) AS author,
           coalesce(r.display_name, r.username) AS reviewer
      FROM change_proposals p
      LEFT JOIN users a ON a.id = p.author_id
      LEFT JOIN users r ON r.id = p.reviewer_id
     WHERE p.record_kind = 'site' AND p.record_id = :s
     ORDER BY p.id"""


def _with_reviews_and_imports(db: Session, site_id: int, events: list[Event],
                              lang: str) -> list[Event]:
    """The events with their imports named (number, who, file) and the relic's change
    proposals as events of their own: each proposal made (by whom, which fields), and
    its review: an approval names itself on the event of the changes it applied (same
    transaction, same moment), a sending back is an event with the reviewer's comment.
    Newest first."""
    nobody = _t("nobody", lang)
    imports = {r["id"]: r for r in db.execute(text(IMPORTS), {"ids": sorted(
        {e.import_id for e in events if e.import_id})}).mappings()}
    for event in events:
        run = imports.get(event.import_id)
        if run is not None:
            event.context.insert(0, _t("import", lang, n=str(run["id"]),
                                       who=run["actor"] or nobody, file=run["file_name"]))
    by_moment = {(e.at, e.actor_id): e for e in events}
    extra: list[Event] = []
    for p in db.execute(text(PROPOSALS), {"s": site_id}).mappings():
        author = p["author"] or nobody
        fields = ", ".join(_proposal_field(name, lang) for name in p["changes"])
        made = _t("proposal_made", lang, n=str(p["id"]), author=author, fields=fields)
        if p["status"] in ("pending", "withdrawn"):
            made += f" ({_t('proposal_' + p['status'], lang)})"
        extra.append(Event(at=p["created_at"].astimezone(VIETNAM_TIME), actor=p["author"],
                           import_id=None, headline=[], changes=[], actor_id=p["author_id"],
                           context=[made]))
        if p["reviewed_at"] is None:
            continue
        at = p["reviewed_at"].astimezone(VIETNAM_TIME)
        if p["status"] == "approved":
            words = _t("proposal_approved", lang, n=str(p["id"]), author=author,
                       reviewer=p["reviewer"] or nobody)
            applied = by_moment.get((at, p["reviewer_id"]))
            if applied is not None:
                applied.context.append(words)
                continue
        else:
            words = _t("proposal_returned", lang, n=str(p["id"]), author=author,
                       reviewer=p["reviewer"] or nobody, comment=p["comment"] or DASH)
        extra.append(Event(at=at, actor=p["reviewer"], import_id=None, headline=[],
                           changes=[], actor_id=p["reviewer_id"], context=[words]))
    return sorted(events + extra, key=lambda e: e.at, reverse=True)


def _proposal_field(name: str, lang: str) -> str:
    try:
        return field_label(name, lang)
    except KeyError:
        return name


def _fold_creations(event: Event) -> None:
    """A row created and then completed in the same transaction (an import assigning
    communes, say) reads as created: its later updates in the event are dropped (the
    creation's own row is the first state; the next event compares with the last)."""
    created: set[tuple[str, str]] = set()
    kept = []
    for change in event.changes:
        key = (change.table, change.row_id)
        if change.action == "insert":
            created.add(key)
        elif change.action == "update" and key in created:
            continue
        kept.append(change)
    event.changes = kept


def _find(db: Session, heritage_id: str) -> dict[str, Any]:
    site = db.execute(text("SELECT id, heritage_id, name_vi, status FROM sites "
                           "WHERE heritage_id = :h"), {"h": heritage_id}).mappings().first()
    if site is None:
        raise RecordNotFound(f"No relic has the identifier {heritage_id}.",
                             f"Không có di tích nào mang mã định danh {heritage_id}.")
    return dict(site)


def _describe(row: dict[str, Any], site_id: int, lang: str, names: _Names) -> Change:
    table, action = row["table_name"], row["action"]
    before, after = row["before"] or {}, row["after"] or {}
    current = after or before
    fields = _changed_fields(table, before, after, lang, names) if action == "update" else []
    note = ""
    if row["moved_m"] is not None:
        note = _t("moved_m", lang, m=format_number(row["moved_m"], lang, 0))
        fields.insert(0, FieldChange(_label("sites", "geom", lang),
                                     _coords(row["before_geo"], lang),
                                     _coords(row["after_geo"], lang), "geom"))
    elif table == "protection_zones" and (row["before_geo"] or row["after_geo"]):
        area = [format_number(a, lang, 0) if a is not None else DASH
                for a in (row["area_before"], row["area_after"])]
        if action == "update":
            fields.insert(0, FieldChange(_label(table, "geom", lang),
                                         _t("area", lang, a=area[0]),
                                         _t("area", lang, a=area[1]), "geom"))
        else:
            note = _t("area", lang, a=area[1] if action == "insert" else area[0])
    moved = (action == "update" and str(before.get("site_id")) != str(after.get("site_id"))
             and table != "sites")
    if table == "sites":
        summary = _t({"insert": "created", "delete": "deleted"}.get(action, "edited"), lang)
    elif table == "protection_zones":
        zone = vocab.label("zone", current.get("zone"), lang)
        summary = _t({"insert": "zone_added", "delete": "zone_removed"}.get(
            action, "zone_changed"), lang, zone=zone)
    elif table == "site_admin_units":
        unit = _value(table, "admin_unit_id", current.get("admin_unit_id"), lang, names)
        summary = _t({"insert": "unit_added", "delete": "unit_removed"}.get(
            action, "unit_changed"), lang, unit=unit, d=_date(current.get("valid_from")))
    elif table == "digital_records":
        name = _value(table, "metadata", current.get("metadata"), lang, names)
        if name == DASH:
            name = str(current.get("uri", ""))
        summary = _t({"insert": "photo_added", "delete": "photo_removed"}.get(
            action, "photo_changed"), lang, name=name)
    else:  # condition_assessments: appended, moved only by a merge
        summary = _t("assessment_added", lang, d=_date(current.get("assessed_on")),
                     overall=vocab.label("condition", current.get("overall"), lang))
    if moved:
        what = (_t("photo", lang) if table == "digital_records" else
                _t("assessment", lang, d=_date(current.get("assessed_on")))
                if table == "condition_assessments" else summary)
        here = str(after.get("site_id")) == str(site_id)
        other = before.get("site_id") if here else after.get("site_id")
        summary = _t("moved_in" if here else "moved_out", lang, what=what,
                     hid=_value(table, "site_id", other, lang, names))
        fields = [f for f in fields if f.field != "site_id"]
    change = Change(table=table, row_id=row["row_id"], action=action, summary=summary,
                    fields=fields, note=note)
    if table == "sites":
        change.status = (before.get("status"), after.get("status"))
        change.words = {"reason": after.get("retired_reason") or "",
                        "into": _value(table, "merged_into_id", after.get("merged_into_id"),
                                       lang, names)}
    return change


def _headline(event: Event, lang: str) -> list[str]:
    """What the event did, in words: created, published, retired (with the reason),
    merged, un-retired, restored; else the summaries of its changes."""
    words: list[str] = []
    relic = [c for c in event.changes if c.table == "sites"]
    for change in relic:
        if change.action != "update":
            words.append(change.summary)
            continue
        was, now = change.status
        if was == now:
            if event.restored_as_of is None:
                words.append(change.summary)
            continue
        if now == "retired":
            reason = change.words.get("reason", "")
            words.append(_t("retired", lang) + (f": {reason}" if reason else ""))
        elif now == "merged":
            words.append(_t("merged", lang, hid=change.words.get("into", "")))
        elif was == "retired":
            words.append(_t("unretired", lang))
        elif now == "published":
            words.append(_t("published", lang))
        elif now == "draft":
            words.append(_t("unpublished", lang))
        else:
            words.append(change.summary)
    if not relic and event.restored_as_of is None:
        words.extend(dict.fromkeys(c.summary for c in event.changes))
    return words


def history_text(history: History, lang: str = "en") -> list[str]:
    """The history as lines of plain text (the CLI's `records history`)."""
    lines = [f"{history.heritage_id} {history.name_vi}"]
    for event in history.events:
        who = event.actor or DASH
        lines.append(f"{event.at:%Y-%m-%d %H:%M} ({who}): " + "; ".join(event.headline))
        for change in event.changes:
            lines.append(f"  {change.summary}" + (f" ({change.note})" if change.note else ""))
            for f in change.fields:
                lines.append(f"    {f.label}: {f.before} → {f.after}")
    return lines


# --- as of a date -------------------------------------------------------------------

AS_OF_ROWS = """
    SELECT DISTINCT ON (r.table_name, r.row_id) r.table_name, r.row_id, r.action, r.after
      FROM revisions r
     WHERE r.changed_at < :moment
       AND ((r.table_name = 'sites' AND r.row_id = CAST(:site AS text))
            OR (r.table_name IN ('protection_zones', 'site_admin_units', 'digital_records',
                                 'condition_assessments')
                AND r.after ->> 'site_id' = CAST(:site AS text))
            OR (r.table_name IN ('protection_zones', 'site_admin_units', 'digital_records',
                                 'condition_assessments')
                AND r.before ->> 'site_id' = CAST(:site AS text)))
     ORDER BY r.table_name, r.row_id, r.changed_at DESC, r.id DESC"""


def parse_as_of(value: str | None) -> date | None:
    """`YYYY-MM-DD` from a form or the command line; None when empty. Raises InputError."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"Give the date as YYYY-MM-DD, e.g. 2026-01-31 (got {value!r}).",
                         f"Hãy nhập ngày theo dạng NNNN-TT-NN, ví dụ 2026-01-31 "
                         f"(đã nhập {value!r}).") from None


def parse_before(value: str | None) -> datetime | None:
    """A change's moment (ISO 8601 with its offset, as the history page links it); None
    when empty. Raises InputError."""
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InputError(f"Give the moment of a change as the history page links it, e.g. "
                         f"2026-01-31T09:15:00+07:00 (got {value!r}).",
                         f"Hãy dùng thời điểm của một thay đổi như trang lịch sử ghi, ví dụ "
                         f"2026-01-31T09:15:00+07:00 (đã nhập {value!r}).")
    return moment


def parse_version(as_of: str | None, before: str | None
                  ) -> tuple[date | None, datetime | None]:
    """(day, moment) of a version to show or restore: just before the change at `before`
    (its day in Vietnam), else the end of `as_of`; (None, None) when neither is given.
    Raises InputError."""
    moment = parse_before(before)
    if moment is not None:
        return moment.astimezone(VIETNAM_TIME).date(), moment
    return parse_as_of(as_of), None


def _rows_as_of(db: Session, site_id: int, on: date, before: datetime | None = None
                ) -> dict[str, list[dict[str, Any]]]:
    """The rows of the relic and of what hangs on it as they stood at the end of `on` in
    Vietnam (each row's newest revision before the next midnight there), by table; with
    `before`, as they stood just before that moment instead (`reinstate`)."""
    moment = before or start_of_day_in_vietnam(min(on, date.max - timedelta(days=1))
                                               + timedelta(days=1))
    out: dict[str, list[dict[str, Any]]] = {}
    for row in db.execute(text(AS_OF_ROWS), {"moment": moment, "site": site_id}).mappings():
        after = row["after"]
        if row["action"] == "delete" or after is None:
            continue
        if row["table_name"] != "sites" and str(after.get("site_id")) != str(site_id):
            continue  # it belonged to another relic then
        out.setdefault(row["table_name"], []).append(dict(after))
    return out


def as_of(db: Session, user: Any, heritage_id: str, on: date, lang: str = "vi",
          before: datetime | None = None) -> Snapshot:
    """Relic `heritage_id` as it stood at the end of `on` in Vietnam: its fields, zones in
    force that day, communes, photos and condition assessments. Raises InputError when
    the relic did not exist yet (or had been deleted) then; access as `check_can_view`
    (`user` None: no check)."""
    site = _find(db, heritage_id) if user is None else check_can_view(db, user, heritage_id)
    rows = _rows_as_of(db, site["id"], on, before)
    if not rows.get("sites"):
        created = db.scalar(text("SELECT min(changed_at) FROM revisions WHERE table_name = "
                                 "'sites' AND row_id = :s AND action = 'insert'"),
                            {"s": str(site["id"])})
        since_en = since_vi = ""
        if created is not None:
            day = created.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y")
            since_en, since_vi = f" (it was created on {day})", f" (di tích được tạo ngày {day})"
        raise InputError(
            f"Relic {heritage_id} did not exist yet at the end of {on:%d/%m/%Y}{since_en}; "
            "choose a later date.",
            f"Di tích {heritage_id} chưa có vào cuối ngày {on:%d/%m/%Y}{since_vi}; hãy chọn "
            "ngày muộn hơn.")
    row = rows["sites"][0]
    everything = [r for table in rows.values() for r in table]
    names = _Names(db, everything)
    geo = db.scalar(text("SELECT ST_AsGeoJSON(CAST(:g AS geometry), 7)"), {"g": row.get("geom")})
    fields = []
    for key, (vi, en) in FIELD_LABELS["sites"].items():
        if key not in row:
            continue
        shown = _coords(geo, lang) if key == "geom" else _value("sites", key, row[key], lang,
                                                                 names)
        fields.append((vi if lang == "vi" else en, shown))
    zones = [{"zone": vocab.label("zone", z.get("zone"), lang),
              "valid_from": _date(z.get("valid_from")), "valid_to": _date(z.get("valid_to")),
              "decision_no": z.get("decision_no") or DASH}
             for z in sorted(rows.get("protection_zones", []),
                             key=lambda z: (str(z.get("zone")), str(z.get("valid_from"))))]
    communes = [{"name": _value("site_admin_units", "admin_unit_id", u.get("admin_unit_id"),
                                lang, names),
                 "valid_from": _date(u.get("valid_from")), "valid_to": _date(u.get("valid_to"))}
                for u in sorted(rows.get("site_admin_units", []),
                                key=lambda u: str(u.get("valid_from")))]
    photos = [(_value("digital_records", "metadata", p.get("metadata"), lang, names)
               if p.get("metadata") else str(p.get("uri")))
              for p in sorted(rows.get("digital_records", []), key=lambda p: int(p["id"]))]
    assessments = [_t("assessment_added", lang, d=_date(a.get("assessed_on")),
                      overall=vocab.label("condition", a.get("overall"), lang))
                   for a in sorted(rows.get("condition_assessments", []),
                                   key=lambda a: (str(a.get("assessed_on")), int(a["id"])))]
    return Snapshot(on=on, row=row, fields=fields, zones=zones, communes=communes,
                    photos=photos, assessments=assessments)


# --- restore ------------------------------------------------------------------------

def _current_row(db: Session, site_id: int) -> dict[str, Any]:
    """The relic's row as the revision trigger writes it (geometry as hex EWKB)."""
    return db.scalar(text("""
        SELECT to_jsonb(s) || jsonb_build_object('geom', CAST(s.geom AS text))
          FROM sites s WHERE s.id = :id FOR UPDATE"""), {"id": site_id})


def restore_plan(db: Session, heritage_id: str, on: date, lang: str = "vi",
                 before: datetime | None = None) -> tuple[dict[str, Any], list[FieldChange]]:
    """What restoring relic `heritage_id` to `on` would change: (the past row, the field
    changes from now to then, position first). Raises InputError when it cannot be
    restored (see `restore`)."""
    site = _find(db, heritage_id)
    snapshot = as_of(db, None, heritage_id, on, lang, before).row
    current = _current_row(db, site["id"])
    if current["status"] == "merged":
        hid = db.scalar(text("SELECT heritage_id FROM sites WHERE id = :i"),
                        {"i": current["merged_into_id"]})
        raise InputError(
            f"Relic {heritage_id} was merged into {hid}: its assessments and photos now "
            "belong there, and a restore does not undo a merge.",
            f"Di tích {heritage_id} đã được hợp nhất vào {hid}: phiếu đánh giá và ảnh của nó "
            "nay thuộc di tích đó; khôi phục không hủy được việc hợp nhất.")
    if snapshot.get("status") in ("retired", "merged") and current["status"] != "retired":
        raise InputError(
            f"On {on:%d/%m/%Y} relic {heritage_id} was retired; to retire it again use "
            "Retire, with the reason.",
            f"Ngày {on:%d/%m/%Y} di tích {heritage_id} đã bị hủy; muốn hủy lại hãy dùng chức "
            "năng Hủy di tích, kèm lý do.")
    keys = [k for k in snapshot if k in current and k not in NOT_RESTORED
            and snapshot[k] != current[k]]
    if not keys:
        raise InputError(
            f"Relic {heritage_id} is already as it stood on {on:%d/%m/%Y}: nothing to restore.",
            f"Di tích {heritage_id} hiện đã giống như ngày {on:%d/%m/%Y}: không có gì để khôi "
            "phục.")
    names = _Names(db, [snapshot, current])
    changes = _changed_fields("sites", current, snapshot, lang, names)
    if "geom" in keys:
        moved, was, then = db.execute(text("""
            SELECT ST_Distance(CAST(CAST(:a AS geometry) AS geography),
                               CAST(CAST(:b AS geometry) AS geography)),
                   ST_AsGeoJSON(CAST(:a AS geometry), 7), ST_AsGeoJSON(CAST(:b AS geometry), 7)
            """), {"a": current["geom"], "b": snapshot["geom"]}).one()
        changes.insert(0, FieldChange(_label("sites", "geom", lang), _coords(was, lang),
                                      _coords(then, lang) + " (" + _t(
                                          "moved_m", lang, m=format_number(moved, lang, 0))
                                      + ")", "geom"))
    return snapshot, [c for c in changes if c.field in keys]


def restore(db: Session, actor: Actor, heritage_id: str, on: date, lang: str = "en",
            before: datetime | None = None) -> Restored:
    """Put relic `heritage_id`'s fields back as they stood at the end of `on` in Vietnam,
    in one UPDATE under `actor` (a new revision; logged in `restores`). Its communes
    follow from the restored position. Restoring a retired relic to a date when it was
    live un-retires it: the zones its retirement ended are in force again.

    Raises PermissionDenied (not a district reviewer or admin), RecordNotFound,
    InputError (did not exist then, merged, retired then, or nothing differs).
    `Restored.fields` are the labels of the fields put back, in `lang`. The caller
    commits. With `before`, the fields as they stood just before that moment instead
    (`reinstate`); `on` is then that moment's day, for the messages and the log."""
    _check_reviewer(actor)
    site = _find(db, heritage_id)
    snapshot, changes = restore_plan(db, heritage_id, on, lang, before)
    current = _current_row(db, site["id"])
    keys = [c.field for c in changes]
    set_actor(db, actor.id)
    columns = ", ".join(f'"{k}"' for k in keys)  # names checked against the live row
    sources = ", ".join(f'p."{k}"' for k in keys)
    try:
        with db.begin_nested():
            db.execute(text(f"""
                UPDATE sites SET ({columns}, updated_at) =
                       (SELECT {sources}, now()
                          FROM jsonb_populate_record(CAST(NULL AS sites),
                                                     CAST(:snap AS jsonb)) p)
                 WHERE id = :id"""), {"snap": json.dumps(snapshot), "id": site["id"]})
    except IntegrityError as error:
        raise InputError(
            f"The version of {on:%d/%m/%Y} cannot be restored as a whole: it refers to "
            "something that no longer exists (e.g. a custodian organisation removed since). "
            "Correct the relic's fields by hand instead.",
            f"Không thể khôi phục nguyên phiên bản ngày {on:%d/%m/%Y}: phiên bản đó tham chiếu "
            "đến dữ liệu nay không còn (ví dụ tổ chức quản lý đã bị xóa). Hãy sửa trực tiếp "
            "các trường của di tích.", log=f"restore of {heritage_id} refused: {error}"
        ) from None
    db.execute(text("""
        INSERT INTO restores (table_name, row_id, as_of, fields, actor_id, before_change)
        VALUES ('sites', :row, :on, :fields, :actor, :before)"""),
        {"row": str(site["id"]), "on": on, "fields": keys, "actor": actor.id,
         "before": before})
    unretired = current["status"] == "retired" and snapshot["status"] != "retired"
    reopened = 0
    if unretired and current.get("retired_on"):
        # The zones the retirement ended (lifecycle.retire: the day before) get the end
        # they had on `on` back.
        ended = date.fromisoformat(current["retired_on"]) - timedelta(days=1)
        then = {int(z["id"]): z.get("valid_to")
                for z in _rows_as_of(db, site["id"], on, before).get("protection_zones", [])}
        for zone_id in db.execute(text("""
                SELECT id FROM protection_zones WHERE site_id = :id AND valid_to = :ended"""),
                {"id": site["id"], "ended": ended}).scalars():
            if zone_id in then and then[zone_id] != ended.isoformat():
                reopened += db.execute(text(
                    "UPDATE protection_zones SET valid_to = :to WHERE id = :z"),
                    {"to": then[zone_id], "z": zone_id}).rowcount
    if "geom" in keys:
        admin_units.assign_units(db, [site["id"]])
    log.info("user %s restored relic %s to %s: %s%s", actor.id, heritage_id, on, keys,
             " (un-retired)" if unretired else "")
    return Restored(heritage_id=heritage_id, as_of=on, fields=[c.label for c in changes],
                    unretired=unretired, zones_reopened=reopened)


def reinstate(db: Session, actor: Actor, heritage_id: str, lang: str = "en") -> Restored:
    """Undo relic `heritage_id`'s latest retirement: `restore` to just before it, so the
    relic is live again with the fields it had then and the zones the retirement ended
    are in force again. A restore to a date cannot undo a retirement made the same day as
    the relic's creation (the end of that day is already retired, the day before it did
    not exist yet), nor keep the day's earlier edits; this can.

    Raises PermissionDenied (not a district reviewer or admin), RecordNotFound,
    InputError (the relic is not retired). The caller commits."""
    _check_reviewer(actor)
    site = _find(db, heritage_id)
    moment = db.scalar(text("""
        SELECT changed_at FROM revisions
         WHERE table_name = 'sites' AND row_id = CAST(:id AS text) AND action = 'update'
           AND after ->> 'status' = 'retired'
           AND before ->> 'status' IS DISTINCT FROM 'retired'
         ORDER BY changed_at DESC, id DESC LIMIT 1"""), {"id": site["id"]})
    if site["status"] != "retired" or moment is None:
        raise InputError(f"Relic {heritage_id} is not retired: there is nothing to reinstate.",
                         f"Di tích {heritage_id} không ở trạng thái đã đưa ra khỏi danh mục: "
                         "không có gì để đưa trở lại.")
    done = restore(db, actor, heritage_id, moment.astimezone(VIETNAM_TIME).date(), lang,
                   before=moment)
    # The retirement removed the zone versions that were to start on its day or later
    # (zones.end_zones); the rows its delete revisions hold come back as they were.
    back = db.execute(text("""
        INSERT INTO protection_zones
        SELECT (jsonb_populate_record(CAST(NULL AS protection_zones), r.before)).*
          FROM revisions r
         WHERE r.table_name = 'protection_zones' AND r.action = 'delete'
           AND r.changed_at = :moment AND r.before ->> 'site_id' = CAST(:id AS text)
           AND NOT EXISTS (SELECT 1 FROM protection_zones z
                            WHERE z.id = CAST(r.row_id AS integer))"""),
        {"moment": moment, "id": site["id"]}).rowcount
    return replace(done, zones_reopened=done.zones_reopened + back)
