"""Abuse limits: a client that floods a heavy endpoint is told to wait (429), bodies
larger than an endpoint needs are refused (413), parcels with absurd vertex counts and
zips that unpack into too much are refused with a message (400)."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from gis_app import create_app
from gis_app.geo.limits import MAX_VERTICES
from tests.conftest import test_config as config_for

SQUARE = {"type": "Polygon", "coordinates": [[[105.95, 20.84], [105.951, 20.84],
                                               [105.951, 20.841], [105.95, 20.84]]]}


@pytest.fixture
def limited(database_url):
    config = config_for(database_url)
    config.RATELIMIT_ENABLED = True
    return create_app(config).test_client()


def test_a_flood_of_zone_checks_is_told_to_wait(limited):
    answers = [limited.post("/api/zone-check", json=SQUARE).status_code
               for _ in range(125)]
    assert answers[:120] == [200] * 120
    assert set(answers[120:]) == {429}
    refused = limited.post("/api/zone-check?lang=en", json=SQUARE)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert refused.get_json()["message"] == "Too many requests. Wait a moment and try again."


def test_the_limits_are_per_client_address(limited):
    for _ in range(121):
        limited.post("/api/zone-check", json=SQUARE)
    other = limited.post("/api/zone-check", json=SQUARE,
                         environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


def test_a_body_larger_than_the_endpoint_needs_is_413(client):
    padding = " " * (3 * 1024 * 1024)
    response = client.post("/api/zone-check", data=json.dumps(SQUARE) + padding,
                           content_type="application/json")
    assert response.status_code == 413 and response.is_json


def test_a_parcel_with_too_many_vertices_is_refused_with_advice(client):
    ring = [[105.95 + 0.001 * i / MAX_VERTICES, 20.84 + (0.0001 if i % 2 else 0)]
            for i in range(MAX_VERTICES + 10)]
    ring += [[105.9505, 20.845], ring[0]]
    response = client.post("/api/zone-check?lang=en", json={
        "type": "Polygon", "coordinates": [ring]})
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "10,012 vertices; at most 10,000 per parcel" in message and "Simplify" in message


def test_a_zip_that_unpacks_into_too_much_is_refused_on_the_planning_page(client, auth):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(210):
            archive.writestr(f"filler/{n:03}.bin", b"\0" * (1024 * 1024))
    assert len(out.getvalue()) < 5 * 1024 * 1024  # under the page's upload limit
    response = client.post("/planning/upload", data={
        "csrf_token": auth.csrf("/planning"),
        "file": (io.BytesIO(out.getvalue()), "thua.zip")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json()["message"].startswith("Sau khi giải nén, tệp nén sẽ lớn hơn 200")


def test_a_visitors_queries_are_bounded_and_an_officials_are_not(app, connection, db):
    """(In this order: the tests' requests share one connection and one transaction, in
    which the visitor's SET LOCAL would outlive its request.)"""
    from sqlalchemy import text

    from gis_app.db import PUBLIC_STATEMENT_TIMEOUT_MS, get_session
    from gis_app.services.accounts import create_user
    from tests.conftest import AuthActions

    create_user(db, "limits-official", "long enough password", "district_reviewer")
    db.flush()
    client = app.test_client()
    AuthActions(client).login("limits-official", "long enough password")
    # The sign-in request itself was a visitor's: undo its SET LOCAL first.
    db.execute(text("SELECT set_config('statement_timeout', '0', true)"))
    with app.test_request_context("/officials/targets", headers={"Cookie": _cookie(client)}):
        app.preprocess_request()
        assert get_session().execute(text("SHOW statement_timeout")).scalar_one() == "0"

    with app.test_request_context("/api/sites"):
        app.preprocess_request()
        shown = get_session().execute(text("SHOW statement_timeout")).scalar_one()
        assert shown == f"{PUBLIC_STATEMENT_TIMEOUT_MS // 1000}s"


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    return f"session={cookie.value}"


def test_a_query_stopped_by_the_timeout_says_so(app):
    from psycopg.errors import QueryCanceled
    from sqlalchemy.exc import OperationalError

    from gis_app.web.errors import handle_database_down

    with app.test_request_context("/api/sites?lang=en"):
        app.preprocess_request()
        body, status = handle_database_down(
            OperationalError("SELECT …", {}, QueryCanceled("canceling statement")))
        assert status == 503
        assert "took too long" in body.get_json()["message"]
