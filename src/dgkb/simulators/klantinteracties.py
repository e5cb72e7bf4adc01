"""Klantinteracties API 0.9 simulator, as served by Open Klant 2, at `/klantinteracties/api/v1`.

Reads: partijen (by partij-identificator), digitaleadressen, klantcontacten (by the partij of a
betrokkene, with `expand`), betrokkenen, onderwerpobjecten, internetaken, actoren. Writes (kept in
memory, validated on required fields, enums and the spec's max lengths, 400 with `invalidParams`):
klantcontacten, betrokkenen, onderwerpobjecten, internetaken.

Objects are stored with path-only URLs and rendered with the caller's host, so the same store answers
on any port.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dgkb.simulators.common import Behaviour, SimulatorMiddleware, problem, sim_routes
from dgkb.simulators.world import Person, World

__all__ = ["BASE_PATH", "create_app"]

BASE_PATH = "/klantinteracties/api/v1"
API_VERSION = "0.9.0"
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


def _invalid(params: list[Obj], instance: str) -> Response:
    return problem(
        400, "Invalid input.", "Invalid input.", code="invalid", instance=instance, invalid_params=params
    )


def _validate(resource: str, body: Any) -> list[Obj]:
    if not isinstance(body, dict):
        return [
            {"name": "nonFieldErrors", "code": "invalid", "reason": "Ongeldige data. Verwacht een object."}
        ]
    errors = []
    for name, rule in _WRITE_RULES[resource].items():
        if name not in body:
            if rule.required:
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


class _Store:
    """In-memory resources, seeded from the world."""

    def __init__(self, world: World) -> None:
        self.data: dict[str, dict[str, Obj]] = {
            r: {}
            for r in (
                "partijen",
                "digitaleadressen",
                "klantcontacten",
                "betrokkenen",
                "onderwerpobjecten",
                "internetaken",
                "actoren",
            )
        }
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
                    "emailadres": "",
                    "faxnummer": "",
                    "telefoonnummer": actor.telefoonnummer,
                },
            }
        for person in world.persons:
            if person.partij_uuid is not None:
                self._seed_person(person)

    def _seed_person(self, p: Person) -> None:
        assert p.partij_uuid is not None
        partij = _fk("partijen", p.partij_uuid)
        contactnaam = {
            "voorletters": p.voorletters,
            "voornaam": p.voornamen.split()[0],
            "voorvoegselAchternaam": p.voorvoegsel,
            "achternaam": p.geslachtsnaam,
        }
        for adres in p.digitale_adressen:
            self.data["digitaleadressen"][adres.uuid] = {
                **_fk("digitaleadressen", adres.uuid),
                "verstrektDoorBetrokkene": None,
                "verstrektDoorPartij": partij,
                "adres": adres.adres,
                "soortDigitaalAdres": adres.soort,
                "isStandaardAdres": False,
                "omschrijving": adres.omschrijving,
                "verificatieDatum": None,
            }
        voorkeur = p.voorkeurs_digitaal_adres
        identificator_uuid = str(uuid.uuid5(uuid.UUID(p.partij_uuid), "bsn"))
        self.data["partijen"][p.partij_uuid] = {
            **partij,
            "nummer": p.partij_nummer,
            "interneNotitie": "",
            "betrokkenen": [_fk("betrokkenen", c.betrokkene_uuid) for c in p.klantcontacten],
            "categorieRelaties": [],
            "digitaleAdressen": [_fk("digitaleadressen", a.uuid) for a in p.digitale_adressen],
            "voorkeursDigitaalAdres": _fk("digitaleadressen", voorkeur.uuid) if voorkeur else None,
            "vertegenwoordigden": [],
            "rekeningnummers": [],
            "voorkeursRekeningnummer": None,
            "partijIdentificatoren": [
                {
                    **_fk("partij-identificatoren", identificator_uuid),
                    "identificeerdePartij": partij,
                    "anderePartijIdentificator": "",
                    "partijIdentificator": {
                        "codeObjecttype": "natuurlijk_persoon",
                        "codeSoortObjectId": "bsn",
                        "objectId": p.bsn,
                        "codeRegister": "brp",
                    },
                    "subIdentificatorVan": None,
                }
            ],
            "soortPartij": "persoon",
            "indicatieGeheimhouding": p.geheimhouding > 0,
            "voorkeurstaal": p.voorkeurstaal,
            "indicatieActief": True,
            "bezoekadres": None,
            "correspondentieadres": None,
            "partijIdentificatie": {"contactnaam": contactnaam, "volledigeNaam": p.volledige_naam},
        }
        taken_by_contact: dict[str, list[str]] = {}
        for taak in p.interne_taken:
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
        for c in p.klantcontacten:
            self.data["betrokkenen"][c.betrokkene_uuid] = {
                **_fk("betrokkenen", c.betrokkene_uuid),
                "wasPartij": partij,
                "hadKlantcontact": _fk("klantcontacten", c.uuid),
                "digitaleAdressen": [],
                "bezoekadres": None,
                "correspondentieadres": None,
                "contactnaam": contactnaam,
                "volledigeNaam": p.volledige_naam,
                "rol": "klant",
                "organisatienaam": "",
                "initiator": True,
            }
            if c.onderwerpobject_uuid is not None and c.zaak_identificatie is not None:
                self.data["onderwerpobjecten"][c.onderwerpobject_uuid] = {
                    **_fk("onderwerpobjecten", c.onderwerpobject_uuid),
                    "klantcontact": _fk("klantcontacten", c.uuid),
                    "wasKlantcontact": None,
                    "onderwerpobjectidentificator": {
                        "objectId": c.zaak_identificatie,
                        "codeObjecttype": "zaak",
                        "codeRegister": "openzaak",
                        "codeSoortObjectId": "zaak",
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

    def get(self, resource: str, obj_uuid: str | None) -> Obj | None:
        return self.data[resource].get(obj_uuid) if obj_uuid else None

    def related(self, resource: str, fks: Iterable[Obj]) -> list[Obj]:
        return [obj for fk in fks if (obj := self.get(resource, fk.get("uuid"))) is not None]


def create_app(world: World, *, latency_ms: int = 0, page_size: int = 100) -> Starlette:
    """The Klantinteracties simulator over `world`."""
    behaviour = Behaviour(latency_ms=latency_ms)
    store = _Store(world)

    def base(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def ok(body: Any, request: Request, status: int = 200) -> Response:
        return JSONResponse(
            _render(body, base(request)), status_code=status, headers={"API-version": API_VERSION}
        )

    def paginate(request: Request, items: list[Obj]) -> Response:
        raw = request.query_params.get("page", "1")
        size_raw = request.query_params.get("pageSize", str(page_size))
        size = int(size_raw) if size_raw.isdigit() and int(size_raw) > 0 else page_size
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
        return paginate(
            request,
            filtered(
                "digitaleadressen",
                request,
                {
                    "verstrektDoorPartij__uuid": by_fk("verstrektDoorPartij"),
                    "verstrektDoorBetrokkene__uuid": by_fk("verstrektDoorBetrokkene"),
                    "soortDigitaalAdres": lambda o, v: o["soortDigitaalAdres"] == v,
                },
            ),
        )

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
            "indicatieContactGelukt": None,
            "verdereActieOndernomen": False,
            "plaatsgevondenOp": _iso(datetime.now(UTC)),
            **obj,
        }
        if not obj.get("nummer"):
            obj["nummer"] = f"{len(store.data['klantcontacten']) + 1:010d}"
        store.data["klantcontacten"][obj["uuid"]] = obj
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
        if errors:
            return _invalid(errors, request.url.path)
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
        return ok(obj, request, 201)

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
    ]
    for resource in store.data:
        routes.append(Route(f"{p}/{resource}/{{uuid}}", detail(resource), methods=["GET"]))
    return Starlette(routes=routes, middleware=[Middleware(SimulatorMiddleware, behaviour=behaviour)])
