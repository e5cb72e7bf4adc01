"""Notificaties API 1.0 routing component, as Open Notificaties 1.16 behaves, for the demo and the tests.

`/api/v1/kanaal` (list, create, read), `/api/v1/abonnement` (list, create, read, update, partial
update, delete) and `POST /api/v1/notificaties`. A published message is validated and answered 200 at
once, but not delivered at once: it is scheduled, and a scheduler round every `interval_seconds`
delivers what is due to every abonnement on its kanaal whose filters match the kenmerken —
`POST {callbackUrl}` with `Authorization: {auth}`. A failed delivery is retried in a later round with
exponential backoff. Creating or changing an abonnement first sends the `kanaal: "test"` probe to its
callbackUrl; a callback that does not answer 2xx is refused (400). The kanalen of `DEFAULT_KANALEN`
exist from the start, with the filters their components register.

Authentication, with `zgw_auth` (as `dgkb run` starts it; without, requests need no token, as the
tests use it): a ZGW JWT of a known client, checked as Open Notificaties checks it
(dgkb.simulators.common has every rule). Beyond the spec, which only asks for a JWT: a token whose
`iat` is JWT_EXPIRY (+ leeway) old is a 403 `jwt-expired` — Open Notificaties' JWT_EXPIRY, default
3600 s, and TIME_LEEWAY (since 1.11; JWT_LEEWAY before), default 0, both configurable here (source: Open
Notificaties' environment configuration reference and changelog). Deviations: no token is a 403
`permission_denied` where the spec lists 401, as the ZGW reference implementations answer
(VNG-Realisatie/gemma-zaken#1495); the scopes the spec names per operation (`notificaties.consumeren`,
`notificaties.publiceren`, looked up in the Autorisaties API) are not checked.

Test routes besides the common ones: `GET /_sim/deliveries` (kanaal, resourceUrl, callbackUrl,
status, attempts, ms — no message bodies), `DELETE /_sim/deliveries`, `GET /_sim/scheduled` (the
messages waiting for a round: kanaal, resource, resourceUrl, actie, attempt, due) and
`POST /_sim/scheduler` (run one round now, as the beat would; answers the deliveries it made).
`interval_seconds=0` runs no rounds by itself: only `POST /_sim/scheduler` does (deterministic tests).

How Open Notificaties deviates from the Notificaties API 1.0 spec
(`../shared/reference/notificaties/openapi.yaml`, VNG-Realisatie/notificaties-api 1.0.0), modelled here:

- Empty kenmerk values are accepted, although the spec gives a kenmerk `minLength: 1`: the shared
  serializer has `allow_blank=True` (maykinmedia/notifications-api-common
  notifications_api_common/api/serializers.py, `NotificatieSerializer.kenmerken`; Open Notificaties
  CHANGELOG 1.2.2 "Fixed a bug allowing for empty kenmerk values").
- A kenmerk value must be a string as the spec says, but the check is Django REST framework's
  `CharField`: a boolean is refused (400, `kenmerken.<naam>` "Not a valid string.", code `invalid`),
  null is refused (code `null`), and a number is accepted and forwarded as a string. Open Klant sends
  booleans and null in the kenmerken of kanaal `klantcontacten`, so Open Notificaties refuses those
  messages (see dgkb.simulators.klantinteracties).
- `aanmaakdatum` may not lie in the future (`UntilNowValidator`, same serializer).
- The kenmerken of a message must be consistent with the filters of its kanaal: the one set of names
  must contain the other (`Kanaal.match_filter_names`; open-zaak/open-notificaties
  src/nrc/datamodel/models.py and src/nrc/api/serializers.py `MessageSerializer.validate`), else 400
  `kenmerken_inconsistent`. The same holds for the filters of an abonnement (400
  `inconsistent-abonnement-filters`). Names are compared after snake_case conversion, as the
  camelCase parser does (a component registers `interne_notitie`, a message carries `interneNotitie`).
- An abonnement filter only applies to a kenmerk the message carries, and `*` matches any value
  (`FilterGroup.match_pattern`, src/nrc/datamodel/models.py).
- Delivery is not synchronous: a message becomes a scheduled notification, delivered by the
  `execute_notifications` beat task every `NOTIFICATION_SEC_INTERVAL` seconds (default 20, at least 5;
  open-zaak/open-notificaties src/nrc/conf/includes/base.py `CELERY_BEAT_SCHEDULE`, src/nrc/api/tasks.py).
  Whom a message goes to is decided when its round runs, not when it was published. A consumer must
  therefore expect notifications seconds late and reconcile (DGKB: `DGKB_RECONCILE_SECONDS`).
- A failed delivery is retried for the failed abonnementen only, `factor * base**attempt` seconds later
  (at most `backoff_max`), at most `max_retries` times (defaults since Open Notificaties 1.12.0: 25 s,
  base 4, 52000 s, 7 retries; CHANGELOG 1.12.0, `handle_result` in src/nrc/api/tasks.py).
- A kanaal is created by the component that publishes on it (`register_kanalen` of
  notifications-api-common: naam, documentatieLink, filters = its kenmerken); a second `POST` with
  the same naam is refused (400, unique naam). The experimental PUT/PATCH of a kanaal (Open
  Notificaties 1.8) is not modelled.

Modules: `state` (kanalen, abonnementen, the scheduled messages and the scheduler round), `validation`
(messages and abonnementen checked as Open Notificaties does), `serialise` (the JSON), `routes`
(`NotificatiesRoutes`, one method per endpoint) and `app` (`create_app`, with the scheduler beat).
"""

from dgkb.simulators.notificaties.app import create_app
from dgkb.simulators.notificaties.serialise import API_PATH
from dgkb.simulators.notificaties.state import DEFAULT_INTERVAL_SECONDS, DEFAULT_KANALEN

__all__ = ["API_PATH", "DEFAULT_INTERVAL_SECONDS", "DEFAULT_KANALEN", "create_app"]
