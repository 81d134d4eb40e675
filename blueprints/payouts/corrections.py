"""corrections (being built)."""
