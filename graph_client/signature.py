"""Signatures Meta puts on its calls and asks for on ours.

- ``X-Hub-Signature-256`` (and the legacy SHA-1 ``X-Hub-Signature``) on webhook POSTs:
  an HMAC of the exact raw bytes with the app secret.
- ``appsecret_proof`` on Graph calls: an HMAC-SHA256 of the access token with the app secret.
"""

from __future__ import annotations

import hashlib
import hmac


def appsecret_proof(access_token: str, app_secret: str) -> str:
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


def sign_payload_sha256(body: bytes, app_secret: str) -> str:
    """The value of ``X-Hub-Signature-256`` for ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def sign_payload_sha1(body: bytes, app_secret: str) -> str:
    """The value of the legacy ``X-Hub-Signature`` header: ``sha1=<hex>``."""
    return "sha1=" + hmac.new(app_secret.encode(), body, hashlib.sha1).hexdigest()


def verify_payload_signature(body: bytes, header_value: str | None, app_secret: str) -> bool:
    """Constant-time check of an ``X-Hub-Signature-256`` header against the raw body."""
    if not header_value or not header_value.startswith("sha256="):
        return False
    expected = sign_payload_sha256(body, app_secret)
    return hmac.compare_digest(expected.encode(), header_value.strip().encode())
