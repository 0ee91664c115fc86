"""Stored zone checks (kiểm tra khu vực bảo vệ): a parcel, the date it was checked for,
and what `services.zone_check.check_parcel` answered, under a reference number such as
KTBV-2026-000123 that a planner can quote and print. The number is a counter, so the
report's link carries `token` instead (random, unguessable); staff may still open a
report by its number."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, String, Text, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, geometry, valid_geometry


class ZoneCheckRecord(Base):
    __tablename__ = "zone_checks"
    __table_args__ = (valid_geometry("parcel"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    # The report's public link: 32 random hex characters (secrets.token_hex(16)).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    on_date: Mapped[date] = mapped_column(Date)
    crs: Mapped[str | None] = mapped_column(Text)  # the CRS the parcel was given in
    role: Mapped[str | None] = mapped_column(String(40))  # the checker's role (None: public)
    # Checked with access to unpublished and sensitive relics: shown to staff only.
    full_access: Mapped[bool] = mapped_column(Boolean, server_default=false())
    parcel = mapped_column(geometry("GEOMETRY"), nullable=False)
    result: Mapped[dict] = mapped_column(JSONB)  # ZoneCheck.as_dict()
    data_version: Mapped[int] = mapped_column(BigInteger)
    repeated_from: Mapped[int | None] = mapped_column(
        ForeignKey("zone_checks.id", ondelete="SET NULL"), index=True)
