"""Accounts: users, passwords, roles, commune scopes and the record of sign-ins.

Every change to an account is a revision (the database triggers on `users` and
`user_scopes`), attributed to the acting administrator: `actor` is that user, or None
for the command line run without `--by` (whoever has a shell on the server). A given
`actor` must be an active administrator (PermissionDenied otherwise), so the web pages
and the CLI share one check.

Commune editors are scoped to administrative units of any date, today's or former
(`admin_units` at commune level); what a scope covers, successions included, is
`services.scopes`. Other roles have no units.

Passwords are hashed with werkzeug's `generate_password_hash` (scrypt). Generated
passwords are 16 letters and digits from an alphabet without look-alikes (0/O, 1/l/I),
in groups of four so they can be read out over the phone.
"""
from __future__ import annotations

import hashlib
import logging
import math
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, text
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.models import AdminUnit, SignInAttempt, User, UserScope, UserSession
from gis_app.models.base import ROLES
from gis_app.services.audit import set_actor

log = logging.getLogger(__name__)
MIN_PASSWORD = 10
MAX_PASSWORD = 200  # what the sign-in form accepts
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# Levels a commune editor may be scoped to (a town, thị trấn, is commune-level).
SCOPE_LEVELS = ("commune", "ward", "town")
SIGN_INS_SHOWN = 20
# Sign-in throttling: this many failures within the window (since the last success)
# for one account name, or from one client address, and sign-ins are refused until the
# oldest of them leaves the window, whatever the password.
FAILURES_PER_NAME = 10
FAILURES_PER_CLIENT = 50
FAILURE_WINDOW_MINUTES = 15
# Refresh a session's last_seen_at at most this often (a write per request otherwise).
SEEN_EVERY_SECONDS = 300


