"""Users and roles; commune editors are scoped to administrative units."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import ROLES, Base, created_at, one_of


class User(Base):
    __tablename__ = "users"
    __table_args__ = (one_of("role", ROLES),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(30), server_default="public")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = created_at()
    # Set by every password change after creation; part of the session id, so a reset
    # ends the sessions opened with the old password.
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scopes: Mapped[list[UserScope]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The session's user id: the account and when its password last changed, so a
        password reset ends the sessions opened before it (`auth.load_user`)."""
        if self.password_changed_at is None:
            return str(self.id)
        return f"{self.id}:{self.password_changed_at.astimezone(UTC):%Y%m%d%H%M%S%f}"


class UserScope(Base):
    """An administrative unit a commune editor may edit."""

    __tablename__ = "user_scopes"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    admin_unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), primary_key=True)


class SignInAttempt(Base):
    """One sign-in attempt, successful or not: the account when the name is known, the
    name as typed, when, from where. Never a password."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_user_time", "user_id", "attempted_at"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(80))
    # The moment of the attempt (clock_timestamp, not the transaction's start).
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=text("clock_timestamp()"))
    success: Mapped[bool] = mapped_column(Boolean)
    client_ip: Mapped[str | None] = mapped_column(String(45))


class UserSession(Base):
    """One signed-in session, server side, so that signing out (or an administrator
    disabling the account or resetting its password) ends it for good: the cookie
    carries a random token, only its SHA-256 is stored."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_open", "user_id",
                            postgresql_where=text("ended_at IS NULL")),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at()
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=text("now()"))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # signed_out, disabled, password_reset
    end_reason: Mapped[str | None] = mapped_column(String(20))
    client_ip: Mapped[str | None] = mapped_column(String(45))
