"""The `users` commands: create, role and communes (of any date, successions
understood), disable / enable, reset password, each recorded.

Scope cases use the demo data's 2024-2025 reorganisation:
  Dạ Trạch (12214, until 30/11/2024) -> Phạm Hồng Thái (2024 interim, until 30/06/2025)
    -> Triệu Việt Vương (12223, from 01/07/2025), which also took in Tân Dân (old 12223);
  Đền Dạ Trạch (VN-HY-DT-000002) was recorded in Dạ Trạch, Văn chỉ Bình Dân
  (VN-HY-DT-000005) in Tân Dân, Đền Đa Hòa (VN-HY-DT-000001) in Bình Minh -> Mễ Sở.
"""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import text

from gis_app.services import accounts
from gis_app.services.accounts import create_user

PASSWORD = "a long enough password"
BASE = "/admin/users"


def page_text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def unit_id(db, code: str, on: str) -> int:
    return db.scalar(text("""
        SELECT id FROM admin_units WHERE code = :c AND valid_from <= CAST(:d AS date)
           AND (valid_to IS NULL OR valid_to >= CAST(:d AS date))"""), {"c": code, "d": on})


def site_id(db, heritage_id: str) -> int:
    return db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": heritage_id})


def new_client(app):
    """Another browser: its own cookies, the same database transaction."""
    from tests.conftest import AuthActions

    client = app.test_client()
    return client, AuthActions(client)


@pytest.fixture
def admin(db, auth):
    """An administrator, signed in on `client`."""
    user = create_user(db, "quantri", PASSWORD, "admin", display_name="Trần Quản Trị")
    db.flush()
    assert auth.login("quantri", PASSWORD).status_code == 302
    return user


def snapshot(db) -> list[tuple]:
    """Everything an account change could touch."""
    return [tuple(r) for r in db.execute(text("""
        SELECT u.id, u.username, u.role, u.active, u.password_hash, u.password_changed_at,
               u.display_name,
               (SELECT array_agg(admin_unit_id ORDER BY admin_unit_id) FROM user_scopes s
                 WHERE s.user_id = u.id)
          FROM users u ORDER BY u.id""")).all()]


# --- the command line -------------------------------------------------------------------

def test_users_commands_cover_the_life_cycle_and_are_recorded(runner, db):
    create_user(db, "root-admin", PASSWORD, "admin")
    db.flush()
    admin_id = accounts.find_user(db, "root-admin").id

    def run(*args: str):
        result = runner.invoke(args=["users", *args])
        assert result.exit_code == 0, result.output
        db.expire_all()  # the command wrote through its own session
        return result.output

    out = run("create", "xa-cli", "--role", "commune_editor", "--unit", "12205@2020-01-01",
              "--name", "Ngô Văn Dòng Lệnh", "--generate-password", "--by", "root-admin")
    password = re.search(r"shown only this once\): (\S+)", out).group(1)
    user = accounts.find_user(db, "xa-cli")
    former_town = unit_id(db, "12205", "2020-01-01")
    assert [s.admin_unit_id for s in user.scopes] == [former_town]
    assert accounts.authenticate(db, "xa-cli", password) is not None

    run("set-units", "xa-cli", "--unit", "12205", "--unit", "12214", "--by", "root-admin")
    assert sorted(s.admin_unit_id for s in accounts.find_user(db, "xa-cli").scopes) == sorted(
        [unit_id(db, "12205", "2025-07-01"), unit_id(db, "12214", "2020-01-01")])
    run("disable", "xa-cli", "--by", "root-admin")
    assert accounts.authenticate(db, "xa-cli", password) is None
    run("enable", "xa-cli")
    out = run("reset-password", "xa-cli", "--by", "root-admin")
    new = re.search(r"shown only this once\): (\S+)", out).group(1)
    assert accounts.authenticate(db, "xa-cli", new) is not None
    run("set-role", "xa-cli", "district_reviewer", "--by", "root-admin")
    assert accounts.find_user(db, "xa-cli").scopes == []

    listing = run("list")
    line = next(x for x in listing.splitlines() if x.startswith("xa-cli "))
    assert "district_reviewer" in line and "active" in line and "never signed in" in line

    changes = accounts.account_changes(db, user.id)
    said = [(c["field"], c["actor"]) for c in changes]
    assert ("account", "root-admin") in said and ("active", "root-admin") in said
    assert ("active", None) in said  # enabled from the command line without --by
    assert ("password_changed_at", "root-admin") in said and ("role", "root-admin") in said
    # 1 given at creation; set-units: 2 added, 1 removed; set-role: 2 removed.
    assert said.count(("unit", "root-admin")) == 6
    assert db.scalar(text("SELECT count(*) FROM revisions WHERE actor_id = :a"),
                     {"a": admin_id}) >= 7


def test_users_commands_refuse_with_a_clear_message(runner, db):
    create_user(db, "not-admin", PASSWORD, "district_reviewer")
    db.flush()
    before = snapshot(db)
    for args, message in (
            (["disable", "nobody-here"], "No account named 'nobody-here'"),
            (["disable", "not-admin", "--by", "not-admin"], "Only administrators manage"),
            (["create", "x2", "--role", "commune_editor", "--unit", "12223@2025-13-01",
              "--password", PASSWORD], "is not a date"),
            (["create", "x3", "--role", "commune_editor", "--unit", "NOPE",
              "--password", PASSWORD], "No commune-level administrative unit with code"),
            (["set-units", "not-admin", "--unit", "12223"],
             "Only commune editors have administrative units")):
        result = runner.invoke(args=["users", *args])
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    assert snapshot(db) == before


def test_a_code_used_by_several_former_units_needs_a_date(runner, db):
    from tests.factories import make_admin_unit

    make_admin_unit(db, "TST-X", "Xã Cũ Một", valid_to="2010-12-31")
    make_admin_unit(db, "TST-X", "Xã Cũ Hai", valid_from="2011-01-01", valid_to="2019-12-31")
    result = runner.invoke(args=["users", "create", "x4", "--role", "commune_editor",
                                 "--unit", "TST-X", "--password", PASSWORD])
    assert result.exit_code != 0
    assert ("Several units had code 'TST-X'; choose one: TST-X@2000-01-01 (Xã Cũ Một), "
            "TST-X@2011-01-01 (Xã Cũ Hai)") in result.output
    ok = runner.invoke(args=["users", "create", "x4", "--role", "commune_editor",
                             "--unit", "TST-X@2015-06-01", "--password", PASSWORD])
    assert ok.exit_code == 0, ok.output
