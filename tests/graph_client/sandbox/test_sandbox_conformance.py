"""Every Graph *response* sample in meta-payloads/ that the sandbox emulates, requested from the
sandbox the same way and compared for keys, value types and formats.

Webhook samples are compared with what the emitter sends in test_sandbox_webhooks.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_helpers import (
    PAYLOADS,
    FakeClock,
    Graph,
    assert_same_shape,
    load_sample,
    subscribe_everything,
)

from graph_client.sandbox import Sandbox, SeedSpec

# Samples the sandbox does not answer with, and why.
NOT_EMULATED = {
    "graph_batch_response_docs.json": "batch requests (POST / with batch=[...]) are not "
    "implemented by the sandbox",
    "graph_error_100_after_cursor_limit_docs.json": "the sandbox has no maximum cursor depth",
}
# Request bodies: sent as they are (ids swapped in) by the named test, not compared.
REQUEST_SAMPLES = {
    "wa_api_message_template_create_request_utility_docs.json": "test_template_create_utility",
    "wa_api_send_template_request_docs.json": "test_send_text_and_template",
    "wa_api_mark_as_read_request_docs.json": "test_mark_as_read_and_typing_indicator",
    "wa_api_typing_indicator_request_docs.json": "test_mark_as_read_and_typing_indicator",
}
# Response samples and the test comparing the sandbox's answer with each.
EMULATED = {
    "graph_me_accounts_real_probe_v25.json": "test_me_accounts",
    "graph_me_accounts_get_started_docs.json": "test_me_accounts",
    "graph_me_accounts_empty_real_probe_v25.json": "test_me_accounts_empty_for_business_pages",
    "graph_debug_token_user_granular_scopes_real_probe_v25_abridged.json": "test_debug_token",
    "graph_debug_token_response_docs.json": "test_debug_token",
    "graph_oauth_long_lived_token_response_docs.json": "test_long_lived_token_exchange",
    "graph_error_190_463_session_expired_real.json": "test_expired_token_error",
    "graph_error_190_463_pywa_wrapped.json": "test_expired_token_error",
    "graph_error_generic_docs.json": "test_revoked_token_error",
    "graph_page_node_real_probe_v25.json": "test_page_node",
    "graph_page_fan_followers_count_real_probe_v25.json": "test_page_node",
    "graph_page_feed_last_page_no_next_real_probe_v25.json": "test_feed_single_page_without_next",
    "graph_page_photo_unpublished_create_response_real_probe_v25.json": "test_publishing_responses",
    "graph_page_feed_create_response_real_probe_v25.json": "test_publishing_responses",
    "graph_page_feed_create_response_docs.json": "test_publishing_responses",
    "graph_page_photo_create_response_docs.json": "test_publishing_responses",
    "graph_success_true.json": "test_publishing_responses",
    "graph_post_fields_shares_reactions_comments_summary_real_probe_v25.json": (
        "test_post_summaries_comments_and_insights"
    ),
    "graph_post_comments_real_probe_v25.json": "test_post_summaries_comments_and_insights",
    "graph_post_insights_reactions_by_type_real_probe_v25.json": (
        "test_post_summaries_comments_and_insights"
    ),
    "graph_page_insights_page_follows_real_probe_v25.json": "test_page_insights",
    "graph_page_insights_page_post_engagements_real_probe_v25.json": "test_page_insights",
    "graph_error_100_invalid_insights_metric_page_fans_real_probe_v25.json": "test_page_insights",
    "graph_error_200_cannot_hide_comment_real_probe_v25_abridged.json": (
        "test_cannot_hide_own_comment"
    ),
    "graph_page_subscribed_apps_post_docs.json": "test_subscribed_apps",
    "graph_page_subscribed_apps_get_docs.json": "test_subscribed_apps",
    "graph_error_32_page_rate_limit_docs.json": "test_rate_limit_errors",
    "graph_error_80001_page_buc_rate_limit_docs.json": "test_rate_limit_errors",
    "wa_error_130429_rate_limit_docs.json": "test_rate_limit_errors",
    "graph_page_conversations_participants_messages_docs.json": "test_conversations",
    "graph_conversations_is_owner_docs.json": "test_conversations",
    "graph_message_get_instagram_docs.json": "test_instagram_message",
    "messenger_send_api_response_docs.json": "test_send_api",
    "ig_error_9007_2207027_media_not_ready_real.json": "test_instagram_publishing",
    "ig_container_status_finished_docs.json": "test_instagram_publishing",
    "graph_content_publishing_limit_docs.json": "test_instagram_publishing",
    "ig_error_36000_2207004_image_too_large_docs.json": "test_instagram_publishing",
    "wa_api_phone_numbers_list.json": "test_phone_numbers_and_profile",
    "wa_api_phone_number_get.json": "test_phone_numbers_and_profile",
    "wa_api_business_profile_get.json": "test_phone_numbers_and_profile",
    "wa_api_message_templates_list_fields.json": "test_template_listing",
    "wa_api_message_templates_list_full_components_docs.json": "test_template_listing",
    "wa_api_message_template_create_response_utility_docs.json": "test_template_create_utility",
    "wa_api_message_template_create_response.json": "test_template_create_utility",
    "wa_api_send_text_response.json": "test_send_text_and_template",
    "wa_api_send_template_response_docs.json": "test_send_text_and_template",
    "wa_api_analytics_messaging.json": "test_analytics",
    "wa_api_conversation_analytics_halfhour_by_category.json": "test_analytics",
}
WEBHOOK_PREFIXES = ("messenger_event_", "messenger_webhook_", "ig_webhook_", "page_webhook_")


def check(sample_name: str, actual: Any, **options: Any) -> None:
    assert sample_name in EMULATED, f"{sample_name} is not registered in EMULATED"
    assert_same_shape(load_sample(sample_name), actual, **options)


def request_sample(name: str) -> Any:
    assert name in REQUEST_SAMPLES, f"{name} is not registered in REQUEST_SAMPLES"
    return load_sample(name)


def _is_graph_sample(name: str) -> bool:
    if name.startswith(WEBHOOK_PREFIXES) or name.startswith("wa_webhook_"):
        return False
    return name.startswith(("graph_", "ig_", "messenger_send", "wa_api_", "wa_error_"))


# --- Login, tokens, /me ---------------------------------------------------------------------


async def test_me_accounts(graph: Graph) -> None:
    body = (await graph.get("/v25.0/me/accounts")).json()
    check("graph_me_accounts_real_probe_v25.json", body)
    check("graph_me_accounts_get_started_docs.json", body, extra=frozenset({"paging"}))


async def test_me_accounts_empty_for_business_pages(sandbox: Sandbox, graph: Graph) -> None:
    info = sandbox.seed(SeedSpec(pages=1, business_owned_pages=1, whatsapp_accounts=0))
    token = info["demo_user"]["access_token"]
    body = (await graph.get("/v25.0/me/accounts", token=token)).json()
    check("graph_me_accounts_empty_real_probe_v25.json", body)


async def test_debug_token(graph: Graph, info: dict[str, Any]) -> None:
    token = info["demo_user"]["access_token"]
    body = (await graph.get("/v25.0/debug_token", input_token=token)).json()
    check(
        "graph_debug_token_user_granular_scopes_real_probe_v25_abridged.json",
        body,
        # The probe notes were abridged: these keys were left out of them.
        extra=frozenset(
            {"app_id", "application", "data_access_expires_at", "issued_at", "scopes", "user_id"}
        ),
        missing=frozenset({"target_ids"}),  # entries without target_ids mean "all assets"
    )
    assert isinstance(body["data"]["app_id"], str)
    docs = load_sample("graph_debug_token_response_docs.json")
    docs["data"]["app_id"] = str(docs["data"]["app_id"])  # a string in today's responses
    assert_same_shape(
        docs,
        body,
        extra=frozenset({"data_access_expires_at", "granular_scopes"}),
        missing=frozenset({"metadata"}),  # only present for SSO logins
    )


async def test_long_lived_token_exchange(
    graph: Graph, sandbox: Sandbox, http: Any, info: dict[str, Any]
) -> None:
    short = sandbox.issue_user_token(long_lived=False)
    response = await http.get(
        "/v25.0/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": sandbox.config.app_id,
            "client_secret": sandbox.config.app_secret,
            "fb_exchange_token": short,
        },
    )
    check("graph_oauth_long_lived_token_response_docs.json", response.json())


async def test_expired_token_error(sandbox: Sandbox, graph: Graph, info: dict[str, Any]) -> None:
    sandbox.expire_token(info["demo_user"]["access_token"])
    response = await graph.get("/v25.0/me")
    assert response.status_code == 400
    check("graph_error_190_463_session_expired_real.json", response.json())
    check("graph_error_190_463_pywa_wrapped.json", response.json())
    assert response.json()["error"]["message"].startswith(
        "Error validating access token: Session has expired on "
    )


async def test_revoked_token_error(sandbox: Sandbox, graph: Graph, info: dict[str, Any]) -> None:
    sandbox.revoke_token(info["demo_user"]["access_token"], "password_changed")
    response = await graph.get("/v25.0/me")
    check(
        "graph_error_generic_docs.json",
        response.json(),
        missing=frozenset({"error_user_title", "error_user_msg"}),
    )
    assert response.json()["error"]["error_subcode"] == 460


# --- Pages ----------------------------------------------------------------------------------


async def test_page_node(graph: Graph, page: dict[str, Any]) -> None:
    fields = "id,name,username,category,link,fan_count"
    body = (await graph.get(f"/v25.0/{page['id']}", fields=fields)).json()
    check("graph_page_node_real_probe_v25.json", body)
    body = (await graph.get(f"/v25.0/{page['id']}", fields="fan_count,followers_count")).json()
    check("graph_page_fan_followers_count_real_probe_v25.json", body)


async def test_feed_single_page_without_next(
    graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    fields = "id,message,created_time,permalink_url,full_picture,is_published"
    body = (
        await graph.get(f"/v25.0/{page['id']}/feed", token=page_token, fields=fields, limit=100)
    ).json()
    # full_picture is there on photo posts only (absent from the probe's text post).
    check(
        "graph_page_feed_last_page_no_next_real_probe_v25.json",
        body,
        extra=frozenset({"full_picture"}),
    )
    assert "next" not in body["paging"]


async def test_publishing_responses(graph: Graph, page: dict[str, Any], page_token: str) -> None:
    page_id = page["id"]
    photo = await graph.post(
        f"/v25.0/{page_id}/photos",
        token=page_token,
        json={"url": "https://example.com/a.jpg", "published": False},
    )
    check("graph_page_photo_unpublished_create_response_real_probe_v25.json", photo.json())
    post = await graph.post(
        f"/v25.0/{page_id}/feed",
        token=page_token,
        json={"message": "with a photo", "attached_media": [{"media_fbid": photo.json()["id"]}]},
    )
    check("graph_page_feed_create_response_real_probe_v25.json", post.json())
    check(
        "graph_page_feed_create_response_docs.json",
        post.json(),
        extra=frozenset({"post_supports_client_mutation_id"}),
    )
    published = await graph.post(
        f"/v25.0/{page_id}/photos", token=page_token, json={"url": "https://example.com/b.jpg"}
    )
    check("graph_page_photo_create_response_docs.json", published.json())
    deleted = await graph.delete(f"/v25.0/{post.json()['id']}", token=page_token)
    check("graph_success_true.json", deleted.json())


async def test_post_summaries_comments_and_insights(
    sandbox: Sandbox, graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    created = await graph.post(
        f"/v25.0/{page['id']}/feed", token=page_token, json={"message": "summary me"}
    )
    post_id = created.json()["id"]
    await sandbox.simulate_feed(page_id=page["id"], post_id=post_id, item="reaction")
    await sandbox.simulate_feed(page_id=page["id"], post_id=post_id, item="comment")
    fields = "shares,reactions.summary(true).limit(0),comments.summary(true).limit(0)"
    body = (await graph.get(f"/v25.0/{post_id}", token=page_token, fields=fields)).json()
    check("graph_post_fields_shares_reactions_comments_summary_real_probe_v25.json", body)
    fields = "id,message,from,created_time,like_count,parent,comment_count,can_hide,is_hidden"
    comments = await graph.get(f"/v25.0/{post_id}/comments", token=page_token, fields=fields)
    check("graph_post_comments_real_probe_v25.json", comments.json(), extra=frozenset({"paging"}))
    insights = await graph.get(
        f"/v25.0/{post_id}/insights",
        token=page_token,
        metric="post_reactions_by_type_total",
        period="lifetime",
    )
    check("graph_post_insights_reactions_by_type_real_probe_v25.json", insights.json())


async def test_page_insights(graph: Graph, page: dict[str, Any], page_token: str) -> None:
    for metric, sample in [
        ("page_follows", "graph_page_insights_page_follows_real_probe_v25.json"),
        ("page_post_engagements", "graph_page_insights_page_post_engagements_real_probe_v25.json"),
    ]:
        body = await graph.get(
            f"/v25.0/{page['id']}/insights", token=page_token, metric=metric, period="day"
        )
        check(sample, body.json())
    fans = await graph.get(
        f"/v25.0/{page['id']}/insights", token=page_token, metric="page_fans", period="day"
    )
    assert fans.status_code == 400
    check("graph_error_100_invalid_insights_metric_page_fans_real_probe_v25.json", fans.json())


async def test_cannot_hide_own_comment(graph: Graph, page: dict[str, Any], page_token: str) -> None:
    created = await graph.post(
        f"/v25.0/{page['id']}/feed", token=page_token, json={"message": "hello"}
    )
    own = await graph.post(
        f"/v25.0/{created.json()['id']}/comments", token=page_token, json={"message": "thanks"}
    )
    response = await graph.post(
        f"/v25.0/{own.json()['id']}", token=page_token, json={"is_hidden": True}
    )
    assert response.status_code == 403
    check(
        "graph_error_200_cannot_hide_comment_real_probe_v25_abridged.json",
        response.json(),
        extra=frozenset({"type", "fbtrace_id"}),  # left out of the abridged probe notes
    )


async def test_subscribed_apps(graph: Graph, page: dict[str, Any], page_token: str) -> None:
    posted = await graph.post(
        f"/v25.0/{page['id']}/subscribed_apps",
        token=page_token,
        subscribed_fields="messages,message_echoes",
    )
    # The docs show "true" as a string; live Graph answers a boolean (facts §0.8).
    sample = load_sample("graph_page_subscribed_apps_post_docs.json")
    assert set(posted.json()) == set(sample)
    assert posted.json()["success"] is True
    body = (await graph.get(f"/v25.0/{page['id']}/subscribed_apps", token=page_token)).json()
    check("graph_page_subscribed_apps_get_docs.json", body)


async def test_rate_limit_errors(sandbox: Sandbox, graph: Graph) -> None:
    for code, sample in [
        (32, "graph_error_32_page_rate_limit_docs.json"),
        (80001, "graph_error_80001_page_buc_rate_limit_docs.json"),
        (130429, "wa_error_130429_rate_limit_docs.json"),
    ]:
        sandbox.set_faults({"rules": [{"kind": "rate_limit", "code": code, "times": 1}]})
        response = await graph.get("/v25.0/me")
        # error_subcode is deprecated for WhatsApp (v16+), though the docs example still has it.
        check(sample, response.json(), missing=frozenset({"error_subcode"}))
        if code == 80001:
            assert response.json() == {
                "error": {
                    **load_sample(sample)["error"],
                    "fbtrace_id": response.json()["error"]["fbtrace_id"],
                }
            }


# --- Messenger and Instagram ---------------------------------------------------------------


async def test_conversations(graph: Graph, page: dict[str, Any], page_token: str) -> None:
    body = await graph.get(
        f"/v25.0/{page['id']}/conversations",
        token=page_token,
        fields="participants,messages{id,message}",
    )
    check(
        "graph_page_conversations_participants_messages_docs.json",
        body.json(),
        extra=frozenset({"paging"}),
    )
    owner = await graph.get(
        f"/v25.0/{page['id']}/conversations",
        token=page_token,
        fields="messages{id,created_time},is_owner",
    )
    check("graph_conversations_is_owner_docs.json", owner.json(), extra=frozenset({"paging"}))


async def test_instagram_message(
    sandbox: Sandbox, graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    ig_id = page["instagram_business_account"]
    first = await sandbox.simulate_inbound_message(ig_user_id=ig_id, text="Hi")
    second = await sandbox.simulate_inbound_message(
        ig_user_id=ig_id,
        person_id=first["sender_id"],
        text="Hi Kitty!",
        reply_to=first["message_id"],
    )
    fields = "id,created_time,from,to,message,reply_to"
    body = await graph.get(f"/v25.0/{second['message_id']}", token=page_token, fields=fields)
    check("graph_message_get_instagram_docs.json", body.json())


async def test_send_api(
    graph: Graph, page: dict[str, Any], page_token: str, sandbox: Sandbox
) -> None:
    inbound = await sandbox.simulate_inbound_message(page_id=page["id"], text="hello")
    response = await graph.post(
        f"/v25.0/{page['id']}/messages",
        token=page_token,
        json={"recipient": {"id": inbound["sender_id"]}, "message": {"text": "hi!"}},
    )
    check("messenger_send_api_response_docs.json", response.json())


async def test_instagram_publishing(
    graph: Graph, page: dict[str, Any], page_token: str, clock: FakeClock
) -> None:
    ig_id = page["instagram_business_account"]
    container = await graph.post(
        f"/v25.0/{ig_id}/media", token=page_token, json={"image_url": "https://e.com/a.jpg"}
    )
    early = await graph.post(
        f"/v25.0/{ig_id}/media_publish", token=page_token, creation_id=container.json()["id"]
    )
    assert early.status_code == 400
    check("ig_error_9007_2207027_media_not_ready_real.json", early.json())
    clock.advance(6)
    status = await graph.get(
        f"/v25.0/{container.json()['id']}", token=page_token, fields="status_code"
    )
    check("ig_container_status_finished_docs.json", status.json())
    published = await graph.post(
        f"/v25.0/{ig_id}/media_publish", token=page_token, creation_id=container.json()["id"]
    )
    assert published.status_code == 200
    limit = await graph.get(
        f"/v25.0/{ig_id}/content_publishing_limit", token=page_token, fields="quota_usage,config"
    )
    check("graph_content_publishing_limit_docs.json", limit.json())
    too_large = await graph.post(
        f"/v25.0/{ig_id}/media", token=page_token, json={"image_url": "https://e.com/too_large.jpg"}
    )
    check("ig_error_36000_2207004_image_too_large_docs.json", too_large.json())


# --- WhatsApp -------------------------------------------------------------------------------


def _waba(info: dict[str, Any]) -> dict[str, Any]:
    return dict(info["whatsapp_business_accounts"][0])


async def test_phone_numbers_and_profile(graph: Graph, info: dict[str, Any]) -> None:
    waba = _waba(info)
    phone_id = waba["phone_numbers"][0]["id"]
    check(
        "wa_api_phone_numbers_list.json",
        (await graph.get(f"/v25.0/{waba['id']}/phone_numbers")).json(),
        extra=frozenset({"paging"}),
    )
    # The docs show this one number as bare digits and the list's as "+1 631-555-5555"; the
    # sandbox formats both like the list.
    phone = (await graph.get(f"/v25.0/{phone_id}")).json()
    check("wa_api_phone_number_get.json", phone, loose=frozenset({"display_phone_number"}))
    assert phone["display_phone_number"].startswith("+1 ")
    fields = "about,address,description,email,profile_picture_url,websites,vertical"
    profile = await graph.get(f"/v25.0/{phone_id}/whatsapp_business_profile", fields=fields)
    check("wa_api_business_profile_get.json", profile.json())


async def test_template_listing(graph: Graph, info: dict[str, Any]) -> None:
    waba = _waba(info)
    listed = await graph.get(
        f"/v25.0/{waba['id']}/message_templates", fields="name,category,status", limit=2
    )
    check("wa_api_message_templates_list_fields.json", listed.json())
    full = await graph.get(f"/v25.0/{waba['id']}/message_templates", limit=2)
    # sub_category appears on marketing templates only (as in the sample's second item).
    check(
        "wa_api_message_templates_list_full_components_docs.json",
        full.json(),
        extra=frozenset({"sub_category"}),
        loose=frozenset({"components"}),
    )
    components = full.json()["data"][0]["components"]
    sample = load_sample("wa_api_message_templates_list_full_components_docs.json")
    assert_same_shape(sample["data"][0]["components"], components[:1])


async def test_template_create_utility(graph: Graph, info: dict[str, Any]) -> None:
    waba = _waba(info)
    request = request_sample("wa_api_message_template_create_request_utility_docs.json")
    request["name"] = "reservation_confirmation_v2"
    response = await graph.post(f"/v25.0/{waba['id']}/message_templates", json=request)
    check("wa_api_message_template_create_response_utility_docs.json", response.json())
    marketing = {
        "name": "spring_sale",
        "language": "en",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Spring sale: 20% off!"}],
    }
    response = await graph.post(f"/v25.0/{waba['id']}/message_templates", json=marketing)
    check("wa_api_message_template_create_response.json", response.json())
    assert response.json()["category"] == "MARKETING"


async def test_send_text_and_template(sandbox: Sandbox, graph: Graph, info: dict[str, Any]) -> None:
    phone_id = _waba(info)["phone_numbers"][0]["id"]
    inbound = await sandbox.simulate_inbound_message(phone_number_id=phone_id, text="hi")
    text = await graph.post(
        f"/v25.0/{phone_id}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": "+" + inbound["wa_id"],
            "type": "text",
            "text": {"body": "hello"},
        },
    )
    check("wa_api_send_text_response.json", text.json())
    request = request_sample("wa_api_send_template_request_docs.json")
    template = await graph.post(f"/v25.0/{phone_id}/messages", json=request)
    check("wa_api_send_template_response_docs.json", template.json())


async def test_mark_as_read_and_typing_indicator(
    sandbox: Sandbox, graph: Graph, info: dict[str, Any]
) -> None:
    phone_id = _waba(info)["phone_numbers"][0]["id"]
    for sample in [
        "wa_api_mark_as_read_request_docs.json",
        "wa_api_typing_indicator_request_docs.json",
    ]:
        inbound = await sandbox.simulate_inbound_message(phone_number_id=phone_id, text="hi")
        request = {**request_sample(sample), "message_id": inbound["message_id"]}
        response = await graph.post(f"/v25.0/{phone_id}/messages", json=request)
        check("graph_success_true.json", response.json())


async def test_analytics(
    sandbox: Sandbox, graph: Graph, info: dict[str, Any], clock: FakeClock
) -> None:
    waba = _waba(info)
    subscribe_everything(sandbox)
    phone_id = waba["phone_numbers"][0]["id"]
    await graph.post(
        f"/v25.0/{phone_id}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": "16505551234",
            "type": "template",
            "template": {"name": "coupon_expiration_reminder", "language": {"code": "en"}},
        },
    )
    start, end = int(clock.now) - 86400, int(clock.now) + 86400
    fields = f'analytics.start({start}).end({end}).granularity(DAY).country_codes(["US","BR"])'
    body = await graph.get(f"/v25.0/{waba['id']}", fields=fields)
    check("wa_api_analytics_messaging.json", body.json())
    fields = (
        f"conversation_analytics.start({start}).end({end}).granularity(HALF_HOUR)"
        '.metric_types(["COST","CONVERSATION"]).dimensions(["CONVERSATION_CATEGORY"])'
    )
    body = await graph.get(f"/v25.0/{waba['id']}", fields=fields)
    check("wa_api_conversation_analytics_halfhour_by_category.json", body.json())
    assert (
        body.json()["conversation_analytics"]["data"][0]["data_points"][0]["conversation_category"]
        == "MARKETING"
    )


def test_every_graph_sample_is_emulated_or_listed() -> None:
    names = {p.name for p in PAYLOADS.glob("*.json") if _is_graph_sample(p.name)}
    assert names, f"no samples found in {PAYLOADS}"
    listed = [EMULATED, NOT_EMULATED, REQUEST_SAMPLES]
    unaccounted = sorted(n for n in names if not any(n in group for group in listed))
    assert not unaccounted, f"samples neither emulated nor listed as not emulated: {unaccounted}"
    stale = sorted(n for group in listed for n in group if n not in names)
    assert not stale, f"listed samples that are not in the corpus: {stale}"
    tests = {name for name in globals() if name.startswith("test_")}
    assert set(EMULATED.values()) | set(REQUEST_SAMPLES.values()) <= tests


@pytest.fixture(autouse=True)
def _payloads_present() -> None:
    if not PAYLOADS.is_dir():
        pytest.fail(f"the conformance corpus is missing: {PAYLOADS} (set META_PAYLOADS_DIR)")
