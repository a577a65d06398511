"""Graph API areas; importing this package registers every node type and handler."""

from graph_client.sandbox.routes import (
    insights,
    instagram,
    messenger,
    oauth,
    pages,
    posts,
    wa_analytics,
    wa_templates,
    whatsapp,
)

__all__ = [
    "insights",
    "instagram",
    "messenger",
    "oauth",
    "pages",
    "posts",
    "wa_analytics",
    "wa_templates",
    "whatsapp",
]
