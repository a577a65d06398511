"""Meta's webhooks: the inbox (store before acknowledging) and applying events exactly once."""
