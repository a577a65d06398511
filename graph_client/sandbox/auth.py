"""Access tokens as Meta hands them out and checks them.

- short-lived user tokens (dialog + code exchange) last about an hour;
- ``fb_exchange_token`` turns one into a long-lived token (60 days);
- Page tokens from a long-lived user token never expire (``expires_at: 0``), from a short-lived
  one they die with it; revoking a user token kills its Page tokens (as a password change does);
- the app token is ``{app-id}|{app-secret}``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from graph_client.sandbox.errors import MetaError
from graph_client.sandbox.models import Token
from graph_client.sandbox.store import Store
from graph_client.signature import appsecret_proof

SHORT_LIVED_SECONDS = 3600
LONG_LIVED_SECONDS = 60 * 86400
DATA_ACCESS_SECONDS = 90 * 86400
APPSECRET_TIME_WINDOW = 300

# reason -> (subcode, message); the message may use {user_id} and {app_id}.
REVOCATIONS: dict[str, tuple[int, str]] = {
    "logged_out": (467, "The session is invalid because the user logged out."),
    "password_changed": (
        460,
        "The session has been invalidated because the user changed their password or Facebook "
        "has changed the session for security reasons.",
    ),
    "app_removed": (458, "User {user_id} has not authorized application {app_id}."),
    "checkpoint": (
        459,
        "You cannot access the app till you log in to www.facebook.com and follow the "
        "instructions given.",
    ),
}

_PACIFIC = ZoneInfo("America/Los_Angeles")
PAGE_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_metadata",
    "pages_manage_posts",
    "pages_manage_engagement",
    "pages_messaging",
    "read_insights",
)
WHATSAPP_SCOPES = ("whatsapp_business_management", "whatsapp_business_messaging")


def _meta_date(ts: float) -> str:
    """How Meta writes dates in token errors: ``Monday, 19-Jun-23 06:29:46 PDT``."""
    return datetime.fromtimestamp(ts, UTC).astimezone(_PACIFIC).strftime("%A, %d-%b-%y %H:%M:%S %Z")


def invalid_token_error() -> MetaError:
    return MetaError("Invalid OAuth access token - Cannot parse access token", 190)


def token_problem(store: Store, token: Token, now: float) -> tuple[int | None, str] | None:
    """Why ``token`` no longer works (subcode, message), or None while it is valid."""
    if token.revoked_subcode is not None:
        return token.revoked_subcode, token.revoked_message or "The session is invalid."
    if token.parent is not None:
        parent = store.tokens.get(token.parent)
        if parent is not None and parent.revoked_subcode is not None:
            return token_problem(store, parent, now)
    if token.expires_at and now >= token.expires_at:
        return 463, (
            f"Session has expired on {_meta_date(token.expires_at)}. "
            f"The current time is {_meta_date(now)}."
        )
    return None


def check_token(store: Store, token: Token, now: float) -> None:
    problem = token_problem(store, token, now)
    if problem is not None:
        subcode, message = problem
        raise MetaError(f"Error validating access token: {message}", 190, subcode=subcode)


def check_proof(
    token: str,
    secret: str,
    proof: str | None,
    proof_time: str | None,
    *,
    required: bool,
    now: float,
) -> None:
    if not proof:
        if required:
            raise MetaError(
                "API calls from the server require an appsecret_proof argument",
                100,
                error_type="GraphMethodException",
            )
        return
    if proof_time:
        try:
            issued = int(proof_time)
        except ValueError:
            issued = -1
        message = f"{token}|{proof_time}".encode()
        expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        fresh = abs(now - issued) <= APPSECRET_TIME_WINDOW
    else:
        expected = appsecret_proof(token, secret)
        fresh = True
    if not (fresh and hmac.compare_digest(expected, proof.strip().lower())):
        raise MetaError(
            "Invalid appsecret_proof provided in the API argument",
            100,
            error_type="GraphMethodException",
        )


def issue_user_token(
    store: Store,
    user_id: str,
    scopes: list[str],
    now: float,
    *,
    long_lived: bool,
    value: str | None = None,
    expires_at: float | None = None,
) -> Token:
    user = store.users[user_id]
    granular: dict[str, list[str] | None] = {}
    page_ids = list(user.page_tasks)
    for scope in scopes:
        if scope in PAGE_SCOPES:
            granular[scope] = page_ids
        elif scope in WHATSAPP_SCOPES:
            granular[scope] = list(user.waba_ids)
        elif scope == "business_management":
            granular[scope] = list(user.business_ids)
        elif scope.startswith("instagram_"):
            granular[scope] = None
    lifetime = LONG_LIVED_SECONDS if long_lived else SHORT_LIVED_SECONDS
    token = Token(
        value=value or store.ids.fresh_token(),
        kind="USER",
        issued_at=now,
        expires_at=expires_at if expires_at is not None else now + lifetime,
        user_id=user_id,
        scopes=list(scopes),
        granular=granular,
        data_access_expires_at=now + DATA_ACCESS_SECONDS,
        long_lived=long_lived,
    )
    store.tokens[token.value] = token
    return token


def page_token_for(store: Store, user_token: Token, page_id: str) -> Token:
    """The Page token a user token yields for ``page_id`` (stable per user token)."""
    key = (user_token.value, page_id)
    existing = store.page_tokens.get(key)
    if existing is not None:
        return store.tokens[existing]
    token = Token(
        value=store.ids.token("page", user_token.value, page_id),
        kind="PAGE",
        issued_at=user_token.issued_at,
        # A Page token from a long-lived user token never expires (facts §4).
        expires_at=0 if user_token.long_lived else user_token.expires_at,
        user_id=user_token.user_id,
        page_id=page_id,
        scopes=list(user_token.scopes),
        granular=dict(user_token.granular),
        data_access_expires_at=user_token.data_access_expires_at,
        long_lived=user_token.long_lived,
        parent=user_token.value,
    )
    store.tokens[token.value] = token
    store.page_tokens[key] = token.value
    return token


def revoke(store: Store, value: str, reason: str, app_id: str) -> Token:
    token = store.tokens.get(value)
    if token is None:
        raise KeyError(value)
    subcode, template = REVOCATIONS.get(reason, REVOCATIONS["logged_out"])
    token.revoked_subcode = subcode
    token.revoked_message = template.format(user_id=token.user_id or "", app_id=app_id)
    return token


# --- who may see what ---------------------------------------------------------------------------


def user_pages(store: Store, token: Token) -> list[str]:
    """Pages a user token can act on: the user's roles, narrowed by granular page scopes."""
    if token.kind != "USER" or token.user_id is None:
        return []
    user = store.users.get(token.user_id)
    if user is None:
        return []
    allowed = set(user.page_tasks)
    for scope in PAGE_SCOPES:
        if scope in token.granular:
            targets = token.granular[scope]
            if targets is not None:
                allowed &= set(targets)
            return [pid for pid in user.page_tasks if pid in allowed]
    return []


def can_see_page(store: Store, token: Token, page_id: str) -> bool:
    if token.kind == "PAGE":
        return token.page_id == page_id
    return page_id in user_pages(store, token)


def can_see_waba(store: Store, token: Token, waba_id: str) -> bool:
    if token.kind != "USER" or token.user_id is None:
        return False
    user = store.users.get(token.user_id)
    if user is None or waba_id not in user.waba_ids:
        return False
    for scope in WHATSAPP_SCOPES:
        if scope in token.granular:
            targets = token.granular[scope]
            if targets is None or waba_id in targets:
                return True
    return False
