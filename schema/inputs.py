"""GraphQL input types."""

from __future__ import annotations

import strawberry

from domain.repositories.messaging import ConversationFilter
from schema.enums import Platform


@strawberry.input
class ConversationFilterInput:
    platform: Platform | None = None
    archived: bool | None = None
    unread_only: bool = False
    folder: str | None = None

    def to_domain(self) -> ConversationFilter:
        return ConversationFilter(
            platform=self.platform.value if self.platform else None,
            archived=self.archived,
            unread_only=self.unread_only,
            folder=self.folder,
        )
