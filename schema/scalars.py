"""Custom scalars and global (Relay) ids."""

from __future__ import annotations

import base64
import binascii
import uuid

import strawberry
from strawberry.scalars import JSON

__all__ = ["JSON", "decode_global_id", "encode_global_id"]


def encode_global_id(type_name: str, row_id: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{row_id}".encode()).decode())


def decode_global_id(global_id: str) -> tuple[str, uuid.UUID] | None:
    """``(type name, row id)``, or None for anything that is not one of our ids."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, row = raw.partition(":")
        return type_name, uuid.UUID(row)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
