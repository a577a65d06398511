"""Who may do what within an organization (memberships: owner, admin, member).

Members do the inbox work: they read, sync from Meta, archive, mute, mark read and edit
contacts. What changes the organization's presence on Meta — a Page's public details on
Facebook — which Pages the organization holds, or when they sync is for owners and admins.
"""

from __future__ import annotations

import enum

from domain.models import Role

MANAGERS = frozenset({Role.OWNER.value, Role.ADMIN.value})


class Action(enum.StrEnum):
    UPDATE_PAGE_ON_META = "update a Page on Facebook"
    CONNECT_PAGES = "connect Pages"
    OPERATE_WEBHOOKS = "see and replay webhook deliveries"
    MANAGE_TEMPLATES = "create, edit or delete WhatsApp message templates"
    MANAGE_SYNC_SCHEDULES = "change a Page's sync schedule"
    CONFIGURE_WEBHOOKS = "change which webhook fields Meta sends and subscribe Pages to them"


# Actions not listed here are open to every member.
ALLOWED: dict[Action, frozenset[str]] = {
    Action.UPDATE_PAGE_ON_META: MANAGERS,
    Action.CONNECT_PAGES: MANAGERS,
    Action.OPERATE_WEBHOOKS: MANAGERS,
    Action.MANAGE_TEMPLATES: MANAGERS,
    # A schedule spends the organization's Graph API budget on every run it makes.
    Action.MANAGE_SYNC_SCHEDULES: MANAGERS,
    # Unsubscribing a field stops Meta sending those events for every Page of the organization.
    Action.CONFIGURE_WEBHOOKS: MANAGERS,
}


def may(role: str, action: Action) -> bool:
    return role in ALLOWED[action]
