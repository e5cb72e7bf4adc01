"""Dutch explanations name what the agent (or citizen) can do next."""

from __future__ import annotations

import pytest

from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.channels import Kanaal
from dgkb.domain.identifiers import SubjectKind
from dgkb.domain.register import Register
from dgkb.domain.roles import Role
from dgkb.policy.decision import DecisionRequest, ReasonCode
from dgkb.policy.explanations import ExplanationContext, explain

G = "https://register.voorbeeldstad.nl/verwerkingen/"
WATERSCHAPSBELASTING = "https://register.voorbeeldwaarden.nl/verwerkingen/waterschapsbelasting"


def ctx(
    register: Register,
    catalogue: Catalogue,
    category: str,
    purpose: str = G + "gemeentelijke-belastingen",
    **kw: object,
) -> ExplanationContext:
    base: dict[str, object] = {"role": Role.KCM, "assurance": Assurance.CONTROLEVRAGEN}
    base.update(kw)
    request = DecisionRequest(purpose_id=purpose, **base)  # type: ignore[arg-type]
    return ExplanationContext(
        request=request,
        category_id=category,
        register=register,
        purpose=register.get(purpose),
        category=catalogue.get(category),
    )


@pytest.mark.parametrize("reason", list(ReasonCode))
def test_every_reason_has_a_dutch_explanation(
    register: Register, catalogue: Catalogue, reason: ReasonCode
) -> None:
    text = explain(
        reason, ctx(register, catalogue, "dossier.financieel", organisation="00000001009876543000")
    )
    assert text.endswith(".")
    assert reason.value not in text


def test_assurance_by_phone_asks_for_digid(register: Register, catalogue: Catalogue) -> None:
    text = explain(ReasonCode.ASSURANCE_TOO_LOW, ctx(register, catalogue, "dossier.financieel"))
    assert text.startswith("Voor dit contact is controlevragen onvoldoende")
    assert "vraag de klant in te loggen met DigiD (minimaal DigiD midden)" in text


def test_assurance_for_a_business_asks_for_eherkenning(register: Register, catalogue: Catalogue) -> None:
    c = ctx(register, catalogue, "dossier.financieel", subject_kind=SubjectKind.KVK)
    assert "eHerkenning (minimaal eHerkenning EH2+)" in explain(ReasonCode.ASSURANCE_TOO_LOW, c)


def test_assurance_without_identification_asks_control_questions(
    register: Register, catalogue: Catalogue
) -> None:
    c = ctx(register, catalogue, "klant.basis", assurance=Assurance.GEEN)
    assert "stel eerst de controlevragen" in explain(ReasonCode.ASSURANCE_TOO_LOW, c)


def test_assurance_for_the_citizen_speaks_to_the_citizen(register: Register, catalogue: Catalogue) -> None:
    c = ctx(
        register,
        catalogue,
        "dossier.financieel",
        G + "mijn-omgeving",
        role=Role.BURGER,
        assurance=Assurance.DIGID_BASIS,
    )
    text = explain(ReasonCode.ASSURANCE_TOO_LOW, c)
    assert "moet u inloggen met minimaal DigiD midden" in text


def test_category_not_in_purpose_names_the_purpose(register: Register, catalogue: Catalogue) -> None:
    c = ctx(register, catalogue, "dossier.rechten-en-plichten", WATERSCHAPSBELASTING)
    assert "hoort niet bij het doel 'Waterschapsbelasting'" in explain(ReasonCode.CATEGORY_NOT_IN_PURPOSE, c)


def test_consent_and_shielding(register: Register, catalogue: Catalogue) -> None:
    c = ctx(register, catalogue, "klant.werk-en-inkomen", G + "wmo-aanvraag")
    assert explain(ReasonCode.CONSENT_REQUIRED, c).startswith("Toestemming van de klant nodig voor werk,")
    assert "vraag toestemming en leg die vast" in explain(ReasonCode.CONSENT_REQUIRED, c)
    assert explain(ReasonCode.SUBJECT_SHIELDED, c) == (
        "Deze persoon heeft geheimhouding van persoonsgegevens; gegevens worden niet getoond."
    )


def test_role_names_who_may(register: Register, catalogue: Catalogue) -> None:
    c = ctx(register, catalogue, "klant.werk-en-inkomen", G + "wmo-aanvraag")
    text = explain(ReasonCode.ROLE_NOT_ALLOWED, c)
    assert "Uw rol (klantcontactmedewerker)" in text
    assert "draag de vraag zo nodig over aan een behandelaar" in text


def test_organisation_mismatch_names_both(register: Register, catalogue: Catalogue) -> None:
    c = ctx(register, catalogue, "klant.basis", WATERSCHAPSBELASTING, organisation="00000001001234567000")
    text = explain(ReasonCode.ORGANISATION_MISMATCH, c)
    assert "hoort bij Waterschap De Voorbeeldwaarden, niet bij Gemeente Voorbeeldstad" in text


def test_unknown_purpose_and_category(register: Register, catalogue: Catalogue) -> None:
    c = ctx(register, catalogue, "klant.schoenmaat", "https://example.org/x")
    assert "'https://example.org/x' staat niet in het verwerkingsregister" in explain(
        ReasonCode.PURPOSE_UNKNOWN, c
    )
    assert "'klant.schoenmaat' bestaat niet" in explain(ReasonCode.CATEGORY_UNKNOWN, c)


def test_missing_organisation_says_so(register: Register, catalogue: Catalogue) -> None:
    c = ctx(register, catalogue, "klant.basis", WATERSCHAPSBELASTING)
    text = explain(ReasonCode.ORGANISATION_MISMATCH, c)
    assert text.startswith("De vraag noemt geen organisatie")
    assert "Waterschap De Voorbeeldwaarden" in text


def test_channel_explanations_name_the_channel_and_what_to_do(
    register: Register, catalogue: Catalogue
) -> None:
    chat = ctx(
        register, catalogue, "dossier.financieel", channel=Kanaal.CHAT, assurance=Assurance.DIGID_MIDDEN
    )
    assert explain(ReasonCode.CHANNEL_NOT_ALLOWED, chat) == (
        "Via de chat is DigiD midden onvoldoende voor belastingaanslagen, boetes, betalingen en "
        "betalingsregelingen (dossier.financieel); vraag de klant in te loggen met DigiD "
        "(minimaal DigiD substantieel), of help de klant via een ander kanaal."
    )
    citizen = ctx(register, catalogue, "dossier.financieel", channel=Kanaal.EMAIL, role=Role.BURGER)
    assert "moet u inloggen met minimaal DigiD substantieel" in explain(
        ReasonCode.CHANNEL_NOT_ALLOWED, citizen
    )
    balie = ctx(register, catalogue, "klant.werk-en-inkomen", G + "wmo-aanvraag", channel=Kanaal.BALIE)
    text = explain(ReasonCode.CHANNEL_NOT_ALLOWED, balie)
    assert text.startswith(
        "Werk, uitkeringen en inkomen (klant.werk-en-inkomen) wordt niet getoond via de balie"
    )
    assert "help de klant via een ander kanaal" in text
    unknown = ctx(register, catalogue, "dossier.financieel")
    assert "kanaal van dit contact is onbekend" in explain(ReasonCode.CHANNEL_NOT_ALLOWED, unknown)
