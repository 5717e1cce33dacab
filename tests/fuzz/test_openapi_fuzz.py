"""Fuzzing every route of our own OpenAPI document against a real server (schemathesis).

Checks: no 5xx, every answer conforms to its documented schema and content type, and every
rejected request carries the Zettle error shape. A second pass plants one hostile value
(tests/fuzz/hostile.py) into each generated request.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core import NotSet

from stockledger.domain.signing import SIGNATURE_HEADER
from stockledger.service import purchases
from stockledger.store.db import Database
from stockledger.tokens import mint_access_token
from tests import server as real_server
from tests.conftest import TEST_SECRET, make_settings
from tests.fuzz import hostile

ORG = str(uuid.uuid4())
TOKEN = mint_access_token(TEST_SECRET, org=ORG, ttl_s=24 * 3600)
FUZZ_EXAMPLES_PER_OPERATION = 25
HOSTILE_EXAMPLES_PER_OPERATION = 15
RECEIVER = "/webhooks/zettle/{org}"
SIGNING_KEY = "k" * 64
# Routes whose input is not JSON under our contract, or that are served as documents, not data.
EXCLUDED_PATHS = {"/swagger", "/metrics"}


@schemathesis.check
def zettle_error_shape(ctx: Any, response: Any, case: Any) -> None:
    """A rejected request (4xx, except the OAuth token endpoint's own shape) answers in the Zettle shape."""
    if response.status_code < 400 or case.path == "/token":
        return
    if response.status_code == 412:  # a failed If-Match is answered without a body (product-library-api §1.3)
        assert not response.content, "412 has no body"
        return
    body = response.json()
    assert isinstance(body, dict), "error body is a JSON object"
    assert isinstance(body.get("developerMessage"), str), "error has developerMessage"
    assert isinstance(body.get("errorType"), str), "error has errorType"


@pytest.fixture(scope="module")
def fuzz_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    with real_server.running(database_url, data_dir) as server:
        asyncio.run(_connect_purchases(make_settings(database_url, data_dir).effective_database_url()))
        yield server.base_url


async def _connect_purchases(url: str) -> None:
    """The fuzzed organization has a purchase connection: the receiver then checks signatures."""
    db = Database(url)
    try:
        await purchases.connect(db, ORG, SIGNING_KEY)
    finally:
        await db.dispose()


# Not `positive_data_acceptance`: a request can be valid by schema and still rejected by the
# contract's rules (an unknown location, an untracked product), which is correct behaviour.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    zettle_error_shape,
]


def fuzz_operation(operation: Any) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=FUZZ_EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def run(case: Any) -> None:
        if "org" in (case.path_parameters or {}):
            case.path_parameters["org"] = "self"  # reach the handlers, not only the organization check
        case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)

    run()


def hostile_operation(operation: Any) -> None:
    """Generated requests with one hostile value planted (tests/fuzz/hostile.py): in the JSON body,
    in a query or path parameter, and in the signature header of the purchase receiver, which is
    called for an organization that has a purchase connection."""
    query_names = [parameter.name for parameter in operation.query]
    is_json = any(body.media_type == "application/json" for body in operation.body)

    @given(case=operation.as_strategy(), data=st.data())
    @settings(
        max_examples=HOSTILE_EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def run(case: Any, data: st.DataObject) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        path_names = [name for name in case.path_parameters or {} if name != "org"]
        if "org" in (case.path_parameters or {}):
            case.path_parameters["org"] = ORG if operation.path == RECEIVER else "self"
        if operation.path == RECEIVER:
            headers[SIGNATURE_HEADER] = data.draw(st.sampled_from(hostile.SIGNATURES))  # type: ignore[assignment]
        if is_json and not isinstance(case.body, NotSet):
            at = data.draw(st.sampled_from(hostile.positions(case.body)))
            case.body = hostile.planted(case.body, at, data.draw(st.sampled_from(hostile.JSON_LITERALS)))
        targets = [("query", name) for name in query_names] + [("path", name) for name in path_names]
        if targets:
            where, name = data.draw(st.sampled_from(targets))
            value = data.draw(st.sampled_from(hostile.QUERY_VALUES))
            if where == "query":
                case.query = {**(case.query or {}), name: value}
            else:
                case.path_parameters[name] = value
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def each_operation(fuzz_server: str, check: Callable[[Any], None]) -> list[str]:
    """Run `check` on every documented operation but the excluded paths; the operations run."""
    schema = schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json")
    fuzzed = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in EXCLUDED_PATHS:
            continue
        check(operation)
        fuzzed.append(f"{operation.method.upper()} {operation.path}")
    return fuzzed


def test_every_route_survives_hostile_values(fuzz_server: str) -> None:
    fuzzed = each_operation(fuzz_server, hostile_operation)
    assert RECEIVER in {entry.split(" ", 1)[1] for entry in fuzzed}


def test_every_route_survives_fuzzing(fuzz_server: str) -> None:
    fuzzed = each_operation(fuzz_server, fuzz_operation)
    assert len(fuzzed) >= 10, fuzzed
