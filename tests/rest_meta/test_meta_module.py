"""spec/meta-module-api.md: verify-user, pages and sync, against the sandbox."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from domain.meta import MetaError, MetaRateLimited, MetaTokenInvalid
from domain.models import ClientPageMapping, MetaConnection, Page
from domain.tokens import unseal
from resolvers.rest.meta_module import meta_failure
from tests.rest_meta.conftest import MetaApi


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _detail(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str)
    assert set(body) <= {"detail", "field"}
    return body


async def test_verify_user_says_whose_token_it_is_and_stores_nothing(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("verify")
    token = meta_api.sandbox.issue_user_token()
    demo = meta_api.sandbox.info()["demo_user"]
    body = _ok(
        await meta_api.post(
            "/api/meta/verify-user/",
            tenant,
            {"access_token": token, "account_label": "My Facebook Account"},
        )
    )
    assert body["user_id"] == demo["id"]
    assert body["user_name"] == demo["name"]
    assert "profile_picture" in body
    assert body["account_label"] == "My Facebook Account"
    assert body["token_type"] == "USER"
    assert await meta_api.rows(MetaConnection, tenant) == []

    meta_api.sandbox.revoke_token(token)
    revoked = await meta_api.post("/api/meta/verify-user/", tenant, {"access_token": token})
    assert _detail(revoked, 400) == {"detail": "Token expired or invalid"}
    garbage = await meta_api.post("/api/meta/verify-user/", tenant, {"access_token": "EAAnope"})
    assert _detail(garbage, 400) == {"detail": "Token expired or invalid"}


async def test_verify_user_input_errors(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("verify-bad")
    missing = _detail(await meta_api.post("/api/meta/verify-user/", tenant, {}), 400)
    assert missing["field"] == "access_token"
    assert "access_token" in missing["detail"]
    page_token = meta_api.sandbox.info()["pages"][0]["access_token"]
    page = _detail(
        await meta_api.post("/api/meta/verify-user/", tenant, {"access_token": page_token}), 400
    )
    assert page["field"] == "access_token"
    assert "PAGE" in page["detail"]
    label = _detail(
        await meta_api.post(
            "/api/meta/verify-user/", tenant, {"access_token": "x", "account_label": 5}
        ),
        400,
    )
    assert label["field"] == "account_label"
    unauthenticated = await meta_api.post("/api/meta/verify-user/", None, {"access_token": "x"})
    _detail(unauthenticated, 401)


async def test_pages_of_every_active_login_and_rejected_ones_marked(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("module-pages")
    old_token, old = await meta_api.connect(tenant, label="Old Account")
    _, main = await meta_api.connect(tenant, label="My Facebook Account")
    meta_api.sandbox.revoke_token(old_token)
    seeded = meta_api.sandbox.info()
    ig_of = {p["id"]: p["instagram_business_account"] for p in seeded["pages"]}

    body = _ok(await meta_api.get("/api/meta/pages/", tenant))
    assert {p["fb_page_id"] for p in body["pages"]} == set(ig_of)
    for page in body["pages"]:
        assert page == {
            "account_label": "My Facebook Account",
            "token_id": str(main.connection.id),
            "fb_page_id": page["fb_page_id"],
            "fb_page_name": next(
                p["name"] for p in seeded["pages"] if p["id"] == page["fb_page_id"]
            ),
            "fb_page_picture": page["fb_page_picture"],
            "page_access_token": None,
            "ig_account_id": ig_of[page["fb_page_id"]],
        }
    assert body["skipped_tokens"] == [
        {
            "token_id": str(old.connection.id),
            "account_label": "Old Account",
            "detail": "Token expired or invalid",
        }
    ]
    # Marked inactive: the next listing no longer tries it.
    assert (await meta_api.connection(old.connection.id)).status == "reauthorization_required"
    again = _ok(await meta_api.get("/api/meta/pages/", tenant))
    assert again["skipped_tokens"] == []
    assert again["pages"] == body["pages"]

    other = await meta_api.tenant("module-pages-other")
    assert _ok(await meta_api.get("/api/meta/pages/", other)) == {
        "pages": [],
        "skipped_tokens": [],
    }
    _detail(await meta_api.get("/api/meta/pages/", None), 401)


async def test_sync_maps_a_client_to_a_page_and_stores_its_token_encrypted(
    meta_api: MetaApi,
) -> None:
    tenant = await meta_api.tenant("sync")
    token, report = await meta_api.connect(tenant)
    token_id = str(report.connection.id)
    seeded = meta_api.sandbox.info()
    shrub = next(p for p in seeded["pages"] if p["instagram_business_account"])
    owned = next(p for p in seeded["pages"] if p["business_owned"])
    request = {
        "client_id": "client_001",
        "fb_page_id": shrub["id"],
        "ig_account_id": None,
        "token_id": token_id,
    }

    first = _ok(await meta_api.post("/api/meta/sync/", tenant, request))
    assert first == {
        "success": True,
        "created": True,
        "ig_account_id": shrub["instagram_business_account"],
    }
    again = _ok(await meta_api.post("/api/meta/sync/", tenant, request))
    assert again["created"] is False
    # A business-owned Page (absent from /me/accounts) maps too; it has no Instagram.
    business = _ok(
        await meta_api.post(
            "/api/meta/sync/", tenant, {**request, "fb_page_id": owned["id"], "token_id": token_id}
        )
    )
    assert business == {"success": True, "created": True, "ig_account_id": None}

    mappings = {m.fb_page_id: m for m in await meta_api.rows(ClientPageMapping, tenant)}
    assert set(mappings) == {shrub["id"], owned["id"]}
    assert mappings[shrub["id"]].ig_account_id == shrub["instagram_business_account"]
    pages = {p.id: p for p in await meta_api.rows(Page, tenant)}
    stored = pages[mappings[shrub["id"]].page_id]
    vault = meta_api.server.runtime.services.vault
    page_token = meta_api.sandbox.store.page_tokens[(token, shrub["id"])]
    assert stored.page_token_encrypted is not None
    assert page_token not in stored.page_token_encrypted
    assert unseal(vault, stored) == page_token


async def test_sync_errors(meta_api: MetaApi) -> None:
    tenant = await meta_api.tenant("sync-errors")
    other = await meta_api.tenant("sync-errors-other")
    token, report = await meta_api.connect(tenant)
    _, foreign = await meta_api.connect(other)
    shrub = next(p for p in meta_api.sandbox.info()["pages"] if p["instagram_business_account"])
    good = {"client_id": "c1", "fb_page_id": shrub["id"], "token_id": str(report.connection.id)}

    async def sync(**change: Any) -> httpx.Response:
        return await meta_api.post("/api/meta/sync/", tenant, {**good, **change})

    for field, value in [
        ("client_id", None),
        ("client_id", ""),
        ("fb_page_id", "my-page"),
        ("token_id", 1),
        ("token_id", "not-an-id"),
        ("ig_account_id", "ig-1"),
    ]:
        body = _detail(await sync(**{field: value}), 400)
        assert body["field"] == field, (field, value, body)

    not_found = {"detail": "Token not found or inactive", "field": "token_id"}
    assert _detail(await sync(token_id=str(foreign.connection.id)), 400) == not_found
    assert _detail(await sync(token_id=str(uuid.uuid4())), 400) == not_found
    assert _detail(await sync(fb_page_id="123456789"), 404) == {"detail": "Page not found"}
    wrong_ig = _detail(await sync(ig_account_id="17840000000000000"), 400)
    assert wrong_ig["field"] == "ig_account_id"
    assert await meta_api.rows(ClientPageMapping, tenant) == []

    meta_api.sandbox.revoke_token(token)
    assert _detail(await sync(), 400) == {"detail": "Token expired or invalid"}
    # Marked inactive by that answer, so the token is now "not found or inactive".
    assert _detail(await sync(), 400) == not_found
    _detail(await meta_api.post("/api/meta/sync/", None, good), 401)


def test_meta_failures_map_to_the_family_answers() -> None:
    assert meta_failure(MetaTokenInvalid("expired", meta_code=190)).message == (
        "Token expired or invalid"
    )
    assert meta_failure(MetaTokenInvalid("expired")).status == 400
    rate = meta_failure(MetaRateLimited("(#4) limit", meta_code=4, retry_after=30))
    assert (rate.status, rate.headers) == (429, {"Retry-After": "30"})
    other = meta_failure(MetaError("An unknown error occurred", meta_code=1))
    assert (other.status, other.message) == (502, "Meta API error (#1): An unknown error occurred")
