"""The JSON of the Klantinteracties API 0.9 as Open Klant 2 renders it. Objects are stored with
path-only URLs (`fk`) and rendered with the caller's host (`render`), so the same store answers on any
port. A partij of the world (a person, a company or a branch) is first turned into a `PartijSeed`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dgkb.simulators.world import Actor, Company, DigitaalAdres, InterneTaak, Klantcontact, Person, Vestiging

BASE_PATH = "/klantinteracties/api/v1"
API_VERSION = "0.9.0"
Obj = dict[str, Any]

# What Open Klant publishes per kanaal: (resource, kenmerken); see the package docstring
KANALEN: dict[str, tuple[str, tuple[str, ...]]] = {
    "partijen": ("partij", ("nummer", "interneNotitie", "soortPartij")),
    "internetaken": ("internetaak", ("nummer", "gevraagdeHandeling", "toelichting", "status")),
    "klantcontacten": (
        "klantcontact",
        ("hoofdOnderwerpType", "indicatieContactGelukt", "verdereActieOndernomen"),
    ),
}
# How zaak links are written varies per organisation: Open Klant's own examples use
# `codeObjecttype: "zaak"`, KISS-style front-ends write `zgw-Zaak`. The world uses both.
ZAAK_STYLES: tuple[Obj, ...] = (
    {"codeObjecttype": "zaak", "codeRegister": "openzaak", "codeSoortObjectId": "zaak"},
    {"codeObjecttype": "zgw-Zaak", "codeRegister": "openzaak", "codeSoortObjectId": "identificatie"},
)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fk(resource: str, obj_uuid: str) -> Obj:
    """A link to an object: its uuid and path-only url."""
    return {"uuid": obj_uuid, "url": f"{BASE_PATH}/{resource}/{obj_uuid}"}


def fk_uuid(value: Any) -> str | None:
    """The uuid a link in a request body names (by `uuid`, else by the end of its `url`)."""
    if isinstance(value, dict):
        if isinstance(value.get("uuid"), str):
            return str(value["uuid"])
        if isinstance(value.get("url"), str):
            return str(value["url"]).rstrip("/").rsplit("/", 1)[-1]
    return None


def render(value: Any, base: str) -> Any:
    """Prefix every path-only `url` with the caller's scheme and host."""
    if isinstance(value, dict):
        return {
            k: (base + v if k == "url" and isinstance(v, str) and v.startswith("/") else render(v, base))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [render(v, base) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class PartijSeed:
    """What a partij of the world (a person or a company) brings into Klantinteracties."""

    uuid: str
    nummer: str | None
    soort: str  # "persoon" | "organisatie"
    identificatoren: tuple[tuple[str, str, str, str], ...]  # (objecttype, soort objectId, objectId, register)
    partij_identificatie: Obj
    contactnaam: Obj | None
    volledige_naam: str
    organisatienaam: str
    adressen: tuple[DigitaalAdres, ...]
    voorkeur: DigitaalAdres | None
    geheim: bool
    voorkeurstaal: str
    contacten: tuple[Klantcontact, ...]
    taken: tuple[InterneTaak, ...]


def person_seed(p: Person) -> PartijSeed:
    assert p.partij_uuid is not None
    contactnaam = {
        "voorletters": p.voorletters,
        "voornaam": p.voornamen.split()[0],
        "voorvoegselAchternaam": p.voorvoegsel,
        "achternaam": p.geslachtsnaam,
    }
    return PartijSeed(
        uuid=p.partij_uuid,
        nummer=p.partij_nummer,
        soort="persoon",
        identificatoren=(("natuurlijk_persoon", "bsn", p.bsn, "brp"),),
        partij_identificatie={"contactnaam": contactnaam, "volledigeNaam": p.volledige_naam},
        contactnaam=contactnaam,
        volledige_naam=p.volledige_naam,
        organisatienaam="",
        adressen=p.digitale_adressen,
        voorkeur=p.voorkeurs_digitaal_adres,
        geheim=p.geheimhouding > 0,
        voorkeurstaal=p.voorkeurstaal,
        contacten=p.klantcontacten,
        taken=p.interne_taken,
    )


def company_seed(c: Company) -> PartijSeed:
    ids = [("niet_natuurlijk_persoon", "kvk_nummer", c.kvk_nummer, "hr")]
    if c.rsin:
        ids.append(("niet_natuurlijk_persoon", "rsin", c.rsin, "hr"))
    hoofd = c.hoofdvestiging
    if hoofd is not None:  # one vestigingsnummer per partij (Open Klant: one per codeSoortObjectId)
        ids.append(("vestiging", "vestigingsnummer", hoofd.vestigingsnummer, "hr"))
    return PartijSeed(
        uuid=c.partij_uuid,
        nummer=c.partij_nummer,
        soort="organisatie",
        identificatoren=tuple(ids),
        partij_identificatie={"naam": c.naam},
        contactnaam=None,
        volledige_naam=c.naam,
        organisatienaam=c.naam,
        adressen=c.digitale_adressen,
        voorkeur=(c.emailadressen or c.telefoonnummers or (None,))[0],
        geheim=False,
        voorkeurstaal="nld",
        contacten=c.klantcontacten,
        taken=c.interne_taken,
    )


def vestiging_seed(c: Company, v: Vestiging) -> PartijSeed:
    """A branch other than the hoofdvestiging: a partij of its own, identified by its vestigingsnummer
    under the company's KVK-nummer (`subIdentificatorVan`)."""
    return PartijSeed(
        uuid=str(uuid.uuid5(uuid.UUID(c.partij_uuid), v.vestigingsnummer)),
        nummer=None,
        soort="organisatie",
        identificatoren=(("vestiging", "vestigingsnummer", v.vestigingsnummer, "hr"),),
        partij_identificatie={"naam": v.eerste_handelsnaam},
        contactnaam=None,
        volledige_naam=v.eerste_handelsnaam,
        organisatienaam=v.eerste_handelsnaam,
        adressen=(),
        voorkeur=None,
        geheim=False,
        voorkeurstaal="nld",
        contacten=(),
        taken=(),
    )


def actor_json(actor: Actor) -> Obj:
    return {
        "uuid": actor.uuid,
        "url": f"{BASE_PATH}/actoren/{actor.uuid}",
        "naam": actor.naam,
        "soortActor": "organisatorische_eenheid",
        "indicatieActief": True,
        "actoridentificator": None,
        "actorIdentificatie": {
            "omschrijving": actor.naam,
            # no "emailadres": "" — the spec's format is email, which an empty string is not
            "faxnummer": "",
            "telefoonnummer": actor.telefoonnummer,
        },
    }


def identificator_json(
    ident_uuid: str, partij: Obj, identificator: tuple[str, str, str, str], sub_van: str | None
) -> Obj:
    """A partij-identificator; a vestigingsnummer hangs under the KVK-nummer's identificator `sub_van`."""
    objecttype, soort, object_id, register = identificator
    return {
        **fk("partij-identificatoren", ident_uuid),
        "identificeerdePartij": partij,
        "anderePartijIdentificator": "",
        "partijIdentificator": {
            "codeObjecttype": objecttype,
            "codeSoortObjectId": soort,
            "objectId": object_id,
            "codeRegister": register,
        },
        "subIdentificatorVan": fk("partij-identificatoren", sub_van)
        if soort == "vestigingsnummer" and sub_van
        else None,
    }


def digitaal_adres_json(adres: DigitaalAdres, partij: Obj, *, standaard: bool) -> Obj:
    return {
        **fk("digitaleadressen", adres.uuid),
        "verstrektDoorBetrokkene": None,
        "verstrektDoorPartij": partij,
        "adres": adres.adres,
        "soortDigitaalAdres": adres.soort,
        "isStandaardAdres": standaard,
        "omschrijving": adres.omschrijving,
        "verificatieDatum": adres.verificatie_datum.isoformat() if adres.verificatie_datum else None,
    }


def extra_adres_json(obj_uuid: str, adres: str, soort: str) -> Obj:
    """One of the extra (benchmark) digitale adressen, which belong to no partij."""
    return {
        **fk("digitaleadressen", obj_uuid),
        "verstrektDoorBetrokkene": None,
        "verstrektDoorPartij": None,
        "adres": adres,
        "soortDigitaalAdres": soort,
        "isStandaardAdres": False,
        "omschrijving": "",
        "verificatieDatum": None,
    }


def partij_json(s: PartijSeed, partij: Obj, identificatoren: list[Obj]) -> Obj:
    return {
        **partij,
        "nummer": s.nummer,
        "interneNotitie": "",
        "betrokkenen": [fk("betrokkenen", c.betrokkene_uuid) for c in s.contacten],
        "categorieRelaties": [],
        "digitaleAdressen": [fk("digitaleadressen", a.uuid) for a in s.adressen],
        "voorkeursDigitaalAdres": fk("digitaleadressen", s.voorkeur.uuid) if s.voorkeur else None,
        "vertegenwoordigden": [],
        "rekeningnummers": [],
        "voorkeursRekeningnummer": None,
        "partijIdentificatoren": identificatoren,
        "soortPartij": s.soort,
        "indicatieGeheimhouding": s.geheim,
        "voorkeurstaal": s.voorkeurstaal,
        "indicatieActief": True,
        "bezoekadres": None,
        "correspondentieadres": None,
        "partijIdentificatie": s.partij_identificatie,
    }


def internetaak_json(taak: InterneTaak) -> Obj:
    actor = fk("actoren", taak.actor_uuid)
    return {
        **fk("internetaken", taak.uuid),
        "nummer": taak.nummer,
        "referentienummer": None,
        "gevraagdeHandeling": taak.gevraagde_handeling,
        "aanleidinggevendKlantcontact": fk("klantcontacten", taak.klantcontact_uuid),
        "toegewezenAanActor": actor,
        "toegewezenAanActoren": [actor],
        "toelichting": taak.toelichting,
        "status": taak.status,
        "toegewezenOp": iso(taak.toegewezen_op),
        "afgehandeldOp": iso(taak.afgehandeld_op) if taak.afgehandeld_op else None,
    }


def betrokkene_json(c: Klantcontact, s: PartijSeed, partij: Obj) -> Obj:
    """The partij as betrokkene (the klant, initiator) of one of its klantcontacten."""
    return {
        **fk("betrokkenen", c.betrokkene_uuid),
        "wasPartij": partij,
        "hadKlantcontact": fk("klantcontacten", c.uuid),
        "digitaleAdressen": [],
        "bezoekadres": None,
        "correspondentieadres": None,
        "contactnaam": s.contactnaam,
        "volledigeNaam": s.volledige_naam,
        "rol": "klant",
        "organisatienaam": s.organisatienaam,
        "initiator": True,
    }


def onderwerpobject_json(
    onderwerpobject_uuid: str, c: Klantcontact, zaak_identificatie: str, style: Obj
) -> Obj:
    """The zaak a klantcontact was about, written in one of the ZAAK_STYLES."""
    return {
        **fk("onderwerpobjecten", onderwerpobject_uuid),
        "klantcontact": fk("klantcontacten", c.uuid),
        "wasKlantcontact": None,
        "onderwerpobjectidentificator": {"objectId": zaak_identificatie, **style},
    }


def klantcontact_json(c: Klantcontact, taken: list[str]) -> Obj:
    """A klantcontact of the world, with the interne taken (uuids) it led to."""
    return {
        **fk("klantcontacten", c.uuid),
        "gingOverOnderwerpobjecten": [fk("onderwerpobjecten", c.onderwerpobject_uuid)]
        if c.onderwerpobject_uuid
        else [],
        "hadBetrokkenActoren": [],
        "omvatteBijlagen": [],
        "hadBetrokkenen": [fk("betrokkenen", c.betrokkene_uuid)],
        "leiddeTotInterneTaken": [fk("internetaken", t) for t in taken],
        "nummer": c.nummer,
        "referentienummer": None,
        "kanaal": c.kanaal,
        "onderwerp": c.onderwerp,
        "inhoud": c.inhoud,
        "reactie": "",
        "indicatieContactGelukt": c.indicatie_contact_gelukt,
        "verdereActieOndernomen": False,
        "taal": "nld",
        "vertrouwelijk": False,
        "plaatsgevondenOp": iso(c.plaatsgevonden_op),
    }


def notificatie_json(kanaal: str, obj: Obj, url: str, actie: str, now: datetime) -> Obj:
    """The message Open Klant publishes for a write of `obj` (at `url`) on `kanaal`: kenmerken taken
    from the object as they are, empty strings, booleans and null included."""
    resource, kenmerken = KANALEN[kanaal]
    return {
        "kanaal": kanaal,
        "hoofdObject": url,
        "resource": resource,
        "resourceUrl": url,
        "actie": actie,
        "aanmaakdatum": iso(now),
        "kenmerken": {k: obj.get(k, "") for k in kenmerken},
    }
