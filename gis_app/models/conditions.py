"""Condition assessments: many per site over the years, never overwritten.

A correction is a new assessment that names the one it `supersedes`; a database trigger
refuses UPDATE and every DELETE (a relic with assessments cannot be deleted)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ARRAY, Date, ForeignKey, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import CONDITIONS, THREATS, TRENDS, Base, all_of, created_at, one_of


class ConditionAssessment(Base):
    __tablename__ = "condition_assessments"
    __table_args__ = (one_of("overall", CONDITIONS), one_of("trend", TRENDS),
                      all_of("threats", THREATS))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    assessor_name: Mapped[str | None] = mapped_column(Text)
    overall: Mapped[str] = mapped_column(String(20))
    # {element: condition code} for the elements in base.ELEMENTS that were assessed.
    element_scores: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'"))
    threats: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    trend: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("condition_assessments.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = created_at()


class ConditionPhoto(Base):
    """A photo taken for an assessment (file under MEDIA_DIR, credit and licence kept)."""

    __tablename__ = "condition_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("condition_assessments.id", ondelete="RESTRICT"), index=True)
    uri: Mapped[str] = mapped_column(Text)
    caption: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[str | None] = mapped_column(Text)
    licence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
