"""The Klantinteracties simulator's in-memory store: every resource as JSON objects by uuid, seeded from
the world (partijen with their identificatoren, digitale adressen, klantcontacten, betrokkenen,
onderwerpobjecten, interne taken, actoren), an index over the digitale adressen, and the lookups and
link resolution the routes use."""

from __future__ import annotations

import random
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from itertools import accumulate

from dgkb.simulators.klantinteracties.serialise import (
    ZAAK_STYLES,
    Obj,
    PartijSeed,
    actor_json,
    betrokkene_json,
    company_seed,
    digitaal_adres_json,
    extra_adres_json,
    fk,
    fk_uuid,
    identificator_json,
    internetaak_json,
    klantcontact_json,
    onderwerpobject_json,
    partij_json,
    person_seed,
    vestiging_seed,
)
from dgkb.simulators.world import World

RESOURCES = (
    "partijen",
    "partij-identificatoren",
    "digitaleadressen",
    "klantcontacten",
    "betrokkenen",
    "onderwerpobjecten",
    "internetaken",
    "actoren",
)


def missing_fk(name: str) -> Obj:
    """The field error of a link to an object that does not exist."""
    return {
        "name": name,
        "code": "does_not_exist",
        "reason": "Ongeldige hyperlink - Object bestaat niet.",
    }


class AddressIndex:
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


