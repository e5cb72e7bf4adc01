"""The shipped register parses; every kind of mistake is reported with file and path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dgkb.domain.assurance import Assurance
from dgkb.domain.catalogue import Catalogue
from dgkb.domain.channels import Kanaal
from dgkb.domain.errors import InvalidConfiguration
from dgkb.domain.register import Register, parse_register
from dgkb.domain.roles import Role
from dgkb.settings import get_settings, load_catalogue, load_yaml

SOURCE_IDS = {s["id"] for s in load_yaml(get_settings().config_files["sources"])["sources"]}
GEMEENTE = "00000001001234567000"
WATERSCHAP = "00000001009876543000"
BELASTINGEN = "https://register.voorbeeldstad.nl/verwerkingen/gemeentelijke-belastingen"
WMO = "https://register.voorbeeldstad.nl/verwerkingen/wmo-aanvraag"
WATERSCHAPSBELASTING = "https://register.voorbeeldwaarden.nl/verwerkingen/waterschapsbelasting"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(get_settings())


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data = load_yaml(get_settings().config_files["register"])
    assert isinstance(data, dict)
    return data


def _index(raw: dict[str, Any], purpose_id: str) -> int:
    for i, va in enumerate(raw["verwerkingsactiviteiten"]):
        if va["id"] == purpose_id:
            return i
    raise AssertionError(purpose_id)


def _parse(data: Any, catalogue: Catalogue) -> Register:
    return parse_register(data, catalogue=catalogue, source="register.yaml", source_ids=SOURCE_IDS)


def _error(data: Any, catalogue: Catalogue) -> str:
    with pytest.raises(InvalidConfiguration) as err:
        _parse(data, catalogue)
    assert err.value.field == "register.yaml"
    return err.value.message


def test_shipped_register_parses(raw: dict[str, Any], catalogue: Catalogue) -> None:
    register = _parse(raw, catalogue)
    assert len(register.verwerkingsactiviteiten) >= 9
    assert register.fingerprint.startswith(f"{register.versie}+sha256:")


def test_shipped_register_serves_both_organisations(raw: dict[str, Any], catalogue: Catalogue) -> None:
    register = _parse(raw, catalogue)
    assert {va.organisatie.oin for va in register.verwerkingsactiviteiten} == {GEMEENTE, WATERSCHAP}
    assert all(va.organisatie.oin == WATERSCHAP for va in register.for_organisation(WATERSCHAP))
    assert register.organisation_name(WATERSCHAP) == "Waterschap De Voorbeeldwaarden"
    assert register.organisation_name("00000000000000000000") is None


def test_identification_purposes_use_only_identifying_fields(
    raw: dict[str, Any], catalogue: Catalogue
) -> None:
    register = _parse(raw, catalogue)
    for va in register.verwerkingsactiviteiten:
        if va.id.endswith("/kcc-identificatie"):
            assert set(va.categorieen) == {"klant.basis"}
            # persons: BSN, name, birth and address to pick the right one; businesses: the KVK
            # numbers, name and addresses — nothing more
            assert va.categorieen["klant.basis"].velden == (
                "burgerservicenummer",
                "naam",
                "geboorte",
                "verblijfplaats",
                "kvkNummer",
                "vestigingsnummer",
                "adressen",
            )
            assert va.minimaleZekerheid is Assurance.GEEN


def test_water_board_purpose_has_no_municipal_dossier_data(raw: dict[str, Any], catalogue: Catalogue) -> None:
    va = _parse(raw, catalogue).get(WATERSCHAPSBELASTING)
    assert va is not None
    assert va.organisatie.oin == WATERSCHAP
    dossier = {c for c in va.categorieen if c.startswith("dossier.")}
    assert dossier == {"dossier.financieel"}
    assert va.categorieen["dossier.financieel"].bronnen == ("waterschap-belastingen",)


def test_category_minimum_can_only_tighten(raw: dict[str, Any], catalogue: Catalogue) -> None:
    va = _parse(raw, catalogue).get(BELASTINGEN)
    assert va is not None
    assert va.minimum_assurance("klant.basis") is Assurance.CONTROLEVRAGEN
    assert va.minimum_assurance("dossier.financieel") is Assurance.DIGID_MIDDEN
    data = copy.deepcopy(raw)
    i = _index(data, BELASTINGEN)
    data["verwerkingsactiviteiten"][i]["categorieen"]["klant.basis"]["minimaleZekerheid"] = "geen"
    va = _parse(data, catalogue).get(BELASTINGEN)
    assert va is not None
    assert va.minimum_assurance("klant.basis") is Assurance.CONTROLEVRAGEN


def test_category_roles_narrow_the_purpose_roles(raw: dict[str, Any], catalogue: Catalogue) -> None:
    va = _parse(raw, catalogue).get(WMO)
    assert va is not None
    assert va.roles_for("klant.basis") == (Role.KCM, Role.BEHANDELAAR)
    assert va.roles_for("klant.werk-en-inkomen") == (Role.BEHANDELAAR,)


def _broken(raw: dict[str, Any], purpose_id: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    data = copy.deepcopy(raw)
    i = _index(data, purpose_id)
    return data, data["verwerkingsactiviteiten"][i], f"register.yaml: verwerkingsactiviteiten.{i}"


def test_unknown_category_names_file_and_path(raw: dict[str, Any], catalogue: Catalogue) -> None:
    data, va, base = _broken(raw, BELASTINGEN)
    va["categorieen"]["klant.schoenmaat"] = {}
    message = _error(data, catalogue)
    assert f"{base}.categorieen.klant.schoenmaat: onbekende categorie" in message


def test_unknown_field_names_file_and_path(raw: dict[str, Any], catalogue: Catalogue) -> None:
    data, va, base = _broken(raw, BELASTINGEN)
    va["categorieen"]["klant.basis"]["velden"] = ["naam", "schoenmaat"]
    message = _error(data, catalogue)
    assert f"{base}.categorieen.klant.basis.velden: 'schoenmaat' is geen veld van klant.basis" in message


def test_unknown_source_names_file_and_path(raw: dict[str, Any], catalogue: Catalogue) -> None:
    data, va, base = _broken(raw, WATERSCHAPSBELASTING)
    va["categorieen"]["dossier.financieel"]["bronnen"] = ["belastingdienst"]
    message = _error(data, catalogue)
    assert f"{base}.categorieen.dossier.financieel.bronnen: onbekende bron 'belastingdienst'" in message


def test_duplicate_id_names_file_and_path(raw: dict[str, Any], catalogue: Catalogue) -> None:
    data = copy.deepcopy(raw)
    data["verwerkingsactiviteiten"].append(copy.deepcopy(data["verwerkingsactiviteiten"][0]))
    last = len(data["verwerkingsactiviteiten"]) - 1
    message = _error(data, catalogue)
    assert f"register.yaml: verwerkingsactiviteiten.{last}.id:" in message
    assert "staat dubbel" in message


@pytest.mark.parametrize("duration", ["1 jaar", "P", "PT", "P1Y2", "1Y", "P-1Y"])
def test_bad_duration_names_file_and_path(raw: dict[str, Any], catalogue: Catalogue, duration: str) -> None:
    data, va, base = _broken(raw, WMO)
    va["bewaartermijn"] = duration
    message = _error(data, catalogue)
    assert f"{base}.bewaartermijn:" in message
    assert "ISO 8601" in message


def test_missing_bijzondere_categorie_names_file_and_path(raw: dict[str, Any], catalogue: Catalogue) -> None:
    data, va, base = _broken(raw, WMO)
    del va["grondslag"]["bijzondereCategorie"]
    message = _error(data, catalogue)
    assert f"{base}.grondslag.bijzondereCategorie: ontbreekt" in message
    assert "klant.werk-en-inkomen" in message


def test_category_role_outside_purpose_roles_names_file_and_path(
    raw: dict[str, Any], catalogue: Catalogue
) -> None:
    data, va, base = _broken(raw, WMO)
    va["categorieen"]["klant.familie"]["rollen"] = ["burger"]
    message = _error(data, catalogue)
    assert f"{base}.categorieen.klant.familie.rollen: rol 'burger'" in message


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda va: va.__setitem__("rollen", ["koning"]), "rollen.0"),
        (lambda va: va.__setitem__("minimaleZekerheid", "paspoort"), "minimaleZekerheid"),
        (lambda va: va["organisatie"].__setitem__("oin", "123"), "organisatie.oin"),
        (lambda va: va.__setitem__("toestemmingVereist", ["klant.familie"]), "(verwerkingsactiviteit)"),
        (lambda va: va.__setitem__("kleur", "blauw"), "kleur"),
    ],
)
def test_schema_errors_name_file_and_path(
    raw: dict[str, Any], catalogue: Catalogue, change: Any, path: str
) -> None:
    data, va, base = _broken(raw, BELASTINGEN)
    change(va)
    message = _error(data, catalogue)
    expected = base if path == "(verwerkingsactiviteit)" else f"{base}.{path}"
    assert expected in message


def test_all_problems_are_reported_together(raw: dict[str, Any], catalogue: Catalogue) -> None:
    data, va, _base = _broken(raw, WMO)
    va["categorieen"]["klant.schoenmaat"] = {}
    va["categorieen"]["klant.basis"]["bronnen"] = ["onbekend"]
    message = _error(data, catalogue)
    assert len(message.splitlines()) == 2


# -- kanaalinzet (issue 8 §9) -------------------------------------------------------------------------


def test_shipped_register_restricts_categories_per_channel(raw: dict[str, Any], catalogue: Catalogue) -> None:
    register = _parse(raw, catalogue)
    belastingen = register.get(BELASTINGEN)
    assert belastingen is not None
    financieel = belastingen.categorieen["dossier.financieel"]
    assert financieel.channel_bound
    assert not financieel.channel_allowed(Kanaal.SOCIAL_MEDIA)
    assert not financieel.channel_allowed(None)  # an unknown channel is not a wildcard
    assert financieel.channel_allowed(Kanaal.TELEFOON)
    assert financieel.channel_minimum(Kanaal.CHAT) is Assurance.DIGID_SUBSTANTIEEL
    assert financieel.channel_minimum(Kanaal.TELEFOON) is None
    assert financieel.channel_minimum(None) is Assurance.DIGID_SUBSTANTIEEL  # the strictest
    assert not belastingen.categorieen["klant.basis"].channel_bound
    wmo = register.get(WMO)
    assert wmo is not None
    assert not wmo.categorieen["klant.werk-en-inkomen"].channel_allowed(Kanaal.BALIE)
    assert wmo.categorieen["klant.basis"].channel_allowed(Kanaal.BALIE)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda c: c.__setitem__("kanalen", ["fax"]), "kanalen.0"),
        (lambda c: c.__setitem__("kanalen", []), "kanalen"),
        (lambda c: c.__setitem__("kanaalZekerheid", {"chat": "paspoort"}), "kanaalZekerheid.chat"),
        (lambda c: c.__setitem__("kanaalZekerheid", {"duif": "digid-hoog"}), "kanaalZekerheid.duif"),
    ],
)
def test_channel_schema_errors_name_file_and_path(
    raw: dict[str, Any], catalogue: Catalogue, change: Any, path: str
) -> None:
    data, va, base = _broken(raw, BELASTINGEN)
    change(va["categorieen"]["dossier.financieel"])
    message = _error(data, catalogue)
    assert f"{base}.categorieen.dossier.financieel.{path}" in message


def test_channel_minimum_outside_the_channels_names_file_and_path(
    raw: dict[str, Any], catalogue: Catalogue
) -> None:
    data, va, base = _broken(raw, BELASTINGEN)
    va["categorieen"]["dossier.financieel"]["kanaalZekerheid"]["social-media"] = "digid-hoog"
    message = _error(data, catalogue)
    assert (
        f"{base}.categorieen.dossier.financieel.kanaalZekerheid.social-media: kanaal 'social-media' "
        "staat niet in kanalen"
    ) in message


def test_channel_minimum_that_does_not_tighten_names_file_and_path(
    raw: dict[str, Any], catalogue: Catalogue
) -> None:
    data, va, base = _broken(raw, BELASTINGEN)
    va["categorieen"]["dossier.financieel"]["kanaalZekerheid"]["chat"] = "digid-basis"
    message = _error(data, catalogue)
    assert (
        f"{base}.categorieen.dossier.financieel.kanaalZekerheid.chat: digid-basis is niet strenger" in message
    )
    assert "(digid-midden)" in message


def test_pep_role_cannot_read_under_a_purpose(raw: dict[str, Any], catalogue: Catalogue) -> None:
    data, va, base = _broken(raw, BELASTINGEN)
    va["rollen"] = [*va["rollen"], "pep"]
    message = _error(data, catalogue)
    assert f"{base}.rollen: rol 'pep' is een policy enforcement point" in message


def test_document_level_is_per_purpose_and_at_most_substantieel(
    raw: dict[str, Any], catalogue: Catalogue
) -> None:
    """Issue 9 §4: what a checked identity document counts as is the register's choice per purpose
    (default controlevragen), never an eHerkenning level and never above DigiD substantieel."""
    register = _parse(raw, catalogue)
    belastingen = register.get(BELASTINGEN)
    wmo = register.get(WMO)
    assert belastingen is not None
    assert wmo is not None
    assert belastingen.documentZekerheid is Assurance.DIGID_SUBSTANTIEEL
    assert wmo.documentZekerheid is Assurance.CONTROLEVRAGEN
    for level in ("digid-hoog", "eherkenning-eh3", "eherkenning-eh1", "heel-zeker"):
        data, va, base = _broken(raw, BELASTINGEN)
        va["documentZekerheid"] = level
        assert f"{base}.documentZekerheid" in _error(data, catalogue)


def test_proactive_is_off_by_default_and_a_purpose_may_be_proactive(
    raw: dict[str, Any], catalogue: Catalogue
) -> None:
    assert not any(va.proactief for va in _parse(raw, catalogue).verwerkingsactiviteiten)
    data, va, _ = _broken(raw, BELASTINGEN)
    va["proactief"] = True
    purpose = _parse(data, catalogue).get(BELASTINGEN)
    assert purpose is not None
    assert purpose.proactief


@pytest.mark.parametrize(
    ("purpose_id", "words"),
    [
        ("https://register.voorbeeldstad.nl/verwerkingen/kcc-identificatie", "kan niet proactief zijn"),
        (
            "https://register.voorbeeldstad.nl/verwerkingen/dgkb-actualiseren-klantbeeld",
            "kan niet proactief zijn",
        ),
        ("https://register.voorbeeldstad.nl/verwerkingen/klachtafhandeling", "kan niet proactief zijn"),
        ("https://register.voorbeeldstad.nl/verwerkingen/mijn-omgeving", "is niet proactief"),
    ],
)
def test_proactive_only_for_a_purpose_of_its_own(
    raw: dict[str, Any], catalogue: Catalogue, purpose_id: str, words: str
) -> None:
    data, va, base = _broken(raw, purpose_id)
    va["proactief"] = True
    message = _error(data, catalogue)
    assert f"{base}.proactief: " in message
    assert words in message


def test_proactive_must_be_a_boolean(raw: dict[str, Any], catalogue: Catalogue) -> None:
    data, va, base = _broken(raw, BELASTINGEN)
    va["proactief"] = "misschien"
    assert f"{base}.proactief" in _error(data, catalogue)


MIJN_OMGEVING = "https://register.voorbeeldstad.nl/verwerkingen/mijn-omgeving"
BERICHTEN = "https://register.voorbeeldstad.nl/verwerkingen/dgkb-berichten-melden"


def test_the_own_view_may_write_back_contact_details_only(raw: dict[str, Any], catalogue: Catalogue) -> None:
    register = _parse(raw, catalogue)
    own = register.get(MIJN_OMGEVING)
    assert own is not None
    assert own.may_write("klant.contactgegevens")
    assert own.may_write("klant.voorkeurskanaal")
    assert not own.may_write("klant.basis")
    assert not own.may_write("dossier.financieel")
    # no employee purpose writes contact details back
    assert not any(
        va.may_write(c)
        for va in register.verwerkingsactiviteiten
        if va.id != MIJN_OMGEVING
        for c in va.categorieen
    )


def test_writing_brp_or_tax_data_is_refused(raw: dict[str, Any], catalogue: Catalogue) -> None:
    data, va, base = _broken(raw, MIJN_OMGEVING)
    va["categorieen"]["klant.basis"]["schrijven"] = True
    va["categorieen"]["dossier.financieel"]["schrijven"] = True
    message = _error(data, catalogue)
    assert f"{base}.categorieen.klant.basis.schrijven: DGKB schrijft alleen" in message
    assert f"{base}.categorieen.dossier.financieel.schrijven" in message


def test_a_system_task_never_writes(raw: dict[str, Any], catalogue: Catalogue) -> None:
    data, va, base = _broken(raw, BERICHTEN)
    va["categorieen"]["klant.contactgegevens"]["schrijven"] = True
    assert f"{base}.categorieen.klant.contactgegevens.schrijven: een systeemtaak" in _error(data, catalogue)
