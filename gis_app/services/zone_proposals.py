"""Commune editors propose new versions of protection zones; district reviewers decide.

`submit_version` is the one entry for anyone saving a zone version from a page:

- a district reviewer or an administrator saves it directly (`zones.save_version`);
- a commune editor whose scope covers the relic today (`proposals.may_edit`, the one
  rule) saves it directly on a DRAFT relic (drafts are invisible), and on any other relic
  it becomes a pending change proposal (`change_proposals.record_kind = 'zone'`,
  `record_id` the relic's `sites.id`): the public keeps the zone in force until a
  reviewer approves it.

A zone proposal keeps in `changes` the zone code, the id of the zone's latest version
when it was proposed (`base_version_id`), the source, and `[before, after]` of the
decision number and date, the valid-from date, the accuracy and the area (m²); the
boundary before (the latest version's) and after are `geom_before` / `geom_after`.
It is validated as a direct save would be, once when proposed and again when approved.

Approval saves the version through `zones.save_version` under the reviewer (the same path
as a reviewer's own edit, so it is a revision under them) and refuses when the zone got
another version since the proposal was made: the author proposes again on the new one.
Sending back and withdrawing are those of every proposal (`services.proposals`).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.errors import InputError, PermissionDenied
from gis_app.numbers import format_number
from gis_app.services import proposals, zones
from gis_app.services.features import FULL_ACCESS_ROLES
from gis_app.services.zone_check import GEOD

log = logging.getLogger(__name__)

KIND = "zone"
# The decision fields of a zone proposal, in the order of the diff table.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "area_m2": ("Boundary (area, m²)", "Ranh giới (diện tích, m²)"),
    "decision_no": ("Decision number", "Số quyết định"),
    "decision_date": ("Decision date", "Ngày quyết định"),
    "valid_from": ("Valid from", "Hiệu lực từ"),
    "accuracy": ("Accuracy", "Độ chính xác"),
}


@dataclass
class ZoneOutcome:
    """What `submit_version` did: `saved` (a new version is in force from `valid_from`)
    or `proposed` (proposal `proposal_id` waits for review); warnings (en, vi)."""

    kind: str
    zone: str
    valid_from: date
    proposal_id: int | None = None
    warnings: list[tuple[str, str]] = field(default_factory=list)


def _area(shape: BaseGeometry | None) -> float | None:
    if shape is None:
        return None
    return round(abs(GEOD.geometry_area_perimeter(shape)[0]), 1)


def may_edit_zones(db: Session, user: Any, heritage_id: str) -> bool:
    """May `user` save (reviewers) or propose (commune editors of the relic's commune
    today) a version of this relic's zones? RecordNotFound for an unknown relic."""
    site = zones._site(db, heritage_id)
    return proposals.may_edit(db, user, site["id"])