def generate_password() -> str:
    """A new random password, e.g. ``k7mp-x2qa-9rtd-hw3e`` (about 79 bits)."""
    chars = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def validate_password(password: str) -> None:
    """Raise InputError unless `password` has MIN_PASSWORD..MAX_PASSWORD characters."""
    if len(password) < MIN_PASSWORD:
        raise InputError(f"The password needs at least {MIN_PASSWORD} characters",
                         f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự")
    if len(password) > MAX_PASSWORD:
        raise InputError(f"The password may have at most {MAX_PASSWORD} characters",
                         f"Mật khẩu dài tối đa {MAX_PASSWORD} ký tự")


def _validate_role(role: str) -> None:
    if role not in ROLES:
        raise InputError(f"Unknown role '{role}'; choose one of {', '.join(ROLES)}",
                         f"Vai trò '{role}' không hợp lệ; chọn một trong {', '.join(ROLES)}")


def _require_admin(actor: Any | None) -> None:
    """A given actor must be an active administrator (None: the command line)."""
    if actor is None:
        return
    if getattr(actor, "role", None) != "admin" or not getattr(actor, "active", False):
        raise PermissionDenied("Only administrators manage accounts",
                               "Chỉ quản trị viên được quản lý tài khoản")


def _start(db: Session, actor: Any | None) -> None:
    _require_admin(actor)
    set_actor(db, None if actor is None else int(actor.id))


def get_user(db: Session, user_id: int) -> User:
    """The account `user_id`; RecordNotFound if there is none."""
    user = db.get(User, user_id)
    if user is None:
        raise RecordNotFound(f"No account number {user_id}",
                             f"Không có tài khoản số {user_id}")
    return user


def find_user(db: Session, username: str) -> User | None:
    """The account with this name (case-insensitive), active or not."""
    return db.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def user_by_name(db: Session, username: str) -> User:
    """The account with this name; RecordNotFound saying how to list them otherwise."""
    user = find_user(db, username)
    if user is None:
        raise RecordNotFound(f"No account named '{username}' (see: users list)",
                             f"Không có tài khoản tên '{username}' (xem: users list)")
    return user


# --- administrative units of a scope ---------------------------------------------------

def _scope_units(db: Session, unit_ids: Iterable[int]) -> list[AdminUnit]:
    ids = sorted({int(i) for i in unit_ids})
    units = db.scalars(select(AdminUnit).where(AdminUnit.id.in_(ids))).all() if ids else []
    found = {u.id for u in units}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InputError(f"No administrative unit number {missing[0]}",
                         f"Không có đơn vị hành chính số {missing[0]}")
    wrong = [u for u in units if u.level not in SCOPE_LEVELS]
    if wrong:
        raise InputError(
            f"{wrong[0].name} is a {wrong[0].level}: a commune editor is scoped to communes, "
            "wards or towns", f"{wrong[0].name} không phải cấp xã: biên tập viên cấp xã chỉ "
            "được giao xã, phường hoặc thị trấn")
    return list(units)


def resolve_units(db: Session, refs: Iterable[str]) -> list[int]:
    """Unit ids for references typed on the command line: ``CODE`` (today's unit with that
    code, else the only former one) or ``CODE@YYYY-MM-DD`` (the unit with that code valid
    on that date: codes are reused across reorganisations). InputError otherwise."""
    out = []
    for ref in refs:
        code, _, on = ref.strip().partition("@")
        query = select(AdminUnit).where(AdminUnit.code == code,
                                        AdminUnit.level.in_(SCOPE_LEVELS))
        if on:
            try:
                day = date.fromisoformat(on)
            except ValueError:
                raise InputError(f"'{on}' is not a date; write CODE@YYYY-MM-DD",
                                 f"'{on}' không phải ngày; hãy viết MÃ@YYYY-MM-DD") from None
            query = query.where(AdminUnit.valid_from <= day,
                                (AdminUnit.valid_to.is_(None)) | (AdminUnit.valid_to >= day))
        units = db.scalars(query.order_by(AdminUnit.valid_from)).all()
        current = [u for u in units if u.valid_to is None]
        if len(units) > 1 and len(current) == 1 and not on:
            units = current
        if not units:
            raise InputError(f"No commune-level administrative unit with code '{ref}'",
                             f"Không có đơn vị hành chính cấp xã mã '{ref}'")
        if len(units) > 1:
            choices = ", ".join(f"{code}@{u.valid_from.isoformat()} ({u.name})" for u in units)
            raise InputError(f"Several units had code '{code}'; choose one: {choices}",
                             f"Nhiều đơn vị từng có mã '{code}'; hãy chọn một: {choices}")
        out.append(units[0].id)
    return out


def scope_choices(db: Session) -> list[dict[str, Any]]:
    """Communes, wards and towns of any date for a scope picker: id, code, name, level,
    valid_from, valid_to, `successors` (names of the units it was merged into, with the
    date) and `current`. Today's units first, then former ones by name."""
    rows = db.execute(text("""
        SELECT u.id, u.code, u.name, u.level, u.valid_from, u.valid_to,
               u.valid_to IS NULL AS current,
               coalesce((SELECT json_agg(json_build_object('name', n.name,
                                                           'effective', s.effective)
                                          ORDER BY s.effective, n.name)
                           FROM admin_unit_successions s JOIN admin_units n
                             ON n.id = s.new_unit_id
                          WHERE s.old_unit_id = u.id), '[]'::json) AS successors
          FROM admin_units u
         WHERE u.level = ANY(:levels)"""), {"levels": list(SCOPE_LEVELS)}).mappings()
    out = []
    for row in rows:
        item = dict(row)
        item["successors"] = [{"name": s["name"],
                               "effective": date.fromisoformat(s["effective"])}
                              for s in item["successors"]]
        out.append(item)
    return sorted(out, key=lambda u: (not u["current"], _alphabetical(u["name"]),
                                      u["valid_from"]))


def _alphabetical(name: str) -> str:
    """A sort key in Vietnamese order, roughly: marks ignored, Đ right after D."""
    return "".join(c for c in unicodedata.normalize("NFD", name.lower().replace("đ", "d~"))
                   if not unicodedata.combining(c))


def _replace_scopes(db: Session, user: User, unit_ids: Sequence[int]) -> None:
    """Set the user's units to exactly `unit_ids` (rows only where they change, so the
    revisions say what was added and removed)."""
    wanted = {u.id for u in _scope_units(db, unit_ids)}
    have = set(db.scalars(select(UserScope.admin_unit_id)
                          .where(UserScope.user_id == user.id)).all())
    if have - wanted:
        db.execute(delete(UserScope).where(UserScope.user_id == user.id,
                                           UserScope.admin_unit_id.in_(have - wanted)))
    if wanted - have:
        db.execute(insert(UserScope), [{"user_id": user.id, "admin_unit_id": unit_id}
                                       for unit_id in sorted(wanted - have)])
    db.flush()
    db.expire(user, ["scopes"])


def _check_units_for_role(role: str, unit_ids: Sequence[int]) -> None:
    if role == "commune_editor" and not unit_ids:
        raise InputError("A commune editor needs at least one administrative unit (--unit CODE)",
                         "Biên tập viên cấp xã cần ít nhất một đơn vị hành chính (--unit MÃ)")
    if role != "commune_editor" and unit_ids:
        raise InputError("Only commune editors have administrative units; this role sees "
                         "the whole district or nothing",
                         "Chỉ biên tập viên cấp xã được giao đơn vị hành chính; vai trò này "
                         "xem toàn huyện hoặc không xem gì")


# --- life cycle -------------------------------------------------------------------------

def create_user(db: Session, username: str, password: str, role: str,
                display_name: str | None = None, unit_codes: tuple[str, ...] = (), *,
                unit_ids: Sequence[int] = (), actor: Any | None = None) -> User:
    """Create an account with a hashed password. Commune editors need units: `unit_ids`
    (admin_units ids of any date) or `unit_codes` (see `resolve_units`). Raises
    InputError, PermissionDenied (an actor who is not an administrator)."""
    _start(db, actor)
    username = username.strip()
    if not username or len(username) > 80:
        raise InputError("A username of 1-80 characters is required",
                         "Cần tên đăng nhập dài 1-80 ký tự")
    _validate_role(role)
    validate_password(password)
    if find_user(db, username) is not None:
        raise InputError(f"User '{username}' already exists",
                         f"Người dùng '{username}' đã tồn tại")
    ids = [*unit_ids, *resolve_units(db, unit_codes)]
    _check_units_for_role(role, ids)
    user = User(username=username, password_hash=generate_password_hash(password), role=role,
                display_name=(display_name or "").strip() or None)
    db.add(user)
    db.flush()
    if ids:
        _replace_scopes(db, user, ids)
    log.info("created user %s with role %s (by %s)", username, role, _who(actor))
    return user


def set_role(db: Session, actor: Any | None, user_id: int, role: str,
             unit_ids: Sequence[int] | None = None) -> User:
    """Give the account `role`; a commune editor keeps their units unless `unit_ids` is
    given, other roles lose them. Refuses to leave no active administrator."""
    _start(db, actor)
    _validate_role(role)
    user = get_user(db, user_id)
    if unit_ids is None:
        unit_ids = [s.admin_unit_id for s in user.scopes] if role == "commune_editor" else []
    _check_units_for_role(role, unit_ids)
    if user.role == "admin" and role != "admin":
        _keep_an_admin(db, user)
    user.role = role
    db.flush()
    _replace_scopes(db, user, unit_ids)
    log.info("user %s now %s (by %s)", user.username, role, _who(actor))
    return user


def set_units(db: Session, actor: Any | None, user_id: int, unit_ids: Sequence[int]) -> User:
    """Scope the commune editor `user_id` to exactly `unit_ids`."""
    _start(db, actor)
    user = get_user(db, user_id)
    _check_units_for_role(user.role, unit_ids)
    _replace_scopes(db, user, unit_ids)
    log.info("user %s scoped to units %s (by %s)", user.username, sorted(unit_ids),
             _who(actor))
    return user


def set_active(db: Session, actor: Any | None, user_id: int, active: bool) -> User:
    """Enable or disable an account. A disabled account cannot sign in and its open
    sessions stop working at the next request (the login manager refuses it)."""
    _start(db, actor)
    user = get_user(db, user_id)
    if not active and actor is not None and int(actor.id) == user.id:
        raise InputError("You cannot disable your own account; ask another administrator",
                         "Bạn không thể khóa chính tài khoản của mình; hãy nhờ quản trị "
                         "viên khác")
    if not active and user.role == "admin":
        _keep_an_admin(db, user)
    user.active = active
    if not active:
        end_sessions(db, user.id, "disabled")
    db.flush()
    log.info("user %s %s (by %s)", user.username, "enabled" if active else "disabled",
             _who(actor))
    return user


def reset_password(db: Session, actor: Any | None, user_id: int,
                   password: str | None = None) -> str:
    """Give the account a new password (`password`, or a generated one if None) and
    return it, to be shown once. Sessions opened with the old password end."""
    _start(db, actor)
    user = get_user(db, user_id)
    password = generate_password() if password is None else password
    validate_password(password)
    user.password_hash = generate_password_hash(password)
    user.password_changed_at = datetime.now(UTC)
    end_sessions(db, user.id, "password_reset")
    db.flush()
    log.info("password of user %s reset (by %s)", user.username, _who(actor))
    return password


def _keep_an_admin(db: Session, leaving: User) -> None:
    others = db.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active, User.id != leaving.id))
    if not others:
        raise InputError(f"{leaving.username} is the last active administrator; make "
                         "another administrator first",
                         f"{leaving.username} là quản trị viên cuối cùng đang hoạt động; hãy "
                         "tạo quản trị viên khác trước")


