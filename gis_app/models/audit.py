"""Revisions: every change to a heritage record, written by a database trigger so no
code path can skip it. The acting user comes from the `gis.actor_id` setting
(`services.audit.set_actor`)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, one_of

AUDITED_TABLES = (
    "admin_units", "organisations", "people", "sites", "site_admin_units",
    "protection_zones", "landscapes", "facilities", "environment_notes",
    "intangible_heritage", "heritage_events", "artifacts", "artifact_inventory_records",
    "conservation_actions", "digital_records", "condition_assessments", "users",
    "condition_photos", "user_scopes", "intangible_sites", "intangible_artisans",
)


class Revision(Base):
    __tablename__ = "revisions"
    __table_args__ = (one_of("action", ("insert", "update", "delete")),
                      Index("ix_revisions_row", "table_name", "row_id", "changed_at"))
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(63))
    row_id: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)
    # The import that made this change (from the `gis.import_id` setting), if any.
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"), index=True)


class Restore(Base):
    """A record put back as it stood on `as_of`, or just before `before_change` (migrations
    0014, 0029): the revisions written in
    the same transaction (same `changed_at`) are that restore."""

    __tablename__ = "restores"
    __table_args__ = (Index("ix_restores_row", "table_name", "row_id", "restored_at"),)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(63))
    row_id: Mapped[str] = mapped_column(Text)
    as_of: Mapped[date] = mapped_column(Date)
    fields: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    restored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())
    # A restore to just before one change (migration 0029): that change's moment; NULL
    # for a restore to the end of `as_of`.
    before_change: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
