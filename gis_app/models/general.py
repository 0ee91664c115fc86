"""Criteria set 1, general: administrative units, identifiers, organisations, people."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import ACCURACY, ADMIN_LEVELS, Base, created_at, geometry, one_of, valid_geometry


class AdminUnit(Base):
    """A dated administrative unit (province, district, commune...). Never overwritten:
    the 2025 reform closes old units (`valid_to`) and opens new ones."""

    __tablename__ = "admin_units"
    __table_args__ = (
        UniqueConstraint("code", "level", "valid_from", name="code_level_from"),
        one_of("level", ADMIN_LEVELS),
        one_of("accuracy", ACCURACY),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates_ordered"),
        valid_geometry(),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    geom = mapped_column(geometry("MULTIPOLYGON"), nullable=True)
    source: Mapped[str | None] = mapped_column(Text)
    accuracy: Mapped[str | None] = mapped_column(String(20))


class AdminUnitSuccession(Base):
    """Old unit -> new unit on a reorganisation (many-to-one on a merger)."""

    __tablename__ = "admin_unit_successions"
    old_unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), primary_key=True)
    new_unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), primary_key=True)
    effective: Mapped[date] = mapped_column(Date)
    legal_basis: Mapped[str | None] = mapped_column(Text)


class HeritageIdentifier(Base):
    """Registry of heritage identifiers (mã định danh): unique, never deleted or reused
    (a trigger refuses DELETE and changes of the id)."""

    __tablename__ = "heritage_identifiers"
    __table_args__ = (
        CheckConstraint(r"id ~ '^VN-[A-Z]{2}-(DT|PVT|HV)-[0-9]{6}$'", name="format"),
        one_of("kind", ("site", "intangible", "artifact")),
    )
    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_at()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(40))
    admin_unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    e_identifier: Mapped[str | None] = mapped_column(String(40), unique=True)
    contact: Mapped[str | None] = mapped_column(Text)


class Person(Base):
    """Artisans (nghệ nhân), custodians, assessors."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(Text)
    roles: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    admin_unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    notes: Mapped[str | None] = mapped_column(Text)


class Catalogue(Base):
    """Statutory lists (inventory lists, ranked relics, intangible heritage lists)."""

    __tablename__ = "catalogues"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)