def _who(actor: Any | None) -> str:
    return "the command line" if actor is None else str(actor.username)


# --- reading ----------------------------------------------------------------------------

def list_users(db: Session) -> list[dict[str, Any]]:
    """Every account: id, username, display_name, role, active, created_at, `units`
    (name, valid_from, valid_to), last_sign_in and failures_since (failed attempts since
    the last successful one), by username."""
    rows = db.execute(text("""
        SELECT u.id, u.username, u.display_name, u.role, u.active, u.created_at,
               ls.at AS last_sign_in,
               (SELECT count(*) FROM sign_in_attempts f
                 WHERE f.user_id = u.id AND NOT f.success
                   AND (ls.id IS NULL OR f.id > ls.id)) AS failures_since,
               coalesce((SELECT json_agg(json_build_object(
                                   'name', a.name, 'valid_from', a.valid_from,
                                   'valid_to', a.valid_to)
                                 ORDER BY a.valid_to IS NOT NULL, a.name)
                           FROM user_scopes us JOIN admin_units a ON a.id = us.admin_unit_id
                          WHERE us.user_id = u.id), '[]'::json) AS units
          FROM users u
          LEFT JOIN LATERAL (SELECT s.id, s.attempted_at AS at FROM sign_in_attempts s
                              WHERE s.user_id = u.id AND s.success
                              ORDER BY s.id DESC LIMIT 1) ls ON true
         ORDER BY lower(u.username)""")).mappings()
    out = []
    for row in rows:
        item = dict(row)
        item["units"] = [{"name": u["name"], "valid_from": date.fromisoformat(u["valid_from"]),
                          "valid_to": u["valid_to"] and date.fromisoformat(u["valid_to"])}
                         for u in item["units"]]
        out.append(item)
    return out


