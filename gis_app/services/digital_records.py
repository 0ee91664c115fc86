"""Digital records (media + metadata) of a relic, an intangible heritage or an artifact:
what targets b, c and d count and what the public pages show with credit and licence.

A record is shown to the public (when its target is public) only while it is approved
and not removed: `SHOWN` is that rule, used by the site page, the map card and /media.
Removing hides a record (with who, when and why) and can be undone; a commune editor's
upload of a relic or artifact photo waits for a district reviewer's approval; `position` orders a
target's records. Every change is a revision (the table's triggers).

Files live under MEDIA_DIR, named by content hash below a folder per target
(`sites/<id>/…`, `artifacts/<id>/…`); the database row names the file, so `/media`
serves it only to those who may see the record.
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.services.audit import set_actor
from gis_app.services.features import FULL_ACCESS_ROLES
from gis_app.vocab import VOCAB

MAX_MEDIA_BYTES = 50 * 1024 * 1024
TARGETS = {"site": ("site_id", "sites"), "artifact": ("artifact_id", "artifacts"),
           "intangible": ("intangible_id", "intangible")}
# What a file may be, told by its first bytes (not its name); images are also decoded.
MEDIA_KINDS = (
    (b"\xff\xd8\xff", ".jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", ".png", "image/png"),
    (b"%PDF-", ".pdf", "application/pdf"),
)


def media_kind(data: bytes) -> tuple[str, str] | None:
    """(extension, media type) told by the file's first bytes, else None."""
    for magic, ext, media_type in MEDIA_KINDS:
        if data.startswith(magic):
            return ext, media_type
    return None


# The largest image accepted, in pixels (a 60-megapixel camera is 9504 x 6336): more
# is a decompression bomb (a small file that decodes into gigabytes), not a photo.
MAX_IMAGE_PIXELS = 80_000_000


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of an image that really decodes (Pillow); InputError if not,
    or if it has more than MAX_IMAGE_PIXELS pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_many_pixels(width, height)
            image.verify()
            return image.size
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(0, 0) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError("The image is damaged and cannot be read.",
                         "Ảnh bị hỏng, không đọc được.") from exc


def _too_many_pixels(width: int, height: int) -> InputError:
    size = f" ({width} x {height})" if width else ""
    limit = MAX_IMAGE_PIXELS // 1_000_000
    return InputError(f"The image is too large{size}: at most {limit} megapixels. Send a "
                      f"smaller copy.",
                      f"Ảnh quá lớn{size}: tối đa {limit} triệu điểm ảnh. Hãy gửi bản nhỏ "
                      f"hơn.")


# The one rule: a digital record `d` the public may see, as far as the record goes (its
# target must be public too): approved and not removed.
SHOWN = "(d.approved_at IS NOT NULL AND d.removed_at IS NULL)"
# The order the public page, the map card and the officials' page show records in.
ORDER = "d.position, d.created_at, d.id"
LICENCES = tuple(VOCAB["licence"])


def list_records(db: Session, target: str, target_id: int) -> list[dict[str, Any]]:
    """All the target's records in their order, with `state`: "shown", "pending" (waits
    for a reviewer) or "removed" (with removed_reason)."""
    column = TARGETS[target][0]
    return [dict(r) for r in db.execute(text(f"""
        SELECT d.id, d.media_type, d.uri, d.metadata, d.credit, d.licence, d.created_at,
               d.position, d.removed_reason, d.removed_at,
               CASE WHEN d.removed_at IS NOT NULL THEN 'removed'
                    WHEN d.approved_at IS NULL THEN 'pending' ELSE 'shown' END AS state
          FROM digital_records d WHERE d.{column} = :id
         ORDER BY d.removed_at IS NOT NULL, {ORDER}"""),
        {"id": target_id}).mappings()]


def needs_review(user: Any, target: str) -> bool:
    """A relic or artifact photo or document from anyone but a district reviewer or an
    admin waits for a reviewer before the public sees it."""
    return (target in ("site", "artifact")
            and getattr(user, "role", None) not in FULL_ACCESS_ROLES)


def check_licence(licence: str | None, current: str | None = None) -> str | None:
    """The licence if it is one of the list (vocab "licence"), the record's current value
    (free text typed before the list existed) or empty (None); InputError otherwise."""
    licence = (licence or "").strip() or None
    if licence is None or licence in LICENCES or licence == current:
        return licence
    raise InputError(f"Unknown licence {licence!r}: choose one from the list.",
                     f"Giấy phép {licence!r} không có trong danh sách: hãy chọn trong danh sách.")


