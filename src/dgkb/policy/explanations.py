"""Dutch explanations of denials, written for the person at the screen: what is wrong, what to do.

A reason code is for machines and logs; the explanation tells a klantcontactmedewerker (or the
citizen in Mijn omgeving) what to do next: ask for DigiD, ask for consent, choose another purpose,
hand over to a colleague, or nothing (geheimhouding).
"""

from __future__ import annotations

from dataclasses import dataclass

from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Category
from dgkb.domain.channels import Kanaal
from dgkb.domain.identifiers import SubjectKind
from dgkb.domain.register import Register, Verwerkingsactiviteit
from dgkb.domain.roles import Role
from dgkb.policy.decision import DecisionRequest, ReasonCode

__all__ = ["ROLE_LABELS", "ExplanationContext", "explain"]

ROLE_LABELS: dict[Role, str] = {
    Role.KCM: "klantcontactmedewerker",
    Role.BEHANDELAAR: "behandelaar",
    Role.KLACHTBEHANDELAAR: "klachtbehandelaar",
    Role.PRIVACY: "privacyfunctionaris",
    Role.BEHEERDER: "functioneel beheerder",
    Role.TEAMLEIDER: "teamleider",
    Role.BURGER: "inwoner of ondernemer",
    Role.SYSTEEM: "systeem",
    Role.PEP: "policy enforcement point",
}

_SUBJECT_LABELS: dict[SubjectKind, str] = {
    SubjectKind.BSN: "een persoon",
    SubjectKind.KVK: "een onderneming",
    SubjectKind.VESTIGING: "een vestiging",
}

_CHANNEL_LABELS: dict[Kanaal, str] = {
    Kanaal.TELEFOON: "de telefoon",
    Kanaal.BALIE: "de balie",
    Kanaal.EMAIL: "e-mail",
    Kanaal.CHAT: "de chat",
    Kanaal.BRIEF: "een brief",
    Kanaal.WEBFORMULIER: "een webformulier",
    Kanaal.SOCIAL_MEDIA: "sociale media",
    Kanaal.MIJN_OMGEVING: "Mijn omgeving",
    Kanaal.BACKOFFICE: "de backoffice",
}

# The eHerkenning level that matches a DigiD level (same rank), for business subjects.
_EHERKENNING_BY_RANK: dict[int, Assurance] = {
    1: Assurance.EHERKENNING_EH1,
    2: Assurance.EHERKENNING_EH2,
    3: Assurance.EHERKENNING_EH2PLUS,
    4: Assurance.EHERKENNING_EH3,
    5: Assurance.EHERKENNING_EH4,
}
_DIGID_BY_RANK: dict[int, Assurance] = {
    2: Assurance.DIGID_BASIS,
    3: Assurance.DIGID_MIDDEN,
    4: Assurance.DIGID_SUBSTANTIEEL,
    5: Assurance.DIGID_HOOG,
}


@dataclass(frozen=True, slots=True)
class ExplanationContext:
    """Everything an explanation may mention; none of it is personal data."""

    request: DecisionRequest
    category_id: str
    register: Register
    purpose: Verwerkingsactiviteit | None = None
    category: Category | None = None


def _category_text(ctx: ExplanationContext) -> str:
    if ctx.category is None:
        return f"'{ctx.category_id}'"
    return f"{ctx.category.omschrijving[:1].lower()}{ctx.category.omschrijving[1:]} ({ctx.category_id})"


def _purpose_name(ctx: ExplanationContext) -> str:
    return ctx.purpose.naam if ctx.purpose is not None else ctx.request.purpose_id


def _login_advice(minimum: Assurance, subject_kind: SubjectKind) -> str:
    """What to ask of the customer to reach `minimum`: control questions, DigiD or eHerkenning."""
    if minimum.rank <= Assurance.CONTROLEVRAGEN.rank and minimum is not Assurance.EHERKENNING_EH1:
        return "stel eerst de controlevragen om de klant te identificeren"
    if subject_kind is SubjectKind.BSN:
        level = _DIGID_BY_RANK.get(minimum.rank, minimum)
        return f"vraag de klant in te loggen met DigiD (minimaal {level.label})"
    level = _EHERKENNING_BY_RANK.get(minimum.rank, minimum)
    return f"vraag de klant in te loggen met eHerkenning (minimaal {level.label})"


def _assurance_too_low(ctx: ExplanationContext) -> str:
    purpose = ctx.purpose
    minimum = purpose.minimum_assurance(ctx.category_id) if purpose is not None else Assurance.CONTROLEVRAGEN
    current = ctx.request.assurance
    if ctx.request.role is Role.BURGER:
        return (
            f"Om {_category_text(ctx)} te zien moet u inloggen met minimaal {minimum.label}; "
            f"u bent nu ingelogd met {current.label}."
        )
    return (
        f"Voor dit contact is {current.label} onvoldoende voor {_category_text(ctx)}; "
        f"{_login_advice(minimum, ctx.request.subject_kind)}."
    )


