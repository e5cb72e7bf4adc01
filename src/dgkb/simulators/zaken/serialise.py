"""The JSON of the Zaken API 1.5 and the Catalogi API as Open Zaak renders them: full URLs on the
caller's host (`b`, scheme://host), camelCase fields, `_expand` for what `expand` asks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dgkb.simulators.world import ZaakDocument, Zaaktype
from dgkb.simulators.zaken.state import ROLTYPEN, Rol, ZaakState, ZakenStore, roltype_uuid

ZAKEN_PATH = "/zaken/api/v1"
CATALOGI_PATH = "/catalogi/api/v1"
API_VERSION = "1.5.1"
BRONORGANISATIE = "123456782"  # fictitious RSIN (passes the 11-proef)
# The documents live in a Documenten API that the demo does not run: the relations point there.
DOCUMENTEN_URL = "https://documenten.voorbeeldstad.nl/documenten/api/v1/enkelvoudiginformatieobjecten"
_ROLTOELICHTING = {"initiator": "Aanvrager", "belanghebbende": "Vestiging", "behandelaar": "Behandelaar"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def zaak_url(b: str, zaak_uuid: str) -> str:
    return f"{b}{ZAKEN_PATH}/zaken/{zaak_uuid}"


def zaaktype_url(b: str, zaaktype_uuid: str) -> str:
    return f"{b}{CATALOGI_PATH}/zaaktypen/{zaaktype_uuid}"


def roltype_url(b: str, zaaktype_uuid: str, generiek: str) -> str:
    return f"{b}{CATALOGI_PATH}/roltypen/{roltype_uuid(zaaktype_uuid, generiek)}"


def zaak_json(b: str, st: ZaakState) -> dict[str, Any]:
    z = st.zaak
    url = zaak_url(b, z.uuid)
    return {
        "url": url,
        "uuid": z.uuid,
        "identificatie": z.identificatie,
        "bronorganisatie": st.bronorganisatie or BRONORGANISATIE,
        "omschrijving": z.omschrijving,
        "toelichting": st.toelichting,
        "zaaktype": zaaktype_url(b, z.zaaktype_uuid),
        "registratiedatum": (st.registratiedatum or z.startdatum).isoformat(),
        "verantwoordelijkeOrganisatie": st.verantwoordelijke_organisatie or BRONORGANISATIE,
        "startdatum": z.startdatum.isoformat(),
        "einddatum": st.einddatum.isoformat() if st.einddatum else None,
        "einddatumGepland": None,
        "uiterlijkeEinddatumAfdoening": z.uiterlijke_einddatum_afdoening.isoformat(),
        "publicatiedatum": None,
        "communicatiekanaal": "",
        "productenOfDiensten": [],
        "vertrouwelijkheidaanduiding": "zaakvertrouwelijk",
        "betalingsindicatie": "",
        "betalingsindicatieWeergave": "",
        "laatsteBetaaldatum": None,
        "zaakgeometrie": None,
        "verlenging": None,
        # Open Zaak renders the group even when not suspended (indicatie false, reden "")
        "opschorting": {"indicatie": st.opschorting is not None, "reden": st.opschorting or ""},
        "selectielijstklasse": "",
        "hoofdzaak": None,
        "deelzaken": [],
        "relevanteAndereZaken": [],
        "eigenschappen": [],
        "rollen": [f"{b}{ZAKEN_PATH}/rollen/{r.uuid}" for r in st.rollen],
        "status": f"{b}{ZAKEN_PATH}/statussen/{st.statussen[-1][0]}" if st.statussen else None,
        "zaakinformatieobjecten": [zio_url(b, d) for d in st.documenten],
        "zaakobjecten": [],
        "kenmerken": [],
        "archiefnominatie": None,
        "archiefstatus": "nog_te_archiveren",
        "archiefactiedatum": None,
        "resultaat": f"{b}{ZAKEN_PATH}/resultaten/{st.resultaat[0]}" if st.resultaat else None,
        "opdrachtgevendeOrganisatie": "",
        "processobjectaard": None,
        "startdatumBewaartermijn": None,
        "processobject": None,
    }


def zio_url(b: str, doc: ZaakDocument) -> str:
    return f"{b}{ZAKEN_PATH}/zaakinformatieobjecten/{doc.uuid}"


def zio_json(b: str, st: ZaakState, doc: ZaakDocument) -> dict[str, Any]:
    """A ZAAK-INFORMATIEOBJECT (Zaken 1.5.1 `ZaakInformatieObject`): the relation, its title and
    description and the status it belongs to; the document itself is in the Documenten API."""
    status = st.statussen[doc.status_index] if doc.status_index < len(st.statussen) else None
    return {
        "url": zio_url(b, doc),
        "uuid": doc.uuid,
        "informatieobject": f"{DOCUMENTEN_URL}/{doc.informatieobject_uuid}",
        "zaak": zaak_url(b, st.zaak.uuid),
        "aardRelatieWeergave": "Hoort bij, omgekeerd: kent",
        "titel": doc.titel,
        "beschrijving": doc.beschrijving,
        "registratiedatum": iso(doc.registratiedatum),
        "vernietigingsdatum": None,
        "status": f"{b}{ZAKEN_PATH}/statussen/{status[0]}" if status is not None else None,
    }


def status_json(b: str, st: ZaakState, index: int) -> dict[str, Any]:
    status_uuid, statustype_uuid, when = st.statussen[index]
    return {
        "url": f"{b}{ZAKEN_PATH}/statussen/{status_uuid}",
        "uuid": status_uuid,
        "zaak": zaak_url(b, st.zaak.uuid),
        "statustype": f"{b}{CATALOGI_PATH}/statustypen/{statustype_uuid}",
        "datumStatusGezet": iso(when),
        "statustoelichting": "",
        "indicatieLaatstGezetteStatus": index == len(st.statussen) - 1,
        "gezetdoor": "",
        "zaakinformatieobjecten": [zio_url(b, d) for d in st.documenten if d.status_index == index],
    }


def rol_json(b: str, st: ZaakState, rol: Rol) -> dict[str, Any]:
    z = st.zaak
    return {
        "url": f"{b}{ZAKEN_PATH}/rollen/{rol.uuid}",
        "uuid": rol.uuid,
        "zaak": zaak_url(b, z.uuid),
        "betrokkene": "",
        "betrokkeneType": rol.betrokkene_type,
        "afwijkendeNaamBetrokkene": "",
        "roltype": roltype_url(b, z.zaaktype_uuid, rol.omschrijving_generiek),
        "omschrijving": ROLTYPEN.get(rol.omschrijving_generiek, rol.omschrijving_generiek.capitalize()),
        "omschrijvingGeneriek": rol.omschrijving_generiek,
        "roltoelichting": rol.roltoelichting
        if rol.roltoelichting is not None
        else _ROLTOELICHTING[rol.omschrijving_generiek],
        "registratiedatum": iso(
            rol.registratiedatum or datetime.combine(z.startdatum, datetime.min.time(), UTC)
        ),
        "indicatieMachtiging": "",
        "contactpersoonRol": None,
        "statussen": [],
        "betrokkeneIdentificatie": rol.identificatie,
    }


def resultaat_json(b: str, st: ZaakState) -> dict[str, Any]:
    assert st.resultaat is not None
    resultaat_uuid, resultaattype_uuid = st.resultaat
    return {
        "url": f"{b}{ZAKEN_PATH}/resultaten/{resultaat_uuid}",
        "uuid": resultaat_uuid,
        "zaak": zaak_url(b, st.zaak.uuid),
        "resultaattype": f"{b}{CATALOGI_PATH}/resultaattypen/{resultaattype_uuid}",
        "toelichting": "",
    }


def zaaktype_json(b: str, zt: Zaaktype) -> dict[str, Any]:
    return {
        "url": zaaktype_url(b, zt.uuid),
        "identificatie": zt.identificatie,
        "omschrijving": zt.omschrijving,
        "omschrijvingGeneriek": zt.omschrijving,
        "doorlooptijd": f"P{zt.doorlooptijd_dagen}D",
        "vertrouwelijkheidaanduiding": "zaakvertrouwelijk",
        "statustypen": [f"{b}{CATALOGI_PATH}/statustypen/{s.uuid}" for s in zt.statustypen],
        "resultaattypen": [f"{b}{CATALOGI_PATH}/resultaattypen/{r.uuid}" for r in zt.resultaattypen],
        "roltypen": [roltype_url(b, zt.uuid, g) for g in ROLTYPEN],
        "opschortingEnAanhoudingMogelijk": True,
        "concept": False,
    }


def roltype_json(b: str, generiek: str, zt: Zaaktype) -> dict[str, Any]:
    """A ROLTYPE (Catalogi 1.3.1 `RolType`, its required fields)."""
    return {
        "url": roltype_url(b, zt.uuid, generiek),
        "zaaktype": zaaktype_url(b, zt.uuid),
        "zaaktypeIdentificatie": zt.identificatie,
        "omschrijving": ROLTYPEN[generiek],
        "omschrijvingGeneriek": generiek,
    }


def statustype_json(b: str, store: ZakenStore, statustype_uuid: str) -> dict[str, Any] | None:
    found = store.statustypen.get(statustype_uuid)
    if found is None:
        return None
    st, zt = found
    return {
        "url": f"{b}{CATALOGI_PATH}/statustypen/{st.uuid}",
        "omschrijving": st.omschrijving,
        "omschrijvingGeneriek": st.omschrijving,
        "volgnummer": st.volgnummer,
        "isEindstatus": st.is_eindstatus,
        "zaaktype": zaaktype_url(b, zt.uuid),
        "informeren": False,
    }


def resultaattype_json(b: str, store: ZakenStore, resultaattype_uuid: str) -> dict[str, Any] | None:
    found = store.resultaattypen.get(resultaattype_uuid)
    if found is None:
        return None
    rt, zt = found
    return {
        "url": f"{b}{CATALOGI_PATH}/resultaattypen/{rt.uuid}",
        "omschrijving": rt.omschrijving,
        "zaaktype": zaaktype_url(b, zt.uuid),
    }


def expanded_zaak_json(b: str, store: ZakenStore, st: ZaakState, names: set[str]) -> dict[str, Any]:
    """The zaak with `_expand` for what `names` (of `expand`) ask (Zaken 1.5: rollen, zaaktype, status,
    status.statustype, resultaat, resultaat.resultaattype), so a client needs one call."""
    body = zaak_json(b, st)
    expand: dict[str, Any] = {}
    if "rollen" in names:
        expand["rollen"] = [rol_json(b, st, r) for r in st.rollen]
    if "zaaktype" in names and (zt := store.zaaktypen.get(st.zaak.zaaktype_uuid)) is not None:
        expand["zaaktype"] = zaaktype_json(b, zt)
    if "status" in names and st.statussen:
        status = status_json(b, st, len(st.statussen) - 1)
        if "status.statustype" in names:
            status["_expand"] = {"statustype": statustype_json(b, store, st.statussen[-1][1])}
        expand["status"] = status
    if "resultaat" in names and st.resultaat is not None:
        resultaat = resultaat_json(b, st)
        if "resultaat.resultaattype" in names:
            resultaat["_expand"] = {"resultaattype": resultaattype_json(b, store, st.resultaat[1])}
        expand["resultaat"] = resultaat
    if expand:
        body["_expand"] = expand
    return body


def status_notificatie(b: str, status: dict[str, Any], zaaktype: Zaaktype, now: datetime) -> dict[str, Any]:
    """The message Open Zaak publishes on kanaal `zaken` for a new status (`status` as rendered)."""
    return {
        "kanaal": "zaken",
        "hoofdObject": status["zaak"],
        "resource": "status",
        "resourceUrl": status["url"],
        "actie": "create",
        "aanmaakdatum": iso(now),
        "kenmerken": {
            "bronorganisatie": BRONORGANISATIE,
            "zaaktype": zaaktype_url(b, zaaktype.uuid),
            "vertrouwelijkheidaanduiding": "zaakvertrouwelijk",
        },
    }


def zaak_notificatie(
    b: str, st: ZaakState, resource: str, resource_url: str, actie: str, now: datetime
) -> dict[str, Any]:
    """The message Open Zaak publishes on kanaal `zaken` for a write of the zaak or one of its
    resources (`resource`: zaak, rol; `actie`: create, partial_update)."""
    z = st.zaak
    return {
        "kanaal": "zaken",
        "hoofdObject": zaak_url(b, z.uuid),
        "resource": resource,
        "resourceUrl": resource_url,
        "actie": actie,
        "aanmaakdatum": iso(now),
        "kenmerken": {
            "bronorganisatie": st.bronorganisatie or BRONORGANISATIE,
            "zaaktype": zaaktype_url(b, z.zaaktype_uuid),
            "vertrouwelijkheidaanduiding": "zaakvertrouwelijk",
        },
    }
