"""Injected faults: 5xx, timeouts, rate limits with usage headers, latency; and the usage
headers on ordinary calls."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sandbox_helpers import Graph

from graph_client.sandbox import Sandbox


async def test_usage_headers_on_every_call(
    graph: Graph, page_token: str, page: dict[str, str]
) -> None:
    user_call = await graph.get(f"/v25.0/{page['id']}", fields="name")
    assert json.loads(user_call.headers["x-app-usage"]).keys() == {
        "call_count",
        "total_cputime",
        "total_time",
    }
    assert "x-page-usage" in user_call.headers  # a Page called with a user token
    page_call = await graph.get(f"/v25.0/{page['id']}", token=page_token, fields="name")
    buc = json.loads(page_call.headers["x-business-use-case-usage"])
    assert buc[page["id"]][0]["type"] == "pages"
    assert "estimated_time_to_regain_access" in buc[page["id"]][0]
    assert page_call.headers["facebook-api-version"] == "v25.0"
    assert page_call.headers["x-fb-trace-id"]


async def test_server_errors_at_a_rate(sandbox: Sandbox, graph: Graph) -> None:
    sandbox.set_faults({"seed": 3, "rules": [{"kind": "server_error", "rate": 0.5}]})
    statuses = [(await graph.get("/v25.0/me")).status_code for _ in range(40)]
    failures = statuses.count(500)
    assert 8 <= failures <= 32
    assert set(statuses) == {200, 500}
    sandbox.set_faults({"rules": [{"kind": "server_error", "times": 1, "status": 503}]})
    response = await graph.get("/v25.0/me")
    assert response.status_code == 503
    error = response.json()["error"]
    assert (error["code"], error["is_transient"]) == (2, True)
    assert (await graph.get("/v25.0/me")).status_code == 200  # only once


async def test_html_and_empty_bodies(sandbox: Sandbox, graph: Graph) -> None:
    sandbox.set_faults(
        {"rules": [{"kind": "server_error", "times": 1, "status": 502, "body": "html"}]}
    )
    response = await graph.get("/v25.0/me")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")


async def test_timeouts_raise_inside_an_in_process_client(sandbox: Sandbox, graph: Graph) -> None:
    sandbox.set_faults({"rules": [{"kind": "timeout", "mode": "raise", "times": 1}]})
    with pytest.raises(httpx.ReadTimeout):
        await graph.get("/v25.0/me")
    assert (await graph.get("/v25.0/me")).status_code == 200


async def test_timeouts_sleep_past_the_client_timeout(sandbox: Sandbox, graph: Graph) -> None:
    sandbox.set_faults(
        {"rules": [{"kind": "timeout", "mode": "sleep", "sleep_seconds": 0.05, "path": "^/me$"}]}
    )
    started = time.perf_counter()
    assert (await graph.get("/v25.0/me")).status_code == 200
    assert time.perf_counter() - started >= 0.05


async def test_rate_limits_with_usage_headers(
    sandbox: Sandbox, graph: Graph, page: dict[str, str]
) -> None:
    sandbox.set_faults(
        {"rules": [{"kind": "rate_limit", "code": 80001, "estimated_minutes": 7, "times": 1}]}
    )
    response = await graph.get(f"/v25.0/{page['id']}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 80001
    buc = json.loads(response.headers["x-business-use-case-usage"])
    (entry,) = buc[page["id"]]
    assert entry["call_count"] == 100
    assert entry["estimated_time_to_regain_access"] == 7
    sandbox.set_faults({"rules": [{"kind": "rate_limit", "code": 4, "times": 1}]})
    app_limited = await graph.get("/v25.0/me")
    assert app_limited.json()["error"]["message"] == "(#4) Application request limit reached"
    assert json.loads(app_limited.headers["x-app-usage"])["call_count"] == 100


async def test_latency(sandbox: Sandbox, graph: Graph) -> None:
    sandbox.set_faults({"latency": {"fixed_ms": 30, "jitter_ms": 10}})
    started = time.perf_counter()
    await graph.get("/v25.0/me")
    assert time.perf_counter() - started >= 0.03
    sandbox.clear_faults()


async def test_hourly_budgets_refuse_like_meta(
    sandbox: Sandbox, graph: Graph, page_token: str, page: dict[str, str]
) -> None:
    sandbox.core.usage.business_budget = 3
    statuses = []
    for _ in range(4):
        response = await graph.get(f"/v25.0/{page['id']}", token=page_token, fields="name")
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 400]
    assert response.json()["error"]["code"] == 80001
    buc = json.loads(response.headers["x-business-use-case-usage"])
    assert buc[page["id"]][0]["call_count"] == 100


async def test_applied_faults_keep_the_effect_and_lose_the_answer(
    sandbox: Sandbox, graph: Graph, page_token: str, page: dict[str, str]
) -> None:
    feed = f"/v25.0/{page['id']}/feed"
    rule = {"times": 1, "method": "POST", "path": f"^/{page['id']}/feed$", "applied": True}
    lost_answer = {"kind": "server_error", "status": 502, "body": "empty", **rule}
    sandbox.set_faults({"rules": [lost_answer]})
    lost = await graph.post(feed, token=page_token, json={"message": "Made, answer lost"})
    assert (lost.status_code, lost.content) == (502, b"")
    sandbox.set_faults({"rules": [{"kind": "timeout", "mode": "raise", **rule}]})
    with pytest.raises(httpx.ReadTimeout):
        await graph.post(feed, token=page_token, json={"message": "Made, timed out"})
    # A call that fails on its own answers its own error: nothing was applied.
    sandbox.set_faults({"rules": [{"kind": "server_error", "status": 502, **rule}]})
    refused = await graph.post(feed, token=page_token, json={})
    assert refused.json()["error"]["code"] == 100

    listed = await graph.get(feed, token=page_token, fields="message", limit=10)
    messages = [p.get("message") for p in listed.json()["data"]]
    assert messages.count("Made, answer lost") == 1
    assert messages.count("Made, timed out") == 1
    assert sandbox.core.faults.describe()["rules"][0]["applied"] is True
    with pytest.raises(ValueError, match="applied"):
        sandbox.set_faults({"rules": [{"kind": "rate_limit", "applied": True}]})
