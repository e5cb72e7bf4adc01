"""The pure parts of Mijn zaken and Mijn taken: a zaak's timeline and the customer's task list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from dgkb.contacts.correction import CorrectionView, Vraag
from dgkb.web.mijn.takenlijst import ConsentFact, correctieverzoeken_wachtend, taken
from dgkb.web.mijn.tijdlijn import overzicht, verzoek, werkdagen_later

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STEPS = [
    {"omschrijving": "Ontvangen", "volgnummer": 1, "isEindstatus": False},
    {"omschrijving": "In behandeling", "volgnummer": 2, "isEindstatus": False},
    {"omschrijving": "Besluit genomen", "volgnummer": 3, "isEindstatus": True},
]


def _open(**extra: object) -> dict[str, object]:
    return {
        "identificatie": "ZAAK-1",
        "omschrijving": "Parkeervergunning",
        "startdatum": "2026-10-01",
        "uiterlijkeEinddatumAfdoening": "2026-12-10",
        "status": {"omschrijving": "Ontvangen", "datumStatusGezet": "2026-10-01T09:00:00Z"},
        "statushistorie": [{"omschrijving": "Ontvangen", "datumStatusGezet": "2026-10-01T09:00:00Z"}],
        "statustypen": STEPS,
        **extra,
    }


def test_an_open_zaak_has_done_current_next_and_later_steps() -> None:
    z = overzicht(_open(), today=TODAY)
    assert [(s.omschrijving, s.toestand) for s in z.stappen] == [
        ("Ontvangen", "huidig"),
        ("In behandeling", "volgende"),
        ("Besluit genomen", "later"),
    ]
    assert z.volgende == "In behandeling"
    assert z.huidige == "Ontvangen"
    assert not z.te_laat


def test_overdue_only_when_open_and_past_the_deadline() -> None:
    assert overzicht(_open(uiterlijkeEinddatumAfdoening="2026-11-30"), today=TODAY).te_laat
    assert not overzicht(_open(uiterlijkeEinddatumAfdoening="2026-12-01"), today=TODAY).te_laat
    closed = _open(uiterlijkeEinddatumAfdoening="2026-11-01", einddatum="2026-11-20")
    assert not overzicht(closed, today=TODAY).te_laat


def test_a_closed_zaak_shows_its_history_as_done() -> None:
    z = overzicht(
        {
            "identificatie": "ZAAK-2",
            "einddatum": "2026-11-20",
            "resultaat": "Verleend",
            "statushistorie": [
                {"omschrijving": "Ontvangen", "datumStatusGezet": "2026-10-01T09:00:00Z"},
                {"omschrijving": "Besluit genomen", "datumStatusGezet": "2026-11-20T09:00:00Z"},
            ],
            "statustypen": STEPS,
        },
        today=TODAY,
    )
    assert [s.toestand for s in z.stappen] == ["gedaan", "gedaan"]
    assert z.volgende is None
    assert z.resultaat == "Verleend"


def test_without_history_the_current_status_is_the_only_step_done() -> None:
    z = overzicht(_open(statushistorie=None), today=TODAY)
    assert [s.toestand for s in z.stappen][:1] == ["huidig"]


def test_suspended_zaak_waits_for_the_customer() -> None:
    z = overzicht(
        _open(opschorting={"indicatie": True, "reden": "Wacht op aanvulling: kentekenbewijs"}), today=TODAY
    )
    assert z.wacht_op == "Wacht op aanvulling: kentekenbewijs"
    assert overzicht(_open(opschorting={"indicatie": False, "reden": ""}), today=TODAY).wacht_op is None


def test_the_answer_to_a_request_is_promised_in_working_days() -> None:
    assert werkdagen_later(date(2026, 11, 27), 2) == date(2026, 12, 1)  # Friday -> Tuesday
    v = verzoek(
        {"nummer": "1", "gevraagdeHandeling": "Terugbellen", "toegewezenOp": "2026-11-27T10:00:00Z"},
        today=TODAY,
    )
    assert v.antwoord_uiterlijk == date(2026, 12, 1)
    assert not v.te_laat
    late = verzoek({"toegewezenOp": "2026-11-20T10:00:00Z"}, today=TODAY)
    assert late.te_laat


def test_tasks_pay_send_and_renew_consent_most_urgent_first() -> None:
    found = taken(
        "Gemeente",
        financieel=[
            {"omschrijving": "Afvalstoffenheffing", "openstaand": "120.50", "vervaldatum": "2026-11-15"},
            {"omschrijving": "Betaald", "openstaand": "0.00", "vervaldatum": "2026-10-01"},
            {
                "omschrijving": "Regeling",
                "openstaand": "300",
                "vervaldatum": "2026-10-01",
                "betalingsregeling": {"x": 1},
            },
        ],
        zaken=[
            _open(opschorting={"indicatie": True, "reden": "Wacht op aanvulling: kentekenbewijs"}),
            _open(identificatie="ZAAK-3"),
        ],
        consents=[
            ConsentFact("Schuldhulp", NOW + timedelta(days=10), None),
            ConsentFact("Later", NOW + timedelta(days=60), None),
            ConsentFact("Ingetrokken", NOW + timedelta(days=5), NOW - timedelta(days=1)),
            ConsentFact("Verlopen", NOW - timedelta(days=1), None),
        ],
        now=NOW,
        betaal_link="/mijn#card-x-dossierdata",
    )
    assert [t.soort for t in found] == ["betalen", "betalen", "toestemming", "aanvullen"]
    assert found[0].te_laat  # overdue, no arrangement
    assert "€ 120,50" in found[0].tekst
    assert not found[1].te_laat  # under a betalingsregeling
    assert found[0].link == "/mijn#card-x-dossierdata"
    assert "Schuldhulp" in found[2].titel
    assert found[3].link == "/mijn/zaken/ZAAK-1"
    assert found[3].titel == "Stuur ons: kentekenbewijs"


def test_no_tasks_when_nothing_is_due() -> None:
    assert taken("Gemeente", now=NOW) == []
    assert correctieverzoeken_wachtend("Gemeente", []) == []


def _verzoek(vraag: Vraag | None, **extra: Any) -> CorrectionView:
    return CorrectionView(
        id="6b1e1f0e-0000-4000-8000-000000000001",
        nummer="CV-2026-ABCD1234",
        organisation="00000001001234567000",
        categorie="klant.basis",
        bron_id="brp",
        onderdeel="Adres",
        wat_klopt_niet="Huisnummer fout",
        juiste_gegevens=None,
        status="doorgestuurd",
        team="Team Basisgegevens",
        taak_nummer=None,
        fout=None,
        ingediend_op=NOW,
        bijgewerkt_op=NOW,
        vraag=vraag,
        **extra,
    )


def test_a_correction_request_awaiting_an_answer_is_a_task_with_the_question() -> None:
    vraag = Vraag(id="q1", tekst="Sinds wanneer woont u op dit adres?")
    [taak] = correctieverzoeken_wachtend("Gemeente Voorbeeldstad", [_verzoek(vraag), _verzoek(None)])
    assert taak.soort == "correctie"
    assert taak.titel == "Wacht op uw antwoord: verzoek CV-2026-ABCD1234"
    assert taak.tekst == "Team Basisgegevens vraagt: Sinds wanneer woont u op dit adres?"
    assert taak.link == "/mijn/correctie/6b1e1f0e-0000-4000-8000-000000000001"
    assert taak.organisatie == "Gemeente Voorbeeldstad"


def test_the_zaak_of_a_correction_request_is_not_also_a_send_us_task() -> None:
    """A correction zaak suspended with the owner's question is the correction task, not an
    "aanvullen" task as well; another suspended zaak still is."""
    waiting = _open(identificatie="ZAAK-9", opschorting={"indicatie": True, "reden": "Welk huisnummer?"})
    other = _open(
        identificatie="ZAAK-1", opschorting={"indicatie": True, "reden": "Wacht op aanvulling: foto"}
    )
    vraag = Vraag(id="opschorting:x", tekst="Welk huisnummer?")
    found = taken(
        "Gemeente",
        zaken=[waiting, other],
        correcties=correctieverzoeken_wachtend("Gemeente", [_verzoek(vraag, zaak_identificatie="ZAAK-9")]),
        correctie_zaken={"ZAAK-9"},
        now=NOW,
    )
    assert sorted(t.soort for t in found) == ["aanvullen", "correctie"]
    assert [t.link for t in found if t.soort == "aanvullen"] == ["/mijn/zaken/ZAAK-1"]
