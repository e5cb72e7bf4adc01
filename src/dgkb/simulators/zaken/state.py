"""The Zaken simulator's in-memory store: every zaak of the world with its rollen, statussen and
resultaat, the catalogue indexes, the test switches, and the operations the routes call."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dgkb.simulators.world import (
    README_BSNS,
    Company,
    Resultaattype,
    Statustype,
    World,
    Zaak,
    ZaakDocument,
    Zaaktype,
    wacht_op_aanvulling,
    zaak_documenten,
)
from dgkb.simulators.world.draws import stable_uuid

BSN_FILTER = "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn"
NNP_FILTER = "rol__betrokkeneIdentificatie__nietNatuurlijkPersoon__innNnpId"
VESTIGING_FILTER = "rol__betrokkeneIdentificatie__vestiging__vestigingsNummer"
MEDEWERKER_FILTER = "rol__betrokkeneIdentificatie__medewerker__identificatie"
SUBJECT_FILTERS = (BSN_FILTER, NNP_FILTER, VESTIGING_FILTER, MEDEWERKER_FILTER)
# filter -> (betrokkeneType, key in betrokkeneIdentificatie)
FILTERS = {
    BSN_FILTER: ("natuurlijk_persoon", "inpBsn"),
    NNP_FILTER: ("niet_natuurlijk_persoon", "innNnpId"),
    VESTIGING_FILTER: ("vestiging", "vestigingsNummer"),
    MEDEWERKER_FILTER: ("medewerker", "identificatie"),
}
# The roltypen of every zaaktype (Catalogi API `roltypen`), by omschrijvingGeneriek: a client making
# a rol names one of these (POST /rollen `roltype`), and the rol takes its omschrijving from it.
ROLTYPEN = {"initiator": "Initiator", "belanghebbende": "Belanghebbende", "behandelaar": "Behandelaar"}


def roltype_uuid(zaaktype_uuid: str, generiek: str) -> str:
    """The uuid of the zaaktype's roltype of `generiek` (the same in every world)."""
    return str(uuid.uuid5(uuid.UUID(zaaktype_uuid), f"roltype/{generiek}"))


def _zaaktype(
    ident: str, omschrijving: str, dagen: int, statussen: tuple[str, ...], resultaten: tuple[str, ...]
) -> Zaaktype:
    return Zaaktype(
        stable_uuid("zaaktype", ident),
        ident,
        omschrijving,
        dagen,
        tuple(
            Statustype(stable_uuid("statustype", ident, i), i + 1, naam, i == len(statussen) - 1)
            for i, naam in enumerate(statussen)
        ),
        tuple(Resultaattype(stable_uuid("resultaattype", ident, naam), naam) for naam in resultaten),
    )


# Zaaktypen of the catalogue no zaak of the world has (so the world stays as it is): a zaak of these
# is only ever made through POST /zaken, e.g. a correction request DGKB routes to its owner.
EXTRA_ZAAKTYPEN = (
    _zaaktype(
        "CORRECTIEVERZOEK",
        "Verzoek om correctie van gegevens",
        28,
        ("Ontvangen", "In behandeling", "Afgehandeld"),
        ("Gecorrigeerd", "Niet gecorrigeerd"),
    ),
)
# the demo case worker (his OIDC account id is the medewerker identificatie) and the zaken he handles
BEHANDELAAR = {"identificatie": "behandelaar-bram", "achternaam": "Jansen", "voorletters": "B."}
_WMO = "Aanvraag Wmo-voorziening"
_GESLACHT = {"M": "m", "V": "v"}


@dataclass(frozen=True, slots=True)
class Rol:
    """One betrokkene of a zaak: its uuid, generic role and `betrokkeneType` + identificatie."""

    uuid: str
    omschrijving_generiek: str  # "initiator" | "belanghebbende" | "behandelaar"
    betrokkene_type: str  # "natuurlijk_persoon" | "niet_natuurlijk_persoon" | "vestiging" | "medewerker"
    identificatie: dict[str, Any]
    # what a client wrote when it made the rol (POST /rollen); a rol of the world has the defaults
    roltoelichting: str | None = None
    registratiedatum: datetime | None = None


