"""The life of a relic record after it is born a draft: published by a district reviewer,
retired (with its reason and decision) or merged into another relic. Its row and its
heritage identifier stay for ever, so every link that ever worked still answers something
true: a retired relic's page answers 410 with the reason, a merged one redirects to the
survivor. Every change is a revision under the acting user (the revision triggers).

Only district reviewers and admins take these decisions; the web pages and the CLI verbs
(`flask --app gis_app records ...`, `imports publish N`) call the same functions.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.services import zones
from gis_app.services.audit import set_actor
from gis_app.services.features import FULL_ACCESS_ROLES
from gis_app.services.visibility import site_visible

log = logging.getLogger(__name__)

MAX_REASON = 2000


class Actor(Protocol):
    id: int
    role: str


@dataclass(frozen=True)
class Fate:
    """What became of a relic that is no longer live: retired or merged."""

    status: str  # 'retired' or 'merged'
    heritage_id: str
    name_vi: str
    retired_on: date | None = None
    reason: str | None = None
    decision: str | None = None
    survivor: str | None = None  # merged: the heritage identifier it lives on as


def _check_reviewer(actor: Actor) -> None:
    if actor.role not in FULL_ACCESS_ROLES:
        raise PermissionDenied("Only a district reviewer or an administrator may publish, "
                               "retire or merge relics.",
                               "Chỉ cán bộ thẩm định cấp huyện hoặc quản trị viên được công bố, "
                               "hủy hoặc hợp nhất di tích.")


def _site(db: Session, heritage_id: str, *, lock: bool = True) -> dict[str, Any]:
    row = db.execute(text(
        "SELECT id, heritage_id, name_vi, status, merged_into_id FROM sites "
        "WHERE heritage_id = :h" + (" FOR UPDATE" if lock else "")),
        {"h": heritage_id}).mappings().first()
    if row is None:
        raise RecordNotFound(f"No relic has the identifier {heritage_id}.",
                             f"Không có di tích nào mang mã định danh {heritage_id}.")
    return dict(row)


def _not_ended(site: dict[str, Any]) -> None:
    if site["status"] in ("retired", "merged"):
        label = {"retired": ("retired", "đã hủy"), "merged": ("merged", "đã hợp nhất")}
        en, vi = label[site["status"]]
        raise InputError(f"Relic {site['heritage_id']} is already {en}; restore it first.",
                         f"Di tích {site['heritage_id']} {vi}; hãy khôi phục trước.")


def publish(db: Session, actor: Actor, heritage_ids: list[str]) -> int:
    """Publish these draft relics; the number published (already published ones are left
    as they are). Raises PermissionDenied, RecordNotFound, InputError (ended relics).
    The caller commits."""
    _check_reviewer(actor)
    set_actor(db, actor.id)
    published = 0
    for heritage_id in dict.fromkeys(heritage_ids):
        site = _site(db, heritage_id)
        _not_ended(site)
        if site["status"] == "published":
            continue
        db.execute(text("UPDATE sites SET status = 'published', updated_at = now() "
                        "WHERE id = :id"), {"id": site["id"]})
        published += 1
    log.info("user %s published %d relic(s)", actor.id, published)
    return published


def drafts_of_import(db: Session, import_id: int) -> list[str]:
    """Heritage identifiers of the relics import `import_id` created that are still drafts,
    in identifier order."""
    return list(db.execute(text("""
        SELECT s.heritage_id FROM sites s
         WHERE s.status = 'draft'
           AND s.id::text IN (SELECT r.row_id FROM revisions r
                               WHERE r.import_id = :i AND r.table_name = 'sites'
                                 AND r.action = 'insert')
         ORDER BY s.heritage_id"""), {"i": import_id}).scalars())


def publish_import(db: Session, actor: Actor, import_id: int) -> int:
    """Publish the drafts import `import_id` created; how many. The caller commits."""
    _check_reviewer(actor)
    status = db.scalar(text("SELECT status FROM imports WHERE id = :i"), {"i": import_id})
    if status is None:
        raise RecordNotFound(f"There is no import #{import_id}.",
                             f"Không có lần nhập số {import_id}.")
    if status == "undone":
        raise InputError(f"Import #{import_id} was undone; there is nothing to publish.",
                         f"Lần nhập số {import_id} đã được hoàn tác; không có gì để công bố.")
    return publish(db, actor, drafts_of_import(db, import_id))


def retire(db: Session, actor: Actor, heritage_id: str, reason: str,
           decision: str | None = None, on: date | None = None) -> None:
    """Retire a relic: it leaves every public page, map and API; its page answers 410 with
    `reason` (and `decision`, e.g. the number of the decision that removed it). Its zones
    end the day before `on` (default today in Vietnam). The caller commits."""
    _check_reviewer(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InputError("Give the reason for retiring the relic (it is shown on its page).",
                         "Hãy nêu lý do hủy di tích (lý do được hiển thị trên trang di tích).")
    if len(reason) > MAX_REASON:
        raise InputError(f"The reason is too long (at most {MAX_REASON} characters).",
                         f"Lý do quá dài (tối đa {MAX_REASON} ký tự).")
    site = _site(db, heritage_id)
    _not_ended(site)
    on = on or today_in_vietnam()
    set_actor(db, actor.id)
    db.execute(text("""
        UPDATE sites SET status = 'retired', retired_on = :on, retired_reason = :reason,
               retired_decision = :decision, updated_at = now() WHERE id = :id"""),
        {"on": on, "reason": reason, "decision": (decision or "").strip() or None,
         "id": site["id"]})
    _end_zones(db, site["id"], on)
    log.info("user %s retired relic %s", actor.id, heritage_id)


def merge(db: Session, actor: Actor, heritage_id: str, into: str) -> dict[str, int]:
    """Merge the duplicate `heritage_id` into `into`: its condition assessments, photos and
    documents, artifacts, festival events, links to intangible heritage and environment
    notes move to the survivor; its protection zones move where the survivor has none of
    that zone, else they end. The duplicate's page then redirects to the survivor. Counts
    of what moved. The caller commits."""
    _check_reviewer(actor)
    if heritage_id == into:
        raise InputError("A relic cannot be merged into itself.",
                         "Không thể hợp nhất một di tích vào chính nó.")
    # Lock in identifier order: two merges of the same pair never deadlock.
    first, second = sorted([heritage_id, into])
    locked = {first: _site(db, first), second: _site(db, second)}
    duplicate, survivor = locked[heritage_id], locked[into]
    _not_ended(duplicate)
    _not_ended(survivor)
    set_actor(db, actor.id)
    db.execute(text("SELECT set_config('gis.merge', 'on', true)"))
    ids = {"dup": duplicate["id"], "keep": survivor["id"]}
    moved = {
        "assessments": db.execute(text(
            "UPDATE condition_assessments SET site_id = :keep WHERE site_id = :dup"),
            ids).rowcount,
        "media": db.execute(text(
            "UPDATE digital_records SET site_id = :keep WHERE site_id = :dup"), ids).rowcount,
        "artifacts": db.execute(text(
            "UPDATE artifacts SET holding_site_id = :keep WHERE holding_site_id = :dup"),
            ids).rowcount,
        "events": db.execute(text(
            "UPDATE heritage_events SET site_id = :keep WHERE site_id = :dup"), ids).rowcount,
        "environment_notes": db.execute(text(
            "UPDATE environment_notes SET site_id = :keep WHERE site_id = :dup"),
            ids).rowcount,
    }
    db.execute(text("SELECT set_config('gis.merge', 'off', true)"))
    moved["intangible_links"] = db.execute(text("""
        INSERT INTO intangible_sites (intangible_id, site_id)
        SELECT intangible_id, :keep FROM intangible_sites WHERE site_id = :dup
        ON CONFLICT DO NOTHING"""), ids).rowcount
    db.execute(text("DELETE FROM intangible_sites WHERE site_id = :dup"), ids)
    moved["zones"] = db.execute(text("""
        UPDATE protection_zones z SET site_id = :keep
         WHERE z.site_id = :dup AND (z.valid_to IS NULL OR z.valid_to >= :today)
           AND NOT EXISTS (SELECT 1 FROM protection_zones k
                            WHERE k.site_id = :keep AND k.zone = z.zone
                              AND (k.valid_to IS NULL OR k.valid_to >= :today))"""),
        {**ids, "today": today_in_vietnam()}).rowcount
    _end_zones(db, duplicate["id"], today_in_vietnam())
    db.execute(text("""
        UPDATE sites SET status = 'merged', merged_into_id = :keep, updated_at = now()
         WHERE id = :dup"""), ids)
    log.info("user %s merged relic %s into %s: %s", actor.id, heritage_id, into, moved)
    return moved


def _end_zones(db: Session, site_id: int, on: date) -> None:
    """End the zones of a relic that leaves: they stay for checks as of earlier dates
    (a version saved to start today or later never comes into force: services/zones)."""
    zones.end_zones(db, site_id, on)


def fate(db: Session, heritage_id: str) -> Fate | None:
    """What became of a retired or merged relic (a merge chain is followed to the live
    survivor), or None when the relic is not ended (or does not exist)."""
    row = db.execute(text("""
        SELECT heritage_id, name_vi, status, retired_on, retired_reason, retired_decision,
               merged_into_id FROM sites WHERE heritage_id = :h"""),
        {"h": heritage_id}).mappings().first()
    if row is None or row["status"] not in ("retired", "merged"):
        return None
    survivor = None
    if row["status"] == "merged":
        survivor = db.scalar(text("""
            WITH RECURSIVE chain AS (
                SELECT id, heritage_id, merged_into_id, 0 AS depth FROM sites
                 WHERE heritage_id = :h
                UNION ALL
                SELECT s.id, s.heritage_id, s.merged_into_id, c.depth + 1
                  FROM chain c JOIN sites s ON s.id = c.merged_into_id
                 WHERE c.depth < 50)
            SELECT heritage_id FROM chain WHERE merged_into_id IS NULL
             ORDER BY depth DESC LIMIT 1"""), {"h": heritage_id})
    return Fate(status=row["status"], heritage_id=row["heritage_id"], name_vi=row["name_vi"],
                retired_on=row["retired_on"], reason=row["retired_reason"],
                decision=row["retired_decision"], survivor=survivor)


# --- the register as a list, and actions on many relics at once --------------------------

LIST_LIMIT = 1000


def register_list(db: Session, role: str | None, *, status: str | None = None,
                  unit_id: int | None = None, import_id: int | None = None,
                  query: str | None = None) -> list[dict[str, Any]]:
    """Relics still in the register that `role` sees (services.visibility), by name, with
    their commune, status, survey code and custodian; narrowed by status, today's commune,
    the import that created them, or a name/code fragment (diacritics ignored)."""
    where = [site_visible(role, "s")]
    params: dict[str, Any] = {"limit": LIST_LIMIT}
    if status:
        where.append("s.status = :status")
        params["status"] = status
    if unit_id:
        where.append("s.admin_unit_id = :unit")
        params["unit"] = unit_id
    if import_id:
        where.append("""s.id::text IN (SELECT row_id FROM revisions WHERE import_id = :imp
                          AND table_name = 'sites' AND action = 'insert')""")
        params["imp"] = import_id
    if query and query.strip():
        where.append("""(f_unaccent(lower(s.name_vi)) LIKE '%' || f_unaccent(lower(:q)) || '%'
                         OR lower(s.heritage_id) LIKE '%' || lower(:q) || '%'
                         OR lower(coalesce(s.survey_code, '')) LIKE '%' || lower(:q) || '%')""")
        params["q"] = query.strip()[:100]
    return [dict(r) for r in db.execute(text(f"""
        SELECT s.heritage_id, s.name_vi, s.survey_code, s.status, s.sensitive,
               u.name AS unit_name, o.name AS custodian
          FROM sites s
          LEFT JOIN admin_units u ON u.id = s.admin_unit_id
          LEFT JOIN organisations o ON o.id = s.custodian_org_id
         WHERE {" AND ".join(where)}
         ORDER BY s.name_vi, s.heritage_id LIMIT :limit"""), params).mappings()]


def organisations(db: Session) -> list[dict[str, Any]]:
    """Organisations a relic may be entrusted to, by name."""
    return [dict(r) for r in db.execute(text(
        "SELECT id, name FROM organisations ORDER BY name")).mappings()]


def assign_custodian(db: Session, actor: Actor, heritage_ids: list[str],
                     organisation_id: int | None = None, new_name: str | None = None) -> int:
    """Entrust these relics to an organisation (an existing one, or a new one named
    `new_name`); how many changed. The caller commits."""
    _check_reviewer(actor)
    new_name = (new_name or "").strip()
    if not heritage_ids:
        raise InputError("Choose at least one relic.", "Hãy chọn ít nhất một di tích.")
    set_actor(db, actor.id)
    if new_name:
        if len(new_name) > 300:
            raise InputError("The organisation's name is too long (at most 300 characters).",
                             "Tên tổ chức quá dài (tối đa 300 ký tự).")
        organisation_id = db.scalar(text("SELECT id FROM organisations WHERE name = :n"),
                                    {"n": new_name}) or db.scalar(text(
            "INSERT INTO organisations (name, kind) VALUES (:n, 'custodian') RETURNING id"),
            {"n": new_name})
    elif organisation_id is None or db.scalar(text(
            "SELECT id FROM organisations WHERE id = :i"), {"i": organisation_id}) is None:
        raise InputError("Choose the custodian organisation, or type the name of a new one.",
                         "Hãy chọn tổ chức quản lý, hoặc nhập tên một tổ chức mới.")
    for heritage_id in heritage_ids:
        _not_ended(_site(db, heritage_id))
    return db.execute(text("""
        UPDATE sites SET custodian_org_id = :org, updated_at = now()
         WHERE heritage_id = ANY(:ids) AND custodian_org_id IS DISTINCT FROM :org"""),
        {"org": organisation_id, "ids": list(heritage_ids)}).rowcount


def retire_many(db: Session, actor: Actor, heritage_ids: list[str], reason: str,
                decision: str | None = None) -> int:
    """Retire several relics with one reason and decision (all or none); how many."""
    if not heritage_ids:
        raise InputError("Choose at least one relic.", "Hãy chọn ít nhất một di tích.")
    for heritage_id in dict.fromkeys(heritage_ids):
        retire(db, actor, heritage_id, reason, decision)
    return len(dict.fromkeys(heritage_ids))
