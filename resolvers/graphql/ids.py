"""Global ids given as arguments, turned into row ids."""

from __future__ import annotations

import uuid

from domain.errors import InvalidInputError
from schema.scalars import decode_global_id


def id_of(global_id: str, *type_names: str, field: str = "id") -> uuid.UUID:
    """The row id of a global id of one of ``type_names``; any other id is bad input naming
    ``field`` (one of another organization is the service's NotFound, like a missing one)."""
    decoded = decode_global_id(global_id)
    if decoded is None or decoded[0] not in type_names:
        raise InvalidInputError(field, f"must be the id of a {' or '.join(type_names)}")
    return decoded[1]
