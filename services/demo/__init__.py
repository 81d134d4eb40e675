"""Deterministic demo data: people, households, visits, the demo accounts, and the demo at work (scene.py)."""