class Store:
    """In-memory resources, seeded from the world, plus `extra` digitale adressen for benchmarks."""

    def __init__(self, world: World, extra_addresses: int = 0) -> None:
        self.data: dict[str, dict[str, Obj]] = {r: {} for r in RESOURCES}
        self.addresses = AddressIndex()
        self.extra: dict[str, tuple[str, str]] = {}  # uuid -> (adres, soort), rendered on demand
        self._contacts = 0
        # (identificator field, value) -> partij uuids; built on first use, dropped on a partij write
        self._identificatoren: dict[tuple[str, str], frozenset[str]] | None = None
        for actor in world.actoren:
            self.data["actoren"][actor.uuid] = actor_json(actor)
        for person in world.persons:
            if person.partij_uuid is not None:
                self._seed(person_seed(person))
        for company in world.companies:
            kvk_id = self._seed(company_seed(company))
            for v in company.vestigingen:
                if not v.is_hoofdvestiging:
                    self._seed(vestiging_seed(company, v), sub_van=kvk_id)
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

    def _seed(self, s: PartijSeed, *, sub_van: str | None = None) -> str | None:
        """Store one partij with its identificatoren, adressen, contacten and taken; return the uuid
        of its first identificator (a KVK-nummer's, for the vestigingen below it)."""
        partij = fk("partijen", s.uuid)
        identificatoren = []
        for identificator in s.identificatoren:
            soort = identificator[1]
            ident_uuid = str(uuid.uuid5(uuid.UUID(s.uuid), soort))
            ident = identificator_json(ident_uuid, partij, identificator, sub_van)
            self.data["partij-identificatoren"][ident_uuid] = ident
            identificatoren.append(ident)
            if soort == "kvk_nummer":
                sub_van = ident_uuid
        for adres in s.adressen:
            standaard = s.voorkeur is not None and adres.uuid == s.voorkeur.uuid
            self.data["digitaleadressen"][adres.uuid] = digitaal_adres_json(
                adres, partij, standaard=standaard
            )
            self.addresses.add(adres.uuid, adres.adres, s.uuid)
        self.data["partijen"][s.uuid] = partij_json(s, partij, identificatoren)
        self.partij_written()
        self._seed_contacts(s, partij)
        return identificatoren[0]["uuid"] if identificatoren else None

    def _seed_contacts(self, s: PartijSeed, partij: Obj) -> None:
        taken_by_contact: dict[str, list[str]] = {}
        for taak in s.taken:
            taken_by_contact.setdefault(taak.klantcontact_uuid, []).append(taak.uuid)
            self.data["internetaken"][taak.uuid] = internetaak_json(taak)
        for c in s.contacten:
            self.data["betrokkenen"][c.betrokkene_uuid] = betrokkene_json(c, s, partij)
            if c.onderwerpobject_uuid is not None and c.zaak_identificatie is not None:
                self._contacts += 1
                style = ZAAK_STYLES[self._contacts % len(ZAAK_STYLES)]
                self.data["onderwerpobjecten"][c.onderwerpobject_uuid] = onderwerpobject_json(
                    c.onderwerpobject_uuid, c, c.zaak_identificatie, style
                )
            self.data["klantcontacten"][c.uuid] = klantcontact_json(c, taken_by_contact.get(c.uuid, []))

    # --- reads --------------------------------------------------------------------------------
    def adres(self, obj_uuid: str) -> Obj | None:
        """A digitaal adres of the world or of the extra ones."""
        found = self.data["digitaleadressen"].get(obj_uuid)
        if found is not None or obj_uuid not in self.extra:
            return found
        adres, soort = self.extra[obj_uuid]
        return extra_adres_json(obj_uuid, adres, soort)

    def get(self, resource: str, obj_uuid: str | None) -> Obj | None:
        if not obj_uuid:
            return None
        return self.adres(obj_uuid) if resource == "digitaleadressen" else self.data[resource].get(obj_uuid)

    def related(self, resource: str, fks: Iterable[Obj]) -> list[Obj]:
        return [obj for link in fks if (obj := self.get(resource, link.get("uuid"))) is not None]

    def filtered(
        self,
        resource: str,
        q: Mapping[str, str],
        filters: dict[str, Callable[[Obj, str], bool]],
        *,
        among: set[str] | None = None,
    ) -> list[Obj]:
        """The objects of `resource` that pass each filter whose name is in the query `q`; only
        those whose uuid is in `among` when given (a superset found through an index)."""
        objects = self.data[resource]
        items = list(objects.values()) if among is None else [o for u, o in objects.items() if u in among]
        for name, test in filters.items():
            wanted = q.get(name)
            if wanted is not None:
                items = [o for o in items if test(o, wanted)]
        return items

    def expanded(self, obj: Obj, names: list[str], allowed: dict[str, str]) -> Obj:
        """`obj` with `_expand` holding the related objects of each name (field -> resource in
        `allowed`) that `expand` asked for."""
        if not names:
            return obj
        extra = {n: self.related(allowed[n], obj.get(n) or []) for n in names if n in allowed}
        return {**obj, "_expand": extra}

    def digitale_adressen(self, q: Mapping[str, str]) -> list[Obj]:
        """Narrowed through the address index first (exact adres, adres__icontains, partij), so a
        search among 100,000 addresses never walks them all."""
        index = self.addresses
        candidates: list[str] | None = None
        lookups: tuple[tuple[str, Callable[[str], list[str]]], ...] = (
            ("verstrektDoorPartij__uuid", lambda v: index.by_partij.get(v, [])),
            ("adres", lambda v: index.exact.get(v, [])),
            ("adres__icontains", index.icontains),
        )
        for name, lookup in lookups:
            if (value := q.get(name)) is not None:
                found = lookup(value)
                candidates = found if candidates is None else [u for u in candidates if u in set(found)]
        items = [a for u in (index.uuids if candidates is None else candidates) if (a := self.adres(u))]
        checks: dict[str, Callable[[Obj, str], bool]] = {
            "verstrektDoorBetrokkene__uuid": by_fk("verstrektDoorBetrokkene"),
            "soortDigitaalAdres": lambda o, v: o["soortDigitaalAdres"] == v,
            "isStandaardAdres": lambda o, v: o["isStandaardAdres"] == (v.lower() == "true"),
            "omschrijving": lambda o, v: v.lower() in str(o["omschrijving"]).lower(),
        }
        for name, test in checks.items():
            if (value := q.get(name)) is not None:
                items = [o for o in items if test(o, value)]
        return items

    def partijen_with(self, field: str, value: str) -> frozenset[str]:
        """The partijen with an identificator whose `field` is `value` (the partijIdentificator__
        filters), through an index instead of a walk over every partij."""
        if self._identificatoren is None:
            index: dict[tuple[str, str], set[str]] = {}
            for uuid, partij in self.data["partijen"].items():
                for ident in partij["partijIdentificatoren"]:
                    for name, v in ident["partijIdentificator"].items():
                        index.setdefault((name, str(v)), set()).add(uuid)
            self._identificatoren = {k: frozenset(v) for k, v in index.items()}
        return self._identificatoren.get((field, value), frozenset())

    def partij_written(self) -> None:
        """A partij was created or changed: the identificator index is rebuilt on next use."""
        self._identificatoren = None

    def contacts_of_partijen(self, partijen: Iterable[str]) -> set[str]:
        """The klantcontacten any of `partijen` was betrokkene of, through the betrokkenen (each
        names its klantcontact, and a klantcontact lists exactly the betrokkenen that name it)."""
        wanted = set(partijen)
        return {
            b["hadKlantcontact"]["uuid"]
            for b in self.data["betrokkenen"].values()
            if (b.get("wasPartij") or {}).get("uuid") in wanted and b.get("hadKlantcontact")
        }

    def contact_partijen(self, contact: Obj) -> set[str]:
        """The uuids of the partijen that were betrokkene of a klantcontact."""
        betrokkenen = self.related("betrokkenen", contact["hadBetrokkenen"])
        return {b["wasPartij"]["uuid"] for b in betrokkenen if b.get("wasPartij")}

    # --- digitale adressen written through the API ----------------------------------------------
    def add_adres(self, obj: Obj, partij: Obj | None) -> None:
        """Store a new digitaal adres (links already resolved), index it, list it at its partij and,
        when it is a standard address, make it the partij's only one of its soort."""
        if partij is not None:
            if obj.get("isStandaardAdres"):
                for other in self.related("digitaleadressen", partij["digitaleAdressen"]):
                    if other["soortDigitaalAdres"] == obj["soortDigitaalAdres"]:
                        other["isStandaardAdres"] = False
            partij["digitaleAdressen"].append(fk("digitaleadressen", obj["uuid"]))
        self.data["digitaleadressen"][obj["uuid"]] = obj
        self.addresses.add(obj["uuid"], obj["adres"], partij["uuid"] if partij is not None else None)

    def remove_adres(self, obj_uuid: str) -> bool:
        """Delete a digitaal adres (not an extra one); False when there is none. The index keeps the
        uuid, but a lookup skips an address that is no longer stored."""
        obj = self.data["digitaleadressen"].pop(obj_uuid, None)
        if obj is None:
            return False
        partij = self.get("partijen", fk_uuid(obj.get("verstrektDoorPartij")))
        if partij is not None:
            link = fk("digitaleadressen", obj_uuid)
            partij["digitaleAdressen"] = [a for a in partij["digitaleAdressen"] if a["uuid"] != obj_uuid]
            if fk_uuid(partij.get("voorkeursDigitaalAdres")) == link["uuid"]:
                partij["voorkeursDigitaalAdres"] = None
        return True

    # --- links of writes ----------------------------------------------------------------------
    def link(self, obj: Obj, name: str, resource: str, errors: list[Obj], *, required: bool) -> Obj | None:
        """Resolve the link `obj[name]` to an object of `resource`, rewrite it as a proper link and
        return the target; a missing target is a field error in `errors`."""
        value = obj.get(name)
        if value is None and not required:
            return None
        target = self.get(resource, fk_uuid(value))
        if target is None:
            errors.append(missing_fk(name))
            return None
        obj[name] = fk(resource, target["uuid"])
        return target

    def resolve_actoren(self, obj: Obj, errors: list[Obj]) -> list[Obj]:
        """`toegewezenAanActor` (deprecated) and `toegewezenAanActoren` as links to known actoren."""
        actoren = list(obj.get("toegewezenAanActoren") or [])
        if "toegewezenAanActor" in obj:
            actoren.insert(0, obj["toegewezenAanActor"])
        resolved = []
        for actor in actoren:
            target = self.get("actoren", fk_uuid(actor))
            if target is None:
                errors.append(missing_fk("toegewezenAanActoren"))
            else:
                resolved.append(fk("actoren", target["uuid"]))
        return resolved

    def next_nummer(self, resource: str) -> str:
        """The nummer of a new object of `resource` that was given none."""
        return f"{len(self.data[resource]) + 1:010d}"


def identificator_match(field: str) -> Callable[[Obj, str], bool]:
    """A filter on one field of a partij's partijIdentificatoren."""
    return lambda o, v: any(i["partijIdentificator"][field] == v for i in o["partijIdentificatoren"])


def by_fk(field: str) -> Callable[[Obj, str], bool]:
    """A filter on the uuid of the link in `field`."""
    return lambda o, v: (o.get(field) or {}).get("uuid") == v
