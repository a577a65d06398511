"""Properties of the WhatsApp template rules (domain.services.template_rules): whatever a
client sends, the checks either pass or raise InvalidInputError naming a field of the
template — never another exception (which the REST and GraphQL layers would turn into a
500) — and templates built by Meta's rules pass."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from domain.errors import InvalidInputError
from domain.services import template_rules as rules
from tests.fuzz.strategies import PROPERTIES, json_values, junk_or

# A named field of the template body: name, components[2].buttons[0].url, ...
FIELD = re.compile(r"^(name|language|category|components)(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*$")

_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
_numbers = st.integers(0, 12) | st.integers(10**6, 10**30)  # Meta's range, and far past it
_names = st.sampled_from(["name", "order_id", "Name", "x1"])
_placeholder_texts = st.one_of(
    # Anything, braces included.
    st.lists(
        st.one_of(
            _texts,
            _numbers.map(lambda n: f"{{{{{n}}}}}"),
            _names.map(lambda n: f"{{{{{n}}}}}"),
            st.sampled_from(["{{", "}}", "{{}}", "{{ 1 }}"]),
        ),
        max_size=6,
    ).map("".join),
    # Only numbered, or only named, placeholders: these reach the checks of their values.
    st.lists(_numbers, min_size=1, max_size=4).map(
        lambda ns: "Hi " + " ".join(f"{{{{{n}}}}}" for n in ns)
    ),
    st.lists(_names, min_size=1, max_size=3).map(
        lambda ns: "Hi " + " ".join(f"{{{{{n}}}}}" for n in ns)
    ),
)
_named_params = st.lists(
    junk_or(
        st.fixed_dictionaries(
            {"param_name": _names | json_values, "example": junk_or(st.text(max_size=5))}
        )
    ),
    max_size=4,
)
_examples = junk_or(
    st.fixed_dictionaries(
        {},
        optional={
            "body_text": junk_or(st.lists(st.lists(st.text(max_size=5)), max_size=2)),
            "header_text": junk_or(st.lists(st.text(max_size=5), max_size=2)),
            "header_handle": junk_or(st.lists(st.text(max_size=5), max_size=2)),
            "body_text_named_params": junk_or(_named_params),
            "header_text_named_params": junk_or(_named_params),
        },
    )
)
_components = st.lists(
    junk_or(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["HEADER", "body", "FOOTER", "buttons"]) | json_values},
            optional={
                "format": st.sampled_from(["TEXT", "image", "LOCATION"]) | json_values,
                "text": junk_or(_placeholder_texts),
                "example": _examples,
                "buttons": junk_or(
                    st.lists(
                        junk_or(
                            st.fixed_dictionaries(
                                {"type": st.sampled_from(rules.BUTTON_TYPES) | st.text(max_size=6)},
                                optional={
                                    "text": junk_or(st.text(max_size=30)),
                                    "url": junk_or(st.text(max_size=30)),
                                    "phone_number": json_values,
                                    "example": json_values,
                                },
                            )
                        ),
                        max_size=12,
                    )
                ),
            },
        )
    ),
    max_size=5,
)
client_templates = st.fixed_dictionaries(
    {
        "name": junk_or(st.from_regex(rules.NAME, fullmatch=True)),
        "language": junk_or(st.sampled_from(["en", "en_US", "pt_BR", "zh_HK", "EN"])),
        "category": junk_or(st.sampled_from([*rules.CATEGORIES, "utility", "promo"])),
        "components": junk_or(_components),
    }
)


def check_template(body: dict[str, Any]) -> rules.CheckedTemplate:
    """The checks a create runs (domain.services.whatsapp_templates.create_template)."""
    rules.check_name(body.get("name"))
    rules.check_language(body.get("language"))
    rules.check_category(body.get("category"))
    return rules.check_components(body.get("components"))


def _passes_or_names_a_field(check: Callable[[], object]) -> None:
    """``check`` returns, or raises InvalidInputError naming a field; nothing else escapes."""
    error: InvalidInputError | None = None
    try:
        check()
    except InvalidInputError as exc:
        error = exc
    if error is not None:
        assert FIELD.match(error.field), error.field
        assert error.problem


@PROPERTIES
@given(body=client_templates)
def test_any_template_passes_or_names_the_field_it_rejects(body: dict[str, Any]) -> None:
    _passes_or_names_a_field(lambda: check_template(body))


_body = st.fixed_dictionaries(
    {"type": st.just("BODY"), "text": _placeholder_texts}, optional={"example": _examples}
)
_text_header = st.fixed_dictionaries(
    {"type": st.just("HEADER"), "format": st.just("TEXT"), "text": _placeholder_texts},
    optional={"example": _examples},
)


@PROPERTIES
@given(value=st.one_of(json_values, _components, st.lists(_text_header | _body, max_size=2)))
def test_any_components_pass_or_name_the_field_they_reject(value: Any) -> None:
    # Beside whole templates: here every example reaches the components' checks.
    _passes_or_names_a_field(lambda: rules.check_components(value))


_named_text = st.lists(_names, min_size=1, max_size=3).map(
    lambda ns: "Hi " + " ".join(f"{{{{{n}}}}}" for n in ns)
)


@PROPERTIES
@given(
    kind=st.sampled_from(["BODY", "HEADER"]),
    text=_named_text,
    params=_named_params,
)
def test_named_placeholder_examples_of_any_shape_pass_or_name_the_field(
    kind: str, text: str, params: list[Any]
) -> None:
    # The examples Meta reviews for {{named}} placeholders: lists of {param_name, example}.
    key = "body_text_named_params" if kind == "BODY" else "header_text_named_params"
    component = {"type": kind, "format": "TEXT", "text": text, "example": {key: params}}
    body = {"type": "BODY", "text": "Hello"}
    _passes_or_names_a_field(
        lambda: rules.check_components([component] if kind == "BODY" else [component, body])
    )


@PROPERTIES
@example(numbers=[10**12])  # once a list of a trillion numbers: memory without bound
@given(numbers=st.lists(st.integers(0, 10**40), min_size=1, max_size=5))
def test_numbered_placeholders_of_any_size_pass_or_name_the_field(numbers: list[int]) -> None:
    text = "Hi " + " ".join(f"{{{{{n}}}}}" for n in numbers)
    component = {"type": "BODY", "text": text, "example": {"body_text": [["x"] * len(numbers)]}}
    _passes_or_names_a_field(lambda: rules.check_components([component]))


# --- templates made by Meta's rules ----------------------------------------------------------

_words = st.text("abcdefghij klmnop", min_size=1, max_size=30).filter(str.strip)


@st.composite
def valid_templates(draw: st.DrawFn) -> dict[str, Any]:
    params = draw(st.integers(0, 5))
    body_text = draw(_words) + "".join(f" {{{{{n}}}}} {draw(_words)}" for n in range(1, params + 1))
    body: dict[str, Any] = {"type": draw(st.sampled_from(["BODY", "body"])), "text": body_text}
    if params:
        body["example"] = {"body_text": [[draw(_words) for _ in range(params)]]}
    components: list[dict[str, Any]] = []
    if draw(st.booleans()):
        header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": draw(_words)[:50]}
        if params and draw(st.booleans()):
            header["text"] += " {{1}}"
            header["example"] = {"header_text": [draw(_words)]}
        components.append(header)
    components.append(body)
    if draw(st.booleans()):
        components.append({"type": "FOOTER", "text": draw(_words)})
    buttons = draw(
        st.lists(
            st.sampled_from(
                [
                    {"type": "QUICK_REPLY", "text": "Yes"},
                    {"type": "url", "text": "Track", "url": "https://shop.example/track"},
                    {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550100"},
                ]
            ),
            max_size=3,
            unique_by=lambda b: b["type"],
        )
    )
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return {
        "name": draw(st.from_regex(r"[a-z0-9_]{1,40}", fullmatch=True)),
        "language": draw(st.sampled_from(["en", "en_US", "pt_BR", "es_MX"])),
        "category": draw(st.sampled_from([*rules.CATEGORIES, "utility", "marketing"])),
        "components": components,
    }


@PROPERTIES
@given(template=valid_templates())
def test_templates_made_by_metas_rules_pass(template: dict[str, Any]) -> None:
    checked = check_template(template)
    assert [c["type"] for c in checked.components] == [
        c["type"].upper() for c in template["components"]
    ]
    assert checked.parameter_format == "positional"
