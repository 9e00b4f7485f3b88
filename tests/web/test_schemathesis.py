"""Schemathesis over the whole API, from its own OpenAPI document: requests made from the
documented schemas (valid ones and invalid ones) never get a 5xx, and every response — its
status, media type and body — is one the document declares."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import web.api
import web.ogc  # noqa: F401  (with web.api: every route registered, OPERATIONS complete)
from tests.web.conftest import PASSWORD, make_app
from web.openapi import OPERATIONS

pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Per operation and mode: ~80 operations x modes x this stay within a couple of minutes.
EXAMPLES = 20


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory, demo_file, cache_dir):
    """The service on its own copy of the demo registry: the fuzzer's writes stay there. Its
    analyses jobs (valid requests may ask for 20 breaks of 1e7 minutes from every shelter)
    run one at a time and are dropped at the end: the responses are what is checked here."""
    app = make_app(tmp_path_factory.mktemp("fuzz"), demo_file, cache_dir, JOB_THREADS=1)
    yield app
    app.extensions["geo"].jobs.shutdown()


@pytest.fixture(scope="module")
def admin(fuzzed_app):
    """``admin()`` → a valid admin Authorization header: a new token when the fuzzer has
    revoked the last one (DELETE /api/tokens/{id} with small ids is among the first it
    tries, and the fixture's token has a small id)."""
    registry = fuzzed_app.extensions["geo"].registry()
    registry.add_user("fuzz-admin", "admin", PASSWORD)
    current = [registry.create_token("fuzz-admin")[0]]

    def header() -> dict[str, str]:
        if registry.account_for_token(current[0]) is None:
            current[0] = registry.create_token("fuzz-admin")[0]
        return {"Authorization": f"Bearer {current[0]}"}

    return header


@pytest.fixture(scope="module")
def api_schema(fuzzed_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", fuzzed_app)


def _cases():
    """Valid requests to every operation; invalid ones to those that take something that can
    be invalid (a query, a body, a constrained path parameter)."""
    for op in OPERATIONS:
        name = f"{op.method.upper()} {op.path}"
        yield pytest.param(op.method, op.path, GenerationMode.POSITIVE, id=f"{name} valid")
        if op.query or op.body or op.path_schemas:
            yield pytest.param(op.method, op.path, GenerationMode.NEGATIVE,
                               id=f"{name} invalid")


@pytest.mark.parametrize(("method", "path", "mode"), list(_cases()))
def test_every_operation_answers_as_documented(api_schema, admin, method, path, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        # buffered: the test client closes a streamed response (a file) once read
        case.call_and_validate(headers=admin(), checks=CHECKS, buffered=True)

    run()
