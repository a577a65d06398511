"""Meta's real and documented error bodies map to the right exception with the right flags."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from graph_client.errors import (
    GraphError,
    IGPublishingError,
    InvalidParameterError,
    MediaNotReadyError,
    OutsideMessagingWindowError,
    PermissionDeniedError,
    PolicyBlockError,
    RateLimitedError,
    TemplateError,
    TokenInvalidError,
    TransientError,
    WhatsAppError,
    error_from_response,
)

PayloadLoader = Callable[[str], Any]


@pytest.mark.parametrize(
    ("sample", "status", "cls", "code", "subcode", "retryable"),
    [
        ("graph_error_190_463_session_expired_real.json", 400, TokenInvalidError, 190, 463, False),
        ("graph_error_190_463_pywa_wrapped.json", 400, TokenInvalidError, 190, 463, False),
        ("graph_error_generic_docs.json", 400, TokenInvalidError, 190, 460, False),
        (
            "graph_error_100_after_cursor_limit_docs.json",
            400,
            InvalidParameterError,
            100,
            None,
            False,
        ),
        (
            "graph_error_100_invalid_insights_metric_page_fans_real_probe_v25.json",
            400,
            InvalidParameterError,
            100,
            None,
            False,
        ),
        (
            "graph_error_200_cannot_hide_comment_real_probe_v25_abridged.json",
            403,
            PermissionDeniedError,
            200,
            None,
            False,
        ),
        ("graph_error_32_page_rate_limit_docs.json", 400, RateLimitedError, 32, None, False),
        (
            "graph_error_80001_page_buc_rate_limit_docs.json",
            400,
            RateLimitedError,
            80001,
            None,
            False,
        ),
        (
            "ig_error_9007_2207027_media_not_ready_real.json",
            400,
            MediaNotReadyError,
            9007,
            2207027,
            True,
        ),
        (
            "ig_error_36000_2207004_image_too_large_docs.json",
            400,
            IGPublishingError,
            36000,
            2207004,
            False,
        ),
        ("wa_error_130429_rate_limit_docs.json", 400, RateLimitedError, 130429, 2494055, False),
    ],
)
def test_real_samples_map_to_their_class(
    payload: PayloadLoader,
    sample: str,
    status: int,
    cls: type[GraphError],
    code: int,
    subcode: int | None,
    retryable: bool,
) -> None:
    body = payload(sample)
    err = error_from_response(status, body, {})
    assert type(err) is cls
    assert err.code == code
    assert err.subcode == subcode
    assert err.retryable is retryable
    assert err.http_status == status
    assert err.message == body["error"]["message"]
    assert err.fbtrace_id == body["error"].get("fbtrace_id")


def test_envelope_fields_are_kept(payload: PayloadLoader) -> None:
    err = error_from_response(400, payload("ig_error_36000_2207004_image_too_large_docs.json"))
    assert err.error_type == "OAuthException"
    assert err.user_title == "Image size too large"
    assert err.user_message is not None
    assert "8 MiB" in err.user_message
    assert err.is_transient is False

    wa = error_from_response(400, payload("wa_error_130429_rate_limit_docs.json"))
    assert wa.error_data["details"] == "Cloud API message throughput has been reached."


def test_missing_type_and_trace_are_tolerated() -> None:
    err = error_from_response(403, {"error": {"message": "(#200) nope", "code": 200}})
    assert isinstance(err, PermissionDeniedError)
    assert err.error_type is None
    assert err.fbtrace_id is None
    assert "fbtrace_id" not in str(err)


def test_rate_limit_retry_after_comes_from_buc_minutes(payload: PayloadLoader) -> None:
    headers = {
        "X-Business-Use-Case-Usage": json.dumps(
            {
                "659554973897366": [
                    {
                        "type": "pages",
                        "call_count": 100,
                        "total_cputime": 25,
                        "total_time": 25,
                        "estimated_time_to_regain_access": 19,
                    }
                ]
            }
        )
    }
    err = error_from_response(
        400, payload("graph_error_80001_page_buc_rate_limit_docs.json"), headers
    )
    assert isinstance(err, RateLimitedError)
    assert err.retry_after == 19 * 60


def test_rate_limit_without_estimate_has_no_retry_after(payload: PayloadLoader) -> None:
    err = error_from_response(400, payload("graph_error_32_page_rate_limit_docs.json"), {})
    assert isinstance(err, RateLimitedError)
    assert err.retry_after is None


def test_retry_after_only_set_on_rate_limits() -> None:
    headers = {"Retry-After": "5"}
    assert (
        error_from_response(400, {"error": {"code": 100, "message": "x"}}, headers).retry_after
        is None
    )
    assert (
        error_from_response(400, {"error": {"code": 4, "message": "x"}}, headers).retry_after == 5.0
    )


@pytest.mark.parametrize(
    ("code", "subcode", "cls"),
    [
        (102, None, TokenInvalidError),
        (190, 458, TokenInvalidError),
        (190, 459, TokenInvalidError),
        (190, 464, TokenInvalidError),
        (190, 467, TokenInvalidError),
        (190, 492, TokenInvalidError),
        (10, None, PermissionDeniedError),
        (299, None, PermissionDeniedError),
        (10, 2018278, OutsideMessagingWindowError),
        (10, 2534022, OutsideMessagingWindowError),
        (131047, None, OutsideMessagingWindowError),
        (4, None, RateLimitedError),
        (17, 2446079, RateLimitedError),
        (341, None, RateLimitedError),
        (613, 1996, RateLimitedError),
        (80000, None, RateLimitedError),
        (80014, None, RateLimitedError),
        (80007, None, RateLimitedError),
        (131048, None, RateLimitedError),
        (131056, None, RateLimitedError),
        (368, None, PolicyBlockError),
        (130497, None, PolicyBlockError),
        (131031, None, PolicyBlockError),
        (100, 33, InvalidParameterError),
        (131008, None, InvalidParameterError),
        (131009, None, InvalidParameterError),
        (1, None, TransientError),
        (2, None, TransientError),
        (131000, None, TransientError),
        (131016, None, TransientError),
        (133004, None, TransientError),
        (132001, None, TemplateError),
        (132015, None, TemplateError),
        (131026, None, WhatsAppError),
        (133010, None, WhatsAppError),
        # IG: code 4 with a publishing subcode is a spam block, not a rate limit.
        (4, 2207051, IGPublishingError),
        (9, 2207042, IGPublishingError),
        (506, None, GraphError),
        (3, None, GraphError),
    ],
)
def test_code_table(code: int, subcode: int | None, cls: type[GraphError]) -> None:
    envelope: dict[str, object] = {"message": "m", "type": "OAuthException", "code": code}
    if subcode is not None:
        envelope["error_subcode"] = subcode
    assert type(error_from_response(400, {"error": envelope})) is cls


def test_ig_transient_subcodes_are_retryable() -> None:
    for subcode in (2207001, 2207003, 2207032):
        err = error_from_response(400, {"error": {"code": -1, "error_subcode": subcode}})
        assert isinstance(err, IGPublishingError)
        assert err.retryable
    final = error_from_response(400, {"error": {"code": 25, "error_subcode": 2207050}})
    assert not final.retryable


def test_is_transient_flag_makes_an_unknown_code_transient() -> None:
    err = error_from_response(400, {"error": {"code": 12345, "is_transient": True}})
    assert isinstance(err, TransientError)
    assert err.retryable
    assert not err.ambiguous


def test_unknown_code_on_5xx_is_transient_but_not_on_4xx() -> None:
    assert isinstance(error_from_response(500, {"error": {"code": 12345}}), TransientError)
    err = error_from_response(400, {"error": {"code": 12345}})
    assert type(err) is GraphError
    assert not err.retryable


def test_non_json_bodies() -> None:
    bare = error_from_response(502, b"<html>Bad Gateway</html>", {})
    assert isinstance(bare, TransientError)
    assert bare.ambiguous  # the request may have been applied
    assert bare.code is None
    assert bare.http_status == 502

    throttled = error_from_response(429, "", {"retry-after": "7"})
    assert isinstance(throttled, RateLimitedError)
    assert throttled.retry_after == 7.0

    assert type(error_from_response(404, None, {})) is GraphError


def test_string_codes_are_parsed() -> None:
    err = error_from_response(400, {"error": {"code": "190", "error_subcode": "463"}})
    assert isinstance(err, TokenInvalidError)
    assert (err.code, err.subcode) == (190, 463)


def test_tokens_never_appear_in_message_str_or_repr() -> None:
    body = {
        "error": {
            "message": "bad url https://graph.facebook.com/v25.0/me?access_token=EAAGsecret&x=1",
            "code": 100,
        }
    }
    err = error_from_response(400, body)
    for text in (err.message, str(err), repr(err)):
        assert "EAAGsecret" not in text
        assert "access_token=REDACTED" in text


def test_str_names_code_subcode_and_trace(payload: PayloadLoader) -> None:
    err = error_from_response(400, payload("graph_error_190_463_session_expired_real.json"))
    assert str(err).startswith("[#190/463] Error validating access token")
    assert "fbtrace_id=AXS25JPViBb5AY5tP5EzTnD" in str(err)
