"""All sandbox state, in memory: objects by id, tokens, OAuth codes, timers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graph_client.sandbox.ids import IdFactory, decode_mid
from graph_client.sandbox.models import (
    App,
    Conversation,
    Message,
    OAuthCode,
    Page,
    Person,
    Token,
    User,
)

Materializer = Callable[[Conversation], list[Message]]


class Store:
    def __init__(self, app_id: str, app_name: str, seed: int = 0) -> None:
        self.ids = IdFactory(seed)
        self.app = App(app_id, app_name)
        self.objects: dict[str, Any] = {app_id: self.app}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        # (user token, page id) -> page token, so repeated /me/accounts calls agree
        self.page_tokens: dict[tuple[str, str], str] = {}
        self.codes: dict[str, OAuthCode] = {}
        self.demo_user_id: str | None = None
        self.demo_token: str | None = None
        self.materializer: Materializer | None = None
        self.seed_summary: dict[str, Any] = {}
        # object id -> when its timer fires (template review, scheduled post); see Core.tick.
        self.timers: dict[str, float] = {}
        # Send API sender actions and WhatsApp read receipts as Meta received them.
        self.sender_actions: list[dict[str, Any]] = []

    # --- objects ---------------------------------------------------------------------------

    def add(self, obj_id: str, obj: Any) -> None:
        self.objects[obj_id] = obj

    def get(self, obj_id: str) -> Any:
        obj = self.objects.get(obj_id)
        if obj is None:
            return self.find_message(obj_id)
        return obj

    def pages(self) -> list[Page]:
        return [obj for obj in self.objects.values() if isinstance(obj, Page)]

    def page(self, page_id: str) -> Page | None:
        obj = self.objects.get(page_id)
        return obj if isinstance(obj, Page) else None

    def person(self, person_id: str) -> Person | None:
        obj = self.objects.get(person_id)
        return obj if isinstance(obj, Person) else None

    # --- messages ----------------------------------------------------------------------------

    def messages_of(self, conv: Conversation) -> list[Message]:
        if conv.messages is None:
            conv.messages = self.materializer(conv) if self.materializer else []
        return conv.messages

    def find_message(self, mid: str) -> Message | None:
        decoded = decode_mid(mid)
        if decoded is None:
            return None
        conv = self.objects.get(decoded[0])
        if not isinstance(conv, Conversation):
            return None
        messages = self.messages_of(conv)
        seq = decoded[1]
        if 0 <= seq < len(messages) and messages[seq].id == mid:
            return messages[seq]
        return None

    def conversation_with(self, page_id: str, person_id: str) -> Conversation | None:
        page = self.page(page_id)
        if page is None:
            return None
        for conv in page.conversations:
            if conv.person_id == person_id:
                return conv
        return None