def sign_ins(db: Session, user_id: int, limit: int = SIGN_INS_SHOWN) -> list[dict[str, Any]]:
    """The account's latest sign-in attempts, newest first: attempted_at, success,
    client_ip, username (as typed)."""
    return [dict(r) for r in db.execute(
        select(SignInAttempt.attempted_at, SignInAttempt.success, SignInAttempt.client_ip,
               SignInAttempt.username)
        .where(SignInAttempt.user_id == user_id)
        .order_by(SignInAttempt.attempted_at.desc(), SignInAttempt.id.desc())
        .limit(limit)).mappings()]


# Fields of `users` whose changes the account page shows (password_changed_at: "the
# password was reset"; the hash itself is never in a revision).
SHOWN_FIELDS = ("username", "display_name", "role", "active", "password_changed_at")


def account_changes(db: Session, user_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """What was done to the account, newest first, from `revisions`: changed_at, actor
    (username; None = the command line), field ("account" for the creation, a column of
    SHOWN_FIELDS, or "unit" for a commune added or removed), before, after (a unit's
    name for "unit"; None when added or removed)."""
    rows = db.execute(text("""
        SELECT r.id, r.changed_at, r.action, r.table_name, r.before, r.after,
               a.username AS actor
          FROM revisions r LEFT JOIN users a ON a.id = r.actor_id
         WHERE (r.table_name = 'users' AND r.row_id = CAST(:id AS text))
            OR (r.table_name = 'user_scopes' AND r.row_id LIKE CAST(:id AS text) || ',%')
         ORDER BY r.changed_at DESC, r.id DESC
         LIMIT :limit"""), {"id": user_id, "limit": limit}).mappings().all()
    unit_ids = {int((r["after"] or r["before"])["admin_unit_id"]) for r in rows
                if r["table_name"] == "user_scopes"}
    names = dict(db.execute(select(AdminUnit.id, AdminUnit.name)
                            .where(AdminUnit.id.in_(unit_ids))).all()) if unit_ids else {}
    out: list[dict[str, Any]] = []
    for row in rows:
        base = {"changed_at": row["changed_at"], "actor": row["actor"]}
        before, after = row["before"] or {}, row["after"] or {}
        if row["table_name"] == "user_scopes":
            name = names.get(int((after or before)["admin_unit_id"]))
            out.append({**base, "field": "unit", "before": name if before else None,
                        "after": name if after else None})
        elif row["action"] == "insert":
            out.append({**base, "field": "account", "before": None, "after": after.get("role")})
        else:
            out.extend({**base, "field": f, "before": before.get(f), "after": after.get(f)}
                       for f in SHOWN_FIELDS if before.get(f) != after.get(f))
    return out


# --- signing in -------------------------------------------------------------------------

_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A password hash to check against when the account does not exist, so an unknown
    name costs the same one scrypt check as a wrong password (computed once)."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer, and the same time,
    for both mistakes)."""
    user = find_user(db, username)
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def sign_in_wait(db: Session, username: str, client_ip: str | None) -> int:
    """Minutes to wait before this account name (or this client) may try again: 0 when
    sign-in is allowed. Counts failures in the last FAILURE_WINDOW_MINUTES since the
    name's last success (per client: all failures)."""
    row = db.execute(text("""
        WITH by_name AS (
            SELECT attempted_at FROM sign_in_attempts
             WHERE lower(username) = lower(:name) AND NOT success
               AND attempted_at > clock_timestamp() - make_interval(mins => :window)
               AND attempted_at > coalesce((SELECT max(attempted_at) FROM sign_in_attempts
                                             WHERE lower(username) = lower(:name)
                                               AND success), '-infinity')
             ORDER BY attempted_at DESC LIMIT :per_name),
        by_client AS (
            SELECT attempted_at FROM sign_in_attempts
             WHERE client_ip = :ip AND NOT success
               AND attempted_at > clock_timestamp() - make_interval(mins => :window)
             ORDER BY attempted_at DESC LIMIT :per_client)
        SELECT (SELECT CASE WHEN count(*) >= :per_name THEN min(attempted_at) END
                  FROM by_name) AS name_since,
               (SELECT CASE WHEN count(*) >= :per_client THEN min(attempted_at) END
                  FROM by_client) AS client_since,
               clock_timestamp() AS now"""),
        {"name": username.strip()[:80], "ip": (client_ip or "")[:45],
         "window": FAILURE_WINDOW_MINUTES, "per_name": FAILURES_PER_NAME,
         "per_client": FAILURES_PER_CLIENT}).one()
    since = [t for t in (row.name_since, row.client_since) if t is not None]
    if not since:
        return 0
    left = max(since) + timedelta(minutes=FAILURE_WINDOW_MINUTES) - row.now
    return max(1, math.ceil(left.total_seconds() / 60))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Session, user: User, client_ip: str | None) -> str:
    """Open a server-side session for `user`; the token the cookie keeps."""
    token = secrets.token_urlsafe(32)
    db.add(UserSession(user_id=user.id, token_hash=_token_hash(token),
                       client_ip=(client_ip or None) and client_ip[:45]))
    db.flush()
    return token


