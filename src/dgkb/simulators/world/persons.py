"""Drafted persons frozen into `Person`s: their zaken, digital addresses (some verified), klantcontacten
and interne taken, the shielded person and the one without a partij."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from dgkb.simulators.world.constants import README_BSNS
from dgkb.simulators.world.draws import slug, stable_uuid
from dgkb.simulators.world.households import Builder, Draft, is_adult
from dgkb.simulators.world.model import Actor, DigitaalAdres, InterneTaak, Klantcontact, Person, Zaaktype
from dgkb.simulators.world.zaken import draw_contacten, draw_zaken


def verified_on(bsn: str, soort: str, today: date, *, always: bool) -> date | None:
    """Whether (and when) a person's address was verified, from a hash of the BSN and not from the
    random stream (so adding it changed nothing else in the world): two in three addresses, and
    always those of README_BSNS[0]; the date lies 1-700 days back."""
    digest = hashlib.sha256(f"verificatie:{bsn}:{soort}".encode()).digest()
    if not always and digest[0] % 3 == 0:
        return None
    return today - timedelta(days=1 + int.from_bytes(digest[1:3], "big") % 700)


def freeze_person(
    builder: Builder,
    d: Draft,
    zaaktypen: tuple[Zaaktype, ...],
    actoren: tuple[Actor, ...],
    *,
    shielded_bsn: str,
    no_partij_bsn: str,
    partij_nummer: int,
) -> Person:
    """Zaken, digital addresses and contacts of one drafted person, from the builder's random stream."""
    rng = builder.rng
    reference_date = builder.today
    main = d.bsn == README_BSNS[0]
    adult = is_adult(d, reference_date)
    n_zaken = 3 if main else (rng.randrange(0, 5) if adult else 0)
    zaken = draw_zaken(builder, d.bsn, zaaktypen, d.address, n=n_zaken, open_first=main)
    has_partij = d.bsn != no_partij_bsn
    email_user = f"{slug(d.voornamen.split()[0])}.{slug(d.voorvoegsel + d.geslachtsnaam)}"
    emails: tuple[DigitaalAdres, ...] = ()
    phones: tuple[DigitaalAdres, ...] = ()
    contacts: tuple[Klantcontact, ...] = ()
    taken: tuple[InterneTaak, ...] = ()
    if has_partij and adult:
        if main or rng.random() < 0.8:
            emails = (
                DigitaalAdres(
                    stable_uuid("digitaaladres", d.bsn, "email"),
                    f"{email_user}@example.nl",
                    "email",
                    "Privé",
                    verified_on(d.bsn, "email", reference_date, always=main),
                ),
            )
        if main or rng.random() < 0.7:
            phones = (
                DigitaalAdres(
                    stable_uuid("digitaaladres", d.bsn, "telefoon"),
                    f"06{rng.randrange(10000000, 99999999)}",
                    "telefoonnummer",
                    "Mobiel",
                    verified_on(d.bsn, "telefoon", reference_date, always=main),
                ),
            )
        contacts, taken = draw_contacten(
            builder, d.bsn, zaken, actoren, n=3 if main else rng.randrange(0, 6), open_taak=main
        )
    kanalen = [k for k, has in (("e-mail", emails), ("telefoon", phones)) if has] or ["post"]
    return Person(
        bsn=d.bsn,
        voornamen=d.voornamen,
        voorvoegsel=d.voorvoegsel,
        geslachtsnaam=d.geslachtsnaam,
        geboortedatum=d.geboortedatum,
        geslacht=d.geslacht,
        address=d.address,
        datum_inschrijving_in_gemeente=d.datum_inschrijving,
        geheimhouding=rng.randrange(1, 8) if d.bsn == shielded_bsn else 0,
        partner_bsn=d.partner_bsn,
        partner_sinds=d.partner_sinds,
        kinderen_bsns=tuple(d.kinderen),
        ouders_bsns=tuple(d.ouders),
        emailadressen=emails,
        telefoonnummers=phones,
        voorkeurskanaal="e-mail" if main else rng.choice(kanalen),
        voorkeurstaal="nld",
        partij_uuid=stable_uuid("partij", d.bsn) if has_partij else None,
        partij_nummer=f"{partij_nummer:010d}" if has_partij else None,
        zaken=zaken,
        klantcontacten=contacts,
        interne_taken=taken,
    )
