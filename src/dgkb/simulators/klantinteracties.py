"""Klantinteracties API 0.9 simulator, as served by Open Klant 2, at `/klantinteracties/api/v1`.

Reads: partijen (by partij-identificator), digitaleadressen, klantcontacten (by the partij of a
betrokkene, with `expand`), betrokkenen, onderwerpobjecten, internetaken, actoren. Writes (kept in
memory, validated on required fields, enums and the spec's max lengths, 400 with `invalidParams`):
klantcontacten, betrokkenen, onderwerpobjecten and internetaken (create), internetaken (`PUT`,
`PATCH`), partijen (`PATCH`: nummer, interneNotitie, voorkeursDigitaalAdres — one of the partij's own
digitale adressen —, voorkeurstaal, indicatieActief, indicatieGeheimhouding, soortPartij).

Authentication, as the spec says and Open Klant does: every API request carries
`Authorization: Token <token>` (the spec's securitySchemes.tokenAuth, "Token-based authentication with
required prefix "Token""; Open Klant's components/token TokenAuthentication + TokenPermissions).
Without it, with another scheme (`Bearer …`) or with another token: 401 problem+json with
`WWW-Authenticate: Token` — `not_authenticated` "Authenticatiegegevens zijn niet opgegeven." or
`authentication_failed` "Ongeldige token." (Django REST framework's texts, which Open Klant answers;
its test_authenticaton.py expects 401 for every call without a token). `/_sim/…` needs no token.

Where Open Klant is stricter than the spec it serves (each deviation from the spec, with its source):

- POST internetaken requires `toegewezenAanActoren` or the deprecated `toegewezenAanActor`, and not
  both, though the spec lists neither under `required`: Open Klant's InterneTaakSerializer
  (`_validate_actoren`, src/openklant/components/klantinteracties/api/serializers/internetaken.py)
  answers 400 with a `nonFieldErrors` entry "`toegewezen_aan_actor` of `toegewezen_aan_actoren` is
  required (mag niet beiden gebruiken)." (or "… mag niet beiden gebruikt worden." for both). As
  there, this object-level check runs only when every field is valid, and an empty list passes it.
  An actor that does not exist is a field error (`does_not_exist`).
- The 401 above: the spec requires tokenAuth on every operation but declares only the success
  responses; Open Klant answers 401 (DRF + vng-api-common's problem handler, see above).

Objects are stored with path-only URLs and rendered with the caller's host, so the same store answers
on any port.

Notifications, as Open Klant 2.x publishes them (maykinmedia/open-klant
src/openklant/components/klantinteracties/kanalen.py, api/tests/test_notifications.py): with
`notificaties_url` every write of a partij, interne taak or klantcontact is published in the background
(`POST {notificaties_url}/notificaties`, the write's answer does not wait) with `hoofdObject` =
`resourceUrl` = the object's URL and `actie` create / update / partial_update:

| kanaal | resource | kenmerken |
|---|---|---|
| `partijen` | `partij` | nummer, interneNotitie, soortPartij |
| `internetaken` | `internetaak` | nummer, gevraagdeHandeling, toelichting, status |
| `klantcontacten` | `klantcontact` | hoofdOnderwerpType, indicatieContactGelukt, verdereActieOndernomen |

Writes of betrokkenen and onderwerpobjecten publish nothing (they have no kanaal). Deviation from the
Notificaties API 1.0 spec (a kenmerk is a string of at least one character), modelled here: Open Klant
takes each kenmerk's value from the model field as it is (notifications-api-common
`Kanaal.get_kenmerken`), so empty strings go out (hoofdOnderwerpType, interneNotitie, toelichting), and
the klantcontacten kenmerken are booleans or null. Open Notificaties refuses a boolean or null kenmerk
(see dgkb.simulators.notificaties), so a klantcontacten notification never reaches a subscriber; what
happened to each is at `GET /_sim/notificaties` (kanaal, resource, actie, resourceUrl, status).
"""

from __future__ import annotations

import contextlib
import random
import uuid
from bisect import bisect_right
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dgkb.simulators.common import Behaviour, NotificatiePublisher, SimulatorMiddleware, problem, sim_routes
from dgkb.simulators.world import Company, DigitaalAdres, InterneTaak, Klantcontact, Person, Vestiging, World

__all__ = ["BASE_PATH", "create_app"]

BASE_PATH = "/klantinteracties/api/v1"
API_VERSION = "0.9.0"
MAX_PAGE_SIZE = 500
Obj = dict[str, Any]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _fk(resource: str, obj_uuid: str) -> Obj:
    return {"uuid": obj_uuid, "url": f"{BASE_PATH}/{resource}/{obj_uuid}"}


