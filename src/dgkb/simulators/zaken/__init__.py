"""ZGW Zaken API 1.5 subset (as served by Open Zaak) plus a minimal Catalogi API.

`/zaken/api/v1`: zaken (filter on a betrokkene: `rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn`,
`…__nietNatuurlijkPersoon__innNnpId`, `…__vestiging__vestigingsNummer`,
`…__medewerker__identificatie`; identificatie, einddatum__isnull; `expand=rollen`),
statussen, rollen, resultaten, zaakinformatieobjecten (filter `zaak`, `informatieobject`; a plain array,
not paginated, as the spec and Open Zaak have it). `/catalogi/api/v1`: zaaktypen (filters
`identificatie`, `status`), statustypen, resultaattypen and roltypen (one per omschrijvingGeneriek
initiator, belanghebbende, behandelaar; filters `zaaktype`, `zaaktypeIdentificatie`,
`omschrijvingGeneriek`), so names resolve and a client can name a rol's roltype. The catalogue also
has zaaktype CORRECTIEVERZOEK, of which the world has no zaken (a correction request DGKB routes as a
zaak: `state.EXTRA_ZAAKTYPEN`).

Writes, as Open Zaak checks them (`validation`, 400 with `invalidParams` naming every field): `POST
/zaken` (both CRS headers, 412 without; the zaak gets an identificatie ZAAK-<year>-<sequence> unless
the client gives one, unique per bronorganisatie) and `POST /rollen` (the roltype must be one of the
zaak's zaaktype). Each is published on kanaal `zaken` (resource zaak / rol, actie create) as Open Zaak
does. Zaken list and detail need `Accept-Crs: EPSG:4326`
(412 without) like the real API. Lists are paginated (`page`, and `pageSize` up to 500 as Open Zaak
honours it; larger values are capped, invalid ones give the default).

Zaakinformatieobjecten: the relations of a zaak to its documents (titel, beschrijving,
registratiedatum, status), seeded by `dgkb.simulators.world.zaakdossier`; `informatieobject` points
to a Documenten API the demo does not run (no download). The zaak's `zaakinformatieobjecten` and a
status's list their URLs. Zaken 1.5.1 cannot `expand` them on a zaak (1.7 can: `ZaakEmbedded`), so
`expand=zaakinformatieobjecten` is ignored, as Open Zaak 1.x ignores an expand it does not know.
Deviations from Open Zaak: it checks that `informatieobject` exists in its Documenten API when a
relation is created (there is no create here), filters the list by the client's authorisations per
zaaktype and vertrouwelijkheid (not here, as for the other resources), and answers an unknown zaak
URL in `?zaak=` with a 400 invalid_choice where this simulator gives an empty list (as it does for
`/statussen?zaak=`).

A zaak that waits for the customer is suspended: `opschorting` {"indicatie": true, "reden": "Wacht
op aanvulling: <document>"} (Zaken 1.5.1 `Opschorting`, Awb art. 4:15); every other zaak has
{"indicatie": false, "reden": ""}, as Open Zaak renders the group.

A company zaak has a niet-natuurlijk-persoon initiator whose `innNnpId` is the KVK-nummer (what
e-services that log in with eHerkenning write there) and, when the company has vestigingen, a
belanghebbende rol of type vestiging (`vestigingsNummer` + `kvkNummer`).

Every open Wmo zaak (zaaktype "Aanvraag Wmo-voorziening") and every fifth other open zaak also has a
behandelaar rol of type medewerker: the demo case worker `behandelaar-bram` (his "mijn zaken").

Authentication, with `zgw_auth` (as `dgkb run` starts it; without, requests need no token, as the
tests that call the simulator directly use it): a ZGW JWT of a known client, checked as Open Zaak
checks it (dgkb.simulators.common has every rule). Beyond the spec, which only asks for a JWT:
a token whose `iat` is JWT_EXPIRY (+ leeway) old is a 403 `jwt-expired` — Open Zaak's JWT_EXPIRY,
default 3600 s, and JWT_LEEWAY / TIME_LEEWAY, default 0, both configurable here (source: Open Zaak's
environment configuration reference; commonground-api-common's `check_jwt_expiry`). Deviations: no
token is a 403 `permission_denied` where the spec lists 401, as Open Zaak answers
(open-zaak/open-zaak#291). Scopes (the client's autorisaties, `ZgwJwtVerifier.autorisaties`; a client
not named there has them all): `POST /zaken` needs `zaken.aanmaken` for the zaaktype in its body,
`POST /rollen` `zaken.bijwerken` (or, for a closed zaak, `zaken.geforceerd-bijwerken`) for the zaak's
zaaktype — else 403 `permission_denied`; for an unknown zaak the 400 comes first. Reads are not checked
against `zaken.lezen` and lists are not narrowed to the client's zaaktypen (Open Zaak does both).
A status change is published with the simulator's own client token (`notificaties_auth`), as Open
Zaak authenticates at Open Notificaties with a client id of its own.

Test switches: `POST /_sim/zaken/{uuid}/status {"statustype": url|uuid, "resultaattype"?: url|uuid}`
sets a new status; `POST /_sim/zaken/{uuid}/opschorting {"indicatie": true, "reden": "…"}` suspends the
zaak for the customer as the team would in its zaaksysteem (`{"indicatie": false}` resumes it; in Open
Zaak a PATCH of the zaak's `opschorting`), published as a partial update of the zaak; `POST
/_sim/behaviour {"ignoreFilters": true}` makes the zaken list ignore the betrokkene filters and return
every zaak (a misconfigured source seen in the field), `{"ignoreExpand": true}` makes it ignore
`expand` (an older source), besides the common switches.

Modules: `state` (the store of zaken, rollen and statussen, and the switches), `serialise` (the JSON
as Open Zaak renders it), `routes` (`ZakenRoutes`, one method per endpoint) and `app` (`create_app`).
"""

from dgkb.simulators.zaken.app import create_app
from dgkb.simulators.zaken.serialise import CATALOGI_PATH, ZAKEN_PATH

__all__ = ["CATALOGI_PATH", "ZAKEN_PATH", "create_app"]
