"""The fields added to the zaken categories for the customer's own timeline (the history of an open
zaak, the zaaktype's steps, the suspension, the documents' titles) are for the own-view purposes:
every employee purpose names its zaken fields without them, so the console shows what it did."""

from __future__ import annotations

from dgkb.domain.catalogue import Catalogue
from dgkb.domain.register import Register
from dgkb.domain.roles import Role

OWN_TIMELINE = {"statushistorie", "statustypen", "opschorting", "documenten"}
LOPEND, HISTORIE = "dienst.zaken-lopend", "dienst.zaken-historie"


def test_only_own_view_purposes_get_the_timeline_fields(register: Register, catalogue: Catalogue) -> None:
    lopend = catalogue.get(LOPEND)
    assert lopend is not None
    assert set(lopend.velden) >= OWN_TIMELINE
    own_view = 0
    for va in register.verwerkingsactiviteiten:
        if va.systeemtaak is not None:
            continue  # system reads are bounded by the employee's decision they refresh
        for category, extra in ((LOPEND, OWN_TIMELINE), (HISTORIE, {"documenten"})):
            access = va.categorieen.get(category)
            if access is None:
                continue
            cat = catalogue.get(category)
            assert cat is not None
            fields = set(access.velden if access.velden is not None else cat.velden)
            if Role.BURGER in va.rollen:
                own_view += 1
                assert extra <= fields, va.id
            else:
                assert not (extra & fields), f"{va.id} {category}: {extra & fields}"
    assert own_view, "the own-view purpose (Mijn omgeving) has the zaken categories"
