"""Users, passwords and roles."""
from __future__ import annotations

import logging
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from gis_app.errors import InputError
from gis_app.models import AdminUnit, User, UserScope
from gis_app.models.base import ROLES

log = logging.getLogger(__name__)
MIN_PASSWORD = 10


def create_user(db: Session, username: str, password: str, role: str,
                display_name: str | None = None, unit_codes: tuple[str, ...] = ()) -> User:
    """Create a user with a hashed password. Commune editors need `unit_codes`
    (codes of current administrative units they may edit). Raises InputError."""
    username = username.strip()
    if not username or len(username) > 80:
        raise InputError("A username of 1-80 characters is required",
                         "Cần tên đăng nhập dài 1-80 ký tự")
    if role not in ROLES:
        raise InputError(f"Unknown role '{role}'; choose one of {', '.join(ROLES)}",
                         f"Vai trò '{role}' không hợp lệ; chọn một trong {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"The password needs at least {MIN_PASSWORD} characters",
                         f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự")
    if db.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise InputError(f"User '{username}' already exists",
                         f"Người dùng '{username}' đã tồn tại")
    if role == "commune_editor" and not unit_codes:
        raise InputError("A commune editor needs at least one administrative unit (--unit CODE)",
                         "Biên tập viên cấp xã cần ít nhất một đơn vị hành chính (--unit MÃ)")
    user = User(username=username, password_hash=generate_password_hash(password), role=role,
                display_name=display_name)
    for code in unit_codes:
        unit = db.scalar(select(AdminUnit).where(AdminUnit.code == code,
                                                 AdminUnit.valid_to.is_(None)))
        if unit is None:
            raise InputError(f"No current administrative unit with code '{code}'",
                             f"Không có đơn vị hành chính hiện hành mã '{code}'")
        user.scopes.append(UserScope(admin_unit_id=unit.id))
    db.add(user)
    db.flush()
    log.info("created user %s with role %s", username, role)
    return user


def find_user(db: Session, username: str) -> User | None:
    """The account with this name (case-insensitive), active or not."""
    return db.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for both mistakes)."""
    user = find_user(db, username)
    if user is None or not user.active:
        check_password_hash(generate_password_hash("timing"), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def ensure_demo_admin(db: Session) -> str | None:
    """Create the demo administrator `admin` if no administrator exists; return its new
    random password (to be shown once), or None if an administrator already exists."""
    if db.scalar(select(User.id).where(User.role == "admin").limit(1)):
        return None
    password = secrets.token_urlsafe(12)
    create_user(db, "admin", password, "admin", display_name="Quản trị viên (demo)")
    return password
