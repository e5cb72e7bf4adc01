r"""Klantinteracties API 0.9 simulator, as served by Open Klant 2, at `/klantinteracties/api/v1`.

Reads: partijen (by partij-identificator), digitaleadressen, klantcontacten (by the partij of a
betrokkene, with `expand`), betrokkenen, onderwerpobjecten, internetaken, actoren. Writes (kept in
memory, validated on required fields, enums and the spec's max lengths, 400 with `invalidParams`):
klantcontacten, betrokkenen, onderwerpobjecten, internetaken and digitaleadressen (create),
internetaken (`PUT`, `PATCH`), partijen (`PATCH`: nummer, interneNotitie, voorkeursDigitaalAdres — one
of the partij's own digitale adressen —, voorkeurstaal, indicatieActief, indicatieGeheimhouding,
soortPartij), digitaleadressen (`DELETE`; a partij preferring it then prefers none). A new digitaal
adres is checked as the spec says: `adres` (max 80) against its `soortDigitaalAdres` (enum email |
telefoonnummer | overig; an e-mail address as Django's EmailValidator, a phone number
`^(0[1-9][0-9]{8}|\+[0-9]{9,15}|00[0-9]{7,13})$` without 0800/0900/1400/140xx), `omschrijving` max 40,
`referentie` max 50 and `^[-a-zA-Z0-9_]+$`, `verificatieDatum` a date; `verstrektDoorPartij` and
`verstrektDoorBetrokkene` must name existing objects (`does_not_exist`), and `isStandaardAdres` makes it
the partij's only standard address of that soort.

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
- POST digitaleadressen requires both `verstrektDoorPartij` and `verstrektDoorBetrokkene` to be present
  (each may be null), though the spec requires only `adres` and `soortDigitaalAdres`: Open Klant's
  DigitaalAdresSerializer declares both links `required=True, allow_null=True`
  (api/serializers/digitaal_adres.py). Its `validate` also refuses `isStandaardAdres` without a partij
  ("`is_standaard_adres` kan alleen gezet worden als `verstrekt_door_partij` niet leeg is."). Its phone
  error text is approximated ("Het opgegeven telefoonnummer is ongeldig."); the e-mail one is Django's.
  Older Open Klant releases (2.1–2.4) used a looser phone pattern that allowed 0800/0900/140xx numbers.
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

Modules: `serialise` (the JSON as Open Klant renders it, and the partij seeds of the world), `state`
(the store, the address index, lookups and links), `validation` (writes checked as Open Klant's
serializers do), `auth` (the token check), `routes` (`KlantinteractiesRoutes`, one method per endpoint)
and `app` (`create_app`).
"""

from dgkb.simulators.klantinteracties.app import create_app
from dgkb.simulators.klantinteracties.serialise import BASE_PATH

__all__ = ["BASE_PATH", "create_app"]
