"""Visits at the door: recording them, photos, needs raised, and who is due a visit."""
