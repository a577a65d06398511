"""What an account may publish, derived from what its Meta login was actually granted."""

from __future__ import annotations

from dataclasses import dataclass

from domain.models import InstagramAccount, MetaConnection, Page
from domain.repositories.accounts import AccountStatus, SocialAccount

PAGE_PUBLISH_SCOPE = "pages_manage_posts"
INSTAGRAM_PUBLISH_SCOPE = "instagram_content_publish"


@dataclass(frozen=True)
class PublishCapabilities:
    feed: bool = False
    stories: bool = False
    reels: bool = False


def grants(connection: MetaConnection | None, scope: str, asset_id: str) -> bool:
    """Whether the login holds ``scope`` for this asset. A granular grant naming target ids
    covers only those assets (a person may allow posting to one Page of several)."""
    if connection is None or scope not in (connection.scopes or []):
        return False
    for grant in connection.granular_scopes or []:
        if grant.get("scope") == scope and grant.get("target_ids"):
            return asset_id in grant["target_ids"]
    return True


def publish_capabilities(account: SocialAccount) -> PublishCapabilities:
    """Nothing is publishable through a login that no longer works, nor on WhatsApp (not a
    feed). metasync publishes feed posts to Pages only; Instagram containers cover feed,
    stories and reels under the one content-publish permission."""
    if account.status != AccountStatus.ACTIVE:
        return PublishCapabilities()
    row, conn = account.row, account.connection
    if isinstance(row, Page):
        return PublishCapabilities(feed=grants(conn, PAGE_PUBLISH_SCOPE, row.meta_page_id))
    if isinstance(row, InstagramAccount):
        allowed = grants(conn, INSTAGRAM_PUBLISH_SCOPE, row.meta_ig_id)
        return PublishCapabilities(feed=allowed, stories=allowed, reels=allowed)
    return PublishCapabilities()
