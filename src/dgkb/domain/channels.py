"""Contact channels (kanalen) a contact can come in by."""

from __future__ import annotations

from enum import StrEnum


class Kanaal(StrEnum):
    TELEFOON = "telefoon"
    BALIE = "balie"
    EMAIL = "e-mail"
    CHAT = "chat"
    BRIEF = "brief"
    WEBFORMULIER = "webformulier"
    SOCIAL_MEDIA = "social-media"
    BACKOFFICE = "backoffice"  # a case worker handling a zaak, not a customer contact
    # the customer's own logged-in view (/mijn); only for the role burger (ContactService.start)
    MIJN_OMGEVING = "mijn-omgeving"
