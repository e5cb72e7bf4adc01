"""Persistence of what DGKB owns itself: contact sessions, consents, the audit logs."""
