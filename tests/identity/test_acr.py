"""The acr table: shipped mappings, unknown acr = geen, errors naming file and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from dgkb.domain.assurance import Assurance, IdentificationMethod
from dgkb.domain.errors import InvalidConfiguration
from dgkb.identity.acr import load_acr_table, parse_acr_table
from dgkb.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "config" / "acr.yaml"
DIGID, EH = IdentificationMethod.DIGID, IdentificationMethod.EHERKENNING
SAML = "urn:oasis:names:tc:SAML:2.0:ac:classes:"


@pytest.mark.parametrize(
    ("method", "acr", "level"),
    [
        (DIGID, SAML + "PasswordProtectedTransport", Assurance.DIGID_BASIS),
        (DIGID, SAML + "MobileTwoFactorContract", Assurance.DIGID_MIDDEN),
        (DIGID, SAML + "Smartcard", Assurance.DIGID_SUBSTANTIEEL),
        (DIGID, SAML + "SmartcardPKI", Assurance.DIGID_HOOG),
        (DIGID, "http://eidas.europa.eu/LoA/low", Assurance.DIGID_BASIS),
        (DIGID, "http://eidas.europa.eu/LoA/substantial", Assurance.DIGID_SUBSTANTIEEL),
        (DIGID, "http://eidas.europa.eu/LoA/high", Assurance.DIGID_HOOG),
        (EH, "urn:etoegang:core:assurance-class:loa2", Assurance.EHERKENNING_EH2),
        (EH, "urn:etoegang:core:assurance-class:loa2plus", Assurance.EHERKENNING_EH2PLUS),
        (EH, "urn:etoegang:core:assurance-class:loa3", Assurance.EHERKENNING_EH3),
        (EH, "urn:etoegang:core:assurance-class:loa4", Assurance.EHERKENNING_EH4),
        (EH, "http://eidas.europa.eu/LoA/substantial", Assurance.EHERKENNING_EH3),
        # unknown, absent, or another broker's class: never a level
        (DIGID, "urn:example:made-up", Assurance.GEEN),
        (DIGID, None, Assurance.GEEN),
        (DIGID, "urn:etoegang:core:assurance-class:loa4", Assurance.GEEN),
        (EH, SAML + "SmartcardPKI", Assurance.GEEN),
    ],
)
def test_shipped_table(method: IdentificationMethod, acr: str | None, level: Assurance) -> None:
    assert load_acr_table(SHIPPED).level(method, acr) is level


def test_errors_name_file_and_path() -> None:
    with pytest.raises(InvalidConfiguration) as exc:
        parse_acr_table(
            {
                "digid": {"urn:x:a": "digid-heel-hoog", "urn:x:b": "eherkenning-eh3"},
                "eherkenning": {"urn:x:c": "digid-midden"},
                "saml": {},
            },
            source="acr.yaml",
        )
    message = exc.value.message
    assert "acr.yaml: digid.urn:x:a: onbekend niveau 'digid-heel-hoog'" in message
    assert "acr.yaml: digid.urn:x:b: eherkenning-eh3 is geen digid-niveau" in message
    assert "acr.yaml: eherkenning.urn:x:c: digid-midden is geen eherkenning-niveau" in message
    assert "acr.yaml: saml: onbekende sectie" in message
    with pytest.raises(InvalidConfiguration, match=r"acr\.yaml: verwacht een mapping"):
        parse_acr_table(["digid"], source="acr.yaml")


def test_a_broken_table_stops_start_up_and_check(tmp_path: Path) -> None:
    """load_configuration (start-up and `dgkb check`) reads and validates the table."""
    import shutil

    from dgkb.composition.root import load_configuration
    from dgkb.settings import Settings

    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    (config / "acr.yaml").write_text("digid:\n  urn:x: digid-extra\n", encoding="utf-8")
    with pytest.raises(InvalidConfiguration, match=r"acr\.yaml: digid\.urn:x: onbekend niveau"):
        load_configuration(Settings(config_dir=config))
    (config / "acr.yaml").unlink()
    with pytest.raises(InvalidConfiguration, match=r"acr\.yaml: bestand ontbreekt"):
        load_configuration(Settings(config_dir=config))
