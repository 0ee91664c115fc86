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
from schemathesis.specs.openapi.checks import status_code_conformance

from gis_app.api.openapi import document

MAX_EXAMPLES = 40
OPERATIONS = [(method.upper(), path) for path, methods in document()["paths"].items()
              for method in methods]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_answers_every_request_without_a_server_error(app, connection, method: str,
                                                          path: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operation = schema[path][method]

    # Valid requests and, where the document constrains something, requests that break
    # it (wrong types, out-of-range numbers, unknown layer names, missing parameters).
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case) -> None:
        case.call_and_validate(checks=[not_a_server_error, status_code_conformance])

    check()
