"""Artifacts (criteria set 4) and the yearly work the plan counts on them: inventory
records (a1), conservation actions (a2, a3) and digital records (b).

Who may change what: district reviewers and admins, every artifact; a commune editor,
the artifacts held at a relic their scope covers today (`services.scopes`). Every change
is a revision (database triggers); the acting user is set first.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.models.base import ARTIFACT_KINDS, ARTIFACT_ORIGINS, CONSERVATION_KINDS
from gis_app.models.relics import in_register
from gis_app.services import digital_records, scopes
from gis_app.services.audit import set_actor
from gis_app.services.identifiers import mint_identifier


def in_user_units_today(site_column: str) -> str:
    """SQL: the user's scope covers the relic `site_column` today (`services.scopes`,
    successions understood), or the user has full access (binds :full, :scope_user and
    :today from _scope)."""
    return scopes.covers_site_on(site_column, "CAST(:today AS date)")


# Artifacts held at a relic the user's scope covers today.
EDITABLE = in_user_units_today("a.holding_site_id")


def _scope(user: Any) -> dict[str, Any]:
    return {**scopes.bind(user), "today": today_in_vietnam()}


def list_artifacts(db: Session, user: Any, year: int) -> list[dict[str, Any]]:
    """The artifacts the user may edit, with this year's inventory, conservation and
    digitisation at a glance."""
    return [dict(r) for r in db.execute(text(f"""
        SELECT a.id, a.heritage_id, a.inventory_code, a.name_vi, a.kind, a.typical_value,
               a.at_risk, s.name_vi AS site_name,
               EXISTS (SELECT 1 FROM artifact_inventory_records r
                        WHERE r.artifact_id = a.id AND r.year = :year) AS inventoried,
               (SELECT max(c.performed_on) FROM conservation_actions c
                 WHERE c.artifact_id = a.id) AS last_conserved,
               (SELECT count(*) FROM digital_records d WHERE d.artifact_id = a.id) AS media
          FROM artifacts a LEFT JOIN sites s ON s.id = a.holding_site_id
         WHERE {EDITABLE}
         ORDER BY s.name_vi NULLS LAST, a.name_vi"""),
        {"year": year, **_scope(user)}).mappings()]


def get_artifact(db: Session, user: Any, artifact_id: int) -> dict[str, Any]:
    row = db.execute(text(f"""
        SELECT a.*, s.name_vi AS site_name, s.heritage_id AS site_heritage_id
          FROM artifacts a LEFT JOIN sites s ON s.id = a.holding_site_id
         WHERE a.id = :id AND {EDITABLE}"""),
        {"id": artifact_id, **_scope(user)}).mappings().first()
    if row is None:
        raise RecordNotFound(f"No artifact {artifact_id} that you may edit",
                             f"Không có hiện vật {artifact_id} mà bạn được sửa")
    out = dict(row)
    out["inventory"] = [dict(r) for r in db.execute(text("""
        SELECT year, inventoried_on, notes FROM artifact_inventory_records
         WHERE artifact_id = :id ORDER BY year DESC"""), {"id": artifact_id}).mappings()]
    out["conservation"] = [dict(r) for r in db.execute(text("""
        SELECT kind, performed_on, description FROM conservation_actions
         WHERE artifact_id = :id ORDER BY performed_on DESC"""), {"id": artifact_id}).mappings()]
    out["media"] = [dict(r) for r in db.execute(text("""
        SELECT id, media_type, uri, metadata, credit, licence, created_at
          FROM digital_records WHERE artifact_id = :id ORDER BY created_at DESC"""),
        {"id": artifact_id}).mappings()]
    return out


def holding_sites(db: Session, user: Any) -> list[dict[str, Any]]:
    """Relics the user may hold artifacts at (all, or those in the editor's units)."""
    return [dict(r) for r in db.execute(text(f"""
        SELECT s.id, s.name_vi, s.heritage_id FROM sites s
         WHERE {in_register("s")} AND {in_user_units_today("s.id")}
         ORDER BY s.name_vi"""), _scope(user)).mappings()]


def _need(value: str | None, en: str, vi: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InputError(f"{en} is required.", f"Cần nhập {vi}.")
    return value


def _date(value: date | None, en: str, vi: str) -> date:
    if value is None:
        raise InputError(f"{en} is required.", f"Cần nhập {vi}.")
    if value > today_in_vietnam():
        raise InputError(f"{en} {value.isoformat()} is in the future.",
                         f"{vi} {value.strftime('%d/%m/%Y')} là ngày trong tương lai.")
    return value


def create_artifact(db: Session, user: Any, *, name_vi: str, kind: str, holding_site_id: int,
                    origin: str | None = None, inventory_code: str | None = None,
                    period: str | None = None, material: str | None = None,
                    dimensions: str | None = None, description: str | None = None,
                    typical_value: bool = False, at_risk: bool = False) -> int:
    """A new artifact with a new heritage identifier VN-HY-HV-NNNNNN; its id."""
    name_vi = _need(name_vi, "The artifact's name", "tên hiện vật")
    if kind not in ARTIFACT_KINDS:
        raise InputError(f"Unknown kind {kind!r}.", f"Loại hiện vật {kind!r} không hợp lệ.")
    if origin and origin not in ARTIFACT_ORIGINS:
        raise InputError(f"Unknown origin {origin!r}.", f"Nguồn gốc {origin!r} không hợp lệ.")
    if holding_site_id not in {s["id"] for s in holding_sites(db, user)}:
        raise PermissionDenied("You may not record artifacts at that relic",
                               "Bạn không được ghi hiện vật cho di tích này")
    set_actor(db, user.id)
    # From the artifact sequence: two officials adding artifacts at once never collide.
    heritage_id = mint_identifier(db, "artifact")
    return db.execute(text("""
        INSERT INTO artifacts (heritage_id, inventory_code, name_vi, kind, origin, period,
                               material, dimensions, description, holding_site_id,
                               typical_value, at_risk)
        VALUES (:h, :code, :name, :kind, :origin, :period, :material, :dimensions,
                :description, :site, :typical, :risk) RETURNING id"""),
        {"h": heritage_id, "code": inventory_code or None, "name": name_vi, "kind": kind,
         "origin": origin or None, "period": period or None, "material": material or None,
         "dimensions": dimensions or None, "description": description or None,
         "site": holding_site_id, "typical": typical_value, "risk": at_risk}).scalar_one()


def set_flags(db: Session, user: Any, artifact_id: int, *, typical_value: bool,
              at_risk: bool) -> None:
    get_artifact(db, user, artifact_id)  # may the user edit it?
    set_actor(db, user.id)
    db.execute(text("UPDATE artifacts SET typical_value = :t, at_risk = :r WHERE id = :id"),
               {"t": typical_value, "r": at_risk, "id": artifact_id})


def record_inventory(db: Session, user: Any, artifact_id: int, *, inventoried_on: date | None,
                     notes: str | None = None) -> None:
    """The year's inventory record (one per artifact and year)."""
    get_artifact(db, user, artifact_id)
    on = _date(inventoried_on, "The inventory date", "ngày kiểm kê")
    set_actor(db, user.id)
    try:
        with db.begin_nested():
            db.execute(text("""
                INSERT INTO artifact_inventory_records (artifact_id, year, inventoried_on, notes)
                VALUES (:a, :y, :d, :n)"""),
                {"a": artifact_id, "y": on.year, "d": on, "n": notes or None})
    except IntegrityError:
        raise InputError(f"This artifact already has an inventory record for {on.year}.",
                         f"Hiện vật này đã có biên bản kiểm kê năm {on.year}.") from None


def record_conservation(db: Session, user: Any, artifact_id: int, *, kind: str,
                        performed_on: date | None, description: str | None = None) -> None:
    get_artifact(db, user, artifact_id)
    if kind not in CONSERVATION_KINDS:
        raise InputError(f"Unknown conservation kind {kind!r}.",
                         f"Hình thức bảo quản {kind!r} không hợp lệ.")
    on = _date(performed_on, "The conservation date", "ngày bảo quản")
    set_actor(db, user.id)
    db.execute(text("""
        INSERT INTO conservation_actions (artifact_id, kind, performed_on, description)
        VALUES (:a, :k, :d, :t)"""),
        {"a": artifact_id, "k": kind, "d": on, "t": description or None})


def add_digital_record(db: Session, user: Any, artifact_id: int, **fields: Any) -> int:
    """A digital record of the artifact (see digital_records.add_record)."""
    get_artifact(db, user, artifact_id)
    return digital_records.add_record(db, user, "artifact", artifact_id, **fields)
