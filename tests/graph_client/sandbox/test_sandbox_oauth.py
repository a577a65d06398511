"""The OAuth dialog and code exchange, token lifetimes, revocation, debug_token and
appsecret_proof, as an app meets them on Meta."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sandbox_helpers import APP_ID, APP_SECRET, FakeClock, Graph

from graph_client.sandbox import Sandbox

REDIRECT = "https://app.example.com/auth/meta/callback"


async def _dialog(http: httpx.AsyncClient, **extra: str) -> httpx.Response:
    params = {
        "client_id": APP_ID,
        "redirect_uri": REDIRECT,
        "state": "st-123",
        "scope": "pages_show_list,pages_messaging",
        **extra,
    }
    return await http.get("/v25.0/dialog/oauth", params=params)


def _query(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def _exchange(
    http: httpx.AsyncClient, code: str, redirect_uri: str = REDIRECT
) -> httpx.Response:
    return await http.get(
        "/v25.0/oauth/access_token",
        params={
            "client_id": APP_ID,
            "client_secret": APP_SECRET,
            "redirect_uri": redirect_uri,
            "code": code,
        },
    )


async def test_dialog_approves_and_redirects_with_code_and_state(http: httpx.AsyncClient) -> None:
    response = await _dialog(http)
    assert response.status_code == 302
    assert response.headers["location"].startswith(REDIRECT + "?")
    query = _query(response)
    assert query["state"] == "st-123"
    assert query["code"].startswith("AQ")


async def test_dialog_deny_redirects_with_metas_error(http: httpx.AsyncClient) -> None:
    response = await _dialog(http, deny="1")
    assert response.status_code == 302
    query = _query(response)
    assert query["error"] == "access_denied"
    assert query["error_reason"] == "user_denied"
    assert query["error_description"] == "Permissions error"
    assert query["state"] == "st-123"
    assert "code" not in query


async def test_dialog_rejects_unknown_app(http: httpx.AsyncClient) -> None:
    response = await _dialog(http, client_id="999")
    assert response.status_code == 400


async def test_code_exchange_gives_a_short_lived_token_once(
    http: httpx.AsyncClient, graph: Graph
) -> None:
    code = _query(await _dialog(http))["code"]
    first = await _exchange(http, code)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "bearer"
    assert 3000 < body["expires_in"] <= 3600
    me = await graph.get("/v25.0/me", token=body["access_token"])
    assert me.json()["name"] == "Dana Demo"

    again = await _exchange(http, code)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == 100
    assert again.json()["error"]["error_subcode"] == 36009
    assert again.json()["error"]["message"] == "This authorization code has been used."


async def test_code_is_bound_to_its_redirect_uri(http: httpx.AsyncClient) -> None:
    code = _query(await _dialog(http))["code"]
    response = await _exchange(http, code, redirect_uri="https://evil.example.com/cb")
    assert response.status_code == 400
    assert response.json()["error"]["error_subcode"] == 36008
    assert "redirect_uri is identical" in response.json()["error"]["message"]


async def test_code_expires(http: httpx.AsyncClient, clock: FakeClock) -> None:
    code = _query(await _dialog(http))["code"]
    clock.advance(601)
    response = await _exchange(http, code)
    assert response.json()["error"]["error_subcode"] == 36007


async def test_wrong_client_secret(http: httpx.AsyncClient) -> None:
    code = _query(await _dialog(http))["code"]
    response = await http.get(
        "/v25.0/oauth/access_token",
        params={
            "client_id": APP_ID,
            "client_secret": "nope",
            "redirect_uri": REDIRECT,
            "code": code,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Error validating client secret."


async def test_token_lifetimes(
    sandbox: Sandbox, http: httpx.AsyncClient, graph: Graph, clock: FakeClock
) -> None:
    code = _query(await _dialog(http))["code"]
    short = (await _exchange(http, code)).json()["access_token"]
    long_response = await http.get(
        "/v25.0/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": APP_ID,
            "client_secret": APP_SECRET,
            "fb_exchange_token": short,
        },
    )
    long_lived = long_response.json()
    assert long_lived["expires_in"] > 59 * 86400
    accounts = (await graph.get("/v25.0/me/accounts", token=long_lived["access_token"])).json()
    page_token = accounts["data"][0]["access_token"]
    short_accounts = (await graph.get("/v25.0/me/accounts", token=short)).json()
    short_page_token = short_accounts["data"][0]["access_token"]

    clock.advance(2 * 3600)  # the short-lived user token (and its Page token) are gone
    expired = await graph.get("/v25.0/me", token=short)
    assert expired.status_code == 400
    assert expired.json()["error"]["code"] == 190
    assert expired.json()["error"]["error_subcode"] == 463
    assert "invalid_token" in expired.headers["www-authenticate"]
    assert (await graph.get("/v25.0/me", token=short_page_token)).json()["error"]["code"] == 190

    clock.advance(61 * 86400)  # the long-lived user token too; its Page token never expires
    assert (await graph.get("/v25.0/me", token=long_lived["access_token"])).status_code == 400
    page_me = await graph.get("/v25.0/me", token=page_token)
    assert page_me.status_code == 200
    debug = await graph.get(
        "/v25.0/debug_token", token=f"{APP_ID}|{APP_SECRET}", input_token=page_token
    )
    assert debug.json()["data"]["type"] == "PAGE"
    assert debug.json()["data"]["expires_at"] == 0
    assert debug.json()["data"]["is_valid"] is True


async def test_revoked_tokens_fail_with_190_and_take_page_tokens_along(
    sandbox: Sandbox, graph: Graph, info: dict[str, Any], page_token: str
) -> None:
    sandbox.revoke_token(info["demo_user"]["access_token"], "logged_out")
    for token in (info["demo_user"]["access_token"], page_token):
        response = await graph.get("/v25.0/me", token=token)
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["code"], error["error_subcode"]) == (190, 467)
        assert error["type"] == "OAuthException"


async def test_unknown_and_missing_tokens(graph: Graph, http: httpx.AsyncClient) -> None:
    unknown = await graph.get("/v25.0/me", token="EAAnotatoken")
    assert unknown.json()["error"]["code"] == 190
    missing = await http.get("/v25.0/me")
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == 104


async def test_debug_token_reports_granular_scopes_and_invalid_tokens(
    sandbox: Sandbox, graph: Graph, info: dict[str, Any]
) -> None:
    token = info["demo_user"]["access_token"]
    data = (await graph.get("/v25.0/debug_token", input_token=token)).json()["data"]
    assert data["is_valid"] is True
    assert data["type"] == "USER"
    assert data["user_id"] == info["demo_user"]["id"]
    assert data["expires_at"] > sandbox.now()
    assert data["data_access_expires_at"] > data["expires_at"] - 61 * 86400
    by_scope = {g["scope"]: g.get("target_ids") for g in data["granular_scopes"]}
    # The business-owned Page is missing from /me/accounts but granted here (facts §0.3).
    all_pages = sorted(p["id"] for p in info["pages"])
    assert sorted(by_scope["pages_show_list"]) == all_pages
    assert by_scope["instagram_basic"] is None  # no target_ids: all assets
    waba_ids = [w["id"] for w in info["whatsapp_business_accounts"]]
    assert by_scope["whatsapp_business_management"] == waba_ids

    sandbox.expire_token(token)
    app_token = f"{APP_ID}|{APP_SECRET}"
    expired = (await graph.get("/v25.0/debug_token", token=app_token, input_token=token)).json()
    assert expired["data"]["is_valid"] is False
    assert expired["data"]["error"]["code"] == 190
    assert expired["data"]["error"]["subcode"] == 463
    garbage = (await graph.get("/v25.0/debug_token", token=app_token, input_token="x")).json()
    assert garbage == {
        "data": {
            "error": {"code": 190, "message": "Invalid OAuth access token."},
            "is_valid": False,
            "scopes": [],
        }
    }


async def test_me_accounts_leaves_out_business_owned_pages(
    graph: Graph, info: dict[str, Any]
) -> None:
    accounts = (await graph.get("/v25.0/me/accounts")).json()["data"]
    listed = {a["id"] for a in accounts}
    business_page = next(p for p in info["pages"] if p["business_owned"])
    assert business_page["id"] not in listed
    # ...but it is readable by id, and yields its Page token there (facts §4).
    direct = await graph.get(f"/v25.0/{business_page['id']}", fields="access_token,name")
    assert direct.json()["access_token"] == business_page["access_token"]


async def test_appsecret_proof_is_required_and_checked(
    http: httpx.AsyncClient, graph: Graph, info: dict[str, Any]
) -> None:
    token = info["demo_user"]["access_token"]
    without = await http.get("/v25.0/me", headers={"authorization": f"Bearer {token}"})
    assert without.status_code == 400
    assert without.json()["error"]["message"] == (
        "API calls from the server require an appsecret_proof argument"
    )
    wrong = await graph.get("/v25.0/me", appsecret_proof="0" * 64)
    assert (
        wrong.json()["error"]["message"] == "Invalid appsecret_proof provided in the API argument"
    )
    assert wrong.json()["error"]["type"] == "GraphMethodException"
    as_param = await http.get(
        "/v25.0/me",
        params={
            "access_token": token,
            "appsecret_proof": graph._params(token, {})["appsecret_proof"],
        },
    )
    assert as_param.status_code == 200


async def test_appsecret_time_variant(
    http: httpx.AsyncClient, info: dict[str, Any], clock: FakeClock
) -> None:
    token = info["demo_user"]["access_token"]
    when = str(int(clock.now))
    proof = hmac.new(APP_SECRET.encode(), f"{token}|{when}".encode(), hashlib.sha256).hexdigest()
    params = {"access_token": token, "appsecret_proof": proof, "appsecret_time": when}
    assert (await http.get("/v25.0/me", params=params)).status_code == 200
    clock.advance(301)
    assert (await http.get("/v25.0/me", params=params)).status_code == 400


async def test_any_version_prefix_and_unversioned_paths(graph: Graph) -> None:
    for path in ("/v19.0/me", "/v25.0/me", "/me"):
        response = await graph.get(path)
        assert response.status_code == 200, path
    assert (await graph.get("/v19.0/me")).headers["facebook-api-version"] == "v19.0"


async def test_dialog_decline_and_implicit_token(http: httpx.AsyncClient, graph: Graph) -> None:
    code = _query(await _dialog(http, decline="pages_messaging"))["code"]
    token = (await _exchange(http, code)).json()["access_token"]
    permissions = (await graph.get("/v25.0/me/permissions", token=token)).json()["data"]
    granted = {p["permission"] for p in permissions}
    assert "pages_show_list" in granted
    assert "pages_messaging" not in granted
    implicit = await _dialog(http, response_type="token")
    fragment = parse_qs(urlsplit(implicit.headers["location"]).fragment)
    assert fragment["access_token"][0].startswith("EAA")
    assert fragment["state"] == ["st-123"]
