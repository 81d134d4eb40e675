"""overview (being built)."""