def add_record(db: Session, user: Any, target: str, target_id: int, *, data: bytes,
               media_dir: str | Path, title: str, title_en: str | None = None,
               description: str | None = None, credit: str | None = None,
               licence: str | None = None) -> int:
    """Store a JPEG, PNG or PDF (at most 50 MB) with its metadata as a digital record of
    the target, last in its order; the caller has checked the user may edit the target.
    A commune editor's relic photo waits for approval (`needs_review`). The licence is
    one of the list or empty. Nothing is kept in the database on failure; a file already
    stored under the same content is reused."""
    column, folder = TARGETS[target]
    licence = check_licence(licence)
    title = (title or "").strip()
    if not title:
        raise InputError("A title (metadata) is required.", "Cần nhập tiêu đề (siêu dữ liệu).")
    if not data:
        raise InputError("Choose a file to upload.", "Hãy chọn tệp để tải lên.")
    if len(data) > MAX_MEDIA_BYTES:
        raise InputError("The file is larger than 50 MB.", "Tệp lớn hơn 50 MB.")
    kind = media_kind(data)
    if kind is None:
        raise InputError("The file is not a JPEG, PNG or PDF.",
                         "Tệp không phải JPEG, PNG hoặc PDF.")
    ext, media_type = kind
    digest = hashlib.sha256(data).hexdigest()
    metadata: dict[str, Any] = {"title": title, "caption_vi": title, "alt_vi": title,
                                "caption_en": title_en or None, "alt_en": title_en or None,
                                "description": description or None, "sha256": digest,
                                "bytes": len(data)}
    if media_type.startswith("image/"):
        metadata["width"], metadata["height"] = image_size(data)
    name = f"{folder}/{target_id}/{digest[:32]}{ext}"
    path = Path(media_dir) / name
    set_actor(db, user.id)
    with db.begin_nested():
        record_id = db.execute(text(f"""
            INSERT INTO digital_records ({column}, media_type, uri, metadata, credit, licence,
                                         position, approved_at, approved_by)
            SELECT :id, :t, :u, CAST(:m AS jsonb), :c, :l,
                   coalesce((SELECT max(position) FROM digital_records WHERE {column} = :id),
                            0) + 1,
                   CASE WHEN :pending THEN NULL ELSE now() END,
                   CASE WHEN :pending THEN NULL ELSE CAST(:user AS integer) END
            RETURNING id"""),
            {"id": target_id, "t": media_type, "u": name, "m": json.dumps(metadata),
             "c": credit or None, "l": licence, "pending": needs_review(user, target),
             "user": user.id}).scalar_one()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_bytes(data)
        except OSError as exc:
            raise InputError(f"The file could not be stored: {exc}",
                             f"Không lưu được tệp: {exc}") from exc
    return record_id


def _curator(user: Any) -> None:
    if getattr(user, "role", None) not in FULL_ACCESS_ROLES:
        raise PermissionDenied("Only district reviewers edit, order, remove or approve "
                               "photos and documents",
                               "Chỉ cán bộ thẩm định cấp huyện được sửa, sắp xếp, gỡ hoặc "
                               "duyệt ảnh và tài liệu")


def _record(db: Session, target: str, target_id: int, record_id: int) -> dict[str, Any]:
    """The target's record `record_id`, locked for the change; RecordNotFound if the
    record belongs to another target."""
    column = TARGETS[target][0]
    row = db.execute(text(f"""
        SELECT id, metadata, licence, approved_at, removed_at FROM digital_records
         WHERE id = :r AND {column} = :id FOR UPDATE"""),
        {"r": record_id, "id": target_id}).mappings().first()
    if row is None:
        raise RecordNotFound(f"No digital record {record_id} here",
                             f"Không có ảnh hoặc tài liệu {record_id} ở đây")
    return dict(row)


def edit_record(db: Session, user: Any, target: str, target_id: int, record_id: int, *,
                title: str, title_en: str | None, credit: str | None,
                licence: str | None) -> None:
    """Change the caption (vi, en; the alt text follows it), credit and licence of a
    record (district reviewers and admins). The licence is one of the list, empty or the
    free text it already had."""
    _curator(user)
    record = _record(db, target, target_id, record_id)
    title = (title or "").strip()
    if not title:
        raise InputError("A caption in Vietnamese is required.", "Cần nhập chú thích tiếng Việt.")
    licence = check_licence(licence, record["licence"])
    title_en = (title_en or "").strip() or None
    changes = {"title": title, "caption_vi": title, "alt_vi": title,
               "caption_en": title_en, "alt_en": title_en}
    set_actor(db, user.id)
    db.execute(text("""
        UPDATE digital_records
           SET metadata = coalesce(metadata, '{}'::jsonb) || CAST(:m AS jsonb),
               credit = :c, licence = :l
         WHERE id = :r"""), {"m": json.dumps(changes), "c": (credit or "").strip() or None,
                             "l": licence, "r": record_id})


