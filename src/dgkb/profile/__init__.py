"""Mijn profiel: the customer changes their own e-mail addresses, phone numbers, preferred channel
and language in Klantinteracties (dgkb.profile.service)."""