def submit_version(db: Session, user: Any, heritage_id: str, *, zone: str,
                   geometry: BaseGeometry, valid_from: date | None,
                   decision_no: str | None = None, decision_date: date | None = None,
                   accuracy: str = "digitised", source: str | None = None,
                   note: str | None = None) -> ZoneOutcome:
    """Save or propose a new version of the relic's `zone` (see the module). The caller
    commits. Raises PermissionDenied (not the user's relic, or not an official),
    RecordNotFound, InputError (as `zones.save_version`; also a pending proposal of the
    same author for this zone, or a note longer than 2000 characters)."""
    if getattr(user, "role", None) in FULL_ACCESS_ROLES:
        saved = zones.save_version(db, user, heritage_id, zone=zone, geometry=geometry,
                                   valid_from=valid_from, decision_no=decision_no,
                                   decision_date=decision_date, accuracy=accuracy,
                                   source=source)
        return ZoneOutcome("saved", saved.zone, saved.valid_from, warnings=saved.warnings)
    if getattr(user, "role", None) != "commune_editor" \
            or not may_edit_zones(db, user, heritage_id):
        raise PermissionDenied(
            f"Relic {heritage_id} is not in a commune of your account: you may not change "
            f"its zones.",
            f"Di tích {heritage_id} không thuộc xã của tài khoản bạn: bạn không được sửa các "
            f"khu vực bảo vệ của di tích.")
    new = zones._prepare(db, heritage_id, zone=zone, geometry=geometry,
                         valid_from=valid_from, decision_no=decision_no,
                         decision_date=decision_date, accuracy=accuracy)
    if new.site["status"] == "draft":
        saved = zones._write(db, user, new, source)
        return ZoneOutcome("saved", saved.zone, saved.valid_from, warnings=saved.warnings)
    note = proposals._clean_text(note)
    if note is not None and len(note) > proposals.MAX_COMMENT:
        raise InputError(f"The note is too long (at most {proposals.MAX_COMMENT} characters).",
                         f"Ghi chú quá dài (tối đa {proposals.MAX_COMMENT} ký tự).")
    waiting = db.scalar(text("""
        SELECT id FROM change_proposals
         WHERE record_kind = 'zone' AND record_id = :s AND author_id = :u
           AND status = 'pending' AND changes ->> 'zone' = :zone LIMIT 1"""),
        {"s": new.site["id"], "u": user.id, "zone": zone})
    if waiting is not None:
        raise InputError(
            f"You already have a pending proposal (#{waiting}) for this zone: withdraw it "
            f"or wait for the reviewer's answer.",
            f"Bạn đã có một đề xuất đang chờ duyệt (số {waiting}) cho khu vực này: hãy rút "
            f"lại hoặc chờ ý kiến của cán bộ thẩm định.")
    base = db.execute(text("""
        SELECT id, decision_no, decision_date, valid_from, accuracy, ST_AsBinary(geom) AS wkb
          FROM protection_zones WHERE id = :id"""),
        {"id": new.latest_id}).mappings().first() if new.latest_id else None
    before_shape = shapely.from_wkb(bytes(base["wkb"])) if base else None

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    changes = {
        "zone": zone, "base_version_id": new.latest_id, "source": source,
        "area_m2": [_area(before_shape), _area(new.shape)],
        "decision_no": [base["decision_no"] if base else None, new.decision_no],
        "decision_date": [day(base["decision_date"]) if base else None,
                          day(new.decision_date)],
        "valid_from": [day(base["valid_from"]) if base else None, day(new.valid_from)],
        "accuracy": [base["accuracy"] if base else None, new.accuracy],
    }
    proposal_id = int(db.execute(text("""
        INSERT INTO change_proposals (record_kind, record_id, author_id, base_revision_id,
                                      changes, geom_before, geom_after, note)
        VALUES ('zone', :s, :u, :base, CAST(:changes AS jsonb),
                ST_GeomFromWKB(:before, 4326), ST_GeomFromWKB(:after, 4326), :note)
        RETURNING id"""),
        {"s": new.site["id"], "u": user.id,
         "base": db.scalar(text("SELECT max(id) FROM revisions WHERE table_name = "
                                "'protection_zones' AND row_id = CAST(:id AS text)"),
                           {"id": new.latest_id}) if new.latest_id else None,
         "changes": json.dumps(changes, ensure_ascii=False),
         "before": shapely.to_wkb(before_shape) if before_shape is not None else None,
         "after": shapely.to_wkb(new.shape), "note": note}).scalar_one())
    log.info("user %s proposed zone %s of relic %s (#%d)", user.id, zone, heritage_id,
             proposal_id)
    return ZoneOutcome("proposed", zone, new.valid_from, proposal_id=proposal_id,
                       warnings=new.warnings)


def _latest_version_id(db: Session, site_id: int, zone: str) -> int | None:
    return db.scalar(text("""
        SELECT id FROM protection_zones WHERE site_id = :site AND zone = :zone
         ORDER BY valid_from DESC NULLS LAST, id DESC LIMIT 1"""),
        {"site": site_id, "zone": zone})


