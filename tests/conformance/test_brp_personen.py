"""BRP Personen 2.7: every request of the adapter and every answer of the simulator against the spec.

Driven: `fetch` of klant.basis (every BRP field of the catalogue) and klant.familie for the README
persons and the special cases (family, shielded, deceased, recent move), `verify_subject`, `lookup`, and
`search` with each query type (ZoekMetGeslachtsnaamEnGeboortedatum, ZoekMetNaamEnGemeenteVanInschrijving
incl. a wildcard and inclusiefOverledenPersonen, ZoekMetPostcodeEnHuisnummer) with the customer search's
fields and with every PersoonBeperkt field. Checked per exchange: openapi-core (request + response),
the request body against the variant schema named by `type` with no parameter outside that variant,
the `fields` paths against fields-filtered-Persoon.csv / fields-filtered-PersoonBeperkt.csv, and the
response against the variant's response schema with every returned path in fields-Persoon.csv /
fields-PersoonBeperkt.csv (automatically delivered fields aside).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from dgkb.domain.identifiers import Subject
from dgkb.simulators.world import README_BSNS, Person
from dgkb.sources.base import FetchRequest, fields_for
from dgkb.sources.brp import (
    BrpPersonenAdapter,
    NaamGeboortedatumQuery,
    NaamGemeenteQuery,
    PostcodeHuisnummerQuery,
)
from tests.conformance.conftest import (
    HEADERS,
    SimulatorStack,
    assert_conformant,
    catalogue_fields,
    openapi_errors,
)

SEARCH_FIELDS = ("burgerservicenummer", "naam", "geboorte", "adressering")  # as dgkb.search asks
# Delivered automatically when they apply (never requested, not in the fields CSVs).
AUTOMATIC = frozenset(
    {"inOnderzoek", "geheimhoudingPersoonsgegevens", "opschortingBijhouding", "rni", "verificatie"}
)
SPECIALS = ("shielded", "deceased", "recent_move", "passport_expires_soon", "repeat_contacts")


def _csv(path: Path) -> frozenset[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    return frozenset(line for line in lines[1:] if line)  # first line is the header "pad"


def _declared(raw: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """Every property a (variant) schema declares, through $ref and allOf."""
    if "$ref" in schema:
        return _declared(raw, raw["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    names = set(schema.get("properties", {}))
    for sub in schema.get("allOf", []):
        names |= _declared(raw, sub)
    return names


def _paths(value: Any, prefix: str = "") -> set[str]:
    """Every dotted path in a JSON value (list items under the list's path)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _paths(item, prefix)
    elif isinstance(value, dict):
        for key, sub in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            found |= _paths(sub, path)
    return found


class BrpChecker:
    def __init__(self, raw: dict[str, Any], reference: Path) -> None:
        self.raw = raw
        resource = Resource.from_contents(raw, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource("urn:brp", resource)
        folder = reference / "brp-personen"
        self.filtered = {
            "Persoon": _csv(folder / "fields-filtered-Persoon.csv"),
            "PersoonBeperkt": _csv(folder / "fields-filtered-PersoonBeperkt.csv"),
        }
        self.all_paths = {
            "Persoon": _csv(folder / "fields-Persoon.csv"),
            "PersoonBeperkt": _csv(folder / "fields-PersoonBeperkt.csv"),
        }

    def _validate(self, value: Any, schema_name: str) -> list[str]:
        validator = Draft202012Validator(
            {"$ref": f"urn:brp#/components/schemas/{schema_name}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        return [
            f"{schema_name} at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in validator.iter_errors(value)
        ]

    def errors(self, body: Any, status: int, answer: Any) -> list[str]:
        kind = body.get("type") if isinstance(body, dict) else None
        mapping = self.raw["components"]["schemas"]["PersonenQuery"]["discriminator"]["mapping"]
        if kind not in mapping:
            return [f"request type {kind!r} is no variant of PersonenQuery"]
        variant = mapping[kind].rsplit("/", 1)[-1]
        errors = self._validate(body, variant)
        declared = _declared(self.raw, {"$ref": mapping[kind]})
        errors += [f"{kind}: parameter {name!r} not in the variant" for name in body if name not in declared]
        persoon = "Persoon" if kind == "RaadpleegMetBurgerservicenummer" else "PersoonBeperkt"
        errors += [
            f"{kind}: fields path {path!r} not in fields-filtered-{persoon}.csv"
            for path in body.get("fields", [])
            if path not in self.filtered[persoon]
        ]
        if status != 200:
            return [*errors, f"{kind}: answered {status}: {answer}"]
        errors += self._validate(answer, f"{variant}Response")
        if not isinstance(answer, dict) or answer.get("type") != kind:
            errors.append(f"{kind}: answer type {answer.get('type') if isinstance(answer, dict) else None!r}")
            return errors
        known = self.all_paths[persoon]
        parents = {p.rsplit(".", 1)[0] for p in known if "." in p}
        for index, item in enumerate(answer.get("personen", [])):
            errors += self._validate(item, persoon)
            for path in sorted(_paths(item)):
                top = path.split(".")[0]
                leaf_ancestor = any(
                    path.startswith(f"{a}.") and a in known and a not in parents
                    for a in (path.rsplit(".", n)[0] for n in range(1, path.count(".") + 1))
                )
                if path not in known and top not in AUTOMATIC and not leaf_ancestor:
                    errors.append(f"{kind}: personen[{index}] has {path!r}, not in fields-{persoon}.csv")
        return errors


def _queries(p: Person, deceased: Person) -> list[Any]:
    return [
        NaamGeboortedatumQuery(geslachtsnaam=p.geslachtsnaam, geboortedatum=p.geboortedatum),
        NaamGeboortedatumQuery(
            geslachtsnaam=p.geslachtsnaam,
            geboortedatum=p.geboortedatum,
            voornamen=p.voornamen.split()[0],
            voorvoegsel=p.voorvoegsel or None,
            geslacht=p.geslacht,
        ),
        NaamGemeenteQuery(
            geslachtsnaam=p.geslachtsnaam,
            voornamen=p.voornamen,
            gemeente_van_inschrijving=p.address.gemeente_code,
        ),
        NaamGemeenteQuery(
            geslachtsnaam=f"{deceased.geslachtsnaam[:3]}*",
            voornamen=deceased.voornamen,
            gemeente_van_inschrijving=deceased.address.gemeente_code,
            inclusief_overleden=True,
        ),
        PostcodeHuisnummerQuery(postcode=p.address.postcode, huisnummer=p.address.huisnummer),
        PostcodeHuisnummerQuery(
            postcode=p.address.postcode.replace(" ", ""),
            huisnummer=p.address.huisnummer,
            geslachtsnaam=p.geslachtsnaam,
            geboortedatum=p.geboortedatum,
        ),
    ]


async def test_every_brp_exchange_conforms(stack: SimulatorStack, spec: Any, shared_reference: Path) -> None:
    api, raw = spec("brp")
    world = stack.world
    adapter = stack.adapters["brp"]
    assert isinstance(adapter, BrpPersonenAdapter)
    await stack.clear("brp")
    checker = BrpChecker(raw, shared_reference)
    bsns = list(dict.fromkeys([*README_BSNS, *(world.special[s] for s in SPECIALS)]))
    fields = {c: fields_for(adapter, c, catalogue_fields(c)) for c in ("klant.basis", "klant.familie")}
    for bsn in bsns:
        result = await adapter.fetch(FetchRequest(Subject.person(bsn), fields, HEADERS))
        assert result["klant.basis"], bsn
        await adapter.verify_subject(Subject.person(bsn), HEADERS)
        await adapter.lookup(bsn, SEARCH_FIELDS, HEADERS)
    # every PersoonBeperkt field, but adresseringBinnenland: in the 2.7 fields list, not in its schema
    beperkt = sorted(p for p in checker.filtered["PersoonBeperkt"] if not p.startswith("adresseringBinnen"))
    found = 0
    deceased = world.person(world.special["deceased"])
    assert deceased is not None
    for bsn in README_BSNS:
        person = world.person(bsn)
        assert person is not None
        for query in _queries(person, deceased):
            for search_fields in (SEARCH_FIELDS, beperkt):
                found += len(await adapter.search(query, search_fields, HEADERS))
    assert found > 0, "the searches found nobody: the test would prove little"

    exchanges = await stack.exchanges("brp")
    errors: list[str] = []
    for x in exchanges:
        errors += openapi_errors(api, x)
        errors += [f"{x.label}: {e}" for e in checker.errors(x.body, x.status, x.response)]
    kinds = {x.body["type"] for x in exchanges if isinstance(x.body, dict)}
    assert kinds == {
        "RaadpleegMetBurgerservicenummer",
        "ZoekMetGeslachtsnaamEnGeboortedatum",
        "ZoekMetNaamEnGemeenteVanInschrijving",
        "ZoekMetPostcodeEnHuisnummer",
    }
    assert_conformant(errors, len(exchanges))


@pytest.mark.parametrize("bad", [{"geslachtsnaam": "Ja*"}, {"postcode": "0123AB"}])
async def test_simulator_rejections_conform(
    stack: SimulatorStack, spec: Any, bad: dict[str, Any], shared_reference: Path
) -> None:
    """A request the BRP refuses gets a 400 problem in the spec's shape (BadRequestFoutbericht)."""
    api, _ = spec("brp")
    await stack.clear("brp")
    body = {
        "type": "ZoekMetPostcodeEnHuisnummer" if "postcode" in bad else "ZoekMetGeslachtsnaamEnGeboortedatum",
        "fields": ["burgerservicenummer"],
        "postcode": "3011AB",
        "huisnummer": 1,
        "geboortedatum": "1980-01-01",
        **bad,
    }
    if body["type"] == "ZoekMetGeslachtsnaamEnGeboortedatum":
        del body["postcode"], body["huisnummer"]
    else:
        del body["geboortedatum"]
    resp = await stack.client.post(f"{stack.urls['brp']}/haalcentraal/api/brp/personen", json=body)
    assert resp.status_code == 400
    exchanges = await stack.exchanges("brp")
    # the request is invalid on purpose: only the answer is checked
    errors = [e for x in exchanges for e in openapi_errors(api, x) if ": response:" in e]
    assert_conformant(errors, len(exchanges))


def test_checker_catches_what_generic_validation_lets_through(spec: Any, shared_reference: Path) -> None:
    """The variant checks are not vacuous: unknown parameters, fields paths and returned paths fail."""
    _, raw = spec("brp")
    checker = BrpChecker(raw, shared_reference)
    body = {
        "type": "ZoekMetPostcodeEnHuisnummer",
        "postcode": "3011AB",
        "huisnummer": 1,
        "burgerservicenummer": ["999993653"],  # belongs to another variant
        "fields": ["naam", "verblijfplaats"],  # verblijfplaats is no PersoonBeperkt field
    }
    answer = {
        "type": "ZoekMetPostcodeEnHuisnummer",
        "personen": [{"burgerservicenummer": "999993653", "naam": {"geslachtsnaam": "X", "bijnaam": "Y"}}],
    }
    errors = "\n".join(checker.errors(body, 200, answer))
    assert "'burgerservicenummer' not in the variant" in errors
    assert "'verblijfplaats' not in fields-filtered-PersoonBeperkt.csv" in errors
    assert "'naam.bijnaam', not in fields-PersoonBeperkt.csv" in errors
