"""Offline field work: the assistant's offline pack, and importing an outbox file exported from a phone."""
