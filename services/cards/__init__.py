"""Household service cards: tokens, scans, delivery, reissue, printing and the card image."""
