"""The administrator's account pages (/admin/users) and the `users` commands: create,
role and communes (of any date, successions understood), disable / enable, reset
password, the record of sign-ins, and who may do what.

Scope cases use the demo data's 2024-2025 reorganisation:
  Dạ Trạch (12214, until 30/11/2024) -> Phạm Hồng Thái (2024 interim, until 30/06/2025)
    -> Triệu Việt Vương (12223, from 01/07/2025), which also took in Tân Dân (old 12223);
  Đền Dạ Trạch (VN-HY-DT-000002) was recorded in Dạ Trạch, Văn chỉ Bình Dân
  (VN-HY-DT-000005) in Tân Dân, Đền Đa Hòa (VN-HY-DT-000001) in Bình Minh -> Mễ Sở.
"""
from __future__ import annotations

import html
import json
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


# --- the list and creating accounts --------------------------------------------------

def test_the_list_shows_role_communes_status_and_last_sign_in(app, client, db, auth, admin):
    dt = unit_id(db, "12214", "2020-01-01")
    create_user(db, "bientap-datrach", PASSWORD, "commune_editor", unit_ids=[dt],
                display_name="Lê Văn Xã")
    create_user(db, "thamdinh", PASSWORD, "district_reviewer")
    _, other_auth = new_client(app)
    assert other_auth.login("bientap-datrach", PASSWORD).status_code == 302
    assert other_auth.login("bientap-datrach", "wrong password!").status_code == 401

    page = client.get(BASE)
    assert page.status_code == 200
    rows = {m.group(1): m.group(2) for m in re.finditer(
        r'<tr data-user="([^"]+)"[^>]*>(.*?)</tr>', page_text(page))}
    editor = rows["bientap-datrach"]
    assert "Biên tập viên cấp xã" in editor and "Lê Văn Xã" in editor
    assert "Dạ Trạch" in editor and "đến 30/11/2024" in editor
    assert "Đang hoạt động" in editor and "1 lần đăng nhập sai sau đó" in editor
    assert re.search(r"\d\d/\d\d/20\d\d \d\d:\d\d", editor)
    assert "chưa bao giờ" in rows["thamdinh"] and "Cán bộ thẩm định" in rows["thamdinh"]
    english = page_text(client.get(BASE + "?lang=en"))
    assert "Commune editor" in english and "Last sign-in" in english