def move_record(db: Session, user: Any, target: str, target_id: int, record_id: int,
                direction: str) -> None:
    """Move a record one place "up" (earlier) or "down" among the target's records that
    are not removed; the first stays first, the last stays last."""
    _curator(user)
    if direction not in ("up", "down"):
        raise InputError("Move a record up or down.", "Chỉ chuyển lên hoặc xuống.")
    _record(db, target, target_id, record_id)
    column = TARGETS[target][0]
    ids = list(db.scalars(text(f"""
        SELECT d.id FROM digital_records d WHERE d.{column} = :id AND d.removed_at IS NULL
         ORDER BY {ORDER} FOR UPDATE"""), {"id": target_id}))
    if record_id not in ids:
        raise InputError("A removed record has no place in the order; put it back first.",
                         "Ảnh hoặc tài liệu đã gỡ không có vị trí; hãy khôi phục trước.")
    i = ids.index(record_id)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(ids):
        return
    ids[i], ids[j] = ids[j], ids[i]
    set_actor(db, user.id)
    db.execute(text("""
        UPDATE digital_records d SET position = n.pos
          FROM unnest(CAST(:ids AS integer[])) WITH ORDINALITY AS n(id, pos)
         WHERE d.id = n.id AND d.position IS DISTINCT FROM n.pos"""), {"ids": ids})


def remove_record(db: Session, user: Any, target: str, target_id: int, record_id: int,
                  reason: str) -> None:
    """Hide a record from the public page, the map card and /media, with the reason
    (a rejected upload is removed the same way); `restore_record` puts it back."""
    _curator(user)
    reason = (reason or "").strip()
    if not reason:
        raise InputError("Give the reason for removing it.", "Hãy nêu lý do gỡ.")
    if _record(db, target, target_id, record_id)["removed_at"] is not None:
        raise InputError("It is already removed.", "Ảnh hoặc tài liệu này đã được gỡ.")
    set_actor(db, user.id)
    db.execute(text("""
        UPDATE digital_records SET removed_at = now(), removed_by = :u, removed_reason = :why
         WHERE id = :r"""), {"u": user.id, "why": reason[:1000], "r": record_id})


def restore_record(db: Session, user: Any, target: str, target_id: int,
                   record_id: int) -> None:
    """Put a removed record back where it was (a rejected upload returns to waiting)."""
    _curator(user)
    if _record(db, target, target_id, record_id)["removed_at"] is None:
        raise InputError("It is not removed.", "Ảnh hoặc tài liệu này chưa bị gỡ.")
    set_actor(db, user.id)
    db.execute(text("""
        UPDATE digital_records SET removed_at = NULL, removed_by = NULL, removed_reason = NULL
         WHERE id = :r"""), {"r": record_id})


def approve_record(db: Session, user: Any, target: str, target_id: int,
                   record_id: int) -> None:
    """Approve a waiting upload: the public sees it from now on (if its target is
    public)."""
    _curator(user)
    record = _record(db, target, target_id, record_id)
    if record["removed_at"] is not None:
        raise InputError("It was removed; put it back before approving it.",
                         "Ảnh hoặc tài liệu đã bị gỡ; hãy khôi phục trước khi duyệt.")
    if record["approved_at"] is not None:
        return
    set_actor(db, user.id)
    db.execute(text("""
        UPDATE digital_records SET approved_at = now(), approved_by = :u WHERE id = :r"""),
        {"u": user.id, "r": record_id})


def intangible_list(db: Session) -> list[dict[str, Any]]:
    """Intangible heritage with its national listing and number of digital records."""
    return [dict(r) for r in db.execute(text("""
        SELECT i.id, i.heritage_id, i.name_vi, i.national_listing_decision_no,
               i.national_listing_date,
               (SELECT count(*) FROM digital_records d WHERE d.intangible_id = i.id) AS media
          FROM intangible_heritage i ORDER BY i.name_vi""")).mappings()]


def set_national_listing(db: Session, user: Any, ich_id: int, *, decision_no: str | None,
                         listed_on: Any) -> None:
    """Record (or clear, with both empty) the intangible heritage's inscription on the
    national list, which decides whether target d counts it."""
    decision_no = (decision_no or "").strip() or None
    if (decision_no is None) != (listed_on is None):
        raise InputError("Give both the decision number and its date, or neither.",
                         "Cần nhập cả số quyết định và ngày quyết định, hoặc bỏ trống cả hai.")
    set_actor(db, user.id)
    db.execute(text("""
        UPDATE intangible_heritage
           SET national_listing_decision_no = :no, national_listing_date = :on
         WHERE id = :id"""), {"no": decision_no, "on": listed_on, "id": ich_id})


def target_of(db: Session, record_id: int) -> tuple[str, int]:
    """(target kind, target id) of digital record `record_id`, for callers that know the
    record only by its number (the CLI's `media remove|restore`); RecordNotFound."""
    row = db.execute(text("""
        SELECT site_id, artifact_id, intangible_id FROM digital_records WHERE id = :r"""),
        {"r": record_id}).mappings().first()
    if row is not None:
        for target, (column, _table) in TARGETS.items():
            if row.get(column) is not None:
                return target, int(row[column])
    raise RecordNotFound(f"There is no photo or document #{record_id}.",
                         f"Không có ảnh hoặc tài liệu số {record_id}.")
