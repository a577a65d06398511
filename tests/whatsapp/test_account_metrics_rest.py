"""spec/meta-business-api.md: the WhatsApp account and its message metrics, against the
sandbox (metrics come from Meta's analytics edge, so the totals match Meta's data points)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.whatsapp.conftest import DEMO_WABA, WhatsAppApi
from tests.whatsapp.test_templates_rest import _data, _error


async def test_account_in_its_documented_shape(wa: WhatsAppApi) -> None:
    data = _data(await wa.call("GET", "/api/meta/whatsapp/account"))
    assert set(data) >= {
        "id",
        "wabaId",
        "phoneNumberId",
        "phoneNumber",
        "displayName",
        "status",
        "businessProfile",
        "qualityRating",
        "createdAt",
    }
    assert data["wabaId"] == DEMO_WABA
    assert data["phoneNumber"]
    assert data["phoneNumberId"].isdigit()
    assert set(data["businessProfile"]) == {
        "about",
        "address",
        "description",
        "email",
        "websites",
        "profilePictureUrl",
    }
    assert data["qualityRating"] in {"GREEN", "YELLOW", "RED", "NA"}
    assert _data(await wa.call("GET", f"/api/meta/whatsapp/account?wabaId={DEMO_WABA}")) == data
    _error(await wa.call("GET", "/api/meta/whatsapp/account?wabaId=1"), 404)


async def test_metrics_series_and_totals(wa: WhatsAppApi) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=7)
    query = f"startDate={start.date()}&endDate={end.date()}&granularity=day"
    data = _data(await wa.call("GET", f"/api/meta/whatsapp/metrics?{query}&metrics=sent,delivered"))
    assert set(data["metrics"]) == {"sent", "delivered"}
    for points in data["metrics"].values():
        assert all(set(p) == {"timestamp", "value"} for p in points)
    totals = data["totals"]
    assert totals["sent"] == sum(p["value"] for p in data["metrics"]["sent"])
    assert totals["delivered"] == sum(p["value"] for p in data["metrics"]["delivered"])
    expected = round(totals["delivered"] / totals["sent"], 4) if totals["sent"] else None
    assert totals["deliveryRate"] == expected

    # Read counts are not in Meta's message analytics: said, not invented.
    with_read = _data(await wa.call("GET", f"/api/meta/whatsapp/metrics?{query}&metrics=read"))
    assert with_read["metrics"] == {}
    assert "read" in with_read["unavailable"]

    hourly = _data(await wa.call("GET", f"/api/meta/whatsapp/metrics?{query}&granularity=hour"))
    assert hourly["totals"]["sent"] == totals["sent"]
    stamps = [p["timestamp"] for p in hourly["metrics"]["sent"]]
    assert all(s.endswith(":00:00Z") for s in stamps)


async def test_metrics_refuse_bad_input_naming_the_field(wa: WhatsAppApi) -> None:
    base = "/api/meta/whatsapp/metrics"
    old = (datetime.now(UTC) - timedelta(days=400)).date()
    for query, field in [
        ("endDate=2026-01-01", "startDate"),
        ("startDate=2026-01-01", "endDate"),
        ("startDate=yesterday&endDate=2026-01-01", "startDate"),
        ("startDate=2026-01-02&endDate=2026-01-01", "endDate"),
        (f"startDate={old}&endDate={datetime.now(UTC).date()}", "startDate"),
        ("startDate=2026-01-01&endDate=2026-01-02&granularity=week", "granularity"),
        ("startDate=2026-01-01&endDate=2026-01-02&metrics=clicks", "metrics"),
    ]:
        _error(await wa.call("GET", f"{base}?{query}"), 400, field)
