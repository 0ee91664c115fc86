"""Survey imports: who loaded which file, with what options and result. Each row an
import created or changed has a revision pointing here, so an import can be undone as a
whole (`services.imports.undo_import`)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, one_of

IMPORT_STATUS = ("loaded", "undone")


class ImportRun(Base):
    __tablename__ = "imports"
    __table_args__ = (one_of("status", IMPORT_STATUS),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    layer: Mapped[str] = mapped_column(String(63))
    file_name: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))  # sha256 of the uploaded file, hex
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    status: Mapped[str] = mapped_column(String(10), server_default="loaded")
    options: Mapped[dict] = mapped_column(JSONB)  # preset, crs, encoding, mapping as used
    counts: Mapped[dict] = mapped_column(JSONB)   # read, inserted, updated, unchanged, repaired
    report: Mapped[dict] = mapped_column(JSONB)   # the validation report the user saw
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
