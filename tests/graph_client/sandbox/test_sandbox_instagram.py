"""Instagram content publishing: container states, publishing too early, quota."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sandbox_helpers import FakeClock, Graph

from graph_client.sandbox import Sandbox, SandboxConfig, create_sandbox_app
from graph_client.signature import appsecret_proof


@pytest.fixture
def ig(page: dict[str, Any]) -> str:
    return str(page["instagram_business_account"])


async def _container(graph: Graph, ig: str, token: str, **body: Any) -> str:
    response = await graph.post(f"/v25.0/{ig}/media", token=token, json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def _status(graph: Graph, container: str, token: str) -> str:
    response = await graph.get(f"/v25.0/{container}", token=token, fields="status_code,status")
    return str(response.json()["status_code"])


async def test_container_goes_from_in_progress_to_finished_to_published(
    graph: Graph, ig: str, page_token: str, clock: FakeClock
) -> None:
    container = await _container(
        graph, ig, page_token, image_url="https://e.com/a.jpg", caption="hi"
    )
    assert await _status(graph, container, page_token) == "IN_PROGRESS"
    early = await graph.post(f"/v25.0/{ig}/media_publish", token=page_token, creation_id=container)
    assert early.status_code == 400
    assert (early.json()["error"]["code"], early.json()["error"]["error_subcode"]) == (
        9007,
        2207027,
    )

    clock.advance(5)
    assert await _status(graph, container, page_token) == "FINISHED"
    published = await graph.post(
        f"/v25.0/{ig}/media_publish", token=page_token, creation_id=container
    )
    media_id = published.json()["id"]
    assert await _status(graph, container, page_token) == "PUBLISHED"
    media = await graph.get(
        f"/v25.0/{media_id}",
        token=page_token,
        fields="caption,media_type,media_product_type,permalink,timestamp,username",
    )
    assert media.json()["caption"] == "hi"
    assert media.json()["media_type"] == "IMAGE"
    assert media.json()["timestamp"].endswith("+0000")
    listed = await graph.get(f"/v25.0/{ig}/media", token=page_token, fields="id", limit=1)
    assert listed.json()["data"][0]["id"] == media_id


async def test_containers_expire_after_a_day(
    graph: Graph, ig: str, page_token: str, clock: FakeClock
) -> None:
    container = await _container(graph, ig, page_token, image_url="https://e.com/a.jpg")
    clock.advance(86401)
    assert await _status(graph, container, page_token) == "EXPIRED"
    response = await graph.post(
        f"/v25.0/{ig}/media_publish", token=page_token, creation_id=container
    )
    assert response.json()["error"]["error_subcode"] == 2207008


async def test_reels_and_carousels(
    graph: Graph, ig: str, page_token: str, clock: FakeClock
) -> None:
    reel = await _container(
        graph, ig, page_token, media_type="REELS", video_url="https://e.com/v.mp4"
    )
    children = [
        await _container(
            graph, ig, page_token, image_url=f"https://e.com/{i}.jpg", is_carousel_item=True
        )
        for i in range(3)
    ]
    carousel = await _container(
        graph, ig, page_token, media_type="CAROUSEL", children=",".join(children), caption="set"
    )
    clock.advance(6)
    for container, kind in [(reel, "VIDEO"), (carousel, "CAROUSEL_ALBUM")]:
        published = await graph.post(
            f"/v25.0/{ig}/media_publish", token=page_token, creation_id=container
        )
        media = await graph.get(
            f"/v25.0/{published.json()['id']}",
            token=page_token,
            fields="media_type,media_product_type",
        )
        assert media.json()["media_type"] == kind
    quota = await graph.get(f"/v25.0/{ig}/content_publishing_limit", token=page_token)
    assert quota.json() == {"data": [{"quota_usage": 2}]}  # a carousel counts as one post


async def test_bad_containers(graph: Graph, ig: str, page_token: str, clock: FakeClock) -> None:
    missing = await graph.post(f"/v25.0/{ig}/media", token=page_token, json={"caption": "x"})
    assert missing.json()["error"]["code"] == 100
    small = await graph.post(
        f"/v25.0/{ig}/media", token=page_token, json={"media_type": "CAROUSEL", "children": "1"}
    )
    assert small.json()["error"]["error_subcode"] == 2207028
    broken = await _container(graph, ig, page_token, image_url="https://e.com/processing_error.jpg")
    clock.advance(10)
    assert await _status(graph, broken, page_token) == "ERROR"


async def test_publishing_quota(clock: FakeClock) -> None:
    config = SandboxConfig(
        app_id="1",
        app_secret="s",
        clock=clock,
        tick_interval_seconds=0,
        ig_publishing_quota=2,
        container_ready_seconds=0,
    )
    sandbox: Sandbox = create_sandbox_app(config)
    info = sandbox.seed_demo()
    page = next(p for p in info["pages"] if p["instagram_business_account"])
    ig, token = page["instagram_business_account"], page["access_token"]
    params = {"access_token": token, "appsecret_proof": appsecret_proof(token, "s")}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox), base_url="http://t"
    ) as c:
        codes = []
        for _ in range(3):
            created = await c.post(
                f"/v25.0/{ig}/media", params=params, json={"image_url": "https://e.com/a.jpg"}
            )
            published = await c.post(
                f"/v25.0/{ig}/media_publish", params={**params, "creation_id": created.json()["id"]}
            )
            codes.append(published.json().get("error", {}).get("code"))
        assert codes == [None, None, 9]
        clock.advance(86401)
        created = await c.post(
            f"/v25.0/{ig}/media", params=params, json={"image_url": "https://e.com/a.jpg"}
        )
        again = await c.post(
            f"/v25.0/{ig}/media_publish", params={**params, "creation_id": created.json()["id"]}
        )
        assert again.status_code == 200
    await sandbox.aclose()
