"""Meta's ``fields=`` grammar: ``id,name,feed.limit(3){message,from{name}},picture.type(large)``.

A field is a name, optional modifiers ``.name(arg)`` (before or after a nested selection) and an
optional nested selection in braces. Modifier arguments are kept as raw text; they may contain
brackets, quotes and commas (``metric_types(["COST","CONVERSATION"])``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from graph_client.sandbox.errors import MetaError, invalid_parameter, syntax_error

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_OPEN = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    modifiers: dict[str, str] = field(default_factory=dict)
    children: tuple[FieldSpec, ...] | None = None

    @property
    def key(self) -> str:
        """The key the value appears under: the ``.as(alias)`` if given."""
        return self.modifiers.get("as", self.name)

    def int_modifier(self, name: str) -> int | None:
        raw = self.modifiers.get(name)
        if raw is None:
            return None
        try:
            return int(raw.strip())
        except ValueError:
            raise invalid_parameter(f"Param {name} must be an integer") from None

    def bool_modifier(self, name: str) -> bool:
        return self.modifiers.get(name, "").strip().lower() in {"true", "1"}

    def list_modifier(self, name: str) -> list[str] | None:
        raw = self.modifiers.get(name)
        return None if raw is None else parse_list(raw)


def parse_list(raw: str) -> list[str]:
    """A modifier or query argument holding a list: ``["A","B"]``, ``[1,2]`` or ``A,B``."""
    text = raw.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = [part.strip().strip("'\"") for part in text[1:-1].split(",")]
        if not isinstance(value, list):
            raise invalid_parameter(f"Invalid list {raw!r}")
        return [str(item) for item in value if str(item) != ""]
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_fields(text: str) -> tuple[FieldSpec, ...]:
    parser = _Parser(text)
    specs = parser.parse_list(top=True)
    return specs


def to_string(specs: tuple[FieldSpec, ...]) -> str:
    """The inverse of :func:`parse_fields` (used to repeat a selection in ``paging.next``)."""
    parts = []
    for spec in specs:
        text = spec.name + "".join(f".{k}({v})" for k, v in spec.modifiers.items())
        if spec.children is not None:
            text += "{" + to_string(spec.children) + "}"
        parts.append(text)
    return ",".join(parts)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, detail: str) -> MetaError:
        return syntax_error(detail, self.pos, self.text)

    def peek(self) -> str:
        self.skip_ws()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def parse_list(self, *, top: bool) -> tuple[FieldSpec, ...]:
        specs: list[FieldSpec] = []
        while True:
            char = self.peek()
            if char == ",":  # tolerate empty items ("a,,b", trailing comma) like Meta does
                self.pos += 1
                continue
            if char == "" or char == "}":
                break
            specs.append(self.parse_item())
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char not in {"", "}"}:
                expected = "end of string" if top else '"}"'
                raise self.error(f'Expected {expected} instead of "{char}".')
        if top and self.peek() == "}":
            raise self.error('Expected end of string instead of "}".')
        return tuple(specs)

    def parse_name(self) -> str:
        self.skip_ws()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _NAME_CHARS:
            self.pos += 1
        if self.pos == start:
            found = self.text[self.pos] if self.pos < len(self.text) else "end of string"
            raise self.error(f'Expected a field name instead of "{found}".')
        return self.text[start : self.pos]

    def parse_item(self) -> FieldSpec:
        name = self.parse_name()
        modifiers: dict[str, str] = {}
        children: tuple[FieldSpec, ...] | None = None
        while True:
            char = self.peek()
            if char == ".":
                self.pos += 1
                mod_name = self.parse_name()
                if self.peek() != "(":
                    raise self.error(f'Expected "(" instead of "{self.peek() or "end"}".')
                modifiers[mod_name] = self.parse_argument()
            elif char == "{" and children is None:
                self.pos += 1
                children = self.parse_list(top=False)
                if self.peek() != "}":
                    raise self.error('Expected "}" instead of end of string.')
                self.pos += 1
            else:
                return FieldSpec(name, modifiers, children)

    def parse_argument(self) -> str:
        """Raw text between balanced parentheses, honouring nested brackets and quotes."""
        assert self.text[self.pos] == "("
        depth: list[str] = []
        start = self.pos + 1
        quote = ""
        i = self.pos
        while i < len(self.text):
            char = self.text[i]
            if quote:
                if char == "\\":
                    i += 2
                    continue
                if char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char in _OPEN:
                depth.append(_OPEN[char])
            elif depth and char == depth[-1]:
                depth.pop()
                if not depth:
                    self.pos = i + 1
                    return self.text[start:i].strip()
            i += 1
        self.pos = len(self.text)
        raise self.error('Expected ")" instead of end of string.')