def session_open(db: Session, user_id: int, token: str | None) -> bool:
    """Whether `token` is an open session of the account (and note that it was seen)."""
    if not token:
        return False
    row = db.execute(text("""
        SELECT id, extract(epoch FROM now() - last_seen_at) AS idle FROM user_sessions
         WHERE token_hash = :h AND user_id = :u AND ended_at IS NULL"""),
        {"h": _token_hash(token), "u": user_id}).first()
    if row is None:
        return False
    if row.idle > SEEN_EVERY_SECONDS:
        touch = text("UPDATE user_sessions SET last_seen_at = now() WHERE id = :i")
        bind = db.get_bind()
        if isinstance(bind, Engine):
            # Its own short transaction: the caller's work is not committed with it.
            with bind.begin() as conn:
                conn.execute(touch, {"i": row.id})
        else:  # a session bound to one connection (tests): stay inside its transaction
            db.execute(touch, {"i": row.id})
    return True


def end_session(db: Session, token: str | None, reason: str = "signed_out") -> None:
    """End the session of `token` (signing out): its cookie no longer signs anyone in."""
    if token:
        db.execute(text("""UPDATE user_sessions SET ended_at = now(), end_reason = :r
                            WHERE token_hash = :h AND ended_at IS NULL"""),
                   {"h": _token_hash(token), "r": reason})


def end_sessions(db: Session, user_id: int, reason: str) -> int:
    """End every open session of an account; how many."""
    return db.execute(text("""UPDATE user_sessions SET ended_at = now(), end_reason = :r
                               WHERE user_id = :u AND ended_at IS NULL"""),
                      {"u": user_id, "r": reason}).rowcount


def record_sign_in(db: Session, username: str, user: User | None,
                   client_ip: str | None) -> None:
    """Record a sign-in attempt: `user` is who signed in, None for a failure (then the
    account named `username`, if there is one, gets the failure). Never the password."""
    account = user if user is not None else find_user(db, username)
    db.add(SignInAttempt(user_id=None if account is None else account.id,
                         username=username.strip()[:80], success=user is not None,
                         client_ip=(client_ip or None) and client_ip[:45]))
    db.flush()


def ensure_demo_admin(db: Session) -> str | None:
    """Create the demo administrator `admin` if no administrator exists; return its new
    random password (to be shown once), or None if an administrator already exists."""
    if db.scalar(select(User.id).where(User.role == "admin").limit(1)):
        return None
    password = secrets.token_urlsafe(12)
    create_user(db, "admin", password, "admin", display_name="Quản trị viên (demo)")
    return password
