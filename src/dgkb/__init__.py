"""DGKB: Doelmatig Geïntegreerd Klantbeeld — a purpose-bound integrated customer view."""

__version__ = "0.1.0"
