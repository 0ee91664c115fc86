"""Criteria set 5, digital map: protection zones, landscapes, facilities, environment,
and the basemap lines (rivers, roads)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import ACCURACY, LANDSCAPE_KINDS, ZONES, Base, geometry, one_of, valid_geometry


class ProtectionZone(Base):
    """Khu vực bảo vệ I / II (or a buffer), with its legal decision and validity: one
    version of the relic's zone (services/zones.py)."""

    __tablename__ = "protection_zones"
    __table_args__ = (
        one_of("zone", ZONES),
        one_of("accuracy", ACCURACY),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates_ordered"),
        valid_geometry(),
        # A zone is a chain of dated versions with one open version (migration 0013).
        Index("uq_protection_zones_open_version", "site_id", "zone", unique=True,
              postgresql_where=text("valid_to IS NULL")),
        Index("ix_protection_zones_chain", "site_id", "zone", "valid_from"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    zone: Mapped[str] = mapped_column(String(10))
    geom = mapped_column(geometry("MULTIPOLYGON"), nullable=False)
    decision_no: Mapped[str | None] = mapped_column(Text)
    decision_date: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(Text)
    accuracy: Mapped[str | None] = mapped_column(String(20))


class Landscape(Base):
    """Ponds, ancient trees, gardens, river banks belonging to (or near) a relic."""

    __tablename__ = "landscapes"
    __table_args__ = (one_of("kind", LANDSCAPE_KINDS), one_of("accuracy", ACCURACY),
                      valid_geometry())
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(geometry("MULTIPOLYGON"), nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    accuracy: Mapped[str | None] = mapped_column(String(20))


class FacilityKind(Base):
    """The controlled list of facility kinds (infrastructure, display, management...)."""

    __tablename__ = "facility_kinds"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    category: Mapped[str] = mapped_column(String(40))
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)


class Facility(Base):
    """Infrastructure, display/exhibition, management, assets, equipment: point or area."""

    __tablename__ = "facilities"
    __table_args__ = (
        CheckConstraint("GeometryType(geom) IN ('POINT', 'MULTIPOLYGON')", name="geom_kind"),
        one_of("accuracy", ACCURACY),
        valid_geometry(),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(ForeignKey("facility_kinds.code"))
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(geometry("GEOMETRY"), nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    accuracy: Mapped[str | None] = mapped_column(String(20))


class EnvironmentNote(Base):
    __tablename__ = "environment_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    observed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)


class BasemapFeature(Base):
    """Rivers and roads drawn by the app's own basemap (no tile server needed)."""

    __tablename__ = "basemap_features"
    __table_args__ = (one_of("kind", ("river", "road")), one_of("accuracy", ACCURACY),
                      valid_geometry())
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name_vi: Mapped[str | None] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(String(20))
    geom = mapped_column(geometry("MULTILINESTRING"), nullable=False)
    accuracy: Mapped[str | None] = mapped_column(String(20))
