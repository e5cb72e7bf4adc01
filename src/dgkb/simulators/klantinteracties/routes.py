"""The Klantinteracties simulator's endpoints: `KlantinteractiesRoutes` holds the store, the publisher
and the page size, and each method is one Starlette endpoint (app.py maps them to paths). Writes are
validated (validation.py), stored, and published as Open Klant publishes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dgkb.simulators.common import NotificatiePublisher, problem
from dgkb.simulators.klantinteracties.serialise import (
    API_VERSION,
    Obj,
    fk,
    fk_uuid,
    iso,
    notificatie_json,
    render,
)
from dgkb.simulators.klantinteracties.state import Store, by_fk, identificator_match
from dgkb.simulators.klantinteracties.validation import (
    ACTOR_BOTH,
    ACTOR_REQUIRED,
    validate,
    validate_digitaal_adres,
    writable,
)

MAX_PAGE_SIZE = 500


def base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def ok(body: Any, request: Request, status: int = 200) -> Response:
    return JSONResponse(render(body, base(request)), status_code=status, headers={"API-version": API_VERSION})


def invalid(params: list[Obj], instance: str) -> Response:
    return problem(
        400, "Invalid input.", "Invalid input.", code="invalid", instance=instance, invalid_params=params
    )


def not_found(request: Request) -> Response:
    return problem(404, "Niet gevonden.", "Niet gevonden.", code="not_found", instance=request.url.path)


def not_json(request: Request) -> Response:
    return invalid(
        [{"name": "nonFieldErrors", "code": "parse_error", "reason": "Geen JSON."}], request.url.path
    )


def expand_names(request: Request) -> list[str]:
    return [n for n in request.query_params.get("expand", "").split(",") if n]


class KlantinteractiesRoutes:
    """The endpoints of the Klantinteracties simulator over one store."""

    def __init__(self, store: Store, publisher: NotificatiePublisher, page_size: int) -> None:
        self.store = store
        self.publisher = publisher
        self.page_size = page_size

    def _notify(self, request: Request, kanaal: str, obj: Obj, actie: str) -> None:
        """Publish the write of `obj` on `kanaal`, as Open Klant does after the transaction."""
        url = base(request) + obj["url"]
        self.publisher.publish(notificatie_json(kanaal, obj, url, actie, datetime.now(UTC)))

    def _paginate(self, request: Request, items: list[Obj]) -> Response:
        page_size = self.page_size
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

    # --- reads --------------------------------------------------------------------------------
    async def list_partijen(self, request: Request) -> Response:
        q = request.query_params
        # each identificator filter is exactly a set of partijen in the index: narrow by all of them
        among: set[str] | None = None
        for field in ("codeSoortObjectId", "objectId", "codeRegister", "codeObjecttype"):
            if (value := q.get(f"partijIdentificator__{field}")) is not None:
                found = self.store.partijen_with(field, value)
                among = set(found) if among is None else among & found
        items = self.store.filtered(
            "partijen",
            q,
            {
                "partijIdentificator__codeSoortObjectId": identificator_match("codeSoortObjectId"),
                "partijIdentificator__objectId": identificator_match("objectId"),
                "partijIdentificator__codeRegister": identificator_match("codeRegister"),
                "partijIdentificator__codeObjecttype": identificator_match("codeObjecttype"),
                "soortPartij": lambda o, v: o["soortPartij"] == v,
            },
            among=among,
        )
        names = expand_names(request)
        allowed = {"digitaleAdressen": "digitaleadressen", "betrokkenen": "betrokkenen"}
        return self._paginate(request, [self.store.expanded(o, names, allowed) for o in items])

    async def list_digitaleadressen(self, request: Request) -> Response:
        return self._paginate(request, self.store.digitale_adressen(request.query_params))

    async def list_klantcontacten(self, request: Request) -> Response:
        store = self.store

        matching = store.partijen_with

        q = request.query_params
        # The partij filters narrow through the betrokkenen first (a superset: the filters below
        # still decide), so a person's contacts are not found by walking every klantcontact.
        # Each filter needs a betrokkene among its own partijen, so the contacts of the smallest
        # such set of partijen are a superset of the answer.
        partij_sets: list[frozenset[str]] = []
        if (uuid := q.get("hadBetrokkene__wasPartij__uuid")) is not None:
            partij_sets.append(frozenset({uuid}))
        for field in ("codeSoortObjectId", "objectId"):
            if (value := q.get(f"hadBetrokkene__wasPartij__partijIdentificator__{field}")) is not None:
                partij_sets.append(matching(field, value))
        smallest: frozenset[str] | None = min(partij_sets, key=len) if partij_sets else None
        items = store.filtered(
            "klantcontacten",
            q,
            {
                "hadBetrokkene__wasPartij__uuid": lambda o, v: v in store.contact_partijen(o),
                # the spec's filters on the identificator of a betrokkene's partij (Open Klant 2.x
                # has them too): a consumer finds a person's contacts without looking the partij up
                "hadBetrokkene__wasPartij__partijIdentificator__codeSoortObjectId": lambda o, v: bool(
                    store.contact_partijen(o) & matching("codeSoortObjectId", v)
                ),
                "hadBetrokkene__wasPartij__partijIdentificator__objectId": lambda o, v: bool(
                    store.contact_partijen(o) & matching("objectId", v)
                ),
                "kanaal": lambda o, v: o["kanaal"] == v,
                "nummer": lambda o, v: o["nummer"] == v,
                "onderwerpobject__onderwerpobjectidentificatorObjectId": lambda o, v: any(
                    (ob.get("onderwerpobjectidentificator") or {}).get("objectId") == v
                    for ob in store.related("onderwerpobjecten", o["gingOverOnderwerpobjecten"])
                ),
            },
            among=store.contacts_of_partijen(smallest) if smallest is not None else None,
        )
        items.sort(key=lambda o: o.get("plaatsgevondenOp") or "", reverse=True)
        allowed = {
            "hadBetrokkenen": "betrokkenen",
            "leiddeTotInterneTaken": "internetaken",
            "gingOverOnderwerpobjecten": "onderwerpobjecten",
        }
        names = expand_names(request)
        return self._paginate(request, [store.expanded(o, names, allowed) for o in items])

    async def list_internetaken(self, request: Request) -> Response:
        return self._paginate(
            request,
            self.store.filtered(
                "internetaken",
                request.query_params,
                {
                    "aanleidinggevendKlantcontact__uuid": by_fk("aanleidinggevendKlantcontact"),
                    "klantcontact__uuid": by_fk("aanleidinggevendKlantcontact"),
                    "status": lambda o, v: o["status"] == v,
                    "toegewezenAanActor__uuid": by_fk("toegewezenAanActor"),
                },
            ),
        )

    async def list_actoren(self, request: Request) -> Response:
        return self._paginate(
            request,
            self.store.filtered(
                "actoren",
                request.query_params,
                {
                    "soortActor": lambda o, v: o["soortActor"] == v,
                    "naam": lambda o, v: o["naam"] == v,
                    "indicatieActief": lambda o, v: o["indicatieActief"] == (v.lower() == "true"),
                },
            ),
        )

    async def list_betrokkenen(self, request: Request) -> Response:
        return self._paginate(
            request,
            self.store.filtered(
                "betrokkenen",
                request.query_params,
                {
                    "hadKlantcontact__uuid": by_fk("hadKlantcontact"),
                    "wasPartij__uuid": by_fk("wasPartij"),
                },
            ),
        )

    async def list_onderwerpobjecten(self, request: Request) -> Response:
        return self._paginate(
            request,
            self.store.filtered(
                "onderwerpobjecten",
                request.query_params,
                {
                    "klantcontact__uuid": by_fk("klantcontact"),
                },
            ),
        )

    async def get_detail(self, resource: str, request: Request) -> Response:
        """One object of `resource` (bound per resource with functools.partial in app.py)."""
        obj = self.store.get(resource, request.path_params["uuid"])
        if obj is None:
            return not_found(request)
        return ok(obj, request)

    # --- writes -------------------------------------------------------------------------------
    async def _create(self, request: Request, resource: str) -> Obj | Response:
        """The new object of a valid create of `resource` (a fresh uuid, only writable fields), or
        the 400 answer."""
        try:
            body = await request.json()
        except ValueError:
            return not_json(request)
        errors = validate(resource, body)
        if errors:
            return invalid(errors, request.url.path)
        new_uuid = str(uuid.uuid4())
        return {**fk(resource, new_uuid), **writable(resource, body)}

    async def post_klantcontacten(self, request: Request) -> Response:
        created = await self._create(request, "klantcontacten")
        if isinstance(created, Response):
            return created
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
            "plaatsgevondenOp": iso(datetime.now(UTC)),
            **created,
        }
        if not obj.get("nummer"):
            obj["nummer"] = self.store.next_nummer("klantcontacten")
        self.store.data["klantcontacten"][obj["uuid"]] = obj
        self._notify(request, "klantcontacten", obj, "create")
        return ok(obj, request, 201)

    async def post_betrokkenen(self, request: Request) -> Response:
        created = await self._create(request, "betrokkenen")
        if isinstance(created, Response):
            return created
        errors: list[Obj] = []
        contact = self.store.link(created, "hadKlantcontact", "klantcontacten", errors, required=True)
        partij = self.store.link(created, "wasPartij", "partijen", errors, required=False)
        if errors:
            return invalid(errors, request.url.path)
        naam = created.get("contactnaam") or {}
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
            **created,
            "volledigeNaam": volledig,
        }
        self.store.data["betrokkenen"][obj["uuid"]] = obj
        assert contact is not None
        contact["hadBetrokkenen"].append(fk("betrokkenen", obj["uuid"]))
        if partij is not None:
            partij["betrokkenen"].append(fk("betrokkenen", obj["uuid"]))
        return ok(obj, request, 201)

    async def post_onderwerpobjecten(self, request: Request) -> Response:
        created = await self._create(request, "onderwerpobjecten")
        if isinstance(created, Response):
            return created
        errors: list[Obj] = []
        contact = self.store.link(created, "klantcontact", "klantcontacten", errors, required=False)
        self.store.link(created, "wasKlantcontact", "klantcontacten", errors, required=False)
        if errors:
            return invalid(errors, request.url.path)
        obj = {"klantcontact": None, "wasKlantcontact": None, "onderwerpobjectidentificator": None, **created}
        self.store.data["onderwerpobjecten"][obj["uuid"]] = obj
        if contact is not None:
            contact["gingOverOnderwerpobjecten"].append(fk("onderwerpobjecten", obj["uuid"]))
        return ok(obj, request, 201)

    async def post_internetaken(self, request: Request) -> Response:
        created = await self._create(request, "internetaken")
        if isinstance(created, Response):
            return created
        errors: list[Obj] = []
        contact = self.store.link(
            created, "aanleidinggevendKlantcontact", "klantcontacten", errors, required=True
        )
        resolved = self.store.resolve_actoren(created, errors)
        if errors:
            return invalid(errors, request.url.path)
        # Open Klant, not the spec: an actor is required, by one of the two fields (package docstring)
        given = ("toegewezenAanActor" in created, "toegewezenAanActoren" in created)
        if given[0] == given[1]:
            reason = ACTOR_BOTH if given[0] else ACTOR_REQUIRED
            return invalid(
                [{"name": "nonFieldErrors", "code": "invalid", "reason": reason}], request.url.path
            )
        obj = {
            "nummer": None,
            "referentienummer": None,
            "toelichting": "",
            "afgehandeldOp": None,
            **created,
            "toegewezenAanActoren": resolved,
            "toegewezenOp": iso(datetime.now(UTC)),
        }
        if resolved:
            obj["toegewezenAanActor"] = resolved[0]
        else:
            obj.pop("toegewezenAanActor", None)
        if not obj.get("nummer"):
            obj["nummer"] = self.store.next_nummer("internetaken")
        self.store.data["internetaken"][obj["uuid"]] = obj
        assert contact is not None
        contact["leiddeTotInterneTaken"].append(fk("internetaken", obj["uuid"]))
        self._notify(request, "internetaken", obj, "create")
        return ok(obj, request, 201)

    async def _changes_of(self, request: Request, resource: str) -> tuple[Obj, Obj] | Response:
        """(the stored object, the validated changes) of a PUT or PATCH on `resource`."""
        current = self.store.get(resource, request.path_params["uuid"])
        if current is None:
            return not_found(request)
        try:
            body = await request.json()
        except ValueError:
            return not_json(request)
        errors = validate(resource, body, partial=request.method == "PATCH")
        if errors:
            return invalid(errors, request.url.path)
        return current, writable(resource, body)

    async def update_internetaak(self, request: Request) -> Response:
        found = await self._changes_of(request, "internetaken")
        if isinstance(found, Response):
            return found
        current, changes = found
        store = self.store
        updated = {**current, **changes}
        errors: list[Obj] = []
        old_contact = fk_uuid(current.get("aanleidinggevendKlantcontact"))
        contact = store.link(updated, "aanleidinggevendKlantcontact", "klantcontacten", errors, required=True)
        if {"toegewezenAanActor", "toegewezenAanActoren"} & changes.keys():
            resolved = store.resolve_actoren(changes, errors)
            updated["toegewezenAanActoren"] = resolved
            if resolved:
                updated["toegewezenAanActor"] = resolved[0]
            else:
                updated.pop("toegewezenAanActor", None)
        if errors:
            return invalid(errors, request.url.path)
        assert contact is not None
        if contact["uuid"] != old_contact:
            previous = store.get("klantcontacten", old_contact)
            link = fk("internetaken", current["uuid"])
            if previous is not None and link in previous["leiddeTotInterneTaken"]:
                previous["leiddeTotInterneTaken"].remove(link)
            contact["leiddeTotInterneTaken"].append(link)
        store.data["internetaken"][current["uuid"]] = updated
        self._notify(
            request, "internetaken", updated, "partial_update" if request.method == "PATCH" else "update"
        )
        return ok(updated, request)

    async def post_digitaleadressen(self, request: Request) -> Response:
        """A new digitaal adres, provided by a partij (for future contact) and/or by a betrokkene
        of a klantcontact. Each link must name an existing object; `isStandaardAdres` makes it the
        partij's only standard address of its soort (Open Klant's DigitaalAdres.save)."""
        created = await self._create(request, "digitaleadressen")
        if isinstance(created, Response):
            return created
        errors = validate_digitaal_adres(created)
        partij = self.store.link(created, "verstrektDoorPartij", "partijen", errors, required=False)
        self.store.link(created, "verstrektDoorBetrokkene", "betrokkenen", errors, required=False)
        if errors:
            return invalid(errors, request.url.path)
        obj = {
            "isStandaardAdres": False,
            "omschrijving": "",
            "verificatieDatum": None,
            **created,
        }
        self.store.add_adres(obj, partij)
        return ok(obj, request, 201)

    async def delete_digitaal_adres(self, request: Request) -> Response:
        """Remove a digitaal adres; a partij that preferred it then prefers none (the foreign key's
        SET_NULL in Open Klant)."""
        if not self.store.remove_adres(request.path_params["uuid"]):
            return not_found(request)
        return Response(status_code=204, headers={"API-version": API_VERSION})

    async def patch_partij(self, request: Request) -> Response:
        found = await self._changes_of(request, "partijen")
        if isinstance(found, Response):
            return found
        current, changes = found
        if changes.get("voorkeursDigitaalAdres") is not None:
            wanted = fk_uuid(changes["voorkeursDigitaalAdres"])
            if wanted not in {a["uuid"] for a in current["digitaleAdressen"]}:
                return invalid(
                    [
                        {
                            "name": "voorkeursDigitaalAdres",
                            "code": "invalid",
                            "reason": "Het voorkeursadres moet een gekoppeld digitaal adres zijn.",
                        }
                    ],
                    request.url.path,
                )
            changes["voorkeursDigitaalAdres"] = fk("digitaleadressen", str(wanted))
        updated = {**current, **changes}
        self.store.data["partijen"][current["uuid"]] = updated
        self.store.partij_written()
        self._notify(request, "partijen", updated, "partial_update")
        return ok(updated, request)

    # --- test routes --------------------------------------------------------------------------
    async def published(self, request: Request) -> Response:
        """`GET /_sim/notificaties`: what happened to each published notification."""
        return JSONResponse(list(self.publisher.log))
