"""Domain logic: plain Python, no Flask request objects."""
