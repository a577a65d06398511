"""Comments on Page posts, as Meta's Page ``feed`` webhook reports them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, IdMixin, SoftDeleteMixin, TimestampMixin, org_fk


class PostComment(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    """A comment on a Page post, or a reply to one.

    Linked to its post by Meta's post id, not by a foreign key: a comment can arrive before
    metasync knows its post (the insights job or a feed ``add`` brings it later), and the
    link then holds without any backfill.

    Meta does not order deliveries, so each part of the row remembers the time of the change
    that set it (``last_event_at`` for the text, ``hidden_changed_at`` for visibility) and an
    older change arriving late leaves it alone. A removed comment stays as a tombstone
    (``deleted_at`` set, text gone) so a late ``add`` or ``edited`` cannot bring it back.
    """

    __tablename__ = "post_comments"
    __table_args__ = (
        UniqueConstraint("organization_id", "meta_comment_id"),
        Index("ix_post_comments_post_created", "organization_id", "meta_post_id", "created_time"),
    )

    organization_id: Mapped[uuid.UUID] = org_fk()
    page_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("pages.id", ondelete="CASCADE"), index=True
    )
    # "{page_id}_{post_id}", as Meta names the post in the change.
    meta_post_id: Mapped[str] = mapped_column(String(128))
    # "{post_id}_{comment_id}"
    meta_comment_id: Mapped[str] = mapped_column(String(128))
    # The comment this one replies to; None for a comment on the post itself.
    parent_meta_comment_id: Mapped[str | None] = mapped_column(String(128))
    author_meta_id: Mapped[str | None] = mapped_column(String(64))
    author_name: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(Text)
    # When the person wrote it (Meta's ``created_time``); ``created_at`` is when we stored it.
    created_time: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_changed_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
