"""Requests no user should be able to turn into a 500: NUL characters, JSON nested too
deep, and any page while the database is down."""
from __future__ import annotations

import json

import pytest

from gis_app import create_app
from tests.conftest import test_config as config_for


@pytest.mark.parametrize("path", ["/sites?q=%C4%90a%00", "/sites/%00", "/sites/VN-HY-DT-%00",
                                  "/planning/report/%00", "/?commune=%00"])
def test_a_nul_character_in_a_page_address_is_a_clear_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "ký tự NUL" in response.get_data(as_text=True)


def test_a_nul_character_in_an_api_query_is_a_json_400(client):
    response = client.get("/api/sites?q=%00&lang=en")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_input"


def test_a_nul_character_in_a_form_field_is_refused(client, auth):
    response = client.post("/login", data={"username": "a\x00b", "password": "x",
                                           "csrf_token": auth.csrf()})
    assert response.status_code == 400


def test_json_nested_too_deep_is_a_400(client):
    body = "[" * 50_000 + "]" * 50_000
    response = client.post("/api/zone-check", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.is_json


def test_pages_say_the_database_is_unavailable_when_it_is_down():
    down = config_for("postgresql+psycopg://postgres@127.0.0.1:1/heritage")
    app = create_app(down)
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "60"
    assert "Không kết nối được cơ sở dữ liệu di sản" in page.get_data(as_text=True)
    api = client.get("/api/sites")
    assert api.status_code == 503 and api.get_json()["error"] == "unavailable"
    # A signed-in browser (a session cookie) gets the same page, not a bare 500.
    with client.session_transaction() as session:
        session["_user_id"] = "1"
        session["sid"] = "token"
    assert client.get("/officials/targets").status_code == 503
    assert json.loads(client.get("/api/sites").data)["error"] == "unavailable"
