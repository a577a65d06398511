"""spec/meta-business-api.md: auth, Facebook Pages and Instagram accounts, against the sandbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from domain.meta import MetaError, MetaPermissionDenied, MetaRateLimited, MetaTokenInvalid
from domain.models import InstagramAccount, Page
from resolvers.rest.meta_business import meta_failure
from tests.rest_meta.conftest import REDIRECT_URI, MetaApi

DEMO_SCOPES = {"pages_show_list", "pages_messaging", "instagram_basic"}


def _data(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True
    assert set(body) == {"success", "data"}
    data: dict[str, Any] = body["data"]
    return data


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    error: dict[str, Any] = body["error"]
    return error


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat().replace("+00:00", "Z")


async def test_connect_with_a_dialog_code(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("connect")
    code = await meta_api.dialog_code()
    response = await meta_api.post(
        "/api/meta/auth/connect", tenant, {"code": code, "redirectUri": REDIRECT_URI}
    )
    data = _data(response)
    assert data["status"] == "connected"
    assert set(data["permissions"]) >= DEMO_SCOPES
    assert data["platforms"] == {"whatsapp": True, "facebook": True, "instagram": True}
    conn = await meta_api.connection(data["accountId"])
    assert conn.organization_id == tenant.org_id
    assert conn.status == "active"
    # The short-lived code token was exchanged for a long-lived one (about 60 days).
    assert conn.expires_at is not None
    assert data["expiresAt"] == conn.expires_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert (conn.expires_at - datetime.now(UTC)).days >= 58

    # Meta's codes are single-use.
    reused = await meta_api.post(
        "/api/meta/auth/connect", tenant, {"code": code, "redirectUri": REDIRECT_URI}
    )
    error = _error(reused, 400, "INVALID_CODE")
    assert error["details"]["field"] == "code"
    assert error["details"]["metaCode"] == 100


async def test_connect_refuses_bad_input_naming_the_field(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("connect-bad")
    missing = await meta_api.post("/api/meta/auth/connect", tenant, {"redirectUri": REDIRECT_URI})
    assert _error(missing, 400, "VALIDATION_ERROR")["details"]["field"] == "code"
    blank = await meta_api.post("/api/meta/auth/connect", tenant, {"code": "abc"})
    assert _error(blank, 400, "VALIDATION_ERROR")["details"]["field"] == "redirectUri"
    not_text = await meta_api.post(
        "/api/meta/auth/connect", tenant, {"code": 12, "redirectUri": REDIRECT_URI}
    )
    assert _error(not_text, 400, "VALIDATION_ERROR")["details"]["field"] == "code"

    # The redirect URI must be the dialog's, exactly (Meta's 100/36008).
    code = await meta_api.dialog_code()
    mismatch = await meta_api.post(
        "/api/meta/auth/connect", tenant, {"code": code, "redirectUri": REDIRECT_URI + "/other"}
    )
    error = _error(mismatch, 400, "INVALID_CODE")
    assert error["details"]["field"] == "redirectUri"
    assert error["details"]["metaSubcode"] == 36008

    unauthenticated = await meta_api.post(
        "/api/meta/auth/connect", None, {"code": code, "redirectUri": REDIRECT_URI}
    )
    _error(unauthenticated, 401, "UNAUTHORIZED")
    assert await meta_api.rows(Page, tenant) == []


async def test_status_before_and_after_connecting(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("status")
    before = _data(await meta_api.get("/api/meta/auth/status", tenant))
    assert before == {
        "connected": False,
        "accountId": None,
        "expiresAt": None,
        "permissions": [],
        "platforms": {"whatsapp": False, "facebook": False, "instagram": False},
        "status": "not_connected",
        "reauthorizationRequired": False,
        "dataAccessExpiresAt": None,
        "lastCheckedAt": None,
    }

    token, report = await meta_api.connect(tenant)
    after = _data(await meta_api.get("/api/meta/auth/status", tenant))
    meta_token = meta_api.sandbox.store.tokens[token]
    assert after["connected"] is True
    assert after["accountId"] == str(report.connection.id)
    assert after["expiresAt"] == _iso(meta_token.expires_at)
    assert set(after["permissions"]) >= DEMO_SCOPES
    assert after["platforms"] == {"whatsapp": True, "facebook": True, "instagram": True}
    assert after["status"] == "active"

    other = await meta_api.tenant("status-other")
    assert _data(await meta_api.get("/api/meta/auth/status", other))["connected"] is False
    _error(await meta_api.get("/api/meta/auth/status", None), 401, "UNAUTHORIZED")


async def test_refresh_token_rechecks_with_meta_and_never_pretends_to_extend(
    meta_api: MetaApi,
) -> None:
    tenant = await meta_api.tenant("refresh")
    token, report = await meta_api.connect(tenant)
    account_id = str(report.connection.id)
    meta_token = meta_api.sandbox.store.tokens[token]

    fresh = _data(
        await meta_api.post("/api/meta/auth/refresh-token", tenant, {"accountId": account_id})
    )
    assert fresh["expiresAt"] == _iso(meta_token.expires_at)
    assert fresh["status"] == "active"
    assert fresh["reauthorizationRequired"] is False
    assert fresh["extended"] is False

    # Three days left: Meta will not extend it, so a person must log in again; the answer
    # carries the real (unchanged) expiry.
    meta_token.expires_at = meta_api.sandbox.now() + 3 * 86400
    near = _data(
        await meta_api.post("/api/meta/auth/refresh-token", tenant, {"accountId": account_id})
    )
    assert near["expiresAt"] == _iso(meta_token.expires_at)
    assert near["status"] == "reauthorization_required"
    assert near["reauthorizationRequired"] is True
    assert near["extended"] is False
    status = _data(await meta_api.get("/api/meta/auth/status", tenant))
    assert status["connected"] is False
    assert status["reauthorizationRequired"] is True

    meta_api.sandbox.revoke_token(token, "password_changed")
    dead = await meta_api.post("/api/meta/auth/refresh-token", tenant, {"accountId": account_id})
    error = _error(dead, 401, "TOKEN_EXPIRED")
    assert error["details"]["reauthorizationRequired"] is True
    assert error["details"]["status"] == "invalid"
    assert (await meta_api.connection(account_id)).status == "invalid"


async def test_refresh_token_ids(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("refresh-ids")
    other = await meta_api.tenant("refresh-ids-other")
    _, report = await meta_api.connect(other)
    path = "/api/meta/auth/refresh-token"

    missing = _error(await meta_api.post(path, tenant, {}), 400, "VALIDATION_ERROR")
    assert missing["details"]["field"] == "accountId"
    malformed = _error(
        await meta_api.post(path, tenant, {"accountId": "42"}), 400, "VALIDATION_ERROR"
    )
    assert malformed["details"]["field"] == "accountId"
    foreign = _error(
        await meta_api.post(path, tenant, {"accountId": str(report.connection.id)}),
        404,
        "NOT_FOUND",
    )
    unknown = _error(
        await meta_api.post(path, tenant, {"accountId": str(uuid.uuid4())}), 404, "NOT_FOUND"
    )
    assert foreign == unknown
    _error(await meta_api.post(path, None, {"accountId": "x"}), 401, "UNAUTHORIZED")


async def test_facebook_pages_list_and_connect(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("fb-pages")
    empty = _data(await meta_api.get("/api/meta/facebook/pages", tenant))
    assert empty == {"pages": []}

    await meta_api.connect(tenant)
    listed = _data(await meta_api.get("/api/meta/facebook/pages", tenant))["pages"]
    seeded = {p["id"]: p for p in meta_api.sandbox.info()["pages"]}
    assert {p["pageId"] for p in listed} == set(seeded)
    for page in listed:
        assert {"id", "pageId", "name", "category", "pictureUrl", "status", "createdAt"} <= set(
            page
        )
        assert page["name"] == seeded[page["pageId"]]["name"]
        assert page["status"] == "active"
        uuid.UUID(page["id"])
        datetime.fromisoformat(page["createdAt"])

    # The business-owned Page (missing from /me/accounts), with its webhooks gone on Meta.
    owned = next(p for p in listed if seeded[p["pageId"]]["business_owned"])
    meta_api.sandbox.store.page(owned["pageId"]).subscribed_apps.clear()
    connected = _data(
        await meta_api.post(f"/api/meta/facebook/pages/{owned['pageId']}/connect", tenant)
    )
    assert connected["id"] == owned["id"]
    assert connected["pageId"] == owned["pageId"]
    assert connected["status"] == "connected"
    assert connected["webhookSubscribed"] is True
    resubscribed = {p["id"]: p for p in meta_api.sandbox.info()["pages"]}[owned["pageId"]]
    assert "messages" in resubscribed["subscribed_fields"]


async def test_facebook_page_connect_errors(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("fb-connect-errors")
    other = await meta_api.tenant("fb-connect-other")
    token, _ = await meta_api.connect(tenant)
    page_id = meta_api.sandbox.info()["pages"][0]["id"]

    bad = await meta_api.post("/api/meta/facebook/pages/not-a-page/connect", tenant)
    assert _error(bad, 400, "VALIDATION_ERROR")["details"]["field"] == "pageId"
    unknown = await meta_api.post("/api/meta/facebook/pages/123456789/connect", tenant)
    _error(unknown, 404, "NOT_FOUND")
    # A Page only another organization's logins reach.
    foreign = await meta_api.post(f"/api/meta/facebook/pages/{page_id}/connect", other)
    _error(foreign, 404, "NOT_FOUND")

    # Meta failing (a 5xx, retried then given up) is a 502 with Meta's code.
    meta_api.sandbox.set_faults(
        {"rules": [{"kind": "server_error", "code": 2, "path": "subscribed_apps"}]}
    )
    failing = await meta_api.post(f"/api/meta/facebook/pages/{page_id}/connect", tenant)
    error = _error(failing, 502, "META_API_ERROR")
    assert error["details"]["metaCode"] == 2
    meta_api.sandbox.clear_faults()

    meta_api.sandbox.revoke_token(token)
    revoked = await meta_api.post(f"/api/meta/facebook/pages/{page_id}/connect", tenant)
    assert _error(revoked, 401, "TOKEN_EXPIRED")["details"]["reauthorizationRequired"] is True


async def test_instagram_accounts_list_and_connect(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("ig")
    other = await meta_api.tenant("ig-other")
    assert _data(await meta_api.get("/api/meta/instagram/accounts", tenant)) == {"accounts": []}

    await meta_api.connect(tenant)
    seeded = meta_api.sandbox.info()["instagram_accounts"][0]
    [account] = _data(await meta_api.get("/api/meta/instagram/accounts", tenant))["accounts"]
    assert {"id", "igAccountId", "username", "profilePicture", "status", "createdAt"} <= set(
        account
    )
    assert account["igAccountId"] == seeded["id"]
    assert account["username"] == seeded["username"]
    assert account["status"] == "active"

    by_row = _data(
        await meta_api.post(f"/api/meta/instagram/accounts/{account['id']}/connect", tenant)
    )
    assert by_row == {
        "id": account["id"],
        "igAccountId": seeded["id"],
        "status": "connected",
        "username": seeded["username"],
        "pageId": seeded["page_id"],
    }
    by_meta_id = _data(
        await meta_api.post(f"/api/meta/instagram/accounts/{seeded['id']}/connect", tenant)
    )
    assert by_meta_id == by_row
    [row] = await meta_api.rows(InstagramAccount, tenant)
    assert str(row.id) == account["id"]

    foreign = await meta_api.post(f"/api/meta/instagram/accounts/{account['id']}/connect", other)
    missing = await meta_api.post(f"/api/meta/instagram/accounts/{uuid.uuid4()}/connect", tenant)
    assert _error(foreign, 404, "NOT_FOUND") == _error(missing, 404, "NOT_FOUND")
    unreachable = await meta_api.post(
        "/api/meta/instagram/accounts/17840000000000000/connect", tenant
    )
    _error(unreachable, 404, "NOT_FOUND")
    malformed = await meta_api.post("/api/meta/instagram/accounts/not-an-id/connect", tenant)
    assert _error(malformed, 400, "VALIDATION_ERROR")["details"]["field"] == "accountId"
    _error(await meta_api.get("/api/meta/instagram/accounts", None), 401, "UNAUTHORIZED")


def test_meta_failures_map_to_the_family_answers() -> None:
    rate = meta_failure(
        MetaRateLimited("(#32) Page request limit reached", meta_code=32, retry_after=90.5)
    )
    assert (rate.status, rate.headers) == (429, {"Retry-After": "91"})
    assert rate.details == {"metaCode": 32, "retryAfterSeconds": 90.5}
    denied = meta_failure(MetaPermissionDenied("(#200) Requires pages_messaging", meta_code=200))
    assert (denied.status, denied.code) == (403, "META_PERMISSION_DENIED")
    expired = meta_failure(MetaTokenInvalid("Session has expired", meta_code=190, meta_subcode=463))
    assert (expired.status, expired.code) == (401, "TOKEN_EXPIRED")
    assert expired.details == {"metaCode": 190, "metaSubcode": 463, "reauthorizationRequired": True}
    other = meta_failure(MetaError("Unknown", meta_code=1, fbtrace_id="AbC"))
    assert (other.status, other.code) == (502, "META_API_ERROR")
    assert other.details == {"metaCode": 1, "fbtraceId": "AbC"}


async def test_openapi_declares_the_family(meta_api: MetaApi) -> None:
    spec = (await meta_api.http.get("/openapi.json")).json()
    for path, method in [
        ("/api/meta/auth/connect", "post"),
        ("/api/meta/auth/status", "get"),
        ("/api/meta/auth/refresh-token", "post"),
        ("/api/meta/facebook/pages", "get"),
        ("/api/meta/facebook/pages/{pageId}/connect", "post"),
        ("/api/meta/instagram/accounts", "get"),
        ("/api/meta/instagram/accounts/{accountId}/connect", "post"),
    ]:
        operation = spec["paths"][path][method]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["required"] == ["success", "data"]
        assert operation["tags"] == ["meta-business"]
