"""Artifacts (criteria set 4) and the yearly work the plan counts on them: inventory
records (a1), conservation actions (a2, a3) and digital records (b).

Who may change what: district reviewers and admins, every artifact; a commune editor,
the artifacts held at a relic their scope covers today (`services.scopes`), and may move
one only between relics their scope covers. Every change is a revision (database
triggers); the acting user is set first.

Review: a commune editor's new artifact, and their edit of any artifact, waits
(`approved_at` NULL) until a district reviewer approves it or sends it back with a
comment. The edit is applied at once (officials see it); the public sees the artifact
again only once it is approved (there is no public copy to keep showing), and never
while it is kept off public pages (`public` false): services.visibility.public_artifact.

Inventory records and conservation actions are never deleted: a mistake is corrected
in place with a reason (the revision keeps before, after and the reason) or the record is
withdrawn with a reason; a withdrawn record stays on the officials' page, struck
through, and counts nowhere (indicators, annual report, priorities).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
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
from gis_app.services.features import FULL_ACCESS_ROLES
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


# What an official sees of an artifact's review: 'waiting', 'sent_back' or 'approved'.
REVIEW_STATE = """CASE WHEN a.approved_at IS NOT NULL THEN 'approved'
                       WHEN a.review_comment IS NOT NULL THEN 'sent_back'
                       ELSE 'waiting' END"""


def list_artifacts(db: Session, user: Any, year: int,
                   waiting: bool = False) -> list[dict[str, Any]]:
    """The artifacts the user may edit, with this year's inventory, conservation and
    digitisation at a glance, and `review` (REVIEW_STATE) and `public`; `waiting`: only
    those not approved (a reviewer's queue; sent back ones included)."""
    return [dict(r) for r in db.execute(text(f"""
        SELECT a.id, a.heritage_id, a.inventory_code, a.name_vi, a.kind, a.typical_value,
               a.at_risk, a.public, s.name_vi AS site_name, {REVIEW_STATE} AS review,
               EXISTS (SELECT 1 FROM artifact_inventory_records r
                        WHERE r.artifact_id = a.id AND r.year = :year
                          AND r.withdrawn_at IS NULL) AS inventoried,
               (SELECT max(c.performed_on) FROM conservation_actions c
                 WHERE c.artifact_id = a.id AND c.withdrawn_at IS NULL) AS last_conserved,
               (SELECT count(*) FROM digital_records d
                 WHERE d.artifact_id = a.id AND d.removed_at IS NULL) AS media
          FROM artifacts a LEFT JOIN sites s ON s.id = a.holding_site_id
         WHERE {EDITABLE} AND (NOT CAST(:waiting AS boolean) OR a.approved_at IS NULL)
         ORDER BY s.name_vi NULLS LAST, a.name_vi"""),
        {"year": year, "waiting": waiting, **_scope(user)}).mappings()]


def editable(db: Session, user: Any, artifact_id: int) -> None:
    """Raise unless the user may edit the artifact: RecordNotFound when there is no such
    artifact, PermissionDenied when it is held outside the user's scope."""
    row = db.execute(text(f"""
        SELECT {EDITABLE} AS editable FROM artifacts a WHERE a.id = :id"""),
        {"id": artifact_id, **_scope(user)}).first()
    if row is None:
        raise RecordNotFound(f"No artifact {artifact_id}", f"Không có hiện vật {artifact_id}")
    if not row.editable:
        raise PermissionDenied("This artifact is held at a relic outside your communes: "
                               "ask a district reviewer",
                               "Hiện vật này thuộc di tích ngoài xã của bạn: hãy liên hệ "
                               "cán bộ thẩm định cấp huyện")


def get_artifact(db: Session, user: Any, artifact_id: int) -> dict[str, Any]:
    """Every field of an artifact the user may edit, its review state, its inventory
    records and conservation actions (withdrawn ones too, with `withdrawn_reason`) and
    its digital records (services.digital_records.list_records)."""
    editable(db, user, artifact_id)
    row = db.execute(text(f"""
        SELECT a.*, s.name_vi AS site_name, s.heritage_id AS site_heritage_id,
               {REVIEW_STATE} AS review,
               coalesce(u.display_name, u.username) AS approved_by_name
          FROM artifacts a LEFT JOIN sites s ON s.id = a.holding_site_id
          LEFT JOIN users u ON u.id = a.approved_by
         WHERE a.id = :id"""), {"id": artifact_id}).mappings().one()
    out = dict(row)
    out["inventory"] = [dict(r) for r in db.execute(text("""
        SELECT id, year, inventoried_on, notes, correction_reason, withdrawn_at,
               withdrawn_reason
          FROM artifact_inventory_records
         WHERE artifact_id = :id ORDER BY year DESC, withdrawn_at IS NOT NULL, id"""),
        {"id": artifact_id}).mappings()]
    out["conservation"] = [dict(r) for r in db.execute(text("""
        SELECT id, kind, performed_on, description, correction_reason, withdrawn_at,
               withdrawn_reason
          FROM conservation_actions
         WHERE artifact_id = :id ORDER BY performed_on DESC, id DESC"""),
        {"id": artifact_id}).mappings()]
    out["media"] = digital_records.list_records(db, "artifact", artifact_id)
    return out


def holding_sites(db: Session, user: Any) -> list[dict[str, Any]]:
    """Relics the user may hold artifacts at (all, or those in the editor's units)."""
    return [dict(r) for r in db.execute(text(f"""
        SELECT s.id, s.name_vi, s.heritage_id FROM sites s
         WHERE {in_register("s")} AND {in_user_units_today("s.id")}
         ORDER BY s.name_vi"""), _scope(user)).mappings()]


def _date(value: date | None, en: str, vi: str) -> date:
    if value is None:
        raise InputError(f"{en} is required.", f"Cần nhập {vi}.")
    if value > today_in_vietnam():
        raise InputError(f"{en} {value.isoformat()} is in the future.",
                         f"{vi} {value.strftime('%d/%m/%Y')} là ngày trong tương lai.")
    return value


# The fields of an artifact an official types, in form order (all shown and editable).
TEXT_FIELDS = {  # name: (max length, English label, Vietnamese label)
    "name_vi": (300, "The artifact's name", "tên hiện vật"),
    "other_names": (300, "Other names", "tên gọi khác"),
    "inventory_code": (40, "The inventory code", "mã kiểm kê"),
    "period": (200, "The period", "niên đại"),
    "material": (200, "The material", "chất liệu"),
    "dimensions": (200, "The dimensions", "kích thước"),
    "description": (5000, "The description", "mô tả"),
    "state_of_preservation": (2000, "The state of preservation", "tình trạng bảo quản"),
}
MAX_WEIGHT_KG = Decimal("9999999.999")  # numeric(10, 3)


def _weight(value: Any) -> Decimal | None:
    """A weight in kg (a dot or a Vietnamese decimal comma), or None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        weight = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        weight = None
    if weight is None or not weight.is_finite() or weight < 0 or weight > MAX_WEIGHT_KG:
        raise InputError(f"The weight {value!r} is not a number of kilograms (e.g. 12.5).",
                         f"Trọng lượng {value!r} không phải số ki-lô-gam (ví dụ 12,5).")
    return weight.quantize(Decimal("0.001"))


def check_fields(db: Session, user: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """The artifact's fields, checked and cleaned (the one place they are validated):
    texts trimmed (empty = None) and within their length, the name required, kind and
    origin from their lists, the weight a number of kilograms, the holding relic one the
    user's scope covers today. Raises InputError or PermissionDenied."""
    out: dict[str, Any] = {}
    for name, (limit, en, vi) in TEXT_FIELDS.items():
        value = (fields.get(name) or "").strip() or None
        if value is not None and len(value) > limit:
            raise InputError(f"{en} is longer than {limit} characters.",
                             f"{vi[0].upper() + vi[1:]} dài quá {limit} ký tự.")
        out[name] = value
    if out["name_vi"] is None:
        raise InputError("The artifact's name is required.", "Cần nhập tên hiện vật.")
    kind = fields.get("kind")
    if kind not in ARTIFACT_KINDS:
        raise InputError(f"Unknown kind {kind!r}: choose one from the list.",
                         f"Loại hiện vật {kind!r} không hợp lệ: hãy chọn trong danh sách.")
    origin = fields.get("origin") or None
    if origin is not None and origin not in ARTIFACT_ORIGINS:
        raise InputError(f"Unknown origin {origin!r}: choose one from the list.",
                         f"Nguồn gốc {origin!r} không hợp lệ: hãy chọn trong danh sách.")
    site = fields.get("holding_site_id")
    if site not in {s["id"] for s in holding_sites(db, user)}:
        raise PermissionDenied("You may not record artifacts at that relic: choose a relic "
                               "in your communes",
                               "Bạn không được ghi hiện vật cho di tích này: hãy chọn di tích "
                               "thuộc xã của bạn")
    out.update(kind=kind, origin=origin, holding_site_id=site,
               weight_kg=_weight(fields.get("weight_kg")),
               typical_value=bool(fields.get("typical_value")),
               at_risk=bool(fields.get("at_risk")),
               public=bool(fields.get("public", True)))
    return out


def needs_review(user: Any) -> bool:
    """A commune editor's new artifact or edit waits for a district reviewer."""
    return getattr(user, "role", None) not in FULL_ACCESS_ROLES


COLUMNS = (*TEXT_FIELDS, "kind", "origin", "holding_site_id", "weight_kg", "typical_value",
           "at_risk", "public")


def create_artifact(db: Session, user: Any, **fields: Any) -> int:
    """A new artifact with a new heritage identifier VN-HY-HV-NNNNNN; its id. The fields
    are COLUMNS (see check_fields). A commune editor's artifact waits for review."""
    values = check_fields(db, user, fields)
    set_actor(db, user.id)
    # From the artifact sequence: two officials adding artifacts at once never collide.
    heritage_id = mint_identifier(db, "artifact")
    names = ", ".join(COLUMNS)
    binds = ", ".join(f":{c}" for c in COLUMNS)
    return db.execute(text(f"""
        INSERT INTO artifacts (heritage_id, {names}, approved_at, approved_by)
        VALUES (:h, {binds}, CASE WHEN :pending THEN NULL ELSE now() END,
                CASE WHEN :pending THEN NULL ELSE CAST(:user AS integer) END)
        RETURNING id"""),
        {"h": heritage_id, **values, "pending": needs_review(user),
         "user": user.id}).scalar_one()


def update_artifact(db: Session, user: Any, artifact_id: int, **fields: Any) -> bool:
    """Change every field of the artifact (COLUMNS, checked by check_fields); moving it
    to another relic needs both relics in the user's scope. A commune editor's change
    sends the artifact back to waiting for review (public pages hide it until then).
    True when something changed."""
    editable(db, user, artifact_id)
    values = check_fields(db, user, fields)
    set_actor(db, user.id)
    assignments = ", ".join(f"{c} = :{c}" for c in COLUMNS)
    changed = " OR ".join(f"{c} IS DISTINCT FROM :{c}" for c in COLUMNS)
    return db.execute(text(f"""
        UPDATE artifacts SET {assignments},
               approved_at = CASE WHEN :pending THEN NULL ELSE approved_at END,
               approved_by = CASE WHEN :pending THEN NULL ELSE approved_by END,
               review_comment = CASE WHEN :pending THEN NULL ELSE review_comment END
         WHERE id = :id AND ({changed})"""),
        {**values, "id": artifact_id, "pending": needs_review(user)}).rowcount > 0


def set_flags(db: Session, user: Any, artifact_id: int, *, typical_value: bool,
              at_risk: bool) -> None:
    """Change the two flags only (the rest as it is; a commune editor's change waits)."""
    current = get_artifact(db, user, artifact_id)
    update_artifact(db, user, artifact_id,
                    **{**{c: current[c] for c in COLUMNS},
                       "typical_value": typical_value, "at_risk": at_risk})


def _reviewer(user: Any) -> None:
    if getattr(user, "role", None) not in FULL_ACCESS_ROLES:
        raise PermissionDenied("Only district reviewers approve or send back artifacts",
                               "Chỉ cán bộ thẩm định cấp huyện được duyệt hoặc trả lại "
                               "hiện vật")


def approve_artifact(db: Session, user: Any, artifact_id: int) -> None:
    """Approve a waiting artifact (district reviewers, admins): the public sees it from
    now on, if it is public and held at a public relic."""
    editable(db, user, artifact_id)
    _reviewer(user)
    set_actor(db, user.id)
    db.execute(text("""
        UPDATE artifacts SET approved_at = now(), approved_by = :u, review_comment = NULL
         WHERE id = :id AND approved_at IS NULL"""), {"u": user.id, "id": artifact_id})


def send_back_artifact(db: Session, user: Any, artifact_id: int, comment: str) -> None:
    """Send a waiting artifact back to its editor with a comment saying what to change
    (district reviewers, admins); it stays off public pages."""
    editable(db, user, artifact_id)
    _reviewer(user)
    comment = (comment or "").strip()
    if not comment:
        raise InputError("Say what should be changed before sending it back.",
                         "Hãy ghi cần sửa gì trước khi trả lại.")
    set_actor(db, user.id)
    done = db.execute(text("""
        UPDATE artifacts SET review_comment = :c WHERE id = :id AND approved_at IS NULL"""),
        {"c": comment[:2000], "id": artifact_id}).rowcount
    if not done:
        raise InputError("This artifact is approved: only a waiting artifact is sent back.",
                         "Hiện vật này đã được duyệt: chỉ trả lại hiện vật đang chờ duyệt.")


def record_inventory(db: Session, user: Any, artifact_id: int, *, inventoried_on: date | None,
                     notes: str | None = None) -> None:
    """The year's inventory record (one live record per artifact and year)."""
    editable(db, user, artifact_id)
    on = _date(inventoried_on, "The inventory date", "ngày kiểm kê")
    set_actor(db, user.id)
    try:
        with db.begin_nested():
            db.execute(text("""
                INSERT INTO artifact_inventory_records (artifact_id, year, inventoried_on, notes)
                VALUES (:a, :y, :d, :n)"""),
                {"a": artifact_id, "y": on.year, "d": on, "n": (notes or "").strip() or None})
    except IntegrityError:
        raise _year_taken(on.year) from None


def _year_taken(year: int) -> InputError:
    return InputError(f"This artifact already has an inventory record for {year}: correct "
                      "that one, or withdraw it first.",
                      f"Hiện vật này đã có biên bản kiểm kê năm {year}: hãy sửa biên bản "
                      "đó, hoặc rút nó trước.")


def _conservation_kind(kind: str) -> str:
    if kind not in CONSERVATION_KINDS:
        raise InputError(f"Unknown conservation kind {kind!r}.",
                         f"Hình thức bảo quản {kind!r} không hợp lệ.")
    return kind


def record_conservation(db: Session, user: Any, artifact_id: int, *, kind: str,
                        performed_on: date | None, description: str | None = None) -> None:
    editable(db, user, artifact_id)
    kind = _conservation_kind(kind)
    on = _date(performed_on, "The conservation date", "ngày bảo quản")
    set_actor(db, user.id)
    db.execute(text("""
        INSERT INTO conservation_actions (artifact_id, kind, performed_on, description)
        VALUES (:a, :k, :d, :t)"""),
        {"a": artifact_id, "k": kind, "d": on, "t": (description or "").strip() or None})


# The artifact's yearly records that are corrected or withdrawn: table per kind.
RECORD_TABLES = {"inventory": "artifact_inventory_records",
                 "conservation": "conservation_actions"}


def _live_record(db: Session, user: Any, artifact_id: int, kind: str,
                 record_id: int) -> None:
    """Check the user may edit the artifact and `record_id` is its live record of `kind`
    (locked for the change)."""
    editable(db, user, artifact_id)
    row = db.execute(text(f"""
        SELECT withdrawn_at FROM {RECORD_TABLES[kind]}
         WHERE id = :r AND artifact_id = :a FOR UPDATE"""),
        {"r": record_id, "a": artifact_id}).first()
    if row is None:
        raise RecordNotFound(f"No record {record_id} of this artifact",
                             f"Hiện vật này không có biên bản {record_id}")
    if row.withdrawn_at is not None:
        raise InputError("This record was withdrawn; record a new one instead.",
                         "Biên bản này đã bị rút; hãy ghi biên bản mới.")


def _reason(reason: str | None, en: str, vi: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InputError(f"Give the reason for {en}.", f"Hãy nêu lý do {vi}.")
    return reason[:1000]


def correct_inventory(db: Session, user: Any, artifact_id: int, record_id: int, *,
                      inventoried_on: date | None, notes: str | None, reason: str) -> None:
    """Correct an inventory record's date and notes (its year follows the date); the
    revision keeps the old values and the reason."""
    _live_record(db, user, artifact_id, "inventory", record_id)
    reason = _reason(reason, "the correction", "sửa")
    on = _date(inventoried_on, "The inventory date", "ngày kiểm kê")
    set_actor(db, user.id)
    try:
        with db.begin_nested():
            db.execute(text("""
                UPDATE artifact_inventory_records
                   SET year = :y, inventoried_on = :d, notes = :n, correction_reason = :why
                 WHERE id = :r"""),
                {"y": on.year, "d": on, "n": (notes or "").strip() or None, "why": reason,
                 "r": record_id})
    except IntegrityError:
        raise _year_taken(on.year) from None


def correct_conservation(db: Session, user: Any, artifact_id: int, record_id: int, *,
                         kind: str, performed_on: date | None, description: str | None,
                         reason: str) -> None:
    """Correct a conservation action's kind, date and description; the revision keeps
    the old values and the reason."""
    _live_record(db, user, artifact_id, "conservation", record_id)
    reason = _reason(reason, "the correction", "sửa")
    kind = _conservation_kind(kind)
    on = _date(performed_on, "The conservation date", "ngày bảo quản")
    set_actor(db, user.id)
    db.execute(text("""
        UPDATE conservation_actions
           SET kind = :k, performed_on = :d, description = :t, correction_reason = :why
         WHERE id = :r"""),
        {"k": kind, "d": on, "t": (description or "").strip() or None, "why": reason,
         "r": record_id})


def withdraw_record(db: Session, user: Any, artifact_id: int, kind: str, record_id: int,
                    reason: str) -> None:
    """Withdraw an inventory record or conservation action (`kind`: RECORD_TABLES) with
    the reason: it stays on the officials' page, struck through, and counts nowhere."""
    if kind not in RECORD_TABLES:
        raise RecordNotFound(f"No record kind {kind}", f"Không có loại biên bản {kind}")
    _live_record(db, user, artifact_id, kind, record_id)
    reason = _reason(reason, "withdrawing it", "rút")
    set_actor(db, user.id)
    db.execute(text(f"""
        UPDATE {RECORD_TABLES[kind]}
           SET withdrawn_at = now(), withdrawn_by = :u, withdrawn_reason = :why
         WHERE id = :r"""), {"u": user.id, "why": reason, "r": record_id})


def add_digital_record(db: Session, user: Any, artifact_id: int, **fields: Any) -> int:
    """A digital record of the artifact (see digital_records.add_record); a commune
    editor's waits for a reviewer."""
    editable(db, user, artifact_id)
    return digital_records.add_record(db, user, "artifact", artifact_id, **fields)