@dataclass(slots=True)
class ZaakState:
    """The mutable part of a zaak: its statussen, einddatum and resultaat (and its fixed rollen)."""

    zaak: Zaak
    statussen: list[tuple[str, str, datetime]] = field(default_factory=list)  # uuid, statustype uuid, when
    einddatum: date | None = None
    resultaat: tuple[str, str] | None = None  # resultaat uuid, resultaattype uuid
    rollen: list[Rol] = field(default_factory=list)
    documenten: tuple[ZaakDocument, ...] = ()  # its zaakinformatieobjecten
    opschorting: str | None = None  # the reason it is suspended (waits for the customer), or None
    # what a client wrote when it made the zaak (POST /zaken); a zaak of the world has the defaults
    toelichting: str = ""
    bronorganisatie: str | None = None  # RSIN; None: the simulator's own
    verantwoordelijke_organisatie: str | None = None
    registratiedatum: date | None = None  # None: its startdatum


def rol_matches(rol: Rol, name: str, value: str) -> bool:
    kind, key = FILTERS[name]
    return rol.betrokkene_type == kind and rol.identificatie.get(key) == value


def last_segment(url: str) -> str:
    """The uuid at the end of a URL (or the uuid itself)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def person_rol(world: World, z: Zaak) -> Rol:
    person = world.person(z.initiator_bsn)
    identificatie: dict[str, Any] = {"inpBsn": z.initiator_bsn, "anpIdentificatie": ""}
    if person is not None:
        identificatie.update(
            {
                "geslachtsnaam": person.geslachtsnaam,
                "voorvoegselGeslachtsnaam": person.voorvoegsel,
                "voorletters": person.voorletters,
                "voornamen": person.voornamen,
                "geslachtsaanduiding": _GESLACHT[person.geslacht],
                "geboortedatum": person.geboortedatum.isoformat(),
                "verblijfsadres": None,
                "subVerblijfBuitenland": None,
            }
        )
    return Rol(z.rol_uuid, "initiator", "natuurlijk_persoon", identificatie)


def company_rollen(company: Company, z: Zaak, index: int) -> list[Rol]:
    rollen = [
        Rol(
            z.rol_uuid,
            "initiator",
            "niet_natuurlijk_persoon",
            {
                "innNnpId": company.kvk_nummer,
                "annIdentificatie": "",
                "statutaireNaam": company.naam,
                "innRechtsvorm": "",
                "bezoekadres": "",
                "subVerblijfBuitenland": None,
            },
        )
    ]
    if company.vestigingen:
        vestiging = company.vestigingen[index % len(company.vestigingen)]
        rollen.append(
            Rol(
                str(uuid.uuid5(uuid.UUID(z.rol_uuid), "vestiging")),
                "belanghebbende",
                "vestiging",
                {
                    "vestigingsNummer": vestiging.vestigingsnummer,
                    "handelsnaam": [vestiging.eerste_handelsnaam],
                    "verblijfsadres": None,
                    "subVerblijfBuitenland": None,
                    "kvkNummer": company.kvk_nummer,
                },
            )
        )
    return rollen


def behandelaar_rol(z: Zaak) -> Rol:
    return Rol(
        str(uuid.uuid5(uuid.UUID(z.rol_uuid), "behandelaar")), "behandelaar", "medewerker", BEHANDELAAR
    )


def with_behandelaar(owned: list[tuple[Zaak, list[Rol]]], zaaktypen: dict[str, Zaaktype]) -> None:
    """Add the demo behandelaar to every open Wmo zaak and to every fifth other open zaak (no new
    zaken, so what a person or company has stays the same)."""
    others = 0
    for zaak, rollen in owned:
        if not zaak.is_open:
            continue
        if zaaktypen[zaak.zaaktype_uuid].omschrijving != _WMO:
            others += 1
            if others % 5:
                continue
        rollen.append(behandelaar_rol(zaak))


class ZakenStore:
    """Every zaak of `world` (of persons and of companies) as a ZaakState, indexed by uuid, with its
    rollen and statussen indexed too, and the catalogue (zaaktypen, statustypen, resultaattypen)."""

    def __init__(self, world: World) -> None:
        self.world = world
        # ignoreFilters: the zaken list ignores the betrokkene filters; ignoreExpand: `expand` is ignored
        self.switches = {"ignoreFilters": False, "ignoreExpand": False}
        self.catalogus: tuple[Zaaktype, ...] = (*world.zaaktypen, *EXTRA_ZAAKTYPEN)
        self.zaaktypen = {zt.uuid: zt for zt in self.catalogus}
        self.statustypen: dict[str, tuple[Statustype, Zaaktype]] = {
            st.uuid: (st, zt) for zt in self.catalogus for st in zt.statustypen
        }
        self.resultaattypen: dict[str, tuple[Resultaattype, Zaaktype]] = {
            rt.uuid: (rt, zt) for zt in self.catalogus for rt in zt.resultaattypen
        }
        # roltype uuid -> (omschrijvingGeneriek, zaaktype)
        self.roltypen: dict[str, tuple[str, Zaaktype]] = {
            roltype_uuid(zt.uuid, g): (g, zt) for zt in self.catalogus for g in ROLTYPEN
        }
        self.states: dict[str, ZaakState] = {}
        owned: list[tuple[Zaak, list[Rol]]] = [(z, [person_rol(world, z)]) for z in world.zaken()]
        owned += [(z, company_rollen(c, z, i)) for c in world.companies for i, z in enumerate(c.zaken)]
        with_behandelaar(owned, self.zaaktypen)
        demo = world.person(README_BSNS[0])
        demo_open = sorted((z for z in demo.zaken if z.is_open), key=lambda z: z.startdatum) if demo else []
        demo_uuid = demo_open[-1].uuid if demo_open else None
        for zaak, rollen in owned:
            zaaktype = self.zaaktypen[zaak.zaaktype_uuid]
            self.states[zaak.uuid] = ZaakState(
                zaak,
                [(s.uuid, s.statustype_uuid, s.datum_status_gezet) for s in zaak.statussen],
                zaak.einddatum,
                (zaak.resultaat_uuid, zaak.resultaattype_uuid)
                if zaak.resultaat_uuid and zaak.resultaattype_uuid
                else None,
                rollen,
                zaak_documenten(zaak, zaaktype),
                wacht_op_aanvulling(zaak, zaaktype, demo=zaak.uuid == demo_uuid),
            )
        self.rol_index = {rol.uuid: (st, rol) for st in self.states.values() for rol in st.rollen}
        self.status_index = {s[0]: key for key, st in self.states.items() for s in st.statussen}
        self.zio_index = {d.uuid: (st, d) for st in self.states.values() for d in st.documenten}
        # (betrokkene filter, value) -> the zaken with such a rol: the list answers a subject's
        # zaken without walking every zaak (the rollen of a zaak are fixed once the world is built)
        self.subject_index: dict[tuple[str, str], set[str]] = {}
        for key, st in self.states.items():
            for rol in st.rollen:
                for name, (kind, field_name) in FILTERS.items():
                    value = rol.identificatie.get(field_name)
                    if rol.betrokkene_type == kind and value is not None:
                        self.subject_index.setdefault((name, value), set()).add(key)

    def zaken(self, q: Mapping[str, str]) -> list[ZaakState]:
        """The zaken the list filters in `q` select (betrokkene, identificatie, einddatum__isnull),
        newest first; the betrokkene filters are ignored while the ignoreFilters switch is on."""
        selected = list(self.states.values())
        if not self.switches["ignoreFilters"]:
            for name in SUBJECT_FILTERS:
                if (value := q.get(name)) is not None:
                    keys = self.subject_index.get((name, value), set())
                    selected = [s for s in selected if s.zaak.uuid in keys]
        if (ident := q.get("identificatie")) is not None:
            selected = [s for s in selected if s.zaak.identificatie == ident]
        if (isnull := q.get("einddatum__isnull")) is not None:
            want_null = isnull.lower() in ("true", "1")
            selected = [s for s in selected if (s.einddatum is None) == want_null]
        selected.sort(key=lambda s: (s.zaak.startdatum, s.zaak.identificatie), reverse=True)
        return selected

    def pool(self, zaak_url: str | None) -> list[ZaakState]:
        """All zaken, or only the one named by `zaak_url` (the `?zaak=URL` filter)."""
        if zaak_url is None:
            return list(self.states.values())
        chosen = self.states.get(last_segment(zaak_url))
        return [chosen] if chosen is not None else []

    def rollen(self, q: Mapping[str, str]) -> list[tuple[ZaakState, Rol]]:
        """The rollen the `/rollen` filters in `q` select, each with its zaak."""
        pairs = [(st, rol) for st in self.pool(q.get("zaak")) for rol in st.rollen]
        if (generiek := q.get("omschrijvingGeneriek")) is not None:
            pairs = [(st, rol) for st, rol in pairs if rol.omschrijving_generiek == generiek]
        if (soort := q.get("betrokkeneType")) is not None:
            pairs = [(st, rol) for st, rol in pairs if rol.betrokkene_type == soort]
        for name in SUBJECT_FILTERS:  # on /rollen the filters lack the `rol__` prefix
            if (value := q.get(name.removeprefix("rol__"))) is not None:
                pairs = [(st, rol) for st, rol in pairs if rol_matches(rol, name, value)]
        return pairs

    def zaakinformatieobjecten(
        self, zaak_uuid: str | None, informatieobject: str | None
    ) -> list[tuple[ZaakState, ZaakDocument]]:
        """The zaakinformatieobjecten of one zaak (or of all), optionally only those pointing to the
        document `informatieobject` (a URL; matched on its uuid), oldest first."""
        if zaak_uuid is None:
            pairs = [(st, d) for st in self.states.values() for d in st.documenten]
        else:
            chosen = self.states.get(zaak_uuid)
            pairs = [(chosen, d) for d in chosen.documenten] if chosen is not None else []
        if informatieobject is not None:
            wanted = last_segment(informatieobject)
            pairs = [(st, d) for st, d in pairs if d.informatieobject_uuid == wanted]
        return sorted(pairs, key=lambda p: p[1].registratiedatum)

    def status(self, status_uuid: str) -> tuple[ZaakState, int] | None:
        """The zaak a status belongs to and the status's index among its statussen."""
        zaak_uuid = self.status_index.get(status_uuid)
        if zaak_uuid is None:
            return None
        st = self.states[zaak_uuid]
        return st, next(i for i, s in enumerate(st.statussen) if s[0] == status_uuid)

    def with_resultaat(self, resultaat_uuid: str) -> ZaakState | None:
        """The zaak whose resultaat has this uuid."""
        return next(
            (s for s in self.states.values() if s.resultaat and s.resultaat[0] == resultaat_uuid), None
        )

    def add_status(
        self,
        st: ZaakState,
        statustype: Statustype,
        zaaktype: Zaaktype,
        resultaattype: str | None,
        now: datetime,
    ) -> None:
        """Give the zaak a new status of `statustype` at `now`: an eindstatus closes it with a resultaat
        (of `resultaattype`, a URL or uuid, else the zaaktype's first), any other reopens it."""
        status_uuid = f"{st.zaak.uuid[:24]}{len(st.statussen):012d}"
        st.statussen.append((status_uuid, statustype.uuid, now))
        self.status_index[status_uuid] = st.zaak.uuid
        if statustype.is_eindstatus:
            st.einddatum = now.date()
            chosen = (
                self.resultaattypen.get(last_segment(resultaattype)) if resultaattype is not None else None
            )
            chosen_type = chosen[0] if chosen else zaaktype.resultaattypen[0]
            st.resultaat = (f"{st.zaak.uuid[:24]}{999999:012d}", chosen_type.uuid)
        else:
            st.einddatum = None
            st.resultaat = None

    def next_identificatie(self, year: int) -> str:
        """A new identificatie, unique in this store (Open Zaak: ZAAK-<year>-<sequence>)."""
        taken = {st.zaak.identificatie for st in self.states.values()}
        n = len(self.states) + 1
        while f"ZAAK-{year}-{n:010d}" in taken:
            n += 1
        return f"ZAAK-{year}-{n:010d}"

    def create_zaak(
        self,
        zaaktype: Zaaktype,
        *,
        identificatie: str,
        omschrijving: str,
        toelichting: str,
        startdatum: date,
        bronorganisatie: str,
        verantwoordelijke_organisatie: str,
        today: date,
    ) -> ZaakState:
        """A new zaak without rollen or statussen (what POST /zaken makes)."""
        new_uuid = str(uuid.uuid4())
        zaak = Zaak(
            uuid=new_uuid,
            identificatie=identificatie,
            zaaktype_uuid=zaaktype.uuid,
            omschrijving=omschrijving,
            startdatum=startdatum,
            einddatum=None,
            uiterlijke_einddatum_afdoening=startdatum + timedelta(days=zaaktype.doorlooptijd_dagen),
            statussen=(),
            resultaattype_uuid=None,
            resultaat_uuid=None,
            initiator_bsn="",
            rol_uuid=str(uuid.uuid4()),
        )
        st = ZaakState(
            zaak,
            toelichting=toelichting,
            bronorganisatie=bronorganisatie,
            verantwoordelijke_organisatie=verantwoordelijke_organisatie,
            registratiedatum=today,
        )
        self.states[new_uuid] = st
        return st

    def add_rol(self, st: ZaakState, rol: Rol) -> None:
        """A new rol of the zaak, found from now on by the betrokkene filters."""
        st.rollen.append(rol)
        self.rol_index[rol.uuid] = (st, rol)
        for name, (kind, field_name) in FILTERS.items():
            value = rol.identificatie.get(field_name)
            if rol.betrokkene_type == kind and value:
                self.subject_index.setdefault((name, value), set()).add(st.zaak.uuid)
