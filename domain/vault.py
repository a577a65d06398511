"""Token vault: Meta tokens encrypted at rest, each ciphertext bound to its row.

AES-256-GCM with the row's id (and column) as associated data, so a ciphertext copied into
another row or column does not decrypt. Ciphertexts name the key that made them
(``v1.<key id>.<nonce+ciphertext>``), so keys can rotate: ``TOKEN_ENCRYPTION_KEYS`` lists
keys newest first, decryption tries the named key, and ``rotate-keys`` re-encrypts every
stored token under the newest one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"


class VaultError(Exception):
    """A token could not be decrypted (unknown key, tampered, or moved to another row)."""


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:12]


def _decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("TOKEN_ENCRYPTION_KEYS: a key is not urlsafe base64") from exc
    if len(key) != 32:
        raise ValueError("TOKEN_ENCRYPTION_KEYS: each key must decode to 32 bytes")
    return key


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


class TokenVault:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("TOKEN_ENCRYPTION_KEYS: at least one key is required")
        decoded = [_decode_key(k) for k in keys]
        self._newest_id = _key_id(decoded[0])
        self._keys = {_key_id(k): AESGCM(k) for k in decoded}

    @staticmethod
    def _aad(row_id: uuid.UUID, purpose: str) -> bytes:
        return f"{purpose}:{row_id}".encode()

    def encrypt(self, plaintext: str, *, row_id: uuid.UUID, purpose: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self._newest_id].encrypt(
            nonce, plaintext.encode(), self._aad(row_id, purpose)
        )
        blob = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{_VERSION}.{self._newest_id}.{blob}"

    def decrypt(self, ciphertext: str, *, row_id: uuid.UUID, purpose: str) -> str:
        try:
            version, key_id, blob = ciphertext.split(".", 2)
        except ValueError as exc:
            raise VaultError("not a vault ciphertext") from exc
        aead = self._keys.get(key_id)
        if version != _VERSION or aead is None:
            raise VaultError("encrypted under a key that is not configured")
        raw = base64.urlsafe_b64decode(blob.encode())
        try:
            return aead.decrypt(raw[:12], raw[12:], self._aad(row_id, purpose)).decode()
        except InvalidTag as exc:
            raise VaultError("token does not decrypt for this row") from exc

    def is_current(self, ciphertext: str) -> bool:
        """True when the ciphertext is already under the newest key."""
        parts = ciphertext.split(".", 2)
        return len(parts) == 3 and parts[1] == self._newest_id

    def reencrypt(self, ciphertext: str, *, row_id: uuid.UUID, purpose: str) -> str:
        return self.encrypt(
            self.decrypt(ciphertext, row_id=row_id, purpose=purpose),
            row_id=row_id,
            purpose=purpose,
        )
