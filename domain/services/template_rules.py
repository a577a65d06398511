"""Meta's rules for WhatsApp message templates, checked before Meta sees a template
(meta-platform-facts.md §9), so a bad one is a 400 naming the field instead of a Meta error.

Pure functions: no I/O, no clock of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.errors import InvalidInputError, RateLimitedError

NAME = re.compile(r"^[a-z0-9_]{1,512}$")
# Meta's codes: a language (en, pt) optionally with a region (en_US, zh_HK).
LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,4})?$")
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "FLOW")
# (most of a kind, of all buttons) per Meta's template pages.
BUTTON_LIMITS = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1, "OTP": 1, "FLOW": 1}
MAX_BUTTONS = 10
MAX_BODY, MAX_HEADER_TEXT, MAX_FOOTER, MAX_BUTTON_TEXT = 1024, 60, 60, 25
EDITABLE = ("APPROVED", "REJECTED", "PAUSED")
EDITS_PER_DAY, EDITS_PER_30_DAYS = 1, 10
NAME_REUSE_BLOCK = timedelta(days=30)

_POSITIONAL = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_NAMED = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_ANY = re.compile(r"\{\{(.*?)\}\}")


@dataclass(frozen=True)
class CheckedTemplate:
    components: list[dict[str, Any]]  # types and formats upper-cased, as Meta returns them
    parameter_format: str  # "positional" or "named"


def check_name(value: Any) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidInputError(
            "name", "must be 1-512 lower-case letters, digits and underscores (Meta's rule)"
        )
    return value


def check_language(value: Any) -> str:
    if not isinstance(value, str) or not LANGUAGE.match(value):
        raise InvalidInputError("language", "must be a Meta language code such as en or en_US")
    return value


def check_category(value: Any) -> str:
    category = value.upper() if isinstance(value, str) else None
    if category not in CATEGORIES:
        raise InvalidInputError("category", f"must be one of {', '.join(CATEGORIES)}")
    return category


def check_components(value: Any) -> CheckedTemplate:
    if not isinstance(value, list) or not value:
        raise InvalidInputError("components", "must be a non-empty list")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    formats: set[str] = set()
    for index, raw in enumerate(value):
        where = f"components[{index}]"
        if not isinstance(raw, dict):
            raise InvalidInputError(where, "must be an object")
        kind = str(raw.get("type", "")).upper()
        if kind not in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            raise InvalidInputError(f"{where}.type", "must be HEADER, BODY, FOOTER or BUTTONS")
        if kind in seen:
            raise InvalidInputError(f"{where}.type", f"only one {kind} component is allowed")
        seen.add(kind)
        item = {**raw, "type": kind}
        if kind == "HEADER":
            item = _header(item, where, formats)
        elif kind == "BODY":
            _body(item, where, formats)
        elif kind == "FOOTER":
            _text(item, where, MAX_FOOTER)
            if _ANY.search(item["text"]):
                raise InvalidInputError(f"{where}.text", "a footer cannot have placeholders")
        else:
            item = _buttons(item, where)
        out.append(item)
    if "BODY" not in seen:
        raise InvalidInputError("components", "a BODY component is required")
    if len(formats) > 1:
        raise InvalidInputError(
            "components", "placeholders must be all numbered ({{1}}) or all named ({{name}})"
        )
    return CheckedTemplate(out, "named" if formats == {"named"} else "positional")


def _text(item: dict[str, Any], where: str, limit: int) -> str:
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"{where}.text", "is required")
    if len(text) > limit:
        raise InvalidInputError(f"{where}.text", f"must be at most {limit} characters")
    return text


def _placeholders(text: str, where: str, formats: set[str]) -> tuple[str, list[str]]:
    """The placeholder style and names in order of first use; numbered ones must run 1..n."""
    found = [m.strip() for m in _ANY.findall(text)]
    if not found:
        return "none", []
    numbers = [int(m.group(1)) for m in _POSITIONAL.finditer(text)]
    names = [m.group(1) for m in _NAMED.finditer(text)]
    if len(numbers) + len(names) != len(found) or (numbers and names):
        raise InvalidInputError(
            f"{where}.text",
            "placeholders must be {{1}}, {{2}}... or lower-case {{names}}, not mixed",
        )
    if numbers:
        # Compared with 1..(how many there are), never built up to the largest: a client's
        # {{99999999999}} would otherwise cost memory without bound.
        distinct = sorted(set(numbers))
        if distinct != list(range(1, len(distinct) + 1)):
            raise InvalidInputError(f"{where}.text", "numbered placeholders must run 1, 2, 3...")
        formats.add("positional")
        return "positional", [str(n) for n in distinct]
    formats.add("named")
    return "named", list(dict.fromkeys(names))


def _example(item: dict[str, Any], where: str) -> dict[str, Any]:
    example = item.get("example")
    if not isinstance(example, dict):
        raise InvalidInputError(f"{where}.example", "is required: Meta reviews every placeholder")
    return example


def _header(item: dict[str, Any], where: str, formats: set[str]) -> dict[str, Any]:
    fmt = str(item.get("format", "")).upper()
    if fmt not in HEADER_FORMATS:
        raise InvalidInputError(f"{where}.format", f"must be one of {', '.join(HEADER_FORMATS)}")
    item = {**item, "format": fmt}
    if fmt == "TEXT":
        text = _text(item, where, MAX_HEADER_TEXT)
        style, params = _placeholders(text, where, formats)
        if len(params) > 1:
            raise InvalidInputError(f"{where}.text", "a header takes at most one placeholder")
        if style == "positional":
            values = _example(item, where).get("header_text")
            if not isinstance(values, list) or len(values) != 1:
                raise InvalidInputError(
                    f"{where}.example.header_text", "must give one example value"
                )
        elif style == "named":
            _named_examples(item, where, "header_text_named_params", params)
    elif fmt != "LOCATION":
        handles = _example(item, where).get("header_handle")
        if not isinstance(handles, list) or not handles:
            raise InvalidInputError(
                f"{where}.example.header_handle", f"an uploaded sample is required for {fmt}"
            )
    return item


def _body(item: dict[str, Any], where: str, formats: set[str]) -> None:
    text = _text(item, where, MAX_BODY)
    style, params = _placeholders(text, where, formats)
    if style == "positional":
        rows = _example(item, where).get("body_text")
        row = rows[0] if isinstance(rows, list) and rows else None
        if not isinstance(row, list) or len(row) != len(params):
            raise InvalidInputError(
                f"{where}.example.body_text",
                f"must be [[...]] with one example for each of the {len(params)} placeholders",
            )
    elif style == "named":
        _named_examples(item, where, "body_text_named_params", params)


def _named_examples(item: dict[str, Any], where: str, key: str, names: list[str]) -> None:
    given = _example(item, where).get(key)
    entries = given if isinstance(given, list) else []
    covered = {
        e["param_name"]
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("param_name"), str)
        and e.get("example") not in (None, "")
    }
    missing = [n for n in names if n not in covered]
    if missing:
        raise InvalidInputError(f"{where}.example.{key}", f"needs an example for {missing[0]}")


def _buttons(item: dict[str, Any], where: str) -> dict[str, Any]:
    buttons = item.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise InvalidInputError(f"{where}.buttons", "must be a non-empty list")
    if len(buttons) > MAX_BUTTONS:
        raise InvalidInputError(f"{where}.buttons", f"at most {MAX_BUTTONS} buttons")
    counts: dict[str, int] = {}
    out = []
    for index, raw in enumerate(buttons):
        at = f"{where}.buttons[{index}]"
        if not isinstance(raw, dict):
            raise InvalidInputError(at, "must be an object")
        kind = str(raw.get("type", "")).upper()
        if kind not in BUTTON_TYPES:
            raise InvalidInputError(f"{at}.type", f"must be one of {', '.join(BUTTON_TYPES)}")
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] > BUTTON_LIMITS.get(kind, MAX_BUTTONS):
            raise InvalidInputError(f"{at}.type", f"at most {BUTTON_LIMITS[kind]} {kind} buttons")
        button = {**raw, "type": kind}
        if kind not in ("COPY_CODE", "OTP"):
            _text(button, at, MAX_BUTTON_TEXT)
        if kind == "URL":
            url = button.get("url")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise InvalidInputError(f"{at}.url", "must be an http(s) URL")
            if _ANY.search(url) and not button.get("example"):
                raise InvalidInputError(f"{at}.example", "is required for a URL with a placeholder")
        if kind == "PHONE_NUMBER" and not isinstance(button.get("phone_number"), str):
            raise InvalidInputError(f"{at}.phone_number", "is required")
        if kind == "COPY_CODE" and not button.get("example"):
            raise InvalidInputError(f"{at}.example", "is required (the sample code)")
        out.append(button)
    return {**item, "buttons": out}


def check_editable(status: str, edits: list[datetime], now: datetime) -> None:
    """Meta edits only APPROVED, REJECTED or PAUSED templates, and an approved one at most
    once per 24 h and ten times per 30 days (rejected and paused ones without limit)."""
    if status not in EDITABLE:
        raise InvalidInputError(
            "status", f"a {status} template cannot be edited (only {', '.join(EDITABLE)})"
        )
    if status != "APPROVED":
        return
    day = [t for t in edits if now - t < timedelta(days=1)]
    if len(day) >= EDITS_PER_DAY:
        raise RateLimitedError(
            "Meta allows one edit of an approved template per 24 hours",
            (min(day) + timedelta(days=1) - now).total_seconds(),
        )
    month = [t for t in edits if now - t < timedelta(days=30)]
    if len(month) >= EDITS_PER_30_DAYS:
        raise RateLimitedError(
            "Meta allows ten edits of an approved template per 30 days",
            (min(month) + timedelta(days=30) - now).total_seconds(),
        )
