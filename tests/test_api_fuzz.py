"""Schemathesis walks every operation of `/api/openapi.json` against the app (in-process,
on the test PostGIS) with generated parameters and bodies: whatever a client sends, the
API never answers with a server error, and answers only with status codes the document
lists.

Examples are bounded (Hypothesis `max_examples` per operation, no deadline: a zone check
on PostGIS is not a microbenchmark) so that the file runs in about a minute. Each
operation runs inside the test's transaction, rolled back afterwards.

Schemathesis's own pytest integration (`from_fixture`) does not run under pytest 9 (it
renames test nodes through a private attribute pytest removed), so each operation is a
parametrised test that draws its cases from `APIOperation.as_strategy()`.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from gis_app.api.openapi import document
from gis_app.services.accounts import create_user

MAX_EXAMPLES = 40
OPERATIONS = [(method.upper(), path) for path, methods in document()["paths"].items()
              for method in methods]


def _operation(app, method: str, path: str):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)[path][method]


def _fuzz(app, method: str, path: str, cookies: dict[str, str] | None = None) -> None:
    operation = _operation(app, method, path)

    # Valid requests and, where the document constrains something, requests that break
    # it (wrong types, out-of-range numbers, unknown layer names, missing parameters).
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case) -> None:
        # Uncompressed, so that the answers' bodies can be checked against their schemas
        # (schemathesis's WSGI transport does not decode brotli or gzip).
        case.call_and_validate(cookies=cookies, headers={"Accept-Encoding": "identity"},
                               checks=[not_a_server_error, status_code_conformance,
                                       content_type_conformance, response_schema_conformance])

    check()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_answers_every_request_without_a_server_error(app, connection, method: str,
                                                          path: str) -> None:
    _fuzz(app, method, path)


def test_api_answers_a_signed_in_reviewer_without_a_server_error(app, client, db: Session,
                                                                 auth) -> None:
    """Reviewers reach more of the API (`as_of` on layers, unpublished relics)."""
    create_user(db, "fuzz-reviewer", "mat-khau-dai-1234", "district_reviewer")
    db.commit()  # a savepoint: the test's transaction is still rolled back after
    assert auth.login("fuzz-reviewer", "mat-khau-dai-1234").status_code == 302
    cookies = {"session": client.get_cookie("session").value}
    # The cookie signs schemathesis's requests in: as_of is for reviewers only.
    layer = _operation(app, "GET", "/api/layers/{name}.geojson")
    as_of = layer.Case(path_parameters={"name": "sites"}, query={"as_of": "2026-01-01"})
    assert as_of.call().status_code == 403
    assert as_of.call(cookies=cookies).status_code == 200
    for method, path in OPERATIONS:
        _fuzz(app, method, path, cookies=cookies)


PARCEL = '{"type": "Point", "coordinates": [105.95, 20.85]}'


@pytest.mark.parametrize(("query", "body", "message"), [
    # str.isdigit() accepts "²", int() does not: the CRS parser raised ValueError.
    ("crs=²", PARCEL, "Unknown coordinate system '²'"),
    # Nested about as deep as Python's recursion limit: refused by the body parser or,
    # once the view's frames are on the stack, by the geometry reader (it gave a 500).
    ("", '{"type": "Point", "coordinates": ' + "[" * 950 + "]" * 950 + "}", "GeoJSON"),
])
def test_zone_check_inputs_found_by_the_parser_properties(client, query: str, body: str,
                                                           message: str) -> None:
    response = client.post(f"/api/zone-check?lang=en&{query}", data=body,
                           content_type="application/json")
    assert response.status_code == 400
    assert message in response.get_json()["message"]
