"""Domain errors with stable dotted codes; the API layer turns them into problem+json."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises; `code` is stable, `message` is for humans."""

    code = "domain.error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidIdentifier(DomainError):
    code = "identifier.invalid"


class InvalidConfiguration(DomainError):
    """A configuration file (register, catalogue, sources) is wrong; `field` is `file:path`."""

    code = "config.invalid"
