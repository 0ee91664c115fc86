"""Forms that create records are saved once, and what an official typed survives a lost
session (gis_app/web/form_safety.py): through the Flask client for the rules, and in
Chromium for the journey an official meets (signed out while filling the form)."""
from __future__ import annotations

import json
import os
import re
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.services.accounts import create_user
from tests.conftest import sign_in
from tests.factories import forget_user

PASSWORD = "a long enough password"
BASE = "/officials/conditions"


@pytest.fixture
def reviewer(client, db, auth):
    create_user(db, "form-safety", PASSWORD, "district_reviewer", display_name="Lê Văn Lưu")
    db.flush()
    assert auth.login("form-safety", PASSWORD).status_code == 302


def first_site(db) -> int:
    return db.scalar(text("SELECT min(id) FROM sites"))


def assessments(db, site_id: int) -> int:
    return db.scalar(text("SELECT count(*) FROM condition_assessments WHERE site_id = :s"),
                     {"s": site_id})


def kept_values(page: str) -> dict[str, list[str]]:
    """The typed values a page carries to put back into its form."""
    found = re.search(r'<script type="application/json" id="resumed-form">(.*?)</script>',
                      page, re.DOTALL)
    assert found, "the page carries no typed values"
    return json.loads(found.group(1))


def assessment_form(auth, site_id: int, token: str, **values: str) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": auth.csrf(f"{BASE}/sites/{site_id}"), "form_token": token,
        "assessed_on": "2025-11-20", "assessor_name": "Lê Văn Lưu", "overall": "fair",
        "element_roof": "poor", "threats": ["damp", "termites"], "trend": "stable",
        "notes": "Mái dột ở gian bên trái."}
    data.update(values)
    return data


def test_the_form_carries_a_fresh_token_each_time(client, db, auth, reviewer):
    site = first_site(db)
    pages = [client.get(f"{BASE}/sites/{site}").get_data(as_text=True) for _ in range(2)]
    tokens = [re.search(r'name="form_token" value="([0-9a-f-]{36})"', p) for p in pages]
    assert all(tokens) and tokens[0].group(1) != tokens[1].group(1)


def test_the_same_submission_twice_records_one_assessment(client, db, auth, reviewer):
    site = first_site(db)
    before = assessments(db, site)
    token = str(uuid.uuid4())
    first = client.post(f"{BASE}/sites/{site}", data=assessment_form(auth, site, token))
    assert first.status_code == 302 and assessments(db, site) == before + 1
    again = client.post(f"{BASE}/sites/{site}", data=assessment_form(auth, site, token))
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert assessments(db, site) == before + 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Biểu mẫu này đã được lưu trước đó; không lưu lần thứ hai." in page
    # A new form (a new token) is a new assessment.
    client.post(f"{BASE}/sites/{site}", data=assessment_form(auth, site, str(uuid.uuid4())))
    assert assessments(db, site) == before + 2


def test_a_refused_submission_keeps_its_token_free_for_the_corrected_form(client, db, auth,
                                                                         reviewer):
    site = first_site(db)
    before = assessments(db, site)
    token = str(uuid.uuid4())
    refused = client.post(f"{BASE}/sites/{site}",
                          data=assessment_form(auth, site, token, assessed_on="2099-01-01"))
    assert refused.status_code == 400 and assessments(db, site) == before
    fixed = client.post(f"{BASE}/sites/{site}", data=assessment_form(auth, site, token))
    assert fixed.status_code == 302 and assessments(db, site) == before + 1


def test_a_post_after_the_session_was_lost_comes_back_to_the_form_filled_in(client, db,
                                                                           auth, reviewer):
    site = first_site(db)
    before = assessments(db, site)
    data = assessment_form(auth, site, str(uuid.uuid4()),
                           notes="Tường hậu cung nứt dài 2 m, cần gia cố.")
    client.post("/logout", data={"csrf_token": auth.csrf("/account")})
    response = client.post(f"{BASE}/sites/{site}", data=data,
                           headers={"Referer": f"http://localhost{BASE}/sites/{site}"})
    assert response.status_code == 303 and assessments(db, site) == before
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    signed_in = client.post(login_url, data={"username": "form-safety", "password": PASSWORD,
                                             "csrf_token": auth.csrf(login_url)})
    back = signed_in.headers["Location"]
    assert back.startswith(f"{BASE}/sites/{site}?resume=")
    page = client.get(back).get_data(as_text=True)
    kept = kept_values(page)
    assert kept["notes"] == ["Tường hậu cung nứt dài 2 m, cần gia cố."]
    assert kept["threats"] == ["damp", "termites"] and "csrf_token" not in kept
    assert "Những gì bạn đã nhập đã được điền lại" in page
    assert assessments(db, site) == before  # nothing saved until the official saves


