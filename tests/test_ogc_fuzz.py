"""Schemathesis walks every operation of `/ogc/api` (the OGC API's own OpenAPI
document) against the app on the test PostGIS: whatever a client sends, no server error,
and only the status codes and content types the document lists. Bounded like
tests/test_api_fuzz.py (which explains why each operation is a parametrised test)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    status_code_conformance,
)

from gis_app.ogc.openapi import document

MAX_EXAMPLES = 20
OPERATIONS = [(method.upper(), path) for path, methods in
              document("http://localhost/ogc", 10_000)["paths"].items() for method in methods]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_ogc_api_answers_every_request_without_a_server_error(app, connection, method: str,
                                                              path: str) -> None:
    operation = schemathesis.openapi.from_wsgi("/ogc/api", app)[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case) -> None:
        case.call_and_validate(checks=[not_a_server_error, status_code_conformance,
                                       content_type_conformance])

    check()


def test_the_document_reaches_the_real_endpoints(app, connection) -> None:
    """Not vacuous: with the document's base path a valid request is answered (a wrong
    base path would give 404s, which the document also lists)."""
    schema = schemathesis.openapi.from_wsgi("/ogc/api", app)
    items = schema["/collections/{collectionId}/items"]["GET"]
    response = items.Case(path_parameters={"collectionId": "sites"},
                          query={"limit": 2}).call()
    assert response.status_code == 200
    assert response.request.url.startswith("http://localhost/ogc/collections/sites/items")
