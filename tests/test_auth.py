"""Sign-in with hashed passwords, CSRF on forms, roles, the users CLI."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from gis_app.services.accounts import create_user


def test_sign_in_and_out(client, db, auth):
    create_user(db, "reviewer", "correct horse battery", "district_reviewer",
                display_name="Nguyễn Văn A")
    stored = db.scalar(text("SELECT password_hash FROM users WHERE username = 'reviewer'"))
    assert "correct horse" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))

    response = auth.login("reviewer", "correct horse battery")
    assert response.status_code == 302
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert "District reviewer" in page and "Nguyễn Văn A" in page

    token = auth.csrf("/account")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302  # back to the sign-in page


def test_wrong_password_is_refused_without_saying_which_part(client, db, auth):
    create_user(db, "editor1", "another long secret", "district_reviewer")
    for user, password in (("editor1", "wrong password!"), ("nobody", "another long secret")):
        response = auth.login(user, password)
        assert response.status_code == 401
        assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)


def test_forms_without_csrf_token_are_refused(client, db):
    create_user(db, "csrfuser", "a long enough password", "admin")
    response = client.post("/login", data={"username": "csrfuser",
                                           "password": "a long enough password"})
    # Not signed in: asked to sign in again (an expired form is not an error page).
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/account").status_code == 302


def test_open_redirect_after_sign_in_is_refused(client, db, auth):
    create_user(db, "redir", "a long enough password", "admin")
    token = auth.csrf()
    response = client.post("/login?next=//evil.example/", data={
        "username": "redir", "password": "a long enough password", "csrf_token": token})
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize("target", ["/%09/evil.example", "/%0D%0A/x", "/%20/evil.example",
                                    "/\\evil.example", "https://evil.example/"])
def test_next_with_control_characters_or_a_host_goes_to_the_account(client, db, auth,
                                                                    target):
    create_user(db, "redir2", "a long enough password", "admin")
    response = client.post(f"/login?next={target}", data={
        "username": "redir2", "password": "a long enough password",
        "csrf_token": auth.csrf()})
    assert response.status_code == 302 and response.headers["Location"] == "/account"


def test_session_cookie_is_httponly(client, db, auth):
    create_user(db, "cookie", "a long enough password", "admin")
    response = auth.login("cookie", "a long enough password")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_users_create_cli(runner, db):
    result = runner.invoke(args=["users", "create", "officer", "--role", "district_reviewer",
                                 "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    assert db.scalar(text("SELECT role FROM users WHERE username = 'officer'")) == \
        "district_reviewer"
    short = runner.invoke(args=["users", "create", "x", "--password", "short"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    editor = runner.invoke(args=["users", "create", "ed", "--role", "commune_editor",
                                 "--password", "a long enough password"])
    assert editor.exit_code != 0 and "administrative unit" in editor.output


def test_demo_admin_is_created_once(runner, db):
    db.execute(text("DELETE FROM users WHERE role = 'admin'"))
    first = runner.invoke(args=["users", "ensure-demo-admin"])
    assert "password" in first.output
    second = runner.invoke(args=["users", "ensure-demo-admin"])
    assert second.output == ""
    assert db.scalar(text("SELECT count(*) FROM users WHERE role = 'admin'")) == 1
