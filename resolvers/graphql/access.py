"""Roles, as the REST shims enforce them (domain.services.permissions)."""

from __future__ import annotations

from domain.services.permissions import Action, may
from schema.types import GraphInfo


def require(info: GraphInfo, action: Action) -> None:
    """Refusal is a top-level error, like a missing login: it is about the caller, not the
    input, so it is not one of the mutation's result types."""
    role = info.context.viewer.role
    if not may(role, action):
        raise PermissionError(f"Your role ({role}) may not {action}: ask an owner or an admin")
