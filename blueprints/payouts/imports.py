"""imports (being built)."""
