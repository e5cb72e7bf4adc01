"""Klantinteracties API adapter (Open Klant 2): contact details, preferences, contacts, open requests.

Reads: finds the partij by its partij-identificator first (BSN: `bsn`; KVK-nummer: `kvk_nummer`;
vestiging: `vestigingsnummer` — the spec's CodeSoortObjectIdEnum; no partij: every requested category
is None, "niet-gevonden"), then makes only the calls the requested categories need, concurrently:
`digitaleadressen` for contact details and the preferred address, one `klantcontacten` list (with
`expand` of onderwerpobjecten and/or interne taken) for the contact history and the open requests. The
API has no field selection, so answers are projected down to the permitted fields at once. Like the
Zaken adapter it trusts no filter: the partij must carry the asked identificator, an address must be
provided by that partij and a contact must have one of the partij's betrokkenen, or they are left out.
Zaak links of a contact are accepted as `zaak` and as `zgw-Zaak` (codeObjecttype or codeSoortObjectId).

Writes: `register_klantcontact` (klantcontact, then its betrokkene linked to the partij, then one
onderwerpobject per zaak) and `create_interne_taak`, always assigned to an actor (`toegewezenAanActoren`:
Open Klant refuses an interne taak without one, although the spec marks it optional). Texts longer than
the spec allows raise `SourceValidationError` (field + limit) before anything is sent; nothing is
truncated. A refused write (400) is `SourceRejected` with the source's `invalidParams`.

Mijn profiel (`ProfileWriter`): `add_digitaal_adres` (POST digitaleadressen, provided by the
subject's partij, with its verification date), `remove_digitaal_adres` (DELETE) and `set_preferences`
(PATCH partijen: voorkeursDigitaalAdres, voorkeurstaal). Each finds the subject's own partij first and
names an address by soort and value within that partij's addresses only, so no call can reach another
customer's partij or address.

Checks (`dgkb check`): `probe` reads one organisational unit from `actoren` with the configured token
(Open Klant wants `Authorization: Token <key>`: auth type `token` in sources.yaml); `find_actor` tells
whether an actor uuid of config/onderwerpen.yaml exists.

Search: `search_digitale_adressen` finds the partijen behind a phone number or e-mail address, in
whatever spelling it was stored (`adres__icontains` on the invariant part, then exact comparison of
the normalised forms).

Exception tree (besides those of sources.base):

    SourceError
    ├── SourceValidationError   a text exceeds the API's maxLength (field, limit)
    └── PartialWriteError       the klantcontact was stored, a later part of the registration failed
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

from dgkb.domain.errors import InvalidIdentifier
from dgkb.domain.identifiers import Subject, SubjectKind
from dgkb.sources.base import (
    ALL_SUBJECT_KINDS,
    CategoryData,
    DigitaalAdresMatch,
    FetchRequest,
    FollowUp,
    KlantcontactThread,
    PartialWriteError,
    ProbeResult,
    SourceError,
    SourceValidationError,
    SubjectNotFound,
)
from dgkb.sources.config import SourceConfig
from dgkb.sources.http import SourceHttpClient
from dgkb.sources.normalise import normalise_email, normalise_phone, phone_search_core

__all__ = [
    "DigitaalAdresMatch",
    "KlantinteractiesAdapter",
    "PartialWriteError",
    "SourceValidationError",
]

CONTACTGEGEVENS = "klant.contactgegevens"
VOORKEUR = "klant.voorkeurskanaal"
HISTORIE = "contact.historie"
OPEN_VERZOEKEN = "contact.open-verzoeken"
_SERVED = (CONTACTGEGEVENS, VOORKEUR, HISTORIE, OPEN_VERZOEKEN)
_KANAAL = {"email": "e-mail", "telefoonnummer": "telefoon"}
_SOORT_OBJECT_ID = {
    SubjectKind.BSN: "bsn",
    SubjectKind.KVK: "kvk_nummer",
    SubjectKind.VESTIGING: "vestigingsnummer",
}
_ZAAK_CODES = frozenset({"zaak", "zgw-zaak"})
# maxLength of the fields DGKB writes (Klantinteracties API 0.9.0)
MAX_LENGTHS: Mapping[str, int] = {
    "kanaal": 50,
    "onderwerp": 200,
    "inhoud": 1000,
    "onderwerpobjectidentificator.objectId": 200,
    "gevraagdeHandeling": 200,
    "toelichting": 1000,
    "adres": 80,
    "omschrijving": 40,
    "voorkeurstaal": 3,
}
Json = dict[str, Any]


def _check_length(field: str, value: str) -> None:
    limit = MAX_LENGTHS[field]
    if len(value) > limit:
        raise SourceValidationError(field, limit, len(value))


def _fk_uuid(value: Any) -> str | None:
    if isinstance(value, dict):
        if isinstance(value.get("uuid"), str):
            return str(value["uuid"])
        if isinstance(value.get("url"), str):
            return str(value["url"]).rstrip("/").rsplit("/", 1)[-1]
    return None


def _identificators(partij: Json) -> list[Json]:
    found = []
    for item in partij.get("partijIdentificatoren") or []:
        ident = item.get("partijIdentificator") if isinstance(item, dict) else None
        if isinstance(ident, dict):
            found.append(ident)
    return found


def _subjects(partij: Json) -> tuple[Subject, ...]:
    """The BSN, KVK-nummer and vestigingsnummer identificatoren of a partij, as subjects."""
    makers = {
        "bsn": Subject.person,
        "kvk_nummer": Subject.business,
        "vestigingsnummer": Subject.establishment,
    }
    result = []
    for ident in _identificators(partij):
        make = makers.get(str(ident.get("codeSoortObjectId")))
        if make is None:
            continue
        try:
            result.append(make(ident.get("objectId")))
        except InvalidIdentifier:
            continue
    return tuple(result)


def is_zaak_link(identificator: Json) -> bool:
    """A zaak link, written as `zaak` or `zgw-Zaak` in codeObjecttype or codeSoortObjectId."""
    codes = (identificator.get("codeObjecttype"), identificator.get("codeSoortObjectId"))
    return any(isinstance(c, str) and c.lower() in _ZAAK_CODES for c in codes)


def _expansion(resource: Json, name: str) -> list[Json]:
    expanded = resource.get("_expand")
    found = expanded.get(name) if isinstance(expanded, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def _initiated_by(contact: Json, own_betrokkenen: set[str | None]) -> bool:
    """Did the customer (one of the partij's betrokkenen) begin this klantcontact?"""
    return any(
        b.get("uuid") in own_betrokkenen and b.get("initiator") is True
        for b in _expansion(contact, "hadBetrokkenen")
    )


def _depth_below(key: str, root: str, parent: Mapping[str, str]) -> int:
    """How many follow-up steps `key` is below `root` (0: not below it; a loop ends the walk)."""
    depth, seen = 0, {key}
    while key in parent:
        key = parent[key]
        depth += 1
        if key == root:
            return depth
        if key in seen:
            return 0
        seen.add(key)
    return 0


def _adres(a: Json) -> Json:
    return {
        "adres": a.get("adres"),
        "soortDigitaalAdres": a.get("soortDigitaalAdres"),
        "omschrijving": a.get("omschrijving"),
    }


class KlantinteractiesAdapter:
    """Klantinteracties adapter. `options.path` (default `/klantinteracties/api/v1`), `options.maxPages`."""

    def __init__(self, config: SourceConfig) -> None:
        self.id = config.id
        self.categories = frozenset(config.categories)
        self.subject_kinds = ALL_SUBJECT_KINDS
        self.vocabulary: Mapping[str, frozenset[str]] = {}  # every catalogue field of its categories
        self._http = SourceHttpClient(config)
        self._path = str(config.options.get("path", "/klantinteracties/api/v1")).rstrip("/")
        self._max_pages = int(config.options.get("maxPages", 10))
        self._actors: dict[str, str | None] = {}  # actor URL -> naam (an organisational unit, not a customer)
        # how DGKB writes a zaak link (onderwerpobjectidentificator); `options.zaakLink` overrides
        codes = config.options.get("zaakLink") or {}
        self._zaak_codes = {
            "codeObjecttype": "zaak",
            "codeRegister": "openzaak",
            "codeSoortObjectId": "identificatie",
            **{
                k: str(v)
                for k, v in dict(codes).items()
                if k in ("codeObjecttype", "codeRegister", "codeSoortObjectId")
            },
        }

    async def _get(
        self, url: str, headers: Mapping[str, str], params: Mapping[str, str] | None = None
    ) -> Json:
        return await self._http.get_object(url, headers, params)

    async def _list(self, path: str, params: Mapping[str, str], headers: Mapping[str, str]) -> list[Json]:
        return await self._http.get_all_pages(
            f"{self._path}{path}", params, headers, max_pages=self._max_pages
        )

    async def _actor_name(self, fk: Any, headers: Mapping[str, str]) -> str | None:
        url = fk.get("url") if isinstance(fk, dict) else None
        if not isinstance(url, str):
            return None
        if url not in self._actors:
            actor = await self._get(url, headers)
            naam = actor.get("naam")
            self._actors[url] = naam if isinstance(naam, str) else None
        return self._actors[url]

    async def partij_of(
        self, subject: Subject, headers: Mapping[str, str], *, expand: tuple[str, ...] = ()
    ) -> Json | None:
        """The partij identified by the subject's BSN / KVK-nummer / vestigingsnummer, or None. Only a
        partij that really carries that identificator counts (a source may ignore the filter)."""
        soort = _SOORT_OBJECT_ID[subject.kind]
        params = {
            "partijIdentificator__codeSoortObjectId": soort,
            "partijIdentificator__objectId": subject.value,
        }
        if expand:
            params["expand"] = ",".join(expand)
        for partij in await self._list("/partijen", params, headers):
            if any(
                i.get("codeSoortObjectId") == soort and i.get("objectId") == subject.value
                for i in _identificators(partij)
            ):
                return partij
        return None

    async def _adressen_of(self, partij: Json, headers: Mapping[str, str]) -> list[Json]:
        """The digitale adressen the partij provided: from its `expand=digitaleAdressen` when the
        source sent them (no further call), else fetched; only those that point back at the partij."""
        partij_uuid = str(partij.get("uuid"))
        expanded = partij.get("_expand")
        found = expanded.get("digitaleAdressen") if isinstance(expanded, dict) else None
        if not isinstance(found, list):
            found = await self._list("/digitaleadressen", {"verstrektDoorPartij__uuid": partij_uuid}, headers)
        return [
            a for a in found if isinstance(a, dict) and _fk_uuid(a.get("verstrektDoorPartij")) == partij_uuid
        ]

    async def verified_addresses(self, subject: Subject, headers: Mapping[str, str]) -> list[Json]:
        """The subject's digitale adressen with a `verificatieDatum` (proved to be theirs), newest
        verification first, each `{adres, soortDigitaalAdres, verificatieDatum}`; [] without a partij.
        Only addresses provided by that partij count (the filter is not trusted)."""
        partij = await self.partij_of(subject, headers, expand=("digitaleAdressen",))
        if partij is None:
            return []
        found = await self._adressen_of(partij, headers)
        verified = [
            {
                "adres": a.get("adres"),
                "soortDigitaalAdres": a.get("soortDigitaalAdres"),
                "verificatieDatum": a.get("verificatieDatum"),
            }
            for a in found
            if isinstance(a.get("verificatieDatum"), str)
            and a.get("verificatieDatum")
            and isinstance(a.get("adres"), str)
        ]
        return sorted(verified, key=lambda a: str(a["verificatieDatum"]), reverse=True)

    async def fetch(self, request: FetchRequest) -> Mapping[str, CategoryData | None]:
        wanted = {c: f for c, f in request.fields.items() if c in _SERVED and c in self.categories}
        if not wanted:
            return {}
        headers = request.headers
        subject = request.subject
        soort = _SOORT_OBJECT_ID[subject.kind]
        voorkeur_fields = set(wanted.get(VOORKEUR, ()))
        need_adressen = CONTACTGEGEVENS in wanted or bool(
            voorkeur_fields & {"voorkeursDigitaalAdres", "voorkeurskanaal"}
        )
        expand = []
        if "zaken" in wanted.get(HISTORIE, ()):
            expand.append("gingOverOnderwerpobjecten")
        if OPEN_VERZOEKEN in wanted:
            expand.append("leiddeTotInterneTaken")
        need_contacten = HISTORIE in wanted or OPEN_VERZOEKEN in wanted

        async def contacten() -> list[Json]:
            """The klantcontacten of the subject's partij, found by its identificator, so this call
            needs no answer of the partij call (both run at once: one round trip)."""
            if not need_contacten:
                return []
            params = {
                "hadBetrokkene__wasPartij__partijIdentificator__codeSoortObjectId": soort,
                "hadBetrokkene__wasPartij__partijIdentificator__objectId": subject.value,
            }
            if expand:
                params["expand"] = ",".join(expand)
            return await self._list("/klantcontacten", params, headers)

        partij, found_contacten = await asyncio.gather(
            self.partij_of(subject, headers, expand=("digitaleAdressen",) if need_adressen else ()),
            contacten(),
        )
        if partij is None:
            return dict.fromkeys(wanted)
        # the leak guard: only contacts in which this partij took part (a source may ignore a filter)
        own_betrokkenen = {_fk_uuid(b) for b in partij.get("betrokkenen") or []}
        klantcontacten = [
            c
            for c in found_contacten
            if own_betrokkenen & {_fk_uuid(b) for b in c.get("hadBetrokkenen") or []}
        ]
        digitale_adressen = await self._adressen_of(partij, headers) if need_adressen else []
        result: dict[str, CategoryData | None] = {}
        if CONTACTGEGEVENS in wanted:
            soorten = {"emailadressen": "email", "telefoonnummers": "telefoonnummer"}
            result[CONTACTGEGEVENS] = {
                f: [_adres(a) for a in digitale_adressen if a.get("soortDigitaalAdres") == soorten[f]]
                for f in wanted[CONTACTGEGEVENS]
                if f in soorten
            }
        if VOORKEUR in wanted:
            result[VOORKEUR] = self._voorkeur(partij, digitale_adressen, wanted[VOORKEUR])
        if HISTORIE in wanted:
            result[HISTORIE] = [
                self._contact(c, wanted[HISTORIE]) for c in self._newest_first(klantcontacten)
            ]
        if OPEN_VERZOEKEN in wanted:
            result[OPEN_VERZOEKEN] = await self._open_verzoeken(
                klantcontacten, wanted[OPEN_VERZOEKEN], headers
            )
        return result

    @staticmethod
    def _newest_first(contacten: list[Json]) -> list[Json]:
        return sorted(contacten, key=lambda c: str(c.get("plaatsgevondenOp") or ""), reverse=True)

    @staticmethod
    def _voorkeur(partij: Json, adressen: list[Json], fields: tuple[str, ...]) -> Json:
        ref = partij.get("voorkeursDigitaalAdres")
        ref_uuid = ref.get("uuid") if isinstance(ref, dict) else None
        adres = next((a for a in adressen if ref_uuid and a.get("uuid") == ref_uuid), None)
        values: Json = {
            "voorkeursDigitaalAdres": _adres(adres) if adres else None,
            "voorkeurstaal": partij.get("voorkeurstaal") or None,
            "voorkeurskanaal": _KANAAL.get(str(adres.get("soortDigitaalAdres"))) if adres else None,
        }
        return {f: values.get(f) for f in fields}

    @staticmethod
    def _contact(contact: Json, fields: tuple[str, ...]) -> Json:
        item = {f: contact.get(f) for f in fields if f != "zaken"}
        if "zaken" in fields:
            objecten = (contact.get("_expand") or {}).get("gingOverOnderwerpobjecten") or []
            ids = [o.get("onderwerpobjectidentificator") or {} for o in objecten if isinstance(o, dict)]
            item["zaken"] = [i.get("objectId") for i in ids if is_zaak_link(i)]
        return {f: item.get(f) for f in fields}

    async def _open_verzoeken(
        self, contacten: list[Json], fields: tuple[str, ...], headers: Mapping[str, str]
    ) -> list[Json]:
        taken = [
            t
            for c in contacten
            for t in (c.get("_expand") or {}).get("leiddeTotInterneTaken") or []
            if isinstance(t, dict) and t.get("status") == "te_verwerken"
        ]
        taken.sort(key=lambda t: str(t.get("toegewezenOp") or ""), reverse=True)
        names: list[str | None] = [None] * len(taken)
        if "toegewezenAan" in fields:
            names = list(
                await asyncio.gather(*(self._actor_name(t.get("toegewezenAanActor"), headers) for t in taken))
            )
        result = []
        for taak, naam in zip(taken, names, strict=True):
            item = {f: taak.get(f) for f in fields if f != "toegewezenAan"}
            if "toegewezenAan" in fields:
                item["toegewezenAan"] = naam
            result.append({f: item.get(f) for f in fields})
        return result

    # --- threads: what followed from a klantcontact (a correction request's dialogue) ----------

    async def klantcontact_threads(
        self, subject: Subject, klantcontacten: Sequence[str], headers: Mapping[str, str]
    ) -> dict[str, KlantcontactThread]:
        """For each of `klantcontacten` (uuids) that is the subject's: the interne taken it led to and
        the klantcontacten following it up (an onderwerpobject `wasKlantcontact` names the earlier
        one), with whether the customer began each (its betrokkene `initiator`). One list read of the
        subject's klantcontacten with `expand`, at the same time as the partij (the leak guard: only
        contacts in which the partij took part count, links to others are not followed)."""
        if not klantcontacten:
            return {}
        soort = _SOORT_OBJECT_ID[subject.kind]
        params = {
            "hadBetrokkene__wasPartij__partijIdentificator__codeSoortObjectId": soort,
            "hadBetrokkene__wasPartij__partijIdentificator__objectId": subject.value,
            "expand": "gingOverOnderwerpobjecten,hadBetrokkenen,leiddeTotInterneTaken",
        }
        partij, found = await asyncio.gather(
            self.partij_of(subject, headers), self._list("/klantcontacten", params, headers)
        )
        if partij is None:
            return {}
        own = {_fk_uuid(b) for b in partij.get("betrokkenen") or []} - {None}
        mine = {
            str(c["uuid"]): c
            for c in found
            if isinstance(c.get("uuid"), str) and own & {_fk_uuid(b) for b in c.get("hadBetrokkenen") or []}
        }
        parent: dict[str, str] = {}
        for key, contact in mine.items():
            for objekt in _expansion(contact, "gingOverOnderwerpobjecten"):
                was = _fk_uuid(objekt.get("wasKlantcontact"))
                if was is not None and was != key and was in mine:
                    parent[key] = was
                    break
        threads = {}
        for root in dict.fromkeys(klantcontacten):
            if root not in mine:
                continue
            vervolg = [
                FollowUp(
                    uuid=key,
                    vorige=parent[key],
                    inhoud=str(mine[key].get("inhoud") or ""),
                    plaatsgevonden_op=mine[key].get("plaatsgevondenOp"),
                    van_klant=_initiated_by(mine[key], own),
                    diepte=depth,
                )
                for key in mine
                if (depth := _depth_below(key, root, parent)) > 0
            ]
            vervolg.sort(key=lambda f: (str(f.plaatsgevonden_op or ""), f.diepte))
            taken = tuple(
                (str(t.get("uuid")), str(t.get("status")))
                for t in _expansion(mine[root], "leiddeTotInterneTaken")
                if isinstance(t.get("uuid"), str)
            )
            threads[root] = KlantcontactThread(klantcontact=root, taken=taken, vervolg=tuple(vervolg))
        return threads

    # --- writes ---------------------------------------------------------------------------------

    async def _post(self, resource: str, body: Json, headers: Mapping[str, str]) -> Json:
        answer = await self._http.request(
            "POST", f"{self._path}/{resource}", headers=headers, json=body, not_found_is_subject=False
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("uuid"), str):
            raise SourceError(f"{self.id}: antwoord op POST {resource} zonder uuid")
        return answer

    async def register_klantcontact(
        self,
        *,
        subject: Subject,
        kanaal: str,
        onderwerp: str,
        inhoud: str,
        indicatie_contact_gelukt: bool | None,
        zaak_identificaties: Sequence[str] = (),
        was_klantcontact: str | None = None,
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        """Record a contact with this customer: the klantcontact, its betrokkene (the subject's
        partij, as klant and initiator), one onderwerpobject per zaak and, with `was_klantcontact`
        (the uuid of an earlier klantcontact it follows up, e.g. the question it answers), one whose
        `wasKlantcontact` is that one. Returns {"klantcontact", "betrokkene", "onderwerpobjecten"} as
        the source stored them.

        Raises SourceValidationError before sending when a text is too long, SubjectNotFound when the
        subject has no partij, PartialWriteError when the klantcontact was stored but a link was not."""
        _check_length("kanaal", kanaal)
        _check_length("onderwerp", onderwerp)
        _check_length("inhoud", inhoud)
        for identificatie in zaak_identificaties:
            _check_length("onderwerpobjectidentificator.objectId", identificatie)
        partij = await self.partij_of(subject, headers)
        if partij is None:
            raise SubjectNotFound(f"{self.id}: geen partij voor deze klant")
        contact = await self._post(
            "klantcontacten",
            {
                "kanaal": kanaal,
                "onderwerp": onderwerp,
                "inhoud": inhoud,
                "indicatieContactGelukt": indicatie_contact_gelukt,
                "taal": "nld",
                "vertrouwelijk": False,
            },
            headers,
        )
        link = {"uuid": contact["uuid"]}
        try:
            betrokkene = await self._post(
                "betrokkenen",
                {
                    "hadKlantcontact": link,
                    "wasPartij": {"uuid": partij.get("uuid")},
                    "rol": "klant",
                    "initiator": True,
                },
                headers,
            )
            onderwerpobjecten = list(
                await asyncio.gather(
                    *(
                        self._post(
                            "onderwerpobjecten",
                            {
                                "klantcontact": link,
                                "wasKlantcontact": None,
                                "onderwerpobjectidentificator": {**self._zaak_codes, "objectId": ident},
                            },
                            headers,
                        )
                        for ident in dict.fromkeys(zaak_identificaties)
                    )
                )
            )
            if was_klantcontact is not None:
                onderwerpobjecten.append(
                    await self._post(
                        "onderwerpobjecten",
                        {
                            "klantcontact": link,
                            "wasKlantcontact": {"uuid": was_klantcontact},
                            "onderwerpobjectidentificator": None,
                        },
                        headers,
                    )
                )
        except SourceError as exc:
            raise PartialWriteError(
                f"{self.id}: klantcontact opgeslagen, koppeling mislukt ({exc.code})", contact
            ) from exc
        return {"klantcontact": contact, "betrokkene": betrokkene, "onderwerpobjecten": onderwerpobjecten}

    async def create_interne_taak(
        self,
        *,
        klantcontact: str,
        gevraagde_handeling: str,
        toelichting: str = "",
        toegewezen_aan: str,
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        """A contactverzoek for the back office: an interne taak (status te_verwerken) arising from
        `klantcontact` (its URL or uuid), assigned to the actor `toegewezen_aan` (URL or uuid).
        Raises SourceValidationError before sending when a text is too long, SourceRejected when
        the source refuses it (e.g. an actor it does not know)."""
        _check_length("gevraagdeHandeling", gevraagde_handeling)
        _check_length("toelichting", toelichting)
        contact_uuid = klantcontact.rstrip("/").rsplit("/", 1)[-1]
        body: Json = {
            "gevraagdeHandeling": gevraagde_handeling,
            "aanleidinggevendKlantcontact": {"uuid": contact_uuid},
            "toegewezenAanActoren": [{"uuid": toegewezen_aan.rstrip("/").rsplit("/", 1)[-1]}],
            "toelichting": toelichting,
            "status": "te_verwerken",
        }
        return await self._post("internetaken", body, headers)

    # --- Mijn profiel: the customer's own addresses and preferences -------------------------------

    async def _own_partij(self, subject: Subject, headers: Mapping[str, str]) -> tuple[Json, list[Json]]:
        """The subject's partij and the digitale adressen it provided; SubjectNotFound without one."""
        partij = await self.partij_of(subject, headers, expand=("digitaleAdressen",))
        if partij is None:
            raise SubjectNotFound(f"{self.id}: geen partij voor deze klant")
        return partij, await self._adressen_of(partij, headers)

    @staticmethod
    def _find_adres(adressen: list[Json], soort: str, adres: str) -> Json | None:
        """The partij's address of `soort` equal to `adres` in any spelling, or None."""
        same: Callable[[str], str] = normalise_email if soort == "email" else normalise_phone
        try:
            wanted = same(adres)
        except ValueError:
            return None
        for a in adressen:
            stored = a.get("adres")
            if a.get("soortDigitaalAdres") != soort or not isinstance(stored, str):
                continue
            try:
                if same(stored) == wanted:
                    return a
            except ValueError:
                continue
        return None

    async def add_digitaal_adres(
        self,
        subject: Subject,
        *,
        soort: str,
        adres: str,
        omschrijving: str,
        verified_on: date | None,
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        """Add an e-mail address or phone number the subject's partij provides (`verstrektDoorPartij`;
        Open Klant wants `verstrektDoorBetrokkene` present too, here null), with the date it was
        verified. A phone number is written in E.164 (+31612345678), which the spec's pattern takes.
        An address the partij already has is not added twice: that one is returned."""
        if soort not in ("email", "telefoonnummer"):
            raise ValueError(f"soort {soort!r}")
        value = normalise_email(adres) if soort == "email" else normalise_phone(adres)
        _check_length("adres", value)
        _check_length("omschrijving", omschrijving)
        partij, adressen = await self._own_partij(subject, headers)
        existing = self._find_adres(adressen, soort, value)
        if existing is not None:
            return existing
        return await self._post(
            "digitaleadressen",
            {
                "verstrektDoorPartij": {"uuid": partij.get("uuid")},
                "verstrektDoorBetrokkene": None,
                "adres": value,
                "soortDigitaalAdres": soort,
                "isStandaardAdres": False,
                "omschrijving": omschrijving,
                "verificatieDatum": verified_on.isoformat() if verified_on else None,
            },
            headers,
        )

    async def remove_digitaal_adres(
        self, subject: Subject, *, soort: str, adres: str, headers: Mapping[str, str]
    ) -> bool:
        """Delete the subject's own address of `soort` equal to `adres`; False when the partij has
        no such address (nothing is sent)."""
        _partij, adressen = await self._own_partij(subject, headers)
        found = self._find_adres(adressen, soort, adres)
        if found is None or not isinstance(found.get("uuid"), str):
            return False
        await self._http.request(
            "DELETE",
            f"{self._path}/digitaleadressen/{quote(str(found['uuid']), safe='')}",
            headers=headers,
            not_found_is_subject=False,
        )
        return True

    async def set_preferences(
        self,
        subject: Subject,
        *,
        preferred: tuple[str, str] | None = None,
        language: str | None = None,
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        """PATCH the subject's partij: `voorkeursDigitaalAdres` = its own address (soort, adres), and/or
        `voorkeurstaal` (ISO 639-2/B, e.g. nld). SubjectNotFound when the partij has no such address."""
        body: Json = {}
        partij, adressen = await self._own_partij(subject, headers)
        if preferred is not None:
            found = self._find_adres(adressen, *preferred)
            if found is None:
                raise SubjectNotFound(f"{self.id}: dit adres hoort niet bij deze klant")
            body["voorkeursDigitaalAdres"] = {"uuid": found.get("uuid")}
        if language is not None:
            _check_length("voorkeurstaal", language)
            body["voorkeurstaal"] = language
        if not body:
            return partij
        answer = await self._http.request(
            "PATCH",
            f"{self._path}/partijen/{quote(str(partij.get('uuid')), safe='')}",
            headers=headers,
            json=body,
            not_found_is_subject=False,
        )
        if not isinstance(answer, dict):
            raise SourceError(f"{self.id}: antwoord op PATCH partijen is geen object")
        return answer

    # --- checks ---------------------------------------------------------------------------------

    async def probe(self, headers: Mapping[str, str]) -> ProbeResult:
        """`dgkb check`: one organisational unit from `actoren` (no customer) with the configured
        token; the API version from the `API-version` header."""
        return await self._http.probe(
            "GET",
            f"{self._path}/actoren",
            headers=headers,
            params={"soortActor": "organisatorische_eenheid", "pageSize": "1"},
        )

    async def find_actor(self, uuid: str, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """The actor `uuid` as {"uuid", "naam", "actief"}, or None when the source does not know it."""
        try:
            actor = await self._http.request(
                "GET", f"{self._path}/actoren/{quote(uuid, safe='')}", headers=headers
            )
        except SubjectNotFound:
            return None
        if not isinstance(actor, dict):
            raise SourceError(f"{self.id}: antwoord is geen object")
        return {"uuid": actor.get("uuid"), "naam": actor.get("naam"), "actief": actor.get("indicatieActief")}

    # --- search ---------------------------------------------------------------------------------

    async def search_digitale_adressen(
        self, text: str, headers: Mapping[str, str], *, limit: int = 25
    ) -> list[DigitaalAdresMatch]:
        """The stored addresses equal to the phone number or e-mail address `text` (any spelling),
        with the subjects of the partij behind each, at most `limit`. Raises ValueError when `text`
        is neither a phone number nor an e-mail address."""
        if "@" in text:
            wanted, core, soort = normalise_email(text), normalise_email(text), "email"
            same = normalise_email
        else:
            wanted = normalise_phone(text)
            core, soort, same = phone_search_core(wanted), "telefoonnummer", normalise_phone
        found = await self._list("/digitaleadressen", {"adres__icontains": core}, headers)

        def equal(adres: Any) -> bool:
            try:
                return isinstance(adres, str) and same(adres) == wanted
            except ValueError:
                return False

        hits = [a for a in found if a.get("soortDigitaalAdres") == soort and equal(a.get("adres"))][:limit]
        partij_uuids = list(dict.fromkeys(u for a in hits if (u := _fk_uuid(a.get("verstrektDoorPartij")))))
        partijen = await asyncio.gather(
            *(self._get(f"{self._path}/partijen/{u}", headers) for u in partij_uuids)
        )
        subjects = {u: _subjects(p) for u, p in zip(partij_uuids, partijen, strict=True)}
        return [
            DigitaalAdresMatch(
                adres=str(a.get("adres")),
                soort_digitaal_adres=soort,
                partij_uuid=(u := _fk_uuid(a.get("verstrektDoorPartij"))),
                subjects=subjects.get(u, ()) if u else (),
            )
            for a in hits
        ]

    async def subjects_of_klantcontact(self, url: str, headers: Mapping[str, str]) -> list[Subject] | None:
        """The subjects (BSN/KVK/vestiging of the partijen) of the klantcontact at `url`, for routing
        a change notification; None when `url` is not of this source (never follow foreign URLs)."""
        if not self._http.same_origin(url):
            return None
        uuid = url.rstrip("/").rsplit("/", 1)[-1]
        betrokkenen = await self._list("/betrokkenen", {"hadKlantcontact__uuid": uuid}, headers)
        partijen = {
            p
            for b in betrokkenen
            if _fk_uuid(b.get("hadKlantcontact")) == uuid and (p := _fk_uuid(b.get("wasPartij")))
        }
        found: list[Subject] = []
        for partij in await asyncio.gather(
            *(self._get(f"{self._path}/partijen/{p}", headers) for p in sorted(partijen))
        ):
            found.extend(s for s in _subjects(partij) if s not in found)
        return found

    async def subjects_of_internetaak(self, url: str, headers: Mapping[str, str]) -> list[Subject] | None:
        """The subjects of the klantcontact an interne taak (contactverzoek) at `url` arose from;
        None when `url` is not of this source. SubjectNotFound when the taak is gone (404)."""
        if not self._http.same_origin(url):
            return None
        taak = await self._http.request("GET", url, headers=headers, not_found_is_subject=True)
        contact = _fk_uuid(taak.get("aanleidinggevendKlantcontact")) if isinstance(taak, dict) else None
        if contact is None:
            return []
        return await self.subjects_of_klantcontact(
            f"{self._http.base_url}{self._path}/klantcontacten/{contact}", headers
        )

    async def subjects_of_partij(self, url: str, headers: Mapping[str, str]) -> list[Subject] | None:
        """The subjects (BSN/KVK/vestiging identificatoren) of the partij at `url`; None when `url` is
        not of this source. SubjectNotFound when the partij is gone (404)."""
        if not self._http.same_origin(url):
            return None
        partij = await self._http.request("GET", url, headers=headers, not_found_is_subject=True)
        return list(dict.fromkeys(_subjects(partij))) if isinstance(partij, dict) else []

    async def aclose(self) -> None:
        await self._http.aclose()
