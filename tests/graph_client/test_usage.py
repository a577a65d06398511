"""Parsing Meta's usage headers into per-scope readings."""

from __future__ import annotations

import json

import httpx

from graph_client.usage import (
    APP_SCOPE,
    AdAccountUsage,
    UsageCounts,
    UsageReading,
    object_scope,
    parse_usage,
)

BUC = {
    "659554973897366": [
        {
            "type": "pages",
            "call_count": 100,
            "total_cputime": 25,
            "total_time": 25,
            "estimated_time_to_regain_access": 19,
        },
        {"type": "messenger", "call_count": 10, "total_cputime": 91, "total_time": 3},
    ],
    "102290129340398": [
        {
            "type": "whatsapp_business_management",
            "call_count": 12,
            "total_cputime": 1,
            "total_time": 2,
            "estimated_time_to_regain_access": 0,
        }
    ],
}


def test_app_and_page_usage() -> None:
    headers = httpx.Headers(
        {
            "x-app-usage": '{"call_count":28,"total_time":25,"total_cputime":25}',
            "X-Page-Usage": '{"call_count":85,"total_cputime":3,"total_time":4}',
        }
    )
    usage = parse_usage(headers)
    assert usage.app == UsageCounts(call_count=28, total_time=25, total_cputime=25)
    assert usage.page is not None
    assert usage.page.peak == 85
    assert usage.peak_percent == 85
    assert usage.regain_seconds is None
    assert usage.business == ()


def test_business_use_case_usage_per_object_and_type() -> None:
    usage = parse_usage({"X-Business-Use-Case-Usage": json.dumps(BUC)})
    assert [(b.business_id, b.type) for b in usage.business] == [
        ("659554973897366", "pages"),
        ("659554973897366", "messenger"),
        ("102290129340398", "whatsapp_business_management"),
    ]
    pages = usage.business[0]
    assert pages.peak == 100
    assert pages.estimated_time_to_regain_access == 19
    assert pages.regain_seconds == 19 * 60
    assert usage.business[1].estimated_time_to_regain_access is None
    assert usage.regain_seconds == 19 * 60  # the zero estimate does not count


def test_readings_merge_business_types_and_map_page_usage_to_the_called_object() -> None:
    headers = {
        "X-App-Usage": '{"call_count":50,"total_time":1,"total_cputime":1}',
        "X-Page-Usage": '{"call_count":81,"total_time":1,"total_cputime":1}',
        "X-Business-Use-Case-Usage": json.dumps(BUC),
    }
    readings = parse_usage(headers).readings("555")
    assert readings == {
        APP_SCOPE: UsageReading(50),
        object_scope("555"): UsageReading(81),
        object_scope("659554973897366"): UsageReading(100, 19 * 60),
        object_scope("102290129340398"): UsageReading(12, None),
    }
    # Without a known object, X-Page-Usage has no scope to go to.
    assert object_scope("555") not in parse_usage(headers).readings(None)


def test_ad_account_usage() -> None:
    usage = parse_usage({"X-Ad-Account-Usage": '{"acc_id_util_pct":9.67,"reset_time_duration":30}'})
    assert usage.ad_account == AdAccountUsage(acc_id_util_pct=9.67, reset_time_duration=30)
    assert usage.peak_percent == 9.67


def test_malformed_headers_are_ignored() -> None:
    usage = parse_usage(
        {
            "X-App-Usage": "not json",
            "X-Page-Usage": "[1,2]",
            "X-Business-Use-Case-Usage": json.dumps(
                {"1": "nope", "2": [5, {"type": "pages", "call_count": "77"}]}
            ),
        }
    )
    assert usage.app is None
    assert usage.page is None
    assert [(b.business_id, b.call_count) for b in usage.business] == [("2", 77.0)]


def test_no_headers() -> None:
    usage = parse_usage({})
    assert usage.readings("1") == {}
    assert usage.peak_percent == 0
