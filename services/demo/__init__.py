"""Deterministic demo data: people, households, visits and the demo accounts."""