def test_create_with_a_generated_password_shown_once(app, client, db, auth, admin):
    tvv = unit_id(db, "12223", "2025-07-01")
    response = client.post(BASE, data={
        "csrf_token": auth.csrf(BASE), "username": "xa-trieuvietvuong",
        "display_name": "Phạm Thị Xã", "role": "commune_editor", "units": [str(tvv)],
        "password_choice": "generate"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    shown = page_text(response)
    assert "Đã tạo tài khoản" in shown and "Mật khẩu chỉ hiện một lần này" in shown
    password = re.search(r'<code id="new-password">([^<]+)</code>',
                         response.get_data(as_text=True)).group(1)
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)

    user = accounts.find_user(db, "xa-trieuvietvuong")
    assert user.role == "commune_editor" and user.display_name == "Phạm Thị Xã"
    assert [s.admin_unit_id for s in user.scopes] == [tvv]
    assert password not in user.password_hash
    # Recorded: who created it, and who gave the commune.
    actors = db.execute(text("""
        SELECT table_name, action, actor_id FROM revisions
         WHERE (table_name = 'users' AND row_id = :id)
            OR (table_name = 'user_scopes' AND row_id = :scope)"""),
        {"id": str(user.id), "scope": f"{user.id},{tvv}"}).all()
    assert sorted(actors) == [("user_scopes", "insert", admin.id),
                              ("users", "insert", admin.id)]
    # Never shown again, and it opens the account.
    assert password not in client.get(BASE).get_data(as_text=True)
    assert password not in client.get(f"{BASE}/{user.id}").get_data(as_text=True)
    _, newcomer = new_client(app)
    assert newcomer.login("xa-trieuvietvuong", password).status_code == 302


def test_create_with_a_typed_password_and_the_mistakes_it_refuses(client, db, auth, admin):
    token = auth.csrf(BASE)
    ok = client.post(BASE, data={
        "csrf_token": token, "username": "thamdinh2", "role": "district_reviewer",
        "password_choice": "typed", "password": "mật khẩu đủ dài"})
    assert ok.status_code == 201 and "mật khẩu đủ dài" in page_text(ok)
    assert accounts.authenticate(db, "thamdinh2", "mật khẩu đủ dài") is not None

    before = snapshot(db)
    for values, message in (
            ({"username": "ngan", "role": "district_reviewer", "password_choice": "typed",
              "password": "ngắn"}, "Mật khẩu cần ít nhất 10 ký tự"),
            ({"username": "THAMDINH2", "role": "district_reviewer"},
             "Người dùng 'THAMDINH2' đã tồn tại"),
            ({"username": "xa-khong-don-vi", "role": "commune_editor"},
             "Biên tập viên cấp xã cần ít nhất một đơn vị hành chính"),
            ({"username": "xa-sai", "role": "commune_editor", "units": "999999"},
             "Không có đơn vị hành chính số 999999"),
            ({"username": "xa-tinh", "role": "commune_editor",
              "units": str(unit_id(db, "33", "2025-07-01"))},
             "biên tập viên cấp xã chỉ được giao xã, phường hoặc thị trấn"),
            ({"username": "vai-tro-la", "role": "superuser"},
             "Vai trò 'superuser' không hợp lệ"),
            ({"username": "", "role": "district_reviewer"}, "Hãy nhập tên đăng nhập.")):
        response = client.post(BASE, data={"csrf_token": token,
                                                 "password_choice": "generate", **values})
        assert response.status_code == 400, values
        assert message in page_text(response), values
    assert snapshot(db) == before


# --- communes of any date: what a scope covers ----------------------------------------

def assessment_form(auth, site: int, on: str) -> dict[str, object]:
    return {"csrf_token": auth.csrf(f"/officials/conditions/sites/{site}"),
            "assessed_on": on, "assessor_name": "Đỗ Văn Khảo", "overall": "fair"}


def records(client, auth, site: int, on: str) -> int:
    """The status of recording an assessment of `site` dated `on` through the form."""
    return client.post(f"/officials/conditions/sites/{site}",
                       data=assessment_form(auth, site, on)).status_code


def test_a_scope_on_a_former_commune_follows_it_into_its_successor(app, client, db, auth,
                                                                   admin):
    dt = unit_id(db, "12214", "2020-01-01")
    created = client.post(BASE, data={
        "csrf_token": auth.csrf(BASE), "username": "xa-datrach-cu", "role": "commune_editor",
        "units": [str(dt)], "password_choice": "typed", "password": PASSWORD})
    assert created.status_code == 201
    page = page_text(client.get(f"{BASE}/{accounts.find_user(db, 'xa-datrach-cu').id}"))
    assert "Triệu Việt Vương" in page and "từ 01/07/2025, theo sáp nhập" in page

    editor, editor_auth = new_client(app)
    assert editor_auth.login("xa-datrach-cu", PASSWORD).status_code == 302
    den_da_trach = site_id(db, "VN-HY-DT-000002")
    van_chi = site_id(db, "VN-HY-DT-000005")
    da_hoa = site_id(db, "VN-HY-DT-000001")
    assert records(editor, editor_auth, den_da_trach, "2024-01-15") == 302  # in Dạ Trạch
    assert records(editor, editor_auth, den_da_trach, "2025-08-01") == 302  # successor
    assert records(editor, editor_auth, van_chi, "2025-06-30") == 403  # still Tân Dân's
    assert records(editor, editor_auth, van_chi, "2025-07-01") == 302  # Triệu Việt Vương's
    assert records(editor, editor_auth, da_hoa, "2025-08-01") == 403
    # Artifacts are edited for the relics covered today.
    held_at = page_text(editor.get("/officials/artifacts/"))
    assert "Đền Dạ Trạch" in held_at and "Văn chỉ Bình Dân" in held_at
    assert "Đền Đa Hòa" not in held_at


def test_a_scope_on_todays_commune_covers_the_former_communes_merged_into_it(
        app, client, db, auth, admin):
    tvv = unit_id(db, "12223", "2025-07-01")
    create_user(db, "xa-tvv", PASSWORD, "commune_editor", unit_ids=[tvv])
    db.flush()
    editor, editor_auth = new_client(app)
    editor_auth.login("xa-tvv", PASSWORD)
    den_da_trach = site_id(db, "VN-HY-DT-000002")
    assert records(editor, editor_auth, den_da_trach, "2024-01-15") == 302  # two mergers ago
    assert records(editor, editor_auth, site_id(db, "VN-HY-DT-000005"), "2020-03-01") == 302
    assert records(editor, editor_auth, site_id(db, "VN-HY-DT-000001"), "2020-03-01") == 403
    history = page_text(editor.get(f"/officials/conditions/sites/{den_da_trach}"))
    assert "15/01/2024" in history


def test_edit_role_and_communes(client, db, auth, admin):
    dt = unit_id(db, "12214", "2020-01-01")
    tvv = unit_id(db, "12223", "2025-07-01")
    editor = create_user(db, "xa-doi", PASSWORD, "commune_editor", unit_ids=[dt])
    db.flush()
    show = f"{BASE}/{editor.id}"
    html_page = page_text(client.get(show))
    assert f'name="r-units" value="{dt}" checked' in html_page
    response = client.post(show + "/role", data={
        "csrf_token": auth.csrf(show), "r-role": "commune_editor", "r-units": [str(tvv)]})
    assert response.status_code == 303
    db.expire_all()
    assert [s.admin_unit_id for s in accounts.get_user(db, editor.id).scopes] == [tvv]
    done = page_text(client.get(show))
    assert "Đã lưu vai trò và xã" in done
    assert "đã thêm xã: Triệu Việt Vương" in done and "đã bỏ xã: Dạ Trạch" in done
    assert "(do quantri)" in done

    # Another role: the communes go (ticks left on the form do not count).
    response = client.post(show + "/role", data={
        "csrf_token": auth.csrf(show), "r-role": "district_reviewer", "r-units": [str(tvv)]})
    assert response.status_code == 303
    db.expire_all()
    user = accounts.get_user(db, editor.id)
    assert user.role == "district_reviewer" and user.scopes == []
    assert ("vai trò: Biên tập viên cấp xã → Cán bộ thẩm định"
            in page_text(client.get(show)))
    # Back to commune editor without a commune: refused, nothing changes.
    before = snapshot(db)
    refused = client.post(show + "/role", data={"csrf_token": auth.csrf(show),
                                                "r-role": "commune_editor"})
    assert refused.status_code == 400
    assert "Biên tập viên cấp xã cần ít nhất một đơn vị hành chính" in page_text(refused)
    assert snapshot(db) == before


def test_the_last_administrator_stays(client, db, auth, admin):
    db.execute(text("UPDATE users SET active = false WHERE role = 'admin' AND id <> :id"),
               {"id": admin.id})
    show = f"{BASE}/{admin.id}"
    before = snapshot(db)
    own = client.post(show + "/disable", data={"csrf_token": auth.csrf(show)})
    assert own.status_code == 400
    assert "Bạn không thể khóa chính tài khoản của mình" in page_text(own)
    demote = client.post(show + "/role", data={"csrf_token": auth.csrf(show),
                                               "r-role": "district_reviewer"})
    assert demote.status_code == 400
    assert "quantri là quản trị viên cuối cùng đang hoạt động" in page_text(demote)
    assert snapshot(db) == before


# --- disable, enable, reset password ------------------------------------------------------

def test_disabling_ends_the_sessions_at_once(app, client, db, auth, admin):
    editor = create_user(db, "xa-khoa", PASSWORD, "district_reviewer")
    db.flush()
    victim, victim_auth = new_client(app)
    assert victim_auth.login("xa-khoa", PASSWORD).status_code == 302
    assert victim.get("/officials/targets").status_code == 200
    cookie = victim.get_cookie("session").value
    copy, _ = new_client(app)
    copy.set_cookie("session", cookie)
    assert copy.get("/officials/targets").status_code == 200

    show = f"{BASE}/{editor.id}"
    response = client.post(show + "/disable", data={"csrf_token": auth.csrf(show)})
    assert response.status_code == 303
    assert "Đã khóa tài khoản; các phiên đăng nhập của tài khoản đã kết thúc" in page_text(
        client.get(show))
    for browser in (victim, copy):
        refused = browser.get("/officials/targets")
        assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert victim_auth.login("xa-khoa", PASSWORD).status_code == 401

    response = client.post(show + "/enable", data={"csrf_token": auth.csrf(show)})
    assert response.status_code == 303
    assert "Đã mở lại tài khoản" in page_text(client.get(show))
    assert victim_auth.login("xa-khoa", PASSWORD).status_code == 302
    assert victim.get("/officials/targets").status_code == 200


def test_reset_password_shows_the_new_one_once_and_ends_old_sessions(app, client, db, auth,
                                                                       admin):
    editor = create_user(db, "xa-quen", PASSWORD, "district_reviewer")
    db.flush()
    victim, victim_auth = new_client(app)
    victim_auth.login("xa-quen", PASSWORD)
    show = f"{BASE}/{editor.id}"
    response = client.post(show + "/password", data={
        "csrf_token": auth.csrf(show), "p-password_choice": "generate"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Đã đặt lại mật khẩu" in page_text(response)
    new = re.search(r'<code id="new-password">([^<]+)</code>',
                    response.get_data(as_text=True)).group(1)
    refused = victim.get("/officials/targets")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert victim_auth.login("xa-quen", PASSWORD).status_code == 401
    assert victim_auth.login("xa-quen", new).status_code == 302
    assert "đã đặt lại mật khẩu" in page_text(client.get(show))

    # Typed, too short: refused; "typed" with nothing typed is not "make one up".
    before = snapshot(db)
    for typed in ("ngắn", ""):
        short = client.post(show + "/password", data={
            "csrf_token": auth.csrf(show), "p-password_choice": "typed", "p-password": typed})
        assert short.status_code == 400 and "Mật khẩu cần ít nhất 10 ký tự" in page_text(short)
    assert snapshot(db) == before

    # An administrator resetting their own password stays signed in.
    own = f"{BASE}/{admin.id}"
    mine = client.post(own + "/password", data={
        "csrf_token": auth.csrf(own), "p-password_choice": "typed",
        "p-password": "một mật khẩu mới dài"})
    assert mine.status_code == 200
    assert client.get(BASE).status_code == 200


# --- the record of sign-ins -----------------------------------------------------------------

def test_every_sign_in_attempt_is_recorded_without_the_password(app, client, db, auth, admin):
    editor = create_user(db, "xa-dangnhap", PASSWORD, "district_reviewer")
    db.flush()
    _, other = new_client(app)
    assert other.login("xa-dangnhap", "sai mật khẩu rồi").status_code == 401
    assert other.login("khong-ai-ca", "sai mật khẩu nữa").status_code == 401
    assert other.login("XA-DANGNHAP", PASSWORD).status_code == 302
    rows = db.execute(text("""
        SELECT user_id, username, success, client_ip FROM sign_in_attempts
         WHERE username IN ('xa-dangnhap', 'khong-ai-ca', 'XA-DANGNHAP') ORDER BY id""")).all()
    assert [tuple(r) for r in rows] == [(editor.id, "xa-dangnhap", False, "127.0.0.1"),
                                       (None, "khong-ai-ca", False, "127.0.0.1"),
                                       (editor.id, "XA-DANGNHAP", True, "127.0.0.1")]
    dumped = db.scalar(text("SELECT string_agg(t::text, ' ') FROM sign_in_attempts t"))
    assert "sai mật khẩu" not in dumped and PASSWORD not in dumped

    for n in range(22):
        other.login("xa-dangnhap", f"wrong password {n}")
    page = client.get(f"{BASE}/{editor.id}").get_data(as_text=True)
    listed = re.search(r'<table class="data sign-ins">.*?</table>', page, re.DOTALL).group(0)
    assert listed.count("<tr class=") == 20  # the latest 20
    assert listed.count('class="failed"') == 20  # the success is older than 20 failures
    assert "127.0.0.1" in listed


# --- who may do it --------------------------------------------------------------------

@pytest.mark.parametrize("role", ["commune_editor", "district_reviewer", None])
def test_only_administrators_may_open_or_change_accounts(client, db, auth, role):
    target = create_user(db, "muc-tieu", PASSWORD, "district_reviewer")
    unit = unit_id(db, "12223", "2025-07-01")
    if role is not None:
        create_user(db, "khach", PASSWORD, role, unit_ids=[unit] if role == "commune_editor"
                    else ())
        db.flush()
        assert auth.login("khach", PASSWORD).status_code == 302
        token = auth.csrf("/account")
    else:
        token = auth.csrf("/login")
    db.flush()
    before = snapshot(db)
    writes = [
        (BASE, {"username": "moi", "role": "admin", "password_choice": "typed",
                      "password": PASSWORD}),
        (f"{BASE}/{target.id}/role", {"r-role": "admin"}),
        (f"{BASE}/{target.id}/disable", {}),
        (f"{BASE}/{target.id}/enable", {}),
        (f"{BASE}/{target.id}/password", {"p-password_choice": "typed",
                                          "p-password": "mật khẩu của kẻ gian"})]
    for path, values in writes:
        response = client.post(path, data={"csrf_token": token, **values})
        if role is None:  # sent to sign in (what was typed comes back after, no password)
            assert response.status_code == 303, path
            assert "/login" in response.headers["Location"], path
        else:
            assert response.status_code == 403, path
            assert "Vai trò của tài khoản không được mở trang này" in page_text(response)
    for path in (BASE, f"{BASE}/{target.id}"):
        assert client.get(path).status_code == (302 if role is None else 403)
    assert snapshot(db) == before
    assert accounts.authenticate(db, "muc-tieu", "mật khẩu của kẻ gian") is None


def test_forms_without_csrf_token_change_nothing(client, db, auth, admin):
    target = create_user(db, "khong-csrf", PASSWORD, "district_reviewer")
    db.flush()
    before = snapshot(db)
    for path in (f"{BASE}/{target.id}/disable", f"{BASE}/{target.id}/password",
                 f"{BASE}/{target.id}/role", BASE):
        response = client.post(path, data={"r-role": "admin", "username": "x",
                                            "role": "admin", "p-password": "bí mật lắm"})
        # Back to the form with what was typed (a lost session looks the same), never
        # the password; nothing is changed.
        assert response.status_code == 303, path
        assert "resume=" in response.headers["Location"], path
    assert "bí mật lắm" not in json.dumps(
        [r for (r,) in db.execute(text("SELECT data FROM form_drafts"))], ensure_ascii=False)
    assert snapshot(db) == before


def test_unknown_account_is_404(client, db, auth, admin):
    assert client.get(f"{BASE}/999999").status_code == 404
    response = client.post(f"{BASE}/999999/disable", data={"csrf_token": auth.csrf(BASE)})
    assert response.status_code == 404
    assert "Không có tài khoản số 999999" in page_text(response)


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
