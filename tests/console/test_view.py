"""The klantbeeld as the console lays it out (dgkb.web.klantbeeld_view) and the Dutch formatting of
its values (dgkb.web.formatting): what goes above the fold, what is said in one line, and that the
summary reads only what the purpose shows. No browser: tests/web/test_fold.py has that."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from dgkb.klantbeeld.schemas import Klantbeeld, Sectie, VerwerkingsactiviteitRef
from dgkb.klantbeeld.signals import SignalKind
from dgkb.web import klantbeeld_view
from dgkb.web.formatting import duur, getal, telefoon, zonder_ids

TODAY = date(2026, 11, 1)
TYPES = {
    "klant": "klantdata",
    "dienst": "dienstdata",
    "contact": "contactdata",
    "dossier": "dossierdata",
    "beleving": "belevingsdata",
    "feedback": "feedbackdata",
}


def sectie(categorie: str, status: str = "ok", gegevens: Any = None, **kw: Any) -> Sectie:
    return Sectie(
        categorie=categorie,
        informatietype=TYPES[categorie.split(".")[0]],
        omschrijving=categorie,
        status=status,
        gegevens=gegevens,
        **kw,
    )


def hidden(categorie: str) -> Sectie:
    return sectie(categorie, "niet-toegestaan", reden="CATEGORY_NOT_IN_PURPOSE")


def klantbeeld(*secties: Sectie, zekerheid: str = "controlevragen") -> Klantbeeld:
    return Klantbeeld(
        contact_id="c",
        onderwerp_type="bsn",
        verwerkingsactiviteit=VerwerkingsactiviteitRef(id="doel", naam="Doel"),
        zekerheid=zekerheid,
        trace_id="t",
        registerversie="2026.1",
        opgehaald_op=datetime(2026, 11, 1, 10, tzinfo=UTC),
        secties=list(secties),
    )


PERSON = {
    "naam": {"volledigeNaam": "Johanna van der Berg"},
    "geboorte": {"datum": {"datum": "1960-07-03"}},
    "adressering": {"adresregel1": "Bergweg 166", "adresregel2": "3026 MP ROTTERDAM"},
}
LATE_ZAAK = [{"identificatie": "Z-1", "uiterlijkeEinddatumAfdoening": "2026-10-01"}]
CONTACTS = [{"nummer": "1", "plaatsgevondenOp": "2026-10-31T10:00:00Z", "onderwerp": "Afval"}]


def test_the_fold_holds_who_signals_and_the_three_columns_the_rest_goes_below() -> None:
    view = klantbeeld_view.build(
        klantbeeld(
            sectie("klant.basis", gegevens=PERSON),
            sectie("klant.contactgegevens", gegevens={"telefoonnummers": [{"adres": "0645408799"}]}),
            sectie("dienst.zaken-lopend", gegevens=LATE_ZAAK),
            sectie("dienst.zaken-historie", gegevens=[]),
            sectie("contact.historie", gegevens=CONTACTS),
            sectie("contact.open-verzoeken", gegevens=[]),
            hidden("klant.familie"),
            hidden("dossier.financieel"),
            hidden("beleving.oordeel"),
            hidden("feedback.klachten"),
        ),
        today=TODAY,
    )
    assert [k.categorie for k in view.kolommen] == [
        "dienst.zaken-lopend",
        "contact.historie",
        "contact.open-verzoeken",
    ]
    assert [c.titel for c in view.meer] == ["Klant", "Diensten en zaken"]
    assert [s.categorie for s in view.meer[1].secties] == ["dienst.zaken-historie"]
    # one line instead of empty cards; the Contacten card is all above the fold, so neither
    assert view.niet_nodig == ["Dossier", "Beleving", "Feedback"]
    assert view.ook_niet_nodig == ["Familie"]
    assert view.wie is not None
    assert view.wie.naam == "Johanna van der Berg"
    assert view.wie.zekerheid == "controlevragen"
    assert ("Telefoon", "06 45408799") in view.wie.feiten
    assert ("Geboren", "03-07-1960") in view.wie.feiten
    assert ("Adres", "Bergweg 166, 3026 MP ROTTERDAM") in view.wie.feiten
    assert [s.kind for s in view.signalen] == [SignalKind.ZAAK_OVER_TERMIJN, SignalKind.RECENT_CONTACT]


def test_mijn_omgeving_gets_the_cards_alone() -> None:
    view = klantbeeld_view.build(klantbeeld(sectie("klant.basis", gegevens=PERSON)))
    assert (view.kolommen, view.meer, view.signalen, view.wie) == ([], [], [], None)
    assert [c.titel for c in view.cards if c.secties] == ["Klant"]


def test_the_summary_reads_only_what_the_purpose_shows() -> None:
    """A denied or failed section never fills the who-strip or a signal, even when (by a bug
    elsewhere) it carried data."""
    view = klantbeeld_view.build(
        klantbeeld(
            sectie("klant.basis", "niet-toegestaan", gegevens=PERSON, reden="ASSURANCE_TOO_LOW"),
            sectie(
                "klant.contactgegevens", "timeout", gegevens={"telefoonnummers": [{"adres": "0645408799"}]}
            ),
            sectie("dienst.zaken-lopend", "niet-toegestaan", gegevens=LATE_ZAAK, reden="CONSENT_REQUIRED"),
            sectie("contact.historie", "fout", gegevens=CONTACTS),
        ),
        today=TODAY,
        naam="Naam uit de identificatie",
    )
    assert view.signalen == []
    assert view.wie is not None
    assert (view.wie.naam, view.wie.feiten) == ("Naam uit de identificatie", [])


def test_a_pending_section_is_loading_not_a_problem() -> None:
    view = klantbeeld_view.build(
        klantbeeld(
            sectie("dienst.zaken-lopend", "timeout", nog_bezig=True),
            sectie("contact.historie", "timeout"),
        ),
        today=TODAY,
    )
    assert (view.bezig, view.problemen) == (1, 1)


def test_zaken_by_due_date_whatever_the_source_sends() -> None:
    zaken = [
        {"identificatie": "B", "uiterlijkeEinddatumAfdoening": None},
        {"identificatie": "C", "uiterlijkeEinddatumAfdoening": "2026-10-01"},
        "not a zaak",
        {"identificatie": "A", "uiterlijkeEinddatumAfdoening": "2026-12-01"},
    ]
    ordered = klantbeeld_view.by_due_date(zaken)
    assert [z["identificatie"] for z in ordered if isinstance(z, dict)] == ["C", "A", "B"]


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("0645408799", "06 45408799"),
        ("+31645408799", "06 45408799"),
        ("06-45408799", "06 45408799"),
        ("0101234567", "010 123 4567"),
        ("+32 10 12 34 56", "+32 10 12 34 56"),
        ("geen nummer", "geen nummer"),
        ("", ""),
        (None, ""),
    ],
)
def test_phone_numbers_as_dutch_people_write_them(given: Any, shown: str) -> None:
    assert telefoon(given) == shown


@pytest.mark.parametrize(
    ("given", "decimals", "shown"),
    [(11.34, 1, "11,3"), (1234567.891, 2, "1.234.567,89"), (3, 0, "3"), (None, 0, "—"), ("x", 0, "x")],
)
def test_numbers_with_a_decimal_comma(given: Any, decimals: int, shown: str) -> None:
    assert getal(given, decimals) == shown


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("P1Y", "1 jaar"),
        ("P10Y", "10 jaar"),
        ("P6M", "6 maanden"),
        ("P1Y6M", "1 jaar en 6 maanden"),
        ("P2W", "2 weken"),
        ("P1DT2H", "1 dag en 2 uur"),
        ("PT15M", "15 minuten"),
        ("P", "P"),
        ("PT", "PT"),
        ("tien jaar", "tien jaar"),
    ],
)
def test_iso_durations_in_words(given: str, shown: str) -> None:
    assert duur(given) == shown


def test_explanations_without_category_ids() -> None:
    text = "Voor dit contact is controlevragen onvoldoende voor belastingen (dossier.financieel); log in."
    assert zonder_ids(text) == "Voor dit contact is controlevragen onvoldoende voor belastingen; log in."
    assert zonder_ids("Bel (binnen 2 dagen) terug.") == "Bel (binnen 2 dagen) terug."
