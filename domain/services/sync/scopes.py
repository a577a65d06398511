"""What a sync covers: a Page scope, or one conversation's."""

from __future__ import annotations

import enum


class SyncScope(enum.StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"
    DETAILS = "details"
    CONTACTS = "contacts"
    MESSAGES = "messages"  # one conversation
    STATUS = "status"  # one conversation


PAGE_SCOPES = {SyncScope.FULL, SyncScope.INCREMENTAL, SyncScope.DETAILS, SyncScope.CONTACTS}
CONVERSATION_SCOPES = {SyncScope.MESSAGES, SyncScope.STATUS}
