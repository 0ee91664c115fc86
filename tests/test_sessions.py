"""Sessions end for good when the official signs out (or is disabled, or has the
password reset), and repeated wrong passwords lock sign-in for a while."""
from __future__ import annotations

from sqlalchemy import text

from gis_app.services import accounts
from gis_app.services.accounts import FAILURES_PER_NAME, create_user
from tests.conftest import AuthActions

PASSWORD = "correct horse battery"


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie after sign-in"
    return cookie.value


def test_a_cookie_copied_before_sign_out_no_longer_signs_in(app, client, db, auth):
    create_user(db, "reviewer", PASSWORD, "district_reviewer")
    assert auth.login("reviewer", PASSWORD).status_code == 302
    stolen = _session_cookie(client)
    assert client.get("/officials/targets").status_code == 200

    client.post("/logout", data={"csrf_token": auth.csrf("/account")})
    other = app.test_client()
    other.set_cookie("session", stolen)
    response = other.get("/officials/targets")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    ended = db.execute(text("""SELECT end_reason FROM user_sessions s JOIN users u
                                ON u.id = s.user_id WHERE u.username = 'reviewer'""")).all()
    assert [r.end_reason for r in ended] == ["signed_out"]


def test_signing_out_ends_only_this_browser(app, db):
    create_user(db, "twice", PASSWORD, "district_reviewer")
    phone, desk = app.test_client(), app.test_client()
    for c in (phone, desk):
        assert AuthActions(c).login("twice", PASSWORD).status_code == 302
    phone.post("/logout", data={"csrf_token": AuthActions(phone).csrf("/account")})
    assert phone.get("/officials/targets").status_code == 302
    assert desk.get("/officials/targets").status_code == 200


def test_disabling_an_account_ends_its_sessions(app, client, db, auth):
    create_user(db, "root", "administrator password", "admin")
    user = create_user(db, "leaving", PASSWORD, "district_reviewer")
    assert auth.login("leaving", PASSWORD).status_code == 302
    kept = _session_cookie(client)
    root = accounts.find_user(db, "root")
    accounts.set_active(db, root, user.id, False)
    accounts.set_active(db, root, user.id, True)  # enabled again: the old session stays ended
    other = app.test_client()
    other.set_cookie("session", kept)
    assert other.get("/officials/targets").status_code == 302
    reasons = db.scalars(text("SELECT end_reason FROM user_sessions WHERE user_id = :u"),
                         {"u": user.id}).all()
    assert reasons == ["disabled"]


def test_repeated_wrong_passwords_lock_the_account_for_a_while(client, db, auth):
    create_user(db, "target", PASSWORD, "district_reviewer")
    for _ in range(FAILURES_PER_NAME):
        assert auth.login("target", "not the password").status_code == 401
    response = auth.login("target", PASSWORD)  # the right one, too late
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in page and "phút" in page
    assert client.get("/officials/targets").status_code == 302  # not signed in
    # Another account is not locked by it.
    create_user(db, "neighbour", PASSWORD, "district_reviewer")
    assert auth.login("neighbour", PASSWORD).status_code == 302

    # The failures age out of the window: the right password works again.
    db.execute(text("""UPDATE sign_in_attempts SET attempted_at = attempted_at
                         - make_interval(mins => :m) WHERE username = 'target'"""),
               {"m": accounts.FAILURE_WINDOW_MINUTES + 1})
    client.post("/logout", data={"csrf_token": auth.csrf("/account")})
    assert auth.login("target", PASSWORD).status_code == 302


def test_unknown_names_are_throttled_like_known_ones(client, db, auth):
    for _ in range(FAILURES_PER_NAME):
        auth.login("ghost", "whatever password")
    response = auth.login("ghost", "whatever password")
    assert response.status_code == 429  # the same answer an existing account gets
