"""REST shims: one module per family of DESIGN.md §7."""

from __future__ import annotations

from resolvers.rest import (
    auto_connect,
    facebook_sync,
    meta_business,
    meta_module,
    meta_posts,
    meta_webhook,
    social,
    social_analytics,
    social_posts,
    sync_schedules,
    whatsapp,
)
from resolvers.rest.routing import Endpoint


def all_endpoints() -> list[Endpoint]:
    return [
        *auto_connect.ENDPOINTS,
        *facebook_sync.ENDPOINTS,
        *sync_schedules.ENDPOINTS,
        *social.ENDPOINTS,
        *social_posts.ENDPOINTS,
        *social_analytics.ENDPOINTS,
        *meta_posts.ENDPOINTS,
        *meta_business.ENDPOINTS,
        *whatsapp.ENDPOINTS,
        *meta_module.ENDPOINTS,
        *meta_webhook.ENDPOINTS,
    ]