def _render(value: Any, base: str) -> Any:
    """Prefix every path-only `url` with the caller's scheme and host."""
    if isinstance(value, dict):
        return {
            k: (base + v if k == "url" and isinstance(v, str) and v.startswith("/") else _render(v, base))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_render(v, base) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class _Rule:
    """Validation of one writable field: JSON type, max length, required, nullable, enum."""

    kind: type | tuple[type, ...]
    max_length: int | None = None
    required: bool = False
    nullable: bool = False
    enum: tuple[str, ...] = ()


_FK = _Rule(dict)
_WRITE_RULES: dict[str, dict[str, _Rule]] = {
    "klantcontacten": {
        "nummer": _Rule(str, 10, nullable=True),
        "referentienummer": _Rule(str, 10, nullable=True),
        "kanaal": _Rule(str, 50, required=True),
        "onderwerp": _Rule(str, 200, required=True),
        "inhoud": _Rule(str, 1000),
        "reactie": _Rule(str, 4000),
        "indicatieContactGelukt": _Rule(bool, nullable=True),
        "hoofdOnderwerpType": _Rule(str, 200),
        "verdereActieOndernomen": _Rule(bool),
        "taal": _Rule(str, 3, required=True),
        "vertrouwelijk": _Rule(bool, required=True),
        "plaatsgevondenOp": _Rule(str, 40),
    },
    "betrokkenen": {
        "wasPartij": _Rule(dict, nullable=True),
        "hadKlantcontact": _Rule(dict, required=True),
        "bezoekadres": _Rule(dict, nullable=True),
        "correspondentieadres": _Rule(dict, nullable=True),
        "contactnaam": _Rule(dict, nullable=True),
        "rol": _Rule(str, required=True, enum=("vertegenwoordiger", "klant")),
        "organisatienaam": _Rule(str, 200),
        "initiator": _Rule(bool, required=True),
    },
    "onderwerpobjecten": {
        "klantcontact": _Rule(dict, nullable=True),
        "wasKlantcontact": _Rule(dict, nullable=True),
        "onderwerpobjectidentificator": _Rule(dict, nullable=True),
    },
    "internetaken": {
        "nummer": _Rule(str, 10, nullable=True),
        "referentienummer": _Rule(str, 10, nullable=True),
        "gevraagdeHandeling": _Rule(str, 200, required=True),
        "aanleidinggevendKlantcontact": _Rule(dict, required=True),
        "toegewezenAanActor": _Rule(dict),
        "toegewezenAanActoren": _Rule(list),
        "toelichting": _Rule(str, 1000),
        "status": _Rule(str, required=True, enum=("te_verwerken", "verwerkt")),
        "afgehandeldOp": _Rule(str, 40, nullable=True),
    },
    "partijen": {  # PATCH only
        "nummer": _Rule(str, 10),
        "interneNotitie": _Rule(str, 1000),
        "voorkeursDigitaalAdres": _Rule(dict, nullable=True),
        "voorkeurstaal": _Rule(str, 3),
        "indicatieActief": _Rule(bool),
        "indicatieGeheimhouding": _Rule(bool, nullable=True),
        "soortPartij": _Rule(str, enum=("persoon", "organisatie", "contactpersoon")),
    },
}
# What Open Klant publishes per kanaal: (resource, kenmerken); see the module docstring
_KANALEN: dict[str, tuple[str, tuple[str, ...]]] = {
    "partijen": ("partij", ("nummer", "interneNotitie", "soortPartij")),
    "internetaken": ("internetaak", ("nummer", "gevraagdeHandeling", "toelichting", "status")),
    "klantcontacten": (
        "klantcontact",
        ("hoofdOnderwerpType", "indicatieContactGelukt", "verdereActieOndernomen"),
    ),
}
_NESTED_MAX: dict[str, dict[str, int]] = {
    "onderwerpobjectidentificator": {
        "objectId": 200,
        "codeObjecttype": 200,
        "codeRegister": 200,
        "codeSoortObjectId": 200,
    },
    "contactnaam": {"voorletters": 10, "voornaam": 200, "voorvoegselAchternaam": 10, "achternaam": 200},
}


ACTOR_REQUIRED = "`toegewezen_aan_actor` of `toegewezen_aan_actoren` is required (mag niet beiden gebruiken)."
ACTOR_BOTH = "`toegewezen_aan_actor` en `toegewezen_aan_actoren` mag niet beiden gebruikt worden."
NOT_AUTHENTICATED = "Authenticatiegegevens zijn niet opgegeven."


class _TokenAuth:
    """Pure ASGI middleware: every API request needs `Authorization: Token <token>`, as Open Klant's
    token authentication wants it (see the module docstring); 401 otherwise."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        parts = header.split()
        refusal: tuple[str, str] | None = None
        if not parts or parts[0].lower() != "token":
            refusal = ("not_authenticated", NOT_AUTHENTICATED)  # no token at all, or Bearer/Basic/…
        elif len(parts) == 1:
            refusal = ("authentication_failed", "Ongeldige token header. Geen credentials meegegeven.")
        elif len(parts) > 2:
            refusal = (
                "authentication_failed",
                "Ongeldige token header. Token string mag geen spaties bevatten.",
            )
        elif parts[1] != self.token:
            refusal = ("authentication_failed", "Ongeldige token.")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        code, title = refusal
        response = problem(401, title, title, code=code, instance=scope["path"])
        response.headers["WWW-Authenticate"] = "Token"
        await response(scope, receive, send)


def _invalid(params: list[Obj], instance: str) -> Response:
    return problem(
        400, "Invalid input.", "Invalid input.", code="invalid", instance=instance, invalid_params=params
    )


def _validate(resource: str, body: Any, *, partial: bool = False) -> list[Obj]:
    """The errors of a create / full update (`partial`: a PATCH, where nothing is required)."""
    if not isinstance(body, dict):
        return [
            {"name": "nonFieldErrors", "code": "invalid", "reason": "Ongeldige data. Verwacht een object."}
        ]
    errors = []
    for name, rule in _WRITE_RULES[resource].items():
        if name not in body:
            if rule.required and not partial:
                errors.append({"name": name, "code": "required", "reason": "Dit veld is vereist."})
            continue
        value = body[name]
        if value is None:
            if not rule.nullable:
                errors.append({"name": name, "code": "null", "reason": "Dit veld mag niet leeg zijn."})
            continue
        if not isinstance(value, rule.kind) or (rule.kind is not bool and isinstance(value, bool)):
            errors.append({"name": name, "code": "invalid", "reason": "Ongeldig type."})
            continue
        if rule.max_length is not None and isinstance(value, str) and len(value) > rule.max_length:
            errors.append(
                {
                    "name": name,
                    "code": "max_length",
                    "reason": f"Zorg ervoor dat dit veld niet meer dan {rule.max_length} karakters bevat.",
                }
            )
        if rule.enum and value not in rule.enum:
            errors.append(
                {"name": name, "code": "invalid_choice", "reason": f"'{value}' is geen geldige keuze."}
            )
        if rule.kind is dict and name in _NESTED_MAX:
            for sub, limit in _NESTED_MAX[name].items():
                sub_value = value.get(sub)
                if sub_value is not None and (not isinstance(sub_value, str) or len(sub_value) > limit):
                    errors.append(
                        {
                            "name": f"{name}.{sub}",
                            "code": "max_length",
                            "reason": f"Zorg ervoor dat dit veld niet meer dan {limit} karakters bevat.",
                        }
                    )
    return errors  # read-only and unknown fields are ignored, as Django REST framework does


def _fk_uuid(value: Any) -> str | None:
    if isinstance(value, dict):
        if isinstance(value.get("uuid"), str):
            return str(value["uuid"])
        if isinstance(value.get("url"), str):
            return str(value["url"]).rstrip("/").rsplit("/", 1)[-1]
    return None


class _AddressIndex:
    """Digitale adressen findable fast among 100,000s: by exact `adres`, by `adres__icontains` (one
    lower-cased text of all addresses searched with str.find, positions mapped back by bisect) and by
    the partij that provided them."""

    def __init__(self) -> None:
        self.uuids: list[str] = []
        self.lowered: list[str] = []
        self.exact: dict[str, list[str]] = {}
        self.by_partij: dict[str, list[str]] = {}
        self._blob = ""
        self._starts: list[int] = []
        self._dirty = False

    def add(self, obj_uuid: str, adres: str, partij_uuid: str | None) -> None:
        self.uuids.append(obj_uuid)
        self.lowered.append(adres.lower().replace("\x00", ""))
        self.exact.setdefault(adres, []).append(obj_uuid)
        if partij_uuid is not None:
            self.by_partij.setdefault(partij_uuid, []).append(obj_uuid)
        self._dirty = True

    def icontains(self, needle: str) -> list[str]:
        if self._dirty:
            self._starts = list(accumulate((len(a) + 1 for a in self.lowered[:-1]), initial=0))
            self._blob = "\x00".join(self.lowered)
            self._dirty = False
        wanted = needle.lower()
        if not wanted or "\x00" in wanted:
            return list(self.uuids) if not wanted else []
        found: list[str] = []
        pos = self._blob.find(wanted)
        while pos != -1:
            i = bisect_right(self._starts, pos) - 1
            found.append(self.uuids[i])
            nxt = self._starts[i + 1] if i + 1 < len(self._starts) else len(self._blob)
            pos = self._blob.find(wanted, nxt)
        return found


@dataclass(frozen=True, slots=True)
class _PartijSeed:
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


def _person_seed(p: Person) -> _PartijSeed:
    assert p.partij_uuid is not None
    contactnaam = {
        "voorletters": p.voorletters,
        "voornaam": p.voornamen.split()[0],
        "voorvoegselAchternaam": p.voorvoegsel,
        "achternaam": p.geslachtsnaam,
    }
    return _PartijSeed(
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


def _company_seed(c: Company) -> _PartijSeed:
    ids = [("niet_natuurlijk_persoon", "kvk_nummer", c.kvk_nummer, "hr")]
    if c.rsin:
        ids.append(("niet_natuurlijk_persoon", "rsin", c.rsin, "hr"))
    hoofd = c.hoofdvestiging
    if hoofd is not None:  # one vestigingsnummer per partij (Open Klant: one per codeSoortObjectId)
        ids.append(("vestiging", "vestigingsnummer", hoofd.vestigingsnummer, "hr"))
    return _PartijSeed(
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


def _vestiging_seed(c: Company, v: Vestiging) -> _PartijSeed:
    """A branch other than the hoofdvestiging: a partij of its own, identified by its vestigingsnummer
    under the company's KVK-nummer (`subIdentificatorVan`)."""
    return _PartijSeed(
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


# How zaak links are written varies per organisation: Open Klant's own examples use
# `codeObjecttype: "zaak"`, KISS-style front-ends write `zgw-Zaak`. The world uses both.
_ZAAK_STYLES: tuple[Obj, ...] = (
    {"codeObjecttype": "zaak", "codeRegister": "openzaak", "codeSoortObjectId": "zaak"},
    {"codeObjecttype": "zgw-Zaak", "codeRegister": "openzaak", "codeSoortObjectId": "identificatie"},
)


class _Store:
    """In-memory resources, seeded from the world, plus `extra` digitale adressen for benchmarks."""

    def __init__(self, world: World, extra_addresses: int = 0) -> None:
        self.data: dict[str, dict[str, Obj]] = {
            r: {}
            for r in (
                "partijen",
                "partij-identificatoren",
                "digitaleadressen",
                "klantcontacten",
                "betrokkenen",
                "onderwerpobjecten",
                "internetaken",
                "actoren",
            )
        }
        self.addresses = _AddressIndex()
        self.extra: dict[str, tuple[str, str]] = {}  # uuid -> (adres, soort), rendered on demand
        self._contacts = 0
        for actor in world.actoren:
            self.data["actoren"][actor.uuid] = {
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
        for person in world.persons:
            if person.partij_uuid is not None:
                self._seed(_person_seed(person))
        for company in world.companies:
            kvk_id = self._seed(_company_seed(company))
            for v in company.vestigingen:
                if not v.is_hoofdvestiging:
                    self._seed(_vestiging_seed(company, v), sub_van=kvk_id)
        self._add_extra(world, extra_addresses)

    def _add_extra(self, world: World, n: int) -> None:
        """N fictitious addresses (no partij), in every spelling Open Klant accepts, none equal to an
        address of the world."""
        if n <= 0:
            return
        rng = random.Random(f"{world.seed}/extra-adressen")
        taken = {a.lower() for a in self.addresses.exact}
        while len(self.extra) < n:
            i = len(self.extra)
            if i % 3 == 2:
                adres, soort = f"klant{i:06d}.{rng.randrange(1000):03d}@voorbeeld-post.nl", "email"
            else:
                nsn = f"6{rng.randrange(10**8):08d}" if i % 3 == 0 else f"10{rng.randrange(10**7):07d}"
                adres, soort = (f"0{nsn}", f"+31{nsn}", f"0031{nsn}")[rng.randrange(3)], "telefoonnummer"
            if adres.lower() in taken:
                continue
            taken.add(adres.lower())
            obj_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            self.extra[obj_uuid] = (adres, soort)
            self.addresses.add(obj_uuid, adres, None)

    def _seed(self, s: _PartijSeed, *, sub_van: str | None = None) -> str | None:
        """Store one partij with its identificatoren, adressen, contacten and taken; return the uuid
        of its first identificator (a KVK-nummer's, for the vestigingen below it)."""
        partij = _fk("partijen", s.uuid)
        identificatoren = []
        for objecttype, soort, object_id, register in s.identificatoren:
            ident_uuid = str(uuid.uuid5(uuid.UUID(s.uuid), soort))
            ident = {
                **_fk("partij-identificatoren", ident_uuid),
                "identificeerdePartij": partij,
                "anderePartijIdentificator": "",
                "partijIdentificator": {
                    "codeObjecttype": objecttype,
                    "codeSoortObjectId": soort,
                    "objectId": object_id,
                    "codeRegister": register,
                },
                "subIdentificatorVan": _fk("partij-identificatoren", sub_van)
                if soort == "vestigingsnummer" and sub_van
                else None,
            }
            self.data["partij-identificatoren"][ident_uuid] = ident
            identificatoren.append(ident)
            if soort == "kvk_nummer":
                sub_van = ident_uuid
        for adres in s.adressen:
            self.data["digitaleadressen"][adres.uuid] = {
                **_fk("digitaleadressen", adres.uuid),
                "verstrektDoorBetrokkene": None,
                "verstrektDoorPartij": partij,
                "adres": adres.adres,
                "soortDigitaalAdres": adres.soort,
                "isStandaardAdres": s.voorkeur is not None and adres.uuid == s.voorkeur.uuid,
                "omschrijving": adres.omschrijving,
                "verificatieDatum": adres.verificatie_datum.isoformat() if adres.verificatie_datum else None,
            }
            self.addresses.add(adres.uuid, adres.adres, s.uuid)
        self.data["partijen"][s.uuid] = {
            **partij,
            "nummer": s.nummer,
            "interneNotitie": "",
            "betrokkenen": [_fk("betrokkenen", c.betrokkene_uuid) for c in s.contacten],
            "categorieRelaties": [],
            "digitaleAdressen": [_fk("digitaleadressen", a.uuid) for a in s.adressen],
            "voorkeursDigitaalAdres": _fk("digitaleadressen", s.voorkeur.uuid) if s.voorkeur else None,
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
        self._seed_contacts(s, partij)
        return identificatoren[0]["uuid"] if identificatoren else None

    def _seed_contacts(self, s: _PartijSeed, partij: Obj) -> None:
        taken_by_contact: dict[str, list[str]] = {}
        for taak in s.taken:
            taken_by_contact.setdefault(taak.klantcontact_uuid, []).append(taak.uuid)
            actor = _fk("actoren", taak.actor_uuid)
            self.data["internetaken"][taak.uuid] = {
                **_fk("internetaken", taak.uuid),
                "nummer": taak.nummer,
                "referentienummer": None,
                "gevraagdeHandeling": taak.gevraagde_handeling,
                "aanleidinggevendKlantcontact": _fk("klantcontacten", taak.klantcontact_uuid),
                "toegewezenAanActor": actor,
                "toegewezenAanActoren": [actor],
                "toelichting": taak.toelichting,
                "status": taak.status,
                "toegewezenOp": _iso(taak.toegewezen_op),
                "afgehandeldOp": _iso(taak.afgehandeld_op) if taak.afgehandeld_op else None,
            }
        for c in s.contacten:
            self.data["betrokkenen"][c.betrokkene_uuid] = {
                **_fk("betrokkenen", c.betrokkene_uuid),
                "wasPartij": partij,
                "hadKlantcontact": _fk("klantcontacten", c.uuid),
                "digitaleAdressen": [],
                "bezoekadres": None,
                "correspondentieadres": None,
                "contactnaam": s.contactnaam,
                "volledigeNaam": s.volledige_naam,
                "rol": "klant",
                "organisatienaam": s.organisatienaam,
                "initiator": True,
            }
            if c.onderwerpobject_uuid is not None and c.zaak_identificatie is not None:
                self._contacts += 1
                self.data["onderwerpobjecten"][c.onderwerpobject_uuid] = {
                    **_fk("onderwerpobjecten", c.onderwerpobject_uuid),
                    "klantcontact": _fk("klantcontacten", c.uuid),
                    "wasKlantcontact": None,
                    "onderwerpobjectidentificator": {
                        "objectId": c.zaak_identificatie,
                        **_ZAAK_STYLES[self._contacts % len(_ZAAK_STYLES)],
                    },
                }
            self.data["klantcontacten"][c.uuid] = {
                **_fk("klantcontacten", c.uuid),
                "gingOverOnderwerpobjecten": [_fk("onderwerpobjecten", c.onderwerpobject_uuid)]
                if c.onderwerpobject_uuid
                else [],
                "hadBetrokkenActoren": [],
                "omvatteBijlagen": [],
                "hadBetrokkenen": [_fk("betrokkenen", c.betrokkene_uuid)],
                "leiddeTotInterneTaken": [_fk("internetaken", t) for t in taken_by_contact.get(c.uuid, [])],
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
                "plaatsgevondenOp": _iso(c.plaatsgevonden_op),
            }

    def adres(self, obj_uuid: str) -> Obj | None:
        """A digitaal adres of the world or of the extra ones."""
        found = self.data["digitaleadressen"].get(obj_uuid)
        if found is not None or obj_uuid not in self.extra:
            return found
        adres, soort = self.extra[obj_uuid]
        return {
            **_fk("digitaleadressen", obj_uuid),
            "verstrektDoorBetrokkene": None,
            "verstrektDoorPartij": None,
            "adres": adres,
            "soortDigitaalAdres": soort,
            "isStandaardAdres": False,
            "omschrijving": "",
            "verificatieDatum": None,
        }

    def get(self, resource: str, obj_uuid: str | None) -> Obj | None:
        if not obj_uuid:
            return None
        return self.adres(obj_uuid) if resource == "digitaleadressen" else self.data[resource].get(obj_uuid)

    def related(self, resource: str, fks: Iterable[Obj]) -> list[Obj]:
        return [obj for fk in fks if (obj := self.get(resource, fk.get("uuid"))) is not None]


def create_app(
    world: World,
    *,
    token: str,
    latency_ms: int = 0,
    page_size: int = 100,
    extra_addresses: int = 0,
    notificaties_url: str | Callable[[], str | None] | None = None,
    notificaties_auth: str | Callable[[], str] = "",
) -> Starlette:
    """The Klantinteracties simulator over `world`, answering only requests with `Authorization:
    Token <token>`; `extra_addresses` adds that many fictitious digitale adressen without a partij
    (for the search benchmark over 100,000 addresses). With `notificaties_url` (the base URL of a
    Notificaties API, …/api/v1, or a function giving it once known) every write of a partij, interne
    taak or klantcontact is published there."""
    behaviour = Behaviour(latency_ms=latency_ms)
    store = _Store(world, extra_addresses)
    publisher = NotificatiePublisher(notificaties_url, notificaties_auth)

    def base(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def notify(request: Request, kanaal: str, obj: Obj, actie: str) -> None:
        """Publish the write of `obj` on `kanaal`, as Open Klant does after the transaction."""
        resource, kenmerken = _KANALEN[kanaal]
        url = base(request) + obj["url"]
        publisher.publish(
            {
                "kanaal": kanaal,
                "hoofdObject": url,
                "resource": resource,
                "resourceUrl": url,
                "actie": actie,
                "aanmaakdatum": _iso(datetime.now(UTC)),
                "kenmerken": {k: obj.get(k, "") for k in kenmerken},
            }
        )

    def ok(body: Any, request: Request, status: int = 200) -> Response:
        return JSONResponse(
            _render(body, base(request)), status_code=status, headers={"API-version": API_VERSION}
        )

    def paginate(request: Request, items: list[Obj]) -> Response:
        raw = request.query_params.get("page", "1")
        size_raw = request.query_params.get("pageSize", str(page_size))
        size = min(int(size_raw), MAX_PAGE_SIZE) if size_raw.isdigit() and int(size_raw) > 0 else page_size
        pages = max(1, -(-len(items) // size))
        if not raw.isdigit() or not 1 <= int(raw) <= pages:
            return problem(
                404, "Niet gevonden.", "Ongeldige pagina.", code="not_found", instance=request.url.path
            )
        page = int(raw)

        def link(n: int) -> str:
            params = dict(request.query_params)
            params["page"] = str(n)
            return f"{base(request)}{request.url.path}?{urlencode(params)}"

        return ok(
            {
                "count": len(items),
                "next": link(page + 1) if page < pages else None,
                "previous": link(page - 1) if page > 1 else None,
                "results": items[(page - 1) * size : page * size],
            },
            request,
        )

    def filtered(
        resource: str, request: Request, filters: dict[str, Callable[[Obj, str], bool]]
    ) -> list[Obj]:
        items = list(store.data[resource].values())
        for name, test in filters.items():
            wanted = request.query_params.get(name)
            if wanted is not None:
                items = [o for o in items if test(o, wanted)]
        return items

    def expand(request: Request, obj: Obj, allowed: dict[str, str]) -> Obj:
        names = [n for n in request.query_params.get("expand", "").split(",") if n]
        if not names:
            return obj
        extra = {n: store.related(allowed[n], obj.get(n) or []) for n in names if n in allowed}
        return {**obj, "_expand": extra}

    def identificator_match(field: str) -> Callable[[Obj, str], bool]:
        return lambda o, v: any(i["partijIdentificator"][field] == v for i in o["partijIdentificatoren"])

    async def list_partijen(request: Request) -> Response:
        items = filtered(
            "partijen",
            request,
            {
                "partijIdentificator__codeSoortObjectId": identificator_match("codeSoortObjectId"),
                "partijIdentificator__objectId": identificator_match("objectId"),
                "partijIdentificator__codeRegister": identificator_match("codeRegister"),
                "partijIdentificator__codeObjecttype": identificator_match("codeObjecttype"),
                "soortPartij": lambda o, v: o["soortPartij"] == v,
            },
        )
        return paginate(
            request,
            [
                expand(request, o, {"digitaleAdressen": "digitaleadressen", "betrokkenen": "betrokkenen"})
                for o in items
            ],
        )

    def by_fk(field: str) -> Callable[[Obj, str], bool]:
        return lambda o, v: (o.get(field) or {}).get("uuid") == v

    async def list_digitaleadressen(request: Request) -> Response:
        """Narrowed through the address index first (exact adres, adres__icontains, partij), so a
        search among 100,000 addresses never walks them all."""
        q = request.query_params
        index = store.addresses
        candidates: list[str] | None = None
        for name, lookup in (
            ("verstrektDoorPartij__uuid", lambda v: index.by_partij.get(v, [])),
            ("adres", lambda v: index.exact.get(v, [])),
            ("adres__icontains", index.icontains),
        ):
            if (value := q.get(name)) is not None:
                found = lookup(value)
                candidates = found if candidates is None else [u for u in candidates if u in set(found)]
        items = [a for u in (index.uuids if candidates is None else candidates) if (a := store.adres(u))]
        checks: dict[str, Callable[[Obj, str], bool]] = {
            "verstrektDoorBetrokkene__uuid": by_fk("verstrektDoorBetrokkene"),
            "soortDigitaalAdres": lambda o, v: o["soortDigitaalAdres"] == v,
            "isStandaardAdres": lambda o, v: o["isStandaardAdres"] == (v.lower() == "true"),
            "omschrijving": lambda o, v: v.lower() in str(o["omschrijving"]).lower(),
        }
        for name, test in checks.items():
            if (value := q.get(name)) is not None:
                items = [o for o in items if test(o, value)]
        return paginate(request, items)

    def contact_partijen(contact: Obj) -> set[str]:
        betrokkenen = store.related("betrokkenen", contact["hadBetrokkenen"])
        return {b["wasPartij"]["uuid"] for b in betrokkenen if b.get("wasPartij")}

    async def list_klantcontacten(request: Request) -> Response:
        items = filtered(
            "klantcontacten",
            request,
            {
                "hadBetrokkene__wasPartij__uuid": lambda o, v: v in contact_partijen(o),
                "kanaal": lambda o, v: o["kanaal"] == v,
                "nummer": lambda o, v: o["nummer"] == v,
                "onderwerpobject__onderwerpobjectidentificatorObjectId": lambda o, v: any(
                    (ob.get("onderwerpobjectidentificator") or {}).get("objectId") == v
                    for ob in store.related("onderwerpobjecten", o["gingOverOnderwerpobjecten"])
                ),
            },
        )
        items.sort(key=lambda o: o.get("plaatsgevondenOp") or "", reverse=True)
        allowed = {
            "hadBetrokkenen": "betrokkenen",
            "leiddeTotInterneTaken": "internetaken",
            "gingOverOnderwerpobjecten": "onderwerpobjecten",
        }
        return paginate(request, [expand(request, o, allowed) for o in items])

    async def list_internetaken(request: Request) -> Response:
        return paginate(
            request,
            filtered(
                "internetaken",
                request,
                {
                    "aanleidinggevendKlantcontact__uuid": by_fk("aanleidinggevendKlantcontact"),
                    "klantcontact__uuid": by_fk("aanleidinggevendKlantcontact"),
                    "status": lambda o, v: o["status"] == v,
                    "toegewezenAanActor__uuid": by_fk("toegewezenAanActor"),
                },
            ),
        )

    async def list_actoren(request: Request) -> Response:
        return paginate(
            request,
            filtered(
                "actoren",
                request,
                {
                    "soortActor": lambda o, v: o["soortActor"] == v,
                    "naam": lambda o, v: o["naam"] == v,
                    "indicatieActief": lambda o, v: o["indicatieActief"] == (v.lower() == "true"),
                },
            ),
        )

    async def list_betrokkenen(request: Request) -> Response:
        return paginate(
            request,
            filtered(
                "betrokkenen",
                request,
                {
                    "hadKlantcontact__uuid": by_fk("hadKlantcontact"),
                    "wasPartij__uuid": by_fk("wasPartij"),
                },
            ),
        )

    async def list_onderwerpobjecten(request: Request) -> Response:
        return paginate(
            request,
            filtered(
                "onderwerpobjecten",
                request,
                {
                    "klantcontact__uuid": by_fk("klantcontact"),
                },
            ),
        )

    def detail(resource: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            obj = store.get(resource, request.path_params["uuid"])
            if obj is None:
                return problem(
                    404, "Niet gevonden.", "Niet gevonden.", code="not_found", instance=request.url.path
                )
            return ok(obj, request)

        return endpoint

    def missing_fk(name: str) -> Obj:
        return {
            "name": name,
            "code": "does_not_exist",
            "reason": "Ongeldige hyperlink - Object bestaat niet.",
        }

    async def create(request: Request, resource: str) -> tuple[Obj | None, Response | None]:
        try:
            body = await request.json()
        except ValueError:
            return None, _invalid(
                [{"name": "nonFieldErrors", "code": "parse_error", "reason": "Geen JSON."}], request.url.path
            )
        errors = _validate(resource, body)
        if errors:
            return None, _invalid(errors, request.url.path)
        new_uuid = str(uuid.uuid4())
        obj = {k: v for k, v in body.items() if k in _WRITE_RULES[resource]}
        return {**_fk(resource, new_uuid), **obj}, None

    def link_fk(obj: Obj, name: str, resource: str, errors: list[Obj], *, required: bool) -> Obj | None:
        value = obj.get(name)
        if value is None and not required:
            return None
        target = store.get(resource, _fk_uuid(value))
        if target is None:
            errors.append(missing_fk(name))
            return None
        obj[name] = _fk(resource, target["uuid"])
        return target

    async def post_klantcontacten(request: Request) -> Response:
        obj, error = await create(request, "klantcontacten")
        if obj is None:
            assert error is not None
            return error
        obj = {
            "gingOverOnderwerpobjecten": [],
            "hadBetrokkenActoren": [],
            "omvatteBijlagen": [],
            "hadBetrokkenen": [],
            "leiddeTotInterneTaken": [],
            "nummer": None,
            "referentienummer": None,
            "inhoud": "",
            "reactie": "",
            "hoofdOnderwerpType": "",
            "indicatieContactGelukt": None,
            "verdereActieOndernomen": False,
            "plaatsgevondenOp": _iso(datetime.now(UTC)),
            **obj,
        }
        if not obj.get("nummer"):
            obj["nummer"] = f"{len(store.data['klantcontacten']) + 1:010d}"
        store.data["klantcontacten"][obj["uuid"]] = obj
        notify(request, "klantcontacten", obj, "create")
        return ok(obj, request, 201)

    async def post_betrokkenen(request: Request) -> Response:
        obj, error = await create(request, "betrokkenen")
        if obj is None:
            assert error is not None
            return error
        errors: list[Obj] = []
        contact = link_fk(obj, "hadKlantcontact", "klantcontacten", errors, required=True)
        partij = link_fk(obj, "wasPartij", "partijen", errors, required=False)
        if errors:
            return _invalid(errors, request.url.path)
        naam = obj.get("contactnaam") or {}
        volledig = " ".join(
            x for x in (naam.get("voornaam"), naam.get("voorvoegselAchternaam"), naam.get("achternaam")) if x
        )
        obj = {
            "wasPartij": None,
            "digitaleAdressen": [],
            "bezoekadres": None,
            "correspondentieadres": None,
            "contactnaam": None,
            "organisatienaam": "",
            **obj,
            "volledigeNaam": volledig,
        }
        store.data["betrokkenen"][obj["uuid"]] = obj
        assert contact is not None
        contact["hadBetrokkenen"].append(_fk("betrokkenen", obj["uuid"]))
        if partij is not None:
            partij["betrokkenen"].append(_fk("betrokkenen", obj["uuid"]))
        return ok(obj, request, 201)

    async def post_onderwerpobjecten(request: Request) -> Response:
        obj, error = await create(request, "onderwerpobjecten")
        if obj is None:
            assert error is not None
            return error
        errors: list[Obj] = []
        contact = link_fk(obj, "klantcontact", "klantcontacten", errors, required=False)
        link_fk(obj, "wasKlantcontact", "klantcontacten", errors, required=False)
        if errors:
            return _invalid(errors, request.url.path)
        obj = {"klantcontact": None, "wasKlantcontact": None, "onderwerpobjectidentificator": None, **obj}
        store.data["onderwerpobjecten"][obj["uuid"]] = obj
        if contact is not None:
            contact["gingOverOnderwerpobjecten"].append(_fk("onderwerpobjecten", obj["uuid"]))
        return ok(obj, request, 201)

    async def post_internetaken(request: Request) -> Response:
        obj, error = await create(request, "internetaken")
        if obj is None:
            assert error is not None
            return error
        errors: list[Obj] = []
        contact = link_fk(obj, "aanleidinggevendKlantcontact", "klantcontacten", errors, required=True)
        resolved = resolve_actoren(obj, errors)
        if errors:
            return _invalid(errors, request.url.path)
        # Open Klant, not the spec: an actor is required, by one of the two fields (module docstring)
        given = ("toegewezenAanActor" in obj, "toegewezenAanActoren" in obj)
        if given[0] == given[1]:
            reason = ACTOR_BOTH if given[0] else ACTOR_REQUIRED
            return _invalid(
                [{"name": "nonFieldErrors", "code": "invalid", "reason": reason}], request.url.path
            )
        obj = {
            "nummer": None,
            "referentienummer": None,
            "toelichting": "",
            "afgehandeldOp": None,
            **obj,
            "toegewezenAanActoren": resolved,
            "toegewezenOp": _iso(datetime.now(UTC)),
        }
        if resolved:
            obj["toegewezenAanActor"] = resolved[0]
        else:
            obj.pop("toegewezenAanActor", None)
        if not obj.get("nummer"):
            obj["nummer"] = f"{len(store.data['internetaken']) + 1:010d}"
        store.data["internetaken"][obj["uuid"]] = obj
        assert contact is not None
        contact["leiddeTotInterneTaken"].append(_fk("internetaken", obj["uuid"]))
        notify(request, "internetaken", obj, "create")
        return ok(obj, request, 201)

    def resolve_actoren(obj: Obj, errors: list[Obj]) -> list[Obj]:
        """`toegewezenAanActor` (deprecated) and `toegewezenAanActoren` as links to known actoren."""
        actoren = list(obj.get("toegewezenAanActoren") or [])
        if "toegewezenAanActor" in obj:
            actoren.insert(0, obj["toegewezenAanActor"])
        resolved = []
        for actor in actoren:
            target = store.get("actoren", _fk_uuid(actor))
            if target is None:
                errors.append(missing_fk("toegewezenAanActoren"))
            else:
                resolved.append(_fk("actoren", target["uuid"]))
        return resolved

    async def changes_of(request: Request, resource: str) -> tuple[Obj, Obj] | Response:
        """(the stored object, the validated changes) of a PUT or PATCH on `resource`."""
        current = store.get(resource, request.path_params["uuid"])
        if current is None:
            return problem(
                404, "Niet gevonden.", "Niet gevonden.", code="not_found", instance=request.url.path
            )
        try:
            body = await request.json()
        except ValueError:
            return _invalid(
                [{"name": "nonFieldErrors", "code": "parse_error", "reason": "Geen JSON."}], request.url.path
            )
        errors = _validate(resource, body, partial=request.method == "PATCH")
        if errors:
            return _invalid(errors, request.url.path)
        return current, {k: v for k, v in body.items() if k in _WRITE_RULES[resource]}

    async def update_internetaak(request: Request) -> Response:
        found = await changes_of(request, "internetaken")
        if isinstance(found, Response):
            return found
        current, changes = found
        updated = {**current, **changes}
        errors: list[Obj] = []
        old_contact = _fk_uuid(current.get("aanleidinggevendKlantcontact"))
        contact = link_fk(updated, "aanleidinggevendKlantcontact", "klantcontacten", errors, required=True)
        if {"toegewezenAanActor", "toegewezenAanActoren"} & changes.keys():
            resolved = resolve_actoren(changes, errors)
            updated["toegewezenAanActoren"] = resolved
            if resolved:
                updated["toegewezenAanActor"] = resolved[0]
            else:
                updated.pop("toegewezenAanActor", None)
        if errors:
            return _invalid(errors, request.url.path)
        assert contact is not None
        if contact["uuid"] != old_contact:
            previous = store.get("klantcontacten", old_contact)
            link = _fk("internetaken", current["uuid"])
            if previous is not None and link in previous["leiddeTotInterneTaken"]:
                previous["leiddeTotInterneTaken"].remove(link)
            contact["leiddeTotInterneTaken"].append(link)
        store.data["internetaken"][current["uuid"]] = updated
        notify(request, "internetaken", updated, "partial_update" if request.method == "PATCH" else "update")
        return ok(updated, request)

    async def patch_partij(request: Request) -> Response:
        found = await changes_of(request, "partijen")
        if isinstance(found, Response):
            return found
        current, changes = found
        if changes.get("voorkeursDigitaalAdres") is not None:
            wanted = _fk_uuid(changes["voorkeursDigitaalAdres"])
            if wanted not in {a["uuid"] for a in current["digitaleAdressen"]}:
                return _invalid(
                    [
                        {
                            "name": "voorkeursDigitaalAdres",
                            "code": "invalid",
                            "reason": "Het voorkeursadres moet een gekoppeld digitaal adres zijn.",
                        }
                    ],
                    request.url.path,
                )
            changes["voorkeursDigitaalAdres"] = _fk("digitaleadressen", str(wanted))
        updated = {**current, **changes}
        store.data["partijen"][current["uuid"]] = updated
        notify(request, "partijen", updated, "partial_update")
        return ok(updated, request)

    async def published(request: Request) -> Response:
        return JSONResponse(list(publisher.log))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await publisher.aclose()

    p = BASE_PATH
    routes = [
        *sim_routes(behaviour),
        Route(f"{p}/partijen", list_partijen, methods=["GET"]),
        Route(f"{p}/digitaleadressen", list_digitaleadressen, methods=["GET"]),
        Route(f"{p}/klantcontacten", list_klantcontacten, methods=["GET"]),
        Route(f"{p}/klantcontacten", post_klantcontacten, methods=["POST"]),
        Route(f"{p}/betrokkenen", list_betrokkenen, methods=["GET"]),
        Route(f"{p}/betrokkenen", post_betrokkenen, methods=["POST"]),
        Route(f"{p}/onderwerpobjecten", list_onderwerpobjecten, methods=["GET"]),
        Route(f"{p}/onderwerpobjecten", post_onderwerpobjecten, methods=["POST"]),
        Route(f"{p}/internetaken", list_internetaken, methods=["GET"]),
        Route(f"{p}/internetaken", post_internetaken, methods=["POST"]),
        Route(f"{p}/internetaken/{{uuid}}", update_internetaak, methods=["PUT", "PATCH"]),
        Route(f"{p}/partijen/{{uuid}}", patch_partij, methods=["PATCH"]),
        Route(f"{p}/actoren", list_actoren, methods=["GET"]),
        Route("/_sim/notificaties", published, methods=["GET"]),
    ]
    for resource in store.data:
        routes.append(Route(f"{p}/{resource}/{{uuid}}", detail(resource), methods=["GET"]))
    # recorded (and slowed or broken) first, then refused without the token, as a real server
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SimulatorMiddleware, behaviour=behaviour),
            Middleware(_TokenAuth, token=token),
        ],
        lifespan=lifespan,
    )
