"""Criteria set 4, artifacts and antiquities (hiện vật, di vật, cổ vật)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import ARTIFACT_KINDS, ARTIFACT_ORIGINS, CONSERVATION_KINDS, Base, created_at, one_of


class Artifact(Base):
    """An object held at a relic (Circular 09/2011, Form 2 columns)."""

    __tablename__ = "artifacts"
    __table_args__ = (one_of("kind", ARTIFACT_KINDS), one_of("origin", ARTIFACT_ORIGINS))
    id: Mapped[int] = mapped_column(primary_key=True)
    heritage_id: Mapped[str] = mapped_column(ForeignKey("heritage_identifiers.id"), unique=True)
    inventory_code: Mapped[str | None] = mapped_column(String(40))  # A.B.C, e.g. PTH.TĐ.01
    name_vi: Mapped[str] = mapped_column(Text)
    other_names: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str | None] = mapped_column(String(20))
    period: Mapped[str | None] = mapped_column(Text)
    material: Mapped[str | None] = mapped_column(Text)
    dimensions: Mapped[str | None] = mapped_column(Text)
    weight_kg: Mapped[float | None] = mapped_column(Numeric(10, 3))
    description: Mapped[str | None] = mapped_column(Text)
    state_of_preservation: Mapped[str | None] = mapped_column(Text)
    holding_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    typical_value: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    at_risk: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # A commune editor's new or edited artifact waits (NULL) for a district reviewer;
    # `review_comment` says why it was sent back. Only approved, public artifacts of
    # public relics reach public pages (services.visibility.public_artifact).
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         server_default=text("now()"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class _Correctable:
    """A yearly record corrected in place (the revision keeps the reason) or withdrawn
    (kept for officials, counted nowhere); never deleted."""

    correction_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class InventoryRecord(_Correctable, Base):
    __tablename__ = "artifact_inventory_records"
    __table_args__ = (
        Index("uq_artifact_inventory_live_year", "artifact_id", "year", unique=True,
              postgresql_where=text("withdrawn_at IS NULL")),
        CheckConstraint("withdrawn_at IS NULL OR length(btrim(withdrawn_reason)) > 0",
                        name="withdrawal_has_reason"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(SmallInteger)
    inventoried_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)


class ConservationAction(_Correctable, Base):
    __tablename__ = "conservation_actions"
    __table_args__ = (one_of("kind", CONSERVATION_KINDS),
                      Index("ix_conservation_actions_artifact", "artifact_id", "performed_on"),
                      CheckConstraint("withdrawn_at IS NULL OR length(btrim(withdrawn_reason)) > 0",
                                      name="withdrawal_has_reason"))
    id: Mapped[int] = mapped_column(primary_key=True)
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    performed_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)


class DigitalRecord(Base):
    """Media + metadata digitising a site, an intangible heritage or an artifact."""

    __tablename__ = "digital_records"
    __table_args__ = (
        CheckConstraint("num_nonnulls(site_id, intangible_id, artifact_id) = 1",
                        name="one_target"),
        CheckConstraint("removed_at IS NULL OR length(btrim(removed_reason)) > 0",
                        name="removal_has_reason"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"),
                                                index=True)
    intangible_id: Mapped[int | None] = mapped_column(
        ForeignKey("intangible_heritage.id", ondelete="RESTRICT"), index=True)
    artifact_id: Mapped[int | None] = mapped_column(
        ForeignKey("artifacts.id", ondelete="RESTRICT"), index=True)
    media_type: Mapped[str] = mapped_column(String(40))
    uri: Mapped[str] = mapped_column(Text)
    metadata_: Mapped[dict | None] = mapped_column("metadata", JSONB)
    credit: Mapped[str | None] = mapped_column(Text)
    licence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    # Order among the target's records (public page, map card); see services.digital_records.
    position: Mapped[int] = mapped_column(Integer, server_default="0")
    # A commune editor's upload is not public until a district reviewer approves it.
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         server_default=text("now()"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Removed = hidden from everyone but officials, and restorable; never deleted.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    removed_reason: Mapped[str | None] = mapped_column(Text)