def _role_not_allowed(ctx: ExplanationContext) -> str:
    role = ROLE_LABELS[ctx.request.role]
    if ctx.purpose is None:
        return f"Uw rol ({role}) mag deze gegevens niet inzien."
    allowed = ctx.purpose.roles_for(ctx.category_id)
    allowed_text = ", ".join(ROLE_LABELS[r] for r in allowed)
    return (
        f"Uw rol ({role}) mag {_category_text(ctx)} niet inzien voor het doel '{ctx.purpose.naam}' "
        f"(alleen: {allowed_text}); draag de vraag zo nodig over aan een {ROLE_LABELS[allowed[0]]}."
    )


def _organisation_mismatch(ctx: ExplanationContext) -> str:
    owner = ctx.purpose.organisatie.naam if ctx.purpose is not None else "een andere organisatie"
    if ctx.request.organisation is None:
        return (
            f"De vraag noemt geen organisatie, en het doel '{_purpose_name(ctx)}' hoort bij {owner}; "
            "zonder organisatie wordt niets getoond."
        )
    own = ctx.register.organisation_name(ctx.request.organisation or "") or "uw organisatie"
    return (
        f"Het doel '{_purpose_name(ctx)}' hoort bij {owner}, niet bij {own}; "
        "kies een doel van uw eigen organisatie of verwijs de klant door."
    )


def _capitalised(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}"


def _channel_not_allowed(ctx: ExplanationContext) -> str:
    channel = ctx.request.channel
    access = ctx.purpose.categorieen.get(ctx.category_id) if ctx.purpose is not None else None
    if channel is None:
        return (
            f"Het kanaal van dit contact is onbekend, en {_category_text(ctx)} wordt alleen getoond "
            "via kanalen die het verwerkingsregister daarvoor toestaat; leg het kanaal vast."
        )
    label = _CHANNEL_LABELS[channel]
    if access is None or not access.channel_allowed(channel):
        allowed = ", ".join(_CHANNEL_LABELS[k] for k in access.kanalen or ()) if access else ""
        only = f" (alleen via {allowed})" if allowed else ""
        return (
            f"{_capitalised(_category_text(ctx))} wordt niet getoond via {label}{only}; "
            "help de klant via een ander kanaal of maak een afspraak."
        )
    minimum = access.channel_minimum(channel) or Assurance.GEEN
    if ctx.request.role is Role.BURGER:
        return f"Om {_category_text(ctx)} via {label} te zien moet u inloggen met minimaal {minimum.label}."
    return (
        f"Via {label} is {ctx.request.assurance.label} onvoldoende voor {_category_text(ctx)}; "
        f"{_login_advice(minimum, ctx.request.subject_kind)}, of help de klant via een ander kanaal."
    )


def explain(reason: ReasonCode, ctx: ExplanationContext) -> str:
    """The Dutch explanation of one denial reason for one category, naming what to do next."""
    match reason:
        case ReasonCode.PURPOSE_UNKNOWN:
            return (
                f"Het doel '{ctx.request.purpose_id}' staat niet in het verwerkingsregister; "
                "kies een doel uit de lijst."
            )
        case ReasonCode.CATEGORY_UNKNOWN:
            return f"De gegevenscategorie '{ctx.category_id}' bestaat niet in de catalogus."
        case ReasonCode.CATEGORY_NOT_IN_PURPOSE:
            return (
                f"{_category_text(ctx)[:1].upper()}{_category_text(ctx)[1:]} hoort niet bij het doel "
                f"'{_purpose_name(ctx)}'; kies een ander doel als de vraag daarover gaat."
            )
        case ReasonCode.ROLE_NOT_ALLOWED:
            return _role_not_allowed(ctx)
        case ReasonCode.ASSURANCE_TOO_LOW:
            return _assurance_too_low(ctx)
        case ReasonCode.CONSENT_REQUIRED:
            return (
                f"Toestemming van de klant nodig voor {_category_text(ctx)}; "
                "vraag toestemming en leg die vast."
            )
        case ReasonCode.SUBJECT_SHIELDED:
            return "Deze persoon heeft geheimhouding van persoonsgegevens; gegevens worden niet getoond."
        case ReasonCode.SUBJECT_KIND_NOT_APPLICABLE:
            return (
                f"{_category_text(ctx)[:1].upper()}{_category_text(ctx)[1:]} bestaat niet voor "
                f"{_SUBJECT_LABELS[ctx.request.subject_kind]}."
            )
        case ReasonCode.ORGANISATION_MISMATCH:
            return _organisation_mismatch(ctx)
        case ReasonCode.CHANNEL_NOT_ALLOWED:
            return _channel_not_allowed(ctx)
        case ReasonCode.OBJECTION:
            if ctx.request.role is Role.BURGER:
                return f"U heeft bezwaar gemaakt tegen '{_purpose_name(ctx)}'; daarom tonen wij dit niet."
            return (
                f"De klant heeft bezwaar gemaakt tegen het doel '{_purpose_name(ctx)}'; onder dit doel "
                "worden geen gegevens van deze klant getoond. Kies een ander doel als de vraag daarover gaat."
            )
