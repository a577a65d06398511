"""What a failed publish tells the business: Meta's codes mapped to plain sentences, and
whether trying again can help (facts §2, "IG publishing errors")."""

from __future__ import annotations

from dataclasses import dataclass

from domain.meta import MetaError, MetaRateLimited, MetaTokenInvalid


@dataclass(frozen=True)
class PublishFailure:
    code: str  # stored as Post.last_error_code: "meta:<code>/<subcode>" or our own name
    message: str
    retryable: bool


# (code, subcode) -> message; subcode None matches any subcode of that code.
_FATAL: dict[tuple[int, int | None], str] = {
    (36000, 2207004): "The image is larger than Instagram's 8 MB limit.",
    (100, 2207028): "A carousel needs between 2 and 10 items.",
    (4, 2207051): "Instagram blocked this post as suspected spam.",
    (25, 2207050): "The Instagram account is restricted or inactive.",
    (24, 2207008): "The prepared Instagram media expired before it was published.",
    (9, 2207042): "Instagram's publishing limit for the last 24 hours is reached.",
    (506, None): "Facebook rejected this as a duplicate of a recent post.",
    (1609005, None): "Facebook could not attach the link.",
    (368, None): "Meta temporarily blocked posting on this account for policy reasons.",
    (10, None): "Publishing permission was not granted or was removed; reconnect the account.",
    (200, None): "Publishing permission was not granted or was removed; reconnect the account.",
    (100, None): "Meta rejected the post's content: {detail}",
}
_MEDIA_FORMAT = {2207005, 2207009, 2207010, 2207026, 2207023}
# Transient IG subcodes (server error, download timeout, create failed, container expired).
_RETRY_SUBCODES = {2207001, 2207003, 2207032, 2207020}


def explain(error: MetaError) -> PublishFailure:
    code, sub = error.meta_code, error.meta_subcode
    name = f"meta:{code}" + (f"/{sub}" if sub else "")
    if isinstance(error, MetaTokenInvalid):
        return PublishFailure(name, "The account's Meta login expired; reconnect it.", False)
    if isinstance(error, MetaRateLimited):
        return PublishFailure(name, "Meta is rate limiting this account; retrying later.", True)
    if sub in _MEDIA_FORMAT:
        return PublishFailure(name, "Instagram could not use this media's format.", False)
    if sub in _RETRY_SUBCODES or error.transient:
        return PublishFailure(name, f"Meta failed temporarily: {error.message}", True)
    if code is not None:
        for key in ((code, sub), (code, None)):
            if key in _FATAL:
                return PublishFailure(name, _FATAL[key].format(detail=error.message), False)
        if 200 <= code <= 299:
            return PublishFailure(name, _FATAL[(200, None)], False)
    return PublishFailure(name, f"Meta refused the post: {error.message}", False)
