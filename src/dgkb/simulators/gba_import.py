"""Import the official GBA-V test set into the BRP simulator (`dgkb simulators import-gba`).

`../shared/reference/brp-personen/testset-gba-v-20220502.csv` is semicolon-separated, one column per GBA
element number (`01.01.20` = BSN, …). A person starts at a row whose first column (the test case id) is
filled; the rows after it, first column empty, hold that person's historic data (previous addresses,
earlier names) and further related persons. Only the current data (the person's first row) is used,
plus the children (`09.01.20`) of every row of the person. Elements used:

    01.01.20 burgerservicenummer    01.02.10 voornamen     01.02.30 voorvoegsel   01.02.40 geslachtsnaam
    01.03.10 geboortedatum          01.04.10 geslacht (M/V/O)
    02.01.20, 03.01.20 BSN of the parents      05.01.20 BSN of the partner, 05.06.10 date of marriage,
    05.07.10 date of dissolution (a dissolved partnership is left out)       09.01.20 BSN of a child
    06.08.10 datum overlijden       07.70.10 indicatie geheim (0–7)
    08.09.10 gemeente van inschrijving (code)  08.09.20 datum inschrijving   08.10.30 datum aanvang adres
    08.11.15 openbare ruimte naam (else 08.11.10 straatnaam)   08.11.20 huisnummer   08.11.60 postcode
    08.11.70 woonplaats (else the name of the gemeente)

A row is skipped, with its reason counted, when it has no valid BSN (9 digits, 11-proef), no
geslachtsnaam, no complete geboortedatum (GBA allows partly unknown dates such as 19850000; the
simulator cannot serve those), no geslacht, no Dutch address (postcode and huisnummer), no gemeente
van inschrijving, or repeats a BSN seen before.

`import_gba(csv, output)` writes the persons as JSON in the simulator's own person shape
(`Person` of `simulators.world`, without the KI/Zaken parts). `with_imported_persons(world)` is the
hook the runner uses: the world plus the persons of `DGKB_SIMULATOR_GBA_FILE` (or `var/gba-personen.json`
when it exists); on a BSN in both, the generated world wins.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from dgkb.domain.identifiers import passes_elfproef
from dgkb.settings import PROJECT_ROOT
from dgkb.simulators.world import Address, Person, World

__all__ = [
    "DEFAULT_CSV",
    "DEFAULT_OUTPUT",
    "ENV_FILE",
    "ImportReport",
    "import_gba",
    "load_persons",
    "parse_testset",
    "person_from_json",
    "person_to_json",
    "with_imported_persons",
]

DEFAULT_CSV = PROJECT_ROOT.parent / "shared" / "reference" / "brp-personen" / "testset-gba-v-20220502.csv"
DEFAULT_OUTPUT = PROJECT_ROOT / "var" / "gba-personen.json"
ENV_FILE = "DGKB_SIMULATOR_GBA_FILE"
FORMAT = "dgkb-gba-personen/1"

# Names of the gemeenten in the test set (CBS codes); an unknown code gets "gemeente <code>".
_GEMEENTEN = {
    "0014": "Groningen",
    "0109": "Coevorden",
    "0226": "Duiven",
    "0228": "Ede",
    "0344": "Utrecht",
    "0363": "Amsterdam",
    "0518": "'s-Gravenhage",
    "0530": "Hellevoetsluis",
    "0599": "Rotterdam",
    "0762": "Deurne",
    "0935": "Maastricht",
    "1810": "Toetsoog",
    "1999": "Registratie Niet Ingezetenen (RNI)",
}
_BSN = re.compile(r"^[0-9]{9}$")
_POSTCODE = re.compile(r"^([1-9][0-9]{3}) ?([A-Za-z]{2})$")


@dataclass(slots=True)
class ImportReport:
    """What an import did: persons read and written, and per reason the rows skipped."""

    imported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    output: Path | None = None

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


class _Row:
    """One CSV row, read by GBA element number (the first column of a duplicated number wins)."""

    def __init__(self, index: dict[str, int], values: Sequence[str]) -> None:
        self._index = index
        self._values = values

    def __getitem__(self, element: str) -> str:
        i = self._index.get(element)
        return self._values[i].strip() if i is not None and i < len(self._values) else ""


def _date(value: str) -> date | None:
    """A complete GBA date (yyyymmdd); None for empty or partly unknown ones (00 parts)."""
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _bsn(value: str) -> str | None:
    return value if _BSN.match(value) and passes_elfproef(value) else None


def _person(first: _Row, rows: Sequence[_Row]) -> Person | str:
    """The person of one test case, or the reason it cannot be served."""
    bsn = _bsn(first["01.01.20"])
    if bsn is None:
        return "geen geldig burgerservicenummer"
    geslachtsnaam = first["01.02.40"]
    if not geslachtsnaam:
        return "geen geslachtsnaam"
    geboortedatum = _date(first["01.03.10"])
    if geboortedatum is None:
        return "geen volledige geboortedatum"
    geslacht = first["01.04.10"].upper()
    if geslacht not in ("M", "V", "O"):
        return "geen geslacht"
    postcode = _POSTCODE.match(first["08.11.60"])
    huisnummer = first["08.11.20"]
    if postcode is None or not huisnummer.isdigit() or not 1 <= int(huisnummer) <= 99999:
        return "geen Nederlands adres"
    gemeente_code = first["08.09.10"]
    if not (len(gemeente_code) == 4 and gemeente_code.isdigit()):
        return "geen gemeente van inschrijving"
    gemeente_naam = _GEMEENTEN.get(gemeente_code, f"gemeente {gemeente_code}")
    ingeschreven = _date(first["08.09.20"]) or _date(first["08.10.30"]) or geboortedatum
    address = Address(
        straat=first["08.11.15"] or first["08.11.10"],
        huisnummer=int(huisnummer),
        postcode=f"{postcode.group(1)} {postcode.group(2).upper()}",
        woonplaats=first["08.11.70"] or gemeente_naam,
        gemeente_code=gemeente_code,
        gemeente_naam=gemeente_naam,
    )
    partner = _bsn(first["05.01.20"]) if not first["05.07.10"] else None
    geheim = first["07.70.10"]
    kinderen = tuple(dict.fromkeys(b for r in rows if (b := _bsn(r["09.01.20"]))))
    ouders = tuple(b for b in (_bsn(first["02.01.20"]), _bsn(first["03.01.20"])) if b)
    return Person(
        bsn=bsn,
        voornamen=first["01.02.10"],
        voorvoegsel=first["01.02.30"],
        geslachtsnaam=geslachtsnaam,
        geboortedatum=geboortedatum,
        geslacht=geslacht,
        address=address,
        datum_inschrijving_in_gemeente=ingeschreven,
        geheimhouding=int(geheim) if geheim.isdigit() else 0,
        partner_bsn=partner,
        partner_sinds=_date(first["05.06.10"]) if partner else None,
        kinderen_bsns=kinderen,
        ouders_bsns=ouders,
        emailadressen=(),
        telefoonnummers=(),
        voorkeurskanaal="post",
        voorkeurstaal="nld",
        partij_uuid=None,
        partij_nummer=None,
        zaken=(),
        klantcontacten=(),
        interne_taken=(),
        overlijdensdatum=_date(first["06.08.10"]),
    )


def _cases(lines: Iterable[list[str]]) -> Iterable[tuple[dict[str, int], list[_Row]]]:
    it = iter(lines)
    header = next(it, None)
    if header is None:
        return
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name.strip().lstrip("\ufeff"), i)
    case: list[_Row] = []
    for values in it:
        if not any(v.strip() for v in values):
            continue
        if values[0].strip() and case:
            yield index, case
            case = []
        if values[0].strip() or case:  # rows before the first test case belong to nobody
            case.append(_Row(index, values))
    if case:
        yield index, case


def parse_testset(path: Path) -> tuple[list[Person], ImportReport]:
    """The persons of the GBA-V test set at `path`, and a report of what was skipped and why."""
    report = ImportReport()
    persons: list[Person] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as f:
        for _, rows in _cases(csv.reader(f, delimiter=";")):
            result = _person(rows[0], rows)
            if isinstance(result, str):
                report.skipped[result] += 1
            elif result.bsn in seen:
                report.skipped["dubbel burgerservicenummer"] += 1
            else:
                seen.add(result.bsn)
                persons.append(result)
    report.imported = len(persons)
    return persons, report


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def person_to_json(p: Person) -> dict[str, Any]:
    a = p.address
    return {
        "bsn": p.bsn,
        "voornamen": p.voornamen,
        "voorvoegsel": p.voorvoegsel,
        "geslachtsnaam": p.geslachtsnaam,
        "geboortedatum": p.geboortedatum.isoformat(),
        "geslacht": p.geslacht,
        "address": {
            "straat": a.straat,
            "huisnummer": a.huisnummer,
            "postcode": a.postcode,
            "woonplaats": a.woonplaats,
            "gemeente_code": a.gemeente_code,
            "gemeente_naam": a.gemeente_naam,
        },
        "datum_inschrijving_in_gemeente": p.datum_inschrijving_in_gemeente.isoformat(),
        "geheimhouding": p.geheimhouding,
        "partner_bsn": p.partner_bsn,
        "partner_sinds": _iso(p.partner_sinds),
        "kinderen_bsns": list(p.kinderen_bsns),
        "ouders_bsns": list(p.ouders_bsns),
        "overlijdensdatum": _iso(p.overlijdensdatum),
    }


def _opt_date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def person_from_json(data: dict[str, Any]) -> Person:
    """A `Person` from `person_to_json`; raises KeyError/ValueError/TypeError on a malformed entry."""
    a = data["address"]
    return Person(
        bsn=str(data["bsn"]),
        voornamen=str(data["voornamen"]),
        voorvoegsel=str(data.get("voorvoegsel") or ""),
        geslachtsnaam=str(data["geslachtsnaam"]),
        geboortedatum=date.fromisoformat(data["geboortedatum"]),
        geslacht=str(data["geslacht"]),
        address=Address(
            straat=str(a["straat"]),
            huisnummer=int(a["huisnummer"]),
            postcode=str(a["postcode"]),
            woonplaats=str(a["woonplaats"]),
            gemeente_code=str(a["gemeente_code"]),
            gemeente_naam=str(a["gemeente_naam"]),
        ),
        datum_inschrijving_in_gemeente=date.fromisoformat(data["datum_inschrijving_in_gemeente"]),
        geheimhouding=int(data.get("geheimhouding") or 0),
        partner_bsn=data.get("partner_bsn") or None,
        partner_sinds=_opt_date(data.get("partner_sinds")),
        kinderen_bsns=tuple(str(b) for b in data.get("kinderen_bsns") or ()),
        ouders_bsns=tuple(str(b) for b in data.get("ouders_bsns") or ()),
        emailadressen=(),
        telefoonnummers=(),
        voorkeurskanaal="post",
        voorkeurstaal="nld",
        partij_uuid=None,
        partij_nummer=None,
        zaken=(),
        klantcontacten=(),
        interne_taken=(),
        overlijdensdatum=_opt_date(data.get("overlijdensdatum")),
    )


def import_gba(csv_path: Path = DEFAULT_CSV, output: Path = DEFAULT_OUTPUT) -> ImportReport:
    """Read the test set, write its persons to `output` (JSON); FileNotFoundError when the CSV is absent."""
    persons, report = parse_testset(csv_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT,
        "source": csv_path.name,
        "skipped": dict(report.skipped),
        "personen": [person_to_json(p) for p in persons],
    }
    tmp = output.with_suffix(output.suffix + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(output)
    report.output = output
    return report


def load_persons(path: Path) -> list[Person]:
    """The persons of a file written by `import_gba`; ValueError naming the file when it is malformed."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"geen {FORMAT}-bestand")
        return [person_from_json(p) for p in document["personen"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: ongeldig GBA-personenbestand ({exc})") from exc


def _configured_file() -> Path | None:
    configured = os.environ.get(ENV_FILE)
    if configured:
        return Path(configured)  # set explicitly: a missing file is an error, not silence
    return DEFAULT_OUTPUT if DEFAULT_OUTPUT.is_file() else None


def with_imported_persons(world: World, path: Path | None = None) -> World:
    """`world` plus the imported GBA persons of `path` (default: `DGKB_SIMULATOR_GBA_FILE`, else
    `var/gba-personen.json` when it exists); the world itself when there is nothing to import. A BSN
    the generated world already has keeps the generated person."""
    path = path or _configured_file()
    if path is None:
        return world
    extra = [p for p in load_persons(path) if world.person(p.bsn) is None]
    if not extra:
        return world
    return World(
        seed=world.seed,
        reference_date=world.reference_date,
        persons=(*world.persons, *extra),
        zaaktypen=world.zaaktypen,
        actoren=world.actoren,
        shielded_bsn=world.shielded_bsn,
        no_partij_bsn=world.no_partij_bsn,
        companies=world.companies,
        producttypen=world.producttypen,
        special=dict(world.special),
    )
