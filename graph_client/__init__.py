"""Meta Graph API client (see issue 3)."""
