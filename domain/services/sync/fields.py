"""Selective field sync: which parts of a sync to read from Meta and write to the database.

A selection names fields as ``part.field`` (``page.fan_count``, ``contacts.picture``,
``conversations.unread_count``), a whole part by its name (``page``, ``contacts``,
``conversations``), or ``messages`` (on or off). No selection means everything, exactly as
a sync always did. The Graph request of a selective sync asks only for the selected fields
(its nested ``fields=`` expansion shrinks, and the profile API is skipped when no contact
field is selected), and only the selected columns of existing rows are written.

Identity is not selectable: ids, the participants' ids linking a conversation to its
contact, and an incremental sync's ``updated_time`` (how it knows where to stop) are read
whenever their part is synced, because without them nothing can be matched or stopped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.errors import InvalidInputError
from domain.services.sync.scopes import SyncScope

# Selectable names -> the column each writes (MetaPageInfo / Contact / Conversation).
PAGE_FIELDS = {
    "name": "name",
    "category": "category",
    "about": "about",
    "phone": "phone",
    "website": "website",
    "picture": "picture_url",
    "fan_count": "fan_count",
    "followers_count": "followers_count",
}
CONTACT_FIELDS = {"name": "name", "picture": "picture_url"}
CONVERSATION_FIELDS = {
    "unread_count": "unread_count",
    "updated_time": "updated_time",
    "snippet": "snippet",
    "message_count": "message_count",
    "folder": "folder",
}
PARTS: dict[str, dict[str, str]] = {
    "page": PAGE_FIELDS,
    "contacts": CONTACT_FIELDS,
    "conversations": CONVERSATION_FIELDS,
}
MESSAGES = "messages"

# What each scope reads (a contacts sync lists conversations, so it stores them too).
SCOPE_PARTS: dict[SyncScope, frozenset[str]] = {
    SyncScope.FULL: frozenset({"page", "contacts", "conversations", MESSAGES}),
    SyncScope.INCREMENTAL: frozenset({"contacts", "conversations", MESSAGES}),
    SyncScope.DETAILS: frozenset({"page"}),
    SyncScope.CONTACTS: frozenset({"contacts", "conversations"}),
    SyncScope.MESSAGES: frozenset({"contacts", "conversations", MESSAGES}),
    SyncScope.STATUS: frozenset({"contacts", "conversations"}),
}
MAX_FIELDS = 50


def known_fields() -> list[str]:
    """Every name a selection may use, in documentation order."""
    names: list[str] = []
    for part, fields in PARTS.items():
        names.append(part)
        names.extend(f"{part}.{field}" for field in fields)
    names.append(MESSAGES)
    return names


@dataclass(frozen=True)
class SyncSelection:
    """What a sync reads and writes: the chosen fields of each part, and messages or not."""

    page: frozenset[str]
    contacts: frozenset[str]
    conversations: frozenset[str]
    messages: bool

    @classmethod
    def everything(cls) -> SyncSelection:
        return cls(
            page=frozenset(PAGE_FIELDS),
            contacts=frozenset(CONTACT_FIELDS),
            conversations=frozenset(CONVERSATION_FIELDS),
            messages=True,
        )

    @property
    def is_everything(self) -> bool:
        return self == SyncSelection.everything()

    def part(self, name: str) -> frozenset[str]:
        found: frozenset[str] = getattr(self, name)
        return found

    def parts(self) -> set[str]:
        """The parts this selection reads something of."""
        chosen = {name for name in PARTS if self.part(name)}
        return chosen | ({MESSAGES} if self.messages else set())

    def columns(self, part: str) -> set[str]:
        """The columns of ``part`` a sync with this selection writes."""
        return {PARTS[part][field] for field in self.part(part)}

    def for_scope(self, scope: SyncScope) -> SyncSelection:
        """Only what ``scope`` reads."""
        reads = SCOPE_PARTS[scope]
        return SyncSelection(
            page=self.page if "page" in reads else frozenset(),
            contacts=self.contacts if "contacts" in reads else frozenset(),
            conversations=self.conversations if "conversations" in reads else frozenset(),
            messages=self.messages and MESSAGES in reads,
        )

    def names(self) -> list[str]:
        """Canonical names (a whole part by its own name), as stored on a run."""
        names: list[str] = []
        for part, fields in PARTS.items():
            chosen = self.part(part)
            if chosen == frozenset(fields):
                names.append(part)
            else:
                names.extend(f"{part}.{field}" for field in fields if field in chosen)
        if self.messages:
            names.append(MESSAGES)
        return names


def parse_selection(names: Iterable[object], *, field: str = "fields") -> SyncSelection:
    """A selection from client-given names; an unknown or malformed one is a 400 naming it."""
    chosen: dict[str, set[str]] = {part: set() for part in PARTS}
    messages = False
    count = 0
    for index, raw in enumerate(names):
        count += 1
        if count > MAX_FIELDS:
            raise InvalidInputError(field, f"at most {MAX_FIELDS} names")
        if not isinstance(raw, str):
            raise InvalidInputError(f"{field}[{index}]", "must be a field name (a string)")
        name = raw.strip()
        if name == MESSAGES:
            messages = True
            continue
        part, dot, rest = name.partition(".")
        if part in PARTS and not dot:
            chosen[part].update(PARTS[part])
            continue
        if part in PARTS and rest in PARTS[part]:
            chosen[part].add(rest)
            continue
        raise InvalidInputError(
            field, f'unknown field "{name}" (known: {", ".join(known_fields())})'
        )
    if count == 0:
        raise InvalidInputError(field, "must name at least one field (omit it to sync all)")
    return SyncSelection(
        page=frozenset(chosen["page"]),
        contacts=frozenset(chosen["contacts"]),
        conversations=frozenset(chosen["conversations"]),
        messages=messages,
    )


def split_names(value: object, *, field: str = "fields") -> list[object] | None:
    """A REST ``fields`` value: a JSON array, or a comma-separated string; None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    if isinstance(value, list):
        return list(value)
    raise InvalidInputError(field, "must be an array of field names or a comma-separated string")


def selection_for(
    scope: SyncScope, names: Sequence[object] | None, *, field: str = "fields"
) -> SyncSelection | None:
    """The selection a person asked for with ``scope``: None (everything) when no names are
    given; a 400 for names the scope does not read, or when nothing it reads is selected."""
    if names is None:
        return None
    selection = parse_selection(names, field=field)
    reads = SCOPE_PARTS[scope]
    outside = sorted(selection.parts() - reads)
    if outside:
        raise InvalidInputError(field, f"{', '.join(outside)} not read by a {scope.value} sync")
    if not selection.parts():
        raise InvalidInputError(field, f"selects nothing a {scope.value} sync reads")
    return selection


def stored_selection(names: Sequence[str] | None) -> SyncSelection:
    """The selection recorded on a run (None: everything)."""
    return SyncSelection.everything() if names is None else parse_selection(names)
