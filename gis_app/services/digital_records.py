"""Digital records (media + metadata) of a relic, an intangible heritage or an artifact:
what targets b, c and d count and what the public pages show with credit and licence.

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

from gis_app.errors import InputError
from gis_app.services.audit import set_actor

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


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of an image that really decodes (Pillow); InputError if not."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            return image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError("The image is damaged and cannot be read.",
                         "Ảnh bị hỏng, không đọc được.") from exc


def list_records(db: Session, target: str, target_id: int) -> list[dict[str, Any]]:
    column = TARGETS[target][0]
    return [dict(r) for r in db.execute(text(f"""
        SELECT id, media_type, uri, metadata, credit, licence, created_at
          FROM digital_records WHERE {column} = :id ORDER BY created_at DESC, id DESC"""),
        {"id": target_id}).mappings()]


def add_record(db: Session, user: Any, target: str, target_id: int, *, data: bytes,
               media_dir: str | Path, title: str, title_en: str | None = None,
               description: str | None = None, credit: str | None = None,
               licence: str | None = None) -> int:
    """Store a JPEG, PNG or PDF (at most 50 MB) with its metadata as a digital record of
    the target; the caller has checked the user may edit the target. Nothing is kept in
    the database on failure; a file already stored under the same content is reused."""
    column, folder = TARGETS[target]
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
        metadata["width"], metadata["height"] = _image_size(data)
    name = f"{folder}/{target_id}/{digest[:32]}{ext}"
    path = Path(media_dir) / name
    set_actor(db, user.id)
    with db.begin_nested():
        record_id = db.execute(text(f"""
            INSERT INTO digital_records ({column}, media_type, uri, metadata, credit, licence)
            VALUES (:id, :t, :u, CAST(:m AS jsonb), :c, :l) RETURNING id"""),
            {"id": target_id, "t": media_type, "u": name, "m": json.dumps(metadata),
             "c": credit or None, "l": licence or None}).scalar_one()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_bytes(data)
        except OSError as exc:
            raise InputError(f"The file could not be stored: {exc}",
                             f"Không lưu được tệp: {exc}") from exc
    return record_id


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
