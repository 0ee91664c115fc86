"""Criteria set 3, intangible heritage (di sản văn hóa phi vật thể)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import ICH_TYPES, RECORD_STATUS, Base, geometry, one_of, valid_geometry


class IntangibleHeritage(Base):
    __tablename__ = "intangible_heritage"
    __table_args__ = (one_of("ich_type", ICH_TYPES), one_of("status", RECORD_STATUS),
                      valid_geometry())
    id: Mapped[int] = mapped_column(primary_key=True)
    heritage_id: Mapped[str] = mapped_column(ForeignKey("heritage_identifiers.id"), unique=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    ich_type: Mapped[str] = mapped_column(String(40))
    community: Mapped[str | None] = mapped_column(Text)
    description_vi: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    national_listing_decision_no: Mapped[str | None] = mapped_column(Text)
    national_listing_date: Mapped[date | None] = mapped_column(Date)
    geom = mapped_column(geometry("MULTIPOLYGON"), nullable=True)  # places practised
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    source: Mapped[str | None] = mapped_column(Text)


class IntangibleSite(Base):
    """Relics where an intangible heritage is practised."""

    __tablename__ = "intangible_sites"
    intangible_id: Mapped[int] = mapped_column(
        ForeignKey("intangible_heritage.id", ondelete="RESTRICT"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"),
                                         primary_key=True)


class IntangibleArtisan(Base):
    __tablename__ = "intangible_artisans"
    intangible_id: Mapped[int] = mapped_column(
        ForeignKey("intangible_heritage.id", ondelete="RESTRICT"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)  # e.g. Nghệ nhân Ưu tú


class HeritageEvent(Base):
    """A festival date: lunar (month/day) and/or a fixed solar date."""

    __tablename__ = "heritage_events"
    __table_args__ = (
        CheckConstraint("lunar_month BETWEEN 1 AND 12", name="lunar_month_range"),
        CheckConstraint("lunar_day BETWEEN 1 AND 30", name="lunar_day_range"),
        CheckConstraint("(lunar_month IS NULL) = (lunar_day IS NULL)", name="lunar_pair"),
        CheckConstraint("lunar_month IS NOT NULL OR solar_date IS NOT NULL", name="has_date"),
        CheckConstraint("duration_days >= 1", name="duration_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    intangible_id: Mapped[int | None] = mapped_column(
        ForeignKey("intangible_heritage.id", ondelete="RESTRICT"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    lunar_month: Mapped[int | None] = mapped_column(SmallInteger)
    lunar_day: Mapped[int | None] = mapped_column(SmallInteger)
    solar_date: Mapped[date | None] = mapped_column(Date)
    duration_days: Mapped[int] = mapped_column(SmallInteger, server_default="1")
