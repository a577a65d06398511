"""Identifiers that look like Meta's: numeric object ids, ``m_``/``aWdG``/``wamid.`` message ids,
``EAA…`` tokens, opaque base64 cursors.

Everything is derived from a seed so the same seed gives the same ids. Message ids embed their
conversation and position (base64, as opaque as Meta's), which lets the sandbox find a message
without materialising every conversation's messages.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()


def _base62(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 62)
        out.append(_B62[rem])
    return "".join(reversed(out)) or "0"


class IdFactory:
    """Deterministic ids for one dataset; runtime-created objects count on from the seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._counter = itertools.count(1)

    def numeric(self, kind: str, *parts: object, digits: int = 15) -> str:
        value = int.from_bytes(_digest(self.seed, kind, *parts)[:12], "big")
        low = 10 ** (digits - 1)
        return str(low + value % (9 * low))

    def fresh_numeric(self, kind: str, digits: int = 15) -> str:
        return self.numeric(kind, "runtime", next(self._counter), digits=digits)

    def token(self, *parts: object) -> str:
        return "EAA" + _base62(_digest(self.seed, "token", *parts) + _digest(*parts, self.seed))

    def fresh_token(self) -> str:
        return "EAA" + _base62(secrets.token_bytes(64))

    def hex_id(self, *parts: object) -> str:
        return _digest(self.seed, "hex", *parts).hex()[:32]


# --- message ids: decodable to (conversation id, position) -------------------------------------


def messenger_mid(conversation_id: str, seq: int) -> str:
    raw = f"{conversation_id}:{seq}:{_digest(conversation_id, seq).hex()[:16]}".encode()
    return "m_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def instagram_mid(conversation_id: str, seq: int) -> str:
    raw = f"igF:{conversation_id}:{seq}:{_digest(conversation_id, seq).hex()[:12]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_mid(mid: str) -> tuple[str, int] | None:
    """The (conversation id, seq) a sandbox message id encodes, or None."""
    try:
        if mid.startswith("m_"):
            text = _b64decode(mid[2:])
            conversation_id, seq, _ = text.rsplit(":", 2)
        else:
            text = _b64decode(mid)
            prefix, conversation_id, seq, _ = text.split(":", 3)
            if prefix != "igF":
                return None
        return conversation_id, int(seq)
    except (ValueError, UnicodeDecodeError):
        return None


def whatsapp_mid(*parts: object) -> str:
    raw = b"\x1c\x18\x0b" + _digest("wamid", *parts)[:24]
    return "wamid." + base64.b64encode(raw).decode()


def _b64decode(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


# --- cursors -----------------------------------------------------------------------------------

_CURSOR_PREFIX = b"AQHS"


def encode_cursor(offset: int) -> str:
    sig = _digest("cursor", offset).hex()[:20]
    raw = _CURSOR_PREFIX + f"{offset}:{sig}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError:
        return None
    if not raw.startswith(_CURSOR_PREFIX):
        return None
    try:
        offset_text, sig = raw[len(_CURSOR_PREFIX) :].decode().split(":", 1)
        offset = int(offset_text)
    except (ValueError, UnicodeDecodeError):
        return None
    return offset if sig == _digest("cursor", offset).hex()[:20] else None
