"""Mijn berichten: notices from the organisations to the customer (dgkb.messages.service)."""
