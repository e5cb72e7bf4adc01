"""The signal rules (dgkb.klantbeeld.signals): why the customer probably calls, from the sections the
purpose permitted and the source delivered — never from anything else."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dgkb.klantbeeld.schemas import Sectie
from dgkb.klantbeeld.signals import (
    RULES,
    Facts,
    Settings,
    SignalKind,
    Urgency,
    evaluate,
)

TODAY = date(2026, 11, 1)
INFORMATIETYPE = {"dienst": "dienstdata", "contact": "contactdata", "klant": "klantdata"}


def section(categorie: str, gegevens: Any, status: str = "ok", **kw: Any) -> Sectie:
    return Sectie(
        categorie=categorie,
        informatietype=INFORMATIETYPE[categorie.split(".")[0]],
        omschrijving=categorie,
        status=status,
        gegevens=gegevens,
        **kw,
    )


def zaak(ident: str, uiterlijk: str | None, **kw: Any) -> dict[str, Any]:
    return {
        "identificatie": ident,
        "omschrijving": f"Aanvraag {ident}",
        "status": {"omschrijving": "In behandeling"},
        "uiterlijkeEinddatumAfdoening": uiterlijk,
        **kw,
    }


def contact(nummer: str, when: str, onderwerp: str, kanaal: str = "telefoon", **kw: Any) -> dict[str, Any]:
    return {"nummer": nummer, "plaatsgevondenOp": when, "onderwerp": onderwerp, "kanaal": kanaal, **kw}


def kinds(signals: list[Any]) -> list[SignalKind]:
    return [s.kind for s in signals]


def test_an_open_zaak_past_its_deadline_is_a_signal_one_on_time_is_not() -> None:
    lopend = section(
        "dienst.zaken-lopend",
        [
            zaak("ZAAK-1", "2026-10-20"),
            zaak("ZAAK-2", "2026-11-01"),
            zaak("ZAAK-3", "2026-12-01"),
            zaak("ZAAK-4", None),
        ],
    )
    [signal] = evaluate([lopend], TODAY)
    assert signal.kind is SignalKind.ZAAK_OVER_TERMIJN
    assert signal.urgency is Urgency.HOOG
    assert signal.refs == ("ZAAK-1",)
    assert signal.sinds == date(2026, 10, 20)
    assert signal.toelichting == "Klaar uiterlijk 20-10-2026 (12 dagen geleden) · ZAAK-1"
    assert signal.categories == ("dienst.zaken-lopend",)


def test_an_open_contactverzoek_is_a_signal_a_handled_one_is_not() -> None:
    verzoeken = section(
        "contact.open-verzoeken",
        [
            {
                "nummer": "7",
                "gevraagdeHandeling": "Terugbellen",
                "status": "te_verwerken",
                "toegewezenAan": "Team Wmo",
                "toegewezenOp": "2026-10-29T09:00:00Z",
            },
            {
                "nummer": "8",
                "gevraagdeHandeling": "Al gedaan",
                "status": "verwerkt",
                "toegewezenOp": "2026-10-01",
            },
        ],
    )
    [signal] = evaluate([verzoeken], TODAY)
    assert signal.kind is SignalKind.OPEN_CONTACTVERZOEK
    assert signal.titel == "Open contactverzoek: Terugbellen"
    assert signal.toelichting == "Sinds 29-10-2026 (3 dagen geleden) · Team Wmo"
    assert signal.refs == ("7",)


def test_two_contacts_about_one_onderwerp_within_the_window_across_channels_are_a_repeat() -> None:
    historie = section(
        "contact.historie",
        [
            contact("1", "2026-10-31T10:30:00Z", "Afval", "telefoon"),
            contact("2", "2026-10-20T10:30:00Z", "afval", "e-mail"),  # same onderwerp, other case
            contact("3", "2026-08-01T10:30:00Z", "Afval", "balie"),  # outside the window
            contact("4", "2026-10-25T10:30:00Z", "Parkeren"),
        ],
    )
    repeat = [s for s in evaluate([historie], TODAY) if s.kind is SignalKind.HERHAALD_CONTACT]
    assert len(repeat) == 1
    assert repeat[0].aantal == 2
    assert repeat[0].refs == ("1", "2")
    assert "via e-mail, telefoon" in repeat[0].toelichting
    # the window is a setting: with 100 days the contact of August counts too
    wide = [
        s
        for s in evaluate([historie], TODAY, settings=Settings(repeat_window_days=100))
        if s.kind is SignalKind.HERHAALD_CONTACT
    ]
    assert wide[0].aantal == 3


def test_contacts_about_the_same_zaak_are_a_repeat_once_even_with_the_same_onderwerp() -> None:
    historie = section(
        "contact.historie",
        [
            contact("1", "2026-10-30T10:00:00Z", "Vraag over zaak Z-9", zaken=["Z-9"]),
            contact("2", "2026-10-28T10:00:00Z", "Vraag over zaak Z-9", zaken=["Z-9"]),
            contact("3", "2026-10-27T10:00:00Z", "Status aanvraag", zaken=["Z-9"]),
        ],
    )
    repeat = [s for s in evaluate([historie], TODAY) if s.kind is SignalKind.HERHAALD_CONTACT]
    assert [(s.titel, s.aantal) for s in repeat] == [("Neemt vaker contact op over zaak Z-9", 3)]


def test_the_last_contact_within_a_week_is_a_recent_contact() -> None:
    historie = section("contact.historie", [contact("1", "2026-10-31T10:30:00Z", "Paspoort", "balie")])
    [signal] = evaluate([historie], TODAY)
    assert (signal.kind, signal.toelichting) == (SignalKind.RECENT_CONTACT, "Gisteren via balie")
    old = section("contact.historie", [contact("1", "2026-10-01T10:30:00Z", "Paspoort")])
    assert evaluate([old], TODAY) == []


def test_most_urgent_first() -> None:
    found = evaluate(
        [
            section("contact.historie", [contact("1", "2026-10-31T10:30:00Z", "Paspoort")]),
            section(
                "contact.open-verzoeken", [{"gevraagdeHandeling": "Bellen", "toegewezenOp": "2026-10-30"}]
            ),
            section("dienst.zaken-lopend", [zaak("ZAAK-1", "2026-10-01")]),
        ],
        TODAY,
    )
    assert kinds(found) == [
        SignalKind.ZAAK_OVER_TERMIJN,
        SignalKind.OPEN_CONTACTVERZOEK,
        SignalKind.RECENT_CONTACT,
    ]


# --- nothing hidden leaks into a signal ---------------------------------------------------------------

LATE_ZAAK = [zaak("ZAAK-1", "2026-10-01")]
REPEATS = [contact(str(i), f"2026-10-{26 + i}T10:00:00Z", "Afval") for i in range(3)]


@pytest.mark.parametrize("status", ["niet-toegestaan", "timeout", "onbereikbaar", "fout", "niet-gevonden"])
def test_a_section_that_was_not_delivered_gives_no_signal_whatever_it_carries(status: str) -> None:
    """Only "ok" sections count: a denied section that (by a bug elsewhere) still carried data, or a
    failed one, must not turn into a signal."""
    sections = [
        section("dienst.zaken-lopend", LATE_ZAAK, status=status),
        section("contact.historie", REPEATS, status=status),
        section("contact.open-verzoeken", [{"gevraagdeHandeling": "Bellen"}], status=status),
    ]
    assert evaluate(sections, TODAY) == []


def test_a_purpose_without_zaken_shows_no_zaak_signal_one_with_zaken_does() -> None:
    historie = section("contact.historie", REPEATS)
    assert SignalKind.ZAAK_OVER_TERMIJN not in kinds(evaluate([historie], TODAY))
    assert SignalKind.ZAAK_OVER_TERMIJN in kinds(
        evaluate([historie, section("dienst.zaken-lopend", LATE_ZAAK)], TODAY)
    )


def test_a_purpose_without_contact_history_shows_no_contact_signal_one_with_it_does() -> None:
    lopend = section("dienst.zaken-lopend", LATE_ZAAK)
    assert kinds(evaluate([lopend], TODAY)) == [SignalKind.ZAAK_OVER_TERMIJN]
    with_history = kinds(evaluate([lopend, section("contact.historie", REPEATS)], TODAY))
    assert SignalKind.HERHAALD_CONTACT in with_history
    assert SignalKind.RECENT_CONTACT in with_history


def test_a_rule_reads_only_the_categories_it_declared() -> None:
    facts = Facts(today=TODAY, data={"contact.historie": ()})
    with pytest.raises(KeyError, match=r"dienst\.zaken-lopend"):
        facts.items("dienst.zaken-lopend")
    for rule in RULES:  # every rule declares what it reads, and the activation is plain data
        assert rule.needs
    assert facts.activation() == {"vandaag": "2026-11-01", "contact.historie": []}


_value = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dates().map(date.isoformat),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)
_item = st.dictionaries(
    st.sampled_from(
        [
            "identificatie",
            "omschrijving",
            "status",
            "uiterlijkeEinddatumAfdoening",
            "einddatum",
            "nummer",
            "plaatsgevondenOp",
            "onderwerp",
            "kanaal",
            "zaken",
            "toegewezenOp",
            "gevraagdeHandeling",
            "toegewezenAan",
        ]
    ),
    _value,
    max_size=6,
)


@settings(deadline=None, max_examples=150)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["dienst.zaken-lopend", "contact.historie", "contact.open-verzoeken"]),
            st.one_of(
                st.none(), st.text(max_size=5), st.lists(st.one_of(_item, st.text(max_size=3)), max_size=6)
            ),
        ),
        max_size=4,
    ),
    st.dates(),
)
def test_whatever_a_source_sends_the_rules_answer_without_raising(
    parts: list[tuple[str, Any]], today: date
) -> None:
    signals = evaluate([section(c, g) for c, g in parts], today)
    for s in signals:
        assert s.titel
        assert s.toelichting
        assert set(s.categories) <= {c for c, _ in parts}