def test_an_expired_form_of_a_signed_in_official_comes_back_filled_in(client, db, auth,
                                                                      reviewer):
    site = first_site(db)
    data = assessment_form(auth, site, str(uuid.uuid4()), notes="Ghi chú dài.")
    data["csrf_token"] = "expired-token"
    response = client.post(f"{BASE}/sites/{site}", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"{BASE}/sites/{site}?resume=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Những gì bạn đã nhập đã được điền lại" in page
    assert kept_values(page)["notes"] == ["Ghi chú dài."]


def test_a_draft_is_only_put_back_on_its_own_page(client, db, auth, reviewer):
    site = first_site(db)
    data = assessment_form(auth, site, str(uuid.uuid4()), notes="Chỉ cho trang này.")
    data["csrf_token"] = "expired-token"
    back = client.post(f"{BASE}/sites/{site}", data=data).headers["Location"]
    draft = back.split("resume=")[1]
    other = client.get(f"/officials/artifacts/?resume={draft}").get_data(as_text=True)
    assert "Chỉ cho trang này." not in other and 'id="resumed-form"' not in other
    assert 'id="resumed-form"' not in client.get(
        f"{BASE}/sites/{site}?resume=not-a-uuid").get_data(as_text=True)


def test_an_expired_sign_in_form_asks_again_instead_of_an_error(client):
    response = client.post("/login?next=/officials/targets",
                           data={"username": "x", "password": "y", "csrf_token": "old"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/officials/targets"
    assert "Biểu mẫu đăng nhập đã hết hạn" in client.get(
        response.headers["Location"]).get_data(as_text=True)


@pytest.mark.browser
def test_signed_out_while_filling_the_form_the_official_finds_it_filled_in(
        page, page_watch, live_server, database_url):
    engine = create_engine(database_url)
    username = f"browser-resume-{os.getpid()}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        create_user(s, username, PASSWORD, "district_reviewer", display_name="Đỗ Thị Hạnh")
        site = s.scalar(text("SELECT min(id) FROM sites"))
        before = assessments(s, site)
        s.commit()
    try:
        sign_in(page, live_server, username, PASSWORD)
        page.goto(f"{live_server}{BASE}/sites/{site}")
        page.fill("#assessed_on", "2025-06-15")
        page.select_option("#overall", "poor")
        page.check("input[name=threats][value=termites]")
        page.fill("#notes", "Mái bị mối mọt, cần tu bổ gấp.")
        page.context.clear_cookies()  # the session is lost while the official types
        page.get_by_role("button", name="Lưu phiếu đánh giá").click()
        page.wait_for_url(re.compile(r".*/login\?next=.*"))
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(re.compile(rf".*{BASE}/sites/{site}\?resume=.*"))
        assert page.input_value("#notes") == "Mái bị mối mọt, cần tu bổ gấp."
        assert page.input_value("#overall") == "poor"
        assert page.input_value("#assessed_on") == "2025-06-15"
        assert page.is_checked("input[name=threats][value=termites]")
        assert "điền lại" in page.locator(".resumed-form").evaluate(
            "f => f.previousElementSibling.textContent")
        with Session(engine) as s:
            assert assessments(s, site) == before
        page.get_by_role("button", name="Lưu phiếu đánh giá").click()
        page.wait_for_url(re.compile(rf".*{BASE}/sites/{site}$"))
        assert "Đã ghi phiếu đánh giá #" in page.locator(".flash").first.inner_text()
        with Session(engine) as s:
            assert assessments(s, site) == before + 1
        assert page_watch.console_errors == [] and page_watch.off_host == []
    finally:
        with Session(engine) as s:
            forget_user(s, username)
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.commit()
        engine.dispose()
