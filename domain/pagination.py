"""Keyset pagination: opaque cursors and the slices repositories return.

A cursor is the sort key of the last row seen, so pages stay stable while rows are added
(unlike offsets). It is opaque to clients: base64 of a small JSON array.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import ColumnElement, and_, or_

from domain.errors import InvalidInputError

T = TypeVar("T")

MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class SortKey:
    """One column of an ordering and how to turn its cursor value back into a Python value."""

    column: Any
    descending: bool
    kind: type  # datetime, uuid.UUID, str, int


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else str(v) for v in values]
    return base64.urlsafe_b64encode(orjson.dumps(plain)).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[SortKey], *, field: str = "after") -> list[Any]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError("wrong arity")
        return [_parse(value, key.kind) for value, key in zip(raw, keys, strict=True)]
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise InvalidInputError(field, "is not a valid cursor") from exc


def _parse(value: Any, kind: type) -> Any:
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if kind is int:
        return int(value)
    return str(value)


def after_condition(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the ordering ``keys`` (lexicographic keyset)."""
    clauses = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == values[j] for j in range(i)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


def order_by(keys: Sequence[SortKey]) -> list[Any]:
    return [k.column.desc() if k.descending else k.column.asc() for k in keys]


def cursor_of(row: Any, keys: Sequence[SortKey]) -> str:
    return encode_cursor([getattr(row, k.column.key) for k in keys])


def clamp_first(first: int | None, *, default: int = 20, field: str = "first") -> int:
    if first is None:
        return default
    if first < 0 or first > MAX_PAGE_SIZE:
        raise InvalidInputError(field, f"must be between 0 and {MAX_PAGE_SIZE}")
    return first


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """One page of a list: the rows, each row's cursor, and whether more follow."""

    items: list[T]
    cursors: list[str]
    has_next: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None


def make_slice(rows: Sequence[T], first: int, keys: Sequence[SortKey]) -> Slice[T]:
    """Build a slice from up to ``first + 1`` rows (the extra one only says more follow)."""
    items = list(rows[:first])
    return Slice(
        items=items, cursors=[cursor_of(r, keys) for r in items], has_next=len(rows) > first
    )
