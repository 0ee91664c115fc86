"""Criteria set 2, relics (di tích)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import (
    ACCURACY,
    RANKS,
    RECORD_STATUS,
    RELIC_TYPES,
    Base,
    all_of,
    created_at,
    geometry,
    one_of,
    valid_geometry,
)

# A relic's life: draft -> published -> retired, or merged into another relic.
SITE_STATUS = (*RECORD_STATUS, "retired", "merged")
# No longer in the register: left out of counts, lists and choices (their pages answer).
ENDED_STATUS = ("archived", "retired", "merged")


def in_register(alias: str = "s") -> str:
    """SQL: the relic `alias` is still in the register (not archived, retired, merged)."""
    ended = ", ".join(f"'{v}'" for v in ENDED_STATUS)
    return f"{alias}.status NOT IN ({ended})"


class Site(Base):
    """A relic (di tích) with its stable heritage identifier."""

    __tablename__ = "sites"
    __table_args__ = (
        all_of("types", RELIC_TYPES),
        one_of("rank", RANKS),
        one_of("status", SITE_STATUS),
        one_of("accuracy", ACCURACY),
        valid_geometry(),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    heritage_id: Mapped[str] = mapped_column(ForeignKey("heritage_identifiers.id"), unique=True)
    # The survey's own code (mã khảo sát, e.g. "KC-01-000"), kept beside heritage_id.
    survey_code: Mapped[str | None] = mapped_column(Text, index=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    other_names: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    types: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    # None: ranked (national or provincial) but the level is not yet verified.
    rank: Mapped[str | None] = mapped_column(String(20))
    ranking_decision_no: Mapped[str | None] = mapped_column(Text)
    ranking_decision_date: Mapped[date | None] = mapped_column(Date)
    period: Mapped[str | None] = mapped_column(Text)
    materials: Mapped[str | None] = mapped_column(Text)
    description_vi: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    # Free text as the custodian gives it, e.g. "7:00–17:00 hằng ngày".
    opening_hours_vi: Mapped[str | None] = mapped_column(Text)
    opening_hours_en: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(geometry("POINT"), nullable=False)
    admin_unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    custodian_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    sensitive: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    licence: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    accuracy: Mapped[str | None] = mapped_column(String(20))
    accuracy_note: Mapped[str | None] = mapped_column(Text)
    # The end of its life: retired (its page answers 410 with the reason) or merged into
    # another relic (its page redirects there).
    retired_on: Mapped[date | None] = mapped_column(Date)
    retired_reason: Mapped[str | None] = mapped_column(Text)
    retired_decision: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now(), onupdate=func.now())


class SiteAdminUnit(Base):
    """Which administrative unit a site belonged to over time."""

    __tablename__ = "site_admin_units"
    # Revisions (and so the undo of an import) name a row by this id (migration 0006).
    id: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"),
                                         primary_key=True)
    admin_unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
