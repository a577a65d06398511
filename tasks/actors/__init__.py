"""Dramatiq actors: thin wrappers that take ids, re-load, and call domain services."""

from __future__ import annotations

from tasks.actors import connections, insights, publishing, sync, webhooks, whatsapp

__all__ = ["connections", "insights", "publishing", "sync", "webhooks", "whatsapp"]
