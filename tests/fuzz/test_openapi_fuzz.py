"""schemathesis over /openapi.json: every REST shim operation, called over HTTP by a tenant
holding sandbox-connected Pages, Instagram and WhatsApp accounts, never answers a 500,
answers only status codes it documents, and answers each with the schema it documents.

Bounded and reproducible for CI: a fixed seed, at most MAX_EXAMPLES generated cases per
operation (plus schemathesis's explicit examples and coverage cases), no example database.
Generated ids are random; for most cases a parameter naming a row is replaced by one of
the tenant's real ids so that the handlers' real paths (a synced Page, a
conversation, a template) are reached, not only their 400 and 404 answers.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from resolvers.rest import all_endpoints
from resolvers.rest.openapi import build_openapi
from server import VERSION
from tests.fuzz.conftest import FuzzTarget

# The served app runs in another thread of this process, and its Graph client draws retry
# jitter from the global `random`: Hypothesis sees the global state move during a draw and
# blames the strategy. Nothing in the strategies uses `random`.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)

MAX_EXAMPLES = 10
SEED = 20_251_121

# The document the app serves (a test below holds the served one equal to it): loaded here
# so pytest collects one test per operation.
SPEC = build_openapi(all_endpoints(), version=VERSION)
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        # Neither takes input beyond its credentials (nothing for more examples to vary),
        # and each call syncs every Page it reaches (the cron: of every organization).
        "operations": [
            {"include-path": "/api/facebook/auto-connect", "generation": {"max-examples": 3}},
            {"include-path": "/api/cron/sync-all-pages", "generation": {"max-examples": 2}},
        ],
    }
)
schema = schemathesis.openapi.from_dict(SPEC, config=CONFIG)

# Longer than the Graph client may hold a call for Meta's usage limits (30 s), which the
# fuzzing's own Graph traffic can reach on the shared Redis limiter: a slow answer is still
# an answer to check, not a failure.
REQUEST_TIMEOUT = 90
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

# Operations whose path ids are never replaced by the fixture's real ones, and why:
KEEP_GENERATED_IDS = {
    # Disconnecting the fixture's Page or Instagram account would leave every later
    # operation without one; test_disconnect_conforms below disconnects a Page of its own.
    ("DELETE", "/api/social/accounts/{accountId}"),
}


def _auth(case: schemathesis.Case, target: FuzzTarget) -> dict[str, str]:
    security = case.operation.definition.raw.get("security") or []
    schemes = {name for requirement in security for name in requirement}
    if "cronSecret" in schemes:
        return {"Authorization": f"Bearer {target.cron_secret}"}
    if "bearerAuth" in schemes:
        return target.tenant.headers
    return {}


def _with_known_ids(case: schemathesis.Case, target: FuzzTarget) -> None:
    """Swap generated values for real ones, parameter by parameter."""
    key = (case.method.upper(), case.path)
    if case.path_parameters and key not in KEEP_GENERATED_IDS:
        for name, value in case.path_parameters.items():
            case.path_parameters[name] = _maybe_known(target, name, value)
    if case.query:
        for name, value in case.query.items():
            case.query[name] = _maybe_known(target, name, value)
    if isinstance(case.body, dict):
        for name, value in case.body.items():
            case.body[name] = _maybe_known(target, name, value)


def _maybe_known(target: FuzzTarget, name: str, value: Any) -> Any:
    """The generated value or one of the real ones, chosen by a hash of the generated one:
    reproducible, and (schemathesis refusing extra draws beside the document's examples)
    without a Hypothesis draw of its own."""
    known = target.known.get(name)
    if not known:
        return value
    options = [value, *known]
    digest = hashlib.sha256(f"{name}={value!r}".encode()).digest()
    return options[digest[0] % len(options)]


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_operation_conforms(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
    _with_known_ids(case, fuzz_target)
    case.call_and_validate(
        base_url=fuzz_target.base,
        headers=_auth(case, fuzz_target),
        checks=CHECKS,
        timeout=REQUEST_TIMEOUT,
    )


def test_served_openapi_is_what_is_fuzzed(fuzz_target: FuzzTarget) -> None:
    served = httpx.get(f"{fuzz_target.base}/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == SPEC


def test_disconnect_conforms(fuzz_target: FuzzTarget) -> None:
    """What KEEP_GENERATED_IDS leaves out of the fuzzing: disconnecting real accounts (a
    tenant's own, so the fuzzed tenant keeps its), each answer checked like the fuzzed ones,
    and the account then listed as disconnected (its history is kept)."""
    tenant, account_ids = fuzz_target.connected_tenant("disconnect")
    operation = schema["/api/social/accounts/{accountId}"]["DELETE"]
    for account_id in account_ids:
        case = operation.Case(path_parameters={"accountId": account_id})
        response = case.call_and_validate(
            base_url=fuzz_target.base, headers=tenant.headers, checks=CHECKS
        )
        assert response.status_code == 200, response.text
        assert response.json()["success"] is True
        shown = schema["/api/social/accounts/{accountId}"]["GET"].Case(
            path_parameters={"accountId": account_id}
        )
        after = shown.call_and_validate(
            base_url=fuzz_target.base, headers=tenant.headers, checks=CHECKS
        )
        assert after.json()["status"] == "disconnected", after.text
