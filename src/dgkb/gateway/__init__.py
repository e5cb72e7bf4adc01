"""The one way to the sources (gateway.py): every source call found, bounded, and logged in the
right name. Nothing above this layer imports a concrete adapter (import-linter contract)."""

from dgkb.gateway.gateway import (
    Caller,
    ProbeReport,
    Processing,
    Reading,
    SourceGateway,
    SourceMissing,
    SourceRefused,
    SourceUnauthorized,
    SourceUnavailable,
    WriteNotPermitted,
    business_subject,
)

__all__ = [
    "Caller",
    "ProbeReport",
    "Processing",
    "Reading",
    "SourceGateway",
    "SourceMissing",
    "SourceRefused",
    "SourceUnauthorized",
    "SourceUnavailable",
    "WriteNotPermitted",
    "business_subject",
]