def approve(db: Session, reviewer: Any, proposal: Mapping[str, Any]) -> str:
    """Save the version a pending zone `proposal` (a locked `change_proposals` row with
    heritage_id) proposes, under `reviewer`, through `zones.save_version`; mark it
    approved. InputError (nothing changes) when the zone got another version since."""
    changes = proposal["changes"]
    zone = changes["zone"]
    heritage_id = proposal["heritage_id"]
    latest = _latest_version_id(db, proposal["record_id"], zone)
    if latest != changes.get("base_version_id"):
        en, vi = vocab.VOCAB["zone"][zone][1], vocab.VOCAB["zone"][zone][0]
        raise InputError(
            f"{en} of {heritage_id} got a new version since this proposal was made: "
            f"approving it would overwrite that version. Send it back so the author "
            f"proposes again on the zone in force.",
            f"{vi} của {heritage_id} đã có phiên bản mới sau khi đề xuất này được gửi: "
            f"duyệt sẽ ghi đè phiên bản đó. Hãy trả lại để người đề xuất gửi lại trên khu "
            f"vực hiện hành.")
    shape = shapely.from_wkb(bytes(db.scalar(
        text("SELECT ST_AsBinary(geom_after) FROM change_proposals WHERE id = :p"),
        {"p": proposal["id"]})))
    decision_date, valid_from = changes["decision_date"][1], changes["valid_from"][1]
    author = db.scalar(text("SELECT username FROM users WHERE id = :u"),
                       {"u": proposal["author_id"]}) or "–"
    zones.save_version(
        db, reviewer, heritage_id, zone=zone, geometry=shape,
        valid_from=date.fromisoformat(valid_from),
        decision_no=changes["decision_no"][1],
        decision_date=date.fromisoformat(decision_date) if decision_date else None,
        accuracy=changes["accuracy"][1],
        source=f"proposed by {author} (#{proposal['id']}): {changes.get('source') or ''}"
        .rstrip(": "))
    db.execute(text("""UPDATE change_proposals SET status = 'approved', reviewer_id = :r,
                              reviewed_at = now() WHERE id = :p"""),
               {"r": reviewer.id, "p": proposal["id"]})
    log.info("user %s approved zone proposal #%d on relic %s", reviewer.id, proposal["id"],
             heritage_id)
    return str(heritage_id)


def zone_title(changes: Mapping[str, Any], lang: str) -> str:
    """"Protection zone II (boundary)" in `lang`: what a zone proposal changes."""
    label = vocab.label("zone", changes.get("zone", ""), lang)
    return f"{label} (ranh giới)" if lang == "vi" else f"{label} (boundary)"


def _display(name: str, value: Any, lang: str) -> str:
    if value in (None, ""):
        return ""
    if name == "area_m2":
        return format_number(value, lang, 0) + " m²"
    if name in ("decision_date", "valid_from"):
        return date.fromisoformat(value).strftime("%d/%m/%Y") if lang == "vi" else value
    if name == "accuracy":
        return vocab.label("accuracy", value, lang)
    return str(value)


def detail(db: Session, proposal: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The diff of a zone proposal: `rows` (field, label, before, after, changed_since
    False), `zone_before` / `zone_after` (GeoJSON, lon/lat; before None for a zone that
    had none), `zone_changed_since` (the zone got a new version while it was pending)
    and `bounds` [minx, miny, maxx, maxy] of both outlines."""
    changes = proposal["changes"]
    rows = [{"field": name, "label": label[1] if lang == "vi" else label[0],
             "before": _display(name, changes[name][0], lang),
             "after": _display(name, changes[name][1], lang),
             "changed_since": False, "now": ""}
            for name, label in FIELD_LABELS.items()]
    shapes = db.execute(text("""
        SELECT ST_AsGeoJSON(geom_before, 8) AS before, ST_AsGeoJSON(geom_after, 8) AS after,
               ST_XMin(ST_Collect(geom_before, geom_after)) AS minx,
               ST_YMin(ST_Collect(geom_before, geom_after)) AS miny,
               ST_XMax(ST_Collect(geom_before, geom_after)) AS maxx,
               ST_YMax(ST_Collect(geom_before, geom_after)) AS maxy
          FROM change_proposals WHERE id = :p"""), {"p": proposal["id"]}).mappings().one()
    latest = _latest_version_id(db, proposal["record_id"], changes["zone"])
    return {"rows": rows, "zone": changes["zone"], "zone_title": zone_title(changes, lang),
            "zone_before": json.loads(shapes["before"]) if shapes["before"] else None,
            "zone_after": json.loads(shapes["after"]) if shapes["after"] else None,
            "zone_changed_since": proposal["status"] == "pending"
            and latest != changes.get("base_version_id"),
            "bounds": [shapes["minx"], shapes["miny"], shapes["maxx"], shapes["maxy"]]}
