"""What the Mijn zaken, Mijn contactmomenten and Mijn taken pages share: a narrower read of the
customer's own klantbeeld (only the categories a page shows) through their own contact — the same
PDP, gateway and access log as every read — and the state of each part: shown, not shown and why
(with the explanation the section carries, e.g. a login level too low), or temporarily unavailable
because its source is down."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from dgkb.contacts.service import ContactService
from dgkb.domain.context import RequestContext, Trace
from dgkb.klantbeeld.schemas import Klantbeeld
from dgkb.klantbeeld.service import KlantbeeldService
from dgkb.web.mijn.deps import Mijn, OwnContact, own_context

__all__ = ["Deel", "OrganisatieDelen", "deel", "own_context", "read_parts"]

# statuses of a section whose source failed: that part is "tijdelijk niet beschikbaar"
_DOWN = frozenset({"timeout", "onbereikbaar", "niet-geautoriseerd", "fout"})
# denials that mean "this organisation does not do this here": the part is simply left out
_NOT_HERE = frozenset({"CATEGORY_NOT_IN_PURPOSE", "SUBJECT_KIND_NOT_APPLICABLE", "ROLE_NOT_ALLOWED"})


@dataclass
class Deel:
    """One part of a page (one category) at one organisation."""

    categorie: str
    # ok | leeg (nothing known) | niet-toegestaan | tijdelijk (source down) | niet-hier (left out)
    status: str
    gegevens: list[dict[str, Any]] = field(default_factory=list)
    toelichting: str | None = None  # why it is not shown (the section's explanation)
    hoger_niveau: bool = False  # logging in at a higher level would show it
    bron: str | None = None

    @property
    def zichtbaar(self) -> bool:
        return self.status != "niet-hier"


@dataclass
class OrganisatieDelen:
    own: OwnContact
    delen: dict[str, Deel]

    @property
    def zichtbaar(self) -> bool:
        return any(d.zichtbaar for d in self.delen.values())


def deel(klantbeeld: Klantbeeld, categorie: str) -> Deel:
    """The state of one category in a (narrow) klantbeeld; several sources are merged."""
    sections = [s for s in klantbeeld.secties if s.categorie == categorie]
    if not sections:
        return Deel(categorie, "niet-hier")
    denied = [s for s in sections if s.status == "niet-toegestaan"]
    if denied:
        s = denied[0]
        if s.reden in _NOT_HERE:
            return Deel(categorie, "niet-hier")
        return Deel(
            categorie,
            "niet-toegestaan",
            toelichting=s.toelichting,
            hoger_niveau="ASSURANCE_TOO_LOW" in s.redenen or s.reden == "ASSURANCE_TOO_LOW",
        )
    if all(s.status == "niet-geconfigureerd" for s in sections):
        return Deel(categorie, "niet-hier")
    items: list[dict[str, Any]] = []
    for s in sections:
        if s.status == "ok" and isinstance(s.gegevens, list):
            items.extend(i for i in s.gegevens if isinstance(i, dict))
    down = [s for s in sections if s.status in _DOWN]
    if down:
        return Deel(categorie, "tijdelijk", items, bron=down[0].bron)
    if not items:
        return Deel(categorie, "leeg", bron=sections[0].bron)
    return Deel(categorie, "ok", items, bron=sections[0].bron)


async def read_parts(
    mijn: Mijn,
    own: OwnContact,
    contacts: ContactService,
    klantbeeld: KlantbeeldService,
    trace: Trace,
    categories: Collection[str],
) -> tuple[RequestContext, OrganisatieDelen]:
    """Read only `categories` of the customer's klantbeeld at one organisation (decided, fetched and
    logged as every read) and the state of each."""
    context = await own_context(mijn, own, contacts, trace)
    kb = await klantbeeld.read(context, only=categories)
    return context, OrganisatieDelen(own, {c: deel(kb, c) for c in categories})
