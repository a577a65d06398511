"""GraphQL input types."""

from __future__ import annotations

from typing import Any

import strawberry

from domain.repositories.messaging import ConversationFilter
from schema.enums import Platform
from schema.scalars import JSON


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


def _given(values: dict[str, Any]) -> dict[str, Any]:
    """The fields a client set (null included: it clears a field), by their domain names."""
    return {key: value for key, value in values.items() if value is not strawberry.UNSET}


@strawberry.input(description="Page details to change on Facebook; omitted ones are kept.")
class UpdatePageOnFacebookInput:
    about: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET

    def to_fields(self) -> dict[str, Any]:
        return _given({"about": self.about, "phone": self.phone, "website": self.website})


@strawberry.input(description="Contact fields to change in metasync; omitted ones are kept.")
class UpdateContactInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    custom_fields: JSON | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET

    def to_fields(self) -> dict[str, Any]:
        return _given(
            {
                "name": self.name,
                "email": self.email,
                "phone": self.phone,
                "custom_fields": self.custom_fields,
                "tags": self.tags,
                "notes": self.notes,
            }
        )
