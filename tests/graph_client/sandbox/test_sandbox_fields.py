"""Meta's ``fields=`` grammar and how selections render (omitted empties, appended id, +0000
times, ASCII-escaped JSON, one unknown field failing the whole call)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sandbox_helpers import Graph

from graph_client.sandbox.errors import MetaError
from graph_client.sandbox.fields import FieldSpec, parse_fields, to_string

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")


def test_parses_nested_selections_and_modifiers() -> None:
    specs = parse_fields("id,name,feed.limit(3){message,from{name,id}},picture.type(large)")
    assert [s.name for s in specs] == ["id", "name", "feed", "picture"]
    feed = specs[2]
    assert feed.modifiers == {"limit": "3"}
    assert feed.children is not None
    assert [c.name for c in feed.children] == ["message", "from"]
    assert feed.children[1].children == (FieldSpec("name"), FieldSpec("id"))
    assert specs[3].modifiers == {"type": "large"}


def test_modifiers_may_follow_the_nested_selection_and_chain() -> None:
    (spec,) = parse_fields("messages{message}.limit(20).summary(true)")
    assert spec.modifiers == {"limit": "20", "summary": "true"}
    assert spec.int_modifier("limit") == 20
    assert spec.bool_modifier("summary")
    assert spec.children == (FieldSpec("message"),)


def test_arguments_keep_brackets_quotes_and_commas() -> None:
    text = (
        "conversation_analytics.start(1).end(2).granularity(DAILY)"
        '.metric_types(["COST","CONVERSATION"]).dimensions(["CONVERSATION_CATEGORY"])'
    )
    (spec,) = parse_fields(text)
    assert spec.list_modifier("metric_types") == ["COST", "CONVERSATION"]
    assert spec.list_modifier("dimensions") == ["CONVERSATION_CATEGORY"]
    assert spec.modifiers["granularity"] == "DAILY"


def test_alias_and_whitespace() -> None:
    specs = parse_fields(" id , reactions.as(all_reactions).summary(true) ")
    assert specs[1].key == "all_reactions"


def test_round_trip_for_paging_urls() -> None:
    text = "participants,messages.limit(20){message,from,created_time}"
    assert parse_fields(to_string(parse_fields(text))) == parse_fields(text)


@pytest.mark.parametrize("bad", ["id,name{", "id}", "feed.limit(3", "feed.limit", "a,{b}"])
def test_syntax_errors_are_metas_2500(bad: str) -> None:
    with pytest.raises(MetaError) as raised:
        parse_fields(bad)
    assert raised.value.code == 2500
    assert raised.value.message.startswith("Syntax error")


async def test_unknown_field_fails_the_whole_call(graph: Graph, page: dict[str, Any]) -> None:
    response = await graph.get(f"/v25.0/{page['id']}", fields="id,name,not_a_field")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100
    assert error["type"] == "OAuthException"
    assert error["message"] == (
        "(#100) Tried accessing nonexisting field (not_a_field) on node type (Page)"
    )
    assert error["fbtrace_id"]


async def test_unknown_nested_field_fails_even_when_the_edge_is_empty(
    graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    response = await graph.get(
        f"/v25.0/{page['id']}/conversations",
        token=page_token,
        folder="spam",  # no seeded conversation is in spam: the edge is empty
        fields="messages{message,nope}",
    )
    assert response.status_code == 400
    assert "(nope)" in response.json()["error"]["message"]


async def test_empty_fields_are_omitted_and_id_is_appended(
    graph: Graph, info: dict[str, Any]
) -> None:
    business_page = next(p for p in info["pages"] if p["business_owned"])
    response = await graph.get(f"/v25.0/{business_page['id']}", fields="name,username,phone")
    body = response.json()
    # The demo's second Page has neither username nor phone: both are left out, id is added.
    assert body == {"name": business_page["name"], "id": business_page["id"]}


async def test_nested_edges_render_their_own_paging(
    graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    response = await graph.get(
        f"/v25.0/{page['id']}/conversations",
        token=page_token,
        fields="messages.limit(2){message,created_time}",
        limit=1,
    )
    conversation = response.json()["data"][0]
    messages = conversation["messages"]
    assert len(messages["data"]) == 2
    assert TIMESTAMP.match(messages["data"][0]["created_time"])
    assert messages["paging"]["next"].startswith(
        f"http://testserver/sandbox/v25.0/{conversation['id']}/messages?"
    )


async def test_json_is_ascii_escaped_like_metas(
    graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    response = await graph.get(f"/v25.0/{page['id']}", token=page_token, fields="link,access_token")
    raw = response.content
    assert raw.isascii()
    assert b"https:\\/\\/www.facebook.com\\/" in raw
    await graph.post(f"/v25.0/{page['id']}", token=page_token, json={"about": "Café ☕"})
    about = await graph.get(f"/v25.0/{page['id']}", token=page_token, fields="about")
    assert b"Caf\\u00e9 \\u2615" in about.content
    assert about.json()["about"] == "Café ☕"


async def test_date_format_u_gives_unix_seconds(
    graph: Graph, page: dict[str, Any], page_token: str
) -> None:
    response = await graph.get(
        f"/v25.0/{page['id']}/feed", token=page_token, fields="created_time", date_format="U"
    )
    assert isinstance(response.json()["data"][0]["created_time"], int)
