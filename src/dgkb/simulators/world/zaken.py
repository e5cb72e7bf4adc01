"""Zaken, klantcontacten and interne taken of a person or company, drawn from the builder's random
stream and numbered on from its sequences (ZAAK-…, klantcontact and taak nummers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from dgkb.simulators.world.catalogue import ZAAKTYPEN
from dgkb.simulators.world.draws import at, random_date, stable_uuid
from dgkb.simulators.world.households import Builder
from dgkb.simulators.world.model import (
    Actor,
    Address,
    InterneTaak,
    Klantcontact,
    Person,
    Zaak,
    ZaakStatus,
    Zaaktype,
)

ONDERWERPEN: tuple[tuple[str, str], ...] = (
    ("Vraag over afvalinzameling", "Klant vraagt wanneer het grofvuil wordt opgehaald."),
    ("Adreswijziging doorgeven", "Klant wil weten hoe een verhuizing wordt doorgegeven."),
    ("Paspoort aanvragen", "Klant vraagt naar de levertijd van een paspoort."),
    ("Afspraak maken", "Afspraak gemaakt bij de balie voor een uittreksel."),
    ("Vraag over gemeentelijke belastingen", "Klant vraagt om uitleg over de aanslag."),
)
HANDELINGEN = ("Terugbellen", "Informatie opvragen bij vakafdeling", "Terugmailen met antwoord")
KANALEN = ("telefoon", "e-mail", "balie")


def draw_zaken(
    builder: Builder,
    bsn: str,
    zaaktypen: tuple[Zaaktype, ...],
    address: Address,
    *,
    n: int,
    open_first: bool = False,
) -> tuple[Zaak, ...]:
    """`n` zaken of `bsn` (or a KVK-nummer) of the given zaaktypen, numbered on from the builder's
    sequence; with `open_first` the first one is open."""
    rng = builder.rng
    result = []
    for i in range(n):
        builder.zaak_seq += 1
        zaaktype = rng.choice(zaaktypen)
        templates = next(t for t in ZAAKTYPEN if t[0] == zaaktype.identificatie)[5]
        omschrijving = rng.choice(templates).format(straat=address.straat, huisnummer=address.huisnummer)
        is_open = (i == 0) if open_first else (rng.random() < 0.45 if i != 1 else False)
        start = random_date(rng, builder.today - timedelta(days=700), builder.today - timedelta(days=3))
        if is_open:
            start = max(start, builder.today - timedelta(days=zaaktype.doorlooptijd_dagen - 2))
        uiterlijk = start + timedelta(days=zaaktype.doorlooptijd_dagen)
        zaak_uuid = stable_uuid("zaak", builder.zaak_seq)
        types = zaaktype.statustypen
        reached = len(types) if not is_open else rng.randrange(1, len(types))
        statussen = []
        moment = start
        for s in range(reached):
            statussen.append(ZaakStatus(stable_uuid("status", zaak_uuid, s), types[s].uuid, at(moment, rng)))
            moment = min(
                moment + timedelta(days=rng.randrange(1, max(2, zaaktype.doorlooptijd_dagen // 3))),
                builder.today - timedelta(days=1),
            )
        einddatum = None if is_open else statussen[-1].datum_status_gezet.date()
        resultaattype = None if is_open else rng.choice(zaaktype.resultaattypen).uuid
        result.append(
            Zaak(
                uuid=zaak_uuid,
                identificatie=f"ZAAK-{start.year}-{builder.zaak_seq:07d}",
                zaaktype_uuid=zaaktype.uuid,
                omschrijving=omschrijving,
                startdatum=start,
                einddatum=einddatum,
                uiterlijke_einddatum_afdoening=uiterlijk,
                statussen=tuple(statussen),
                resultaattype_uuid=resultaattype,
                resultaat_uuid=None if is_open else stable_uuid("resultaat", zaak_uuid),
                initiator_bsn=bsn,
                rol_uuid=stable_uuid("rol", zaak_uuid),
            )
        )
    return tuple(result)


def draw_contacten(
    builder: Builder,
    bsn: str,
    zaken: tuple[Zaak, ...],
    actoren: tuple[Actor, ...],
    *,
    n: int,
    open_taak: bool,
) -> tuple[tuple[Klantcontact, ...], tuple[InterneTaak, ...]]:
    """`n` klantcontacten (newest first), some about one of `zaken`, and interne taken for some of them;
    with `open_taak` the newest contact has an open taak."""
    rng = builder.rng
    contacts = []
    for i in range(n):
        builder.contact_seq += 1
        zaak = zaken[i % len(zaken)] if zaken and rng.random() < 0.5 else None
        if zaak is not None:
            onderwerp = f"Vraag over zaak {zaak.identificatie}"
            inhoud = f"Klant vraagt naar de voortgang van '{zaak.omschrijving}'."
        else:
            onderwerp, inhoud = rng.choice(ONDERWERPEN)
        when = at(
            random_date(rng, builder.today - timedelta(days=400), builder.today - timedelta(days=1)), rng
        )
        contact_uuid = stable_uuid("klantcontact", builder.contact_seq)
        contacts.append(
            Klantcontact(
                uuid=contact_uuid,
                nummer=f"{builder.contact_seq:010d}",
                kanaal=rng.choice(KANALEN),
                onderwerp=onderwerp,
                inhoud=inhoud,
                indicatie_contact_gelukt=rng.random() < 0.85,
                plaatsgevonden_op=when,
                zaak_identificatie=zaak.identificatie if zaak else None,
                betrokkene_uuid=stable_uuid("betrokkene", contact_uuid),
                onderwerpobject_uuid=stable_uuid("onderwerpobject", contact_uuid) if zaak else None,
            )
        )
    contacts.sort(key=lambda c: c.plaatsgevonden_op, reverse=True)
    taken = []
    for j, contact in enumerate(contacts):
        if not (open_taak and j == 0) and rng.random() > 0.35:
            continue
        builder.taak_seq += 1
        is_open = (open_taak and j == 0) or rng.random() < 0.5
        actor = rng.choice(actoren)
        taken.append(
            InterneTaak(
                uuid=stable_uuid("internetaak", builder.taak_seq),
                nummer=f"{builder.taak_seq:010d}",
                klantcontact_uuid=contact.uuid,
                gevraagde_handeling=rng.choice(HANDELINGEN),
                toelichting=f"Naar aanleiding van: {contact.onderwerp}",
                status="te_verwerken" if is_open else "verwerkt",
                actor_uuid=actor.uuid,
                toegewezen_op=contact.plaatsgevonden_op + timedelta(minutes=5),
                afgehandeld_op=None if is_open else contact.plaatsgevonden_op + timedelta(days=2),
            )
        )
    return tuple(contacts), tuple(taken)


def repeat_contacts(builder: Builder, person: Person) -> Person:
    """Three contacts about the same onderwerp within two weeks, none of them resolved at first."""
    onderwerp, inhoud = ONDERWERPEN[0]
    added = []
    for days_ago, kanaal, gelukt in ((13, "telefoon", False), (6, "e-mail", False), (1, "telefoon", True)):
        builder.contact_seq += 1
        contact_uuid = stable_uuid("klantcontact", builder.contact_seq)
        when = datetime.combine(builder.today - timedelta(days=days_ago), time(10, 30), tzinfo=UTC)
        added.append(
            Klantcontact(
                uuid=contact_uuid,
                nummer=f"{builder.contact_seq:010d}",
                kanaal=kanaal,
                onderwerp=onderwerp,
                inhoud=f"{inhoud} (herhaald contact)",
                indicatie_contact_gelukt=gelukt,
                plaatsgevonden_op=when,
                zaak_identificatie=None,
                betrokkene_uuid=stable_uuid("betrokkene", contact_uuid),
                onderwerpobject_uuid=None,
            )
        )
    contacts = sorted((*person.klantcontacten, *added), key=lambda c: c.plaatsgevonden_op, reverse=True)
    return replace(person, klantcontacten=tuple(contacts))
