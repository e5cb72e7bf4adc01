"""Consent (toestemming) of data subjects, read at decision time."""
