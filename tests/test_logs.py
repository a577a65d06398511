"""Log lines are JSON and never carry a Meta token, a JWT or a secret."""

from __future__ import annotations

import io
import json
import logging

import structlog

from resolvers.log_config import configure_logging

META_TOKEN = "EAABwzLixnjYBO" + "Z" * 40
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQtaGVyZQ"


def test_tokens_are_redacted_everywhere() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    log = structlog.get_logger("test")
    log.info("graph_call", url=f"https://graph.facebook.com/me?access_token={META_TOKEN}&x=1")
    log.info("login", access_token=META_TOKEN, authorization=f"Bearer {JWT}")
    log.warning("nested", payload={"page": {"access_token": META_TOKEN}, "note": f"got {JWT}"})
    logging.getLogger("stdlib").error("stdlib line with %s", META_TOKEN)
    output = stream.getvalue()
    lines = [json.loads(line) for line in output.strip().splitlines()]
    assert len(lines) == 4
    assert META_TOKEN not in output
    assert JWT not in output
    assert lines[0]["url"].startswith("https://graph.facebook.com/me?")
    assert lines[1]["access_token"] == "[redacted]"
