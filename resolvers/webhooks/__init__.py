"""Meta's webhook receiver."""
