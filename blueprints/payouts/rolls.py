"""rolls (being built)."""
