"""One coherent, deterministic, fictitious world shared by all simulators.

The same seed always gives the same persons, families, companies, zaken, klantcontacten, interne taken,
travel documents and products, so a BSN in the BRP simulator is the initiator of the zaken in the Zaken
simulator, the partij in the Klantinteracties simulator, the holder of documents in the Reisdocumenten
simulator and the owner of products in the Producten simulator, under the same name. Every BSN is a
test BSN (999…) passing the 11-proef. The world is pure data: it never reads the clock
(`REFERENCE_DATE` is "today").

Public API (`build_world(seed=2026, persons=200, companies=30)` -> `World`):

    world.persons            tuple[Person]; the first CORE_PERSONS (40) are the historic demo core: their
                             data does not change when `persons` grows (extra persons use their own
                             random stream), so README/test facts stay true (999993653 heads a family
                             with partner 999990639; ZAAK-2026-0000006 is a Wmo zaak of 999991425)
    world.person(bsn)        Person | None
    world.companies          tuple[Company]; KVK_TEST_NUMBERS come first
    world.company(kvk)       Company | None;  world.company_by_vestiging(vestigingsnummer) -> Company | None
    world.zaken()            zaken of persons only (initiator_bsn set)
    world.company_zaken()    zaken of companies (initiator_bsn == "", initiator_kvk set)
    world.reisdocumenten()   every travel document (also Person.reisdocumenten)
    world.producten()        every product of persons and companies (also Person/Company.producten)
    world.producttypen       tuple[ProductType]
    world.shielded_bsn, world.no_partij_bsn   as before
    world.special[name]      the BSN or KVK-nummer of each special case, see SPECIAL_CASES

    Person (new, with defaults): overlijdensdatum, reisdocumenten, producten
    Zaak (new, with default):    initiator_kvk
    Company: kvk_nummer, naam, handelsnamen, rechtsvorm, uitgebreide_rechtsvorm, rsin,
             formele_registratiedatum, sbi_activiteiten, vestigingen (hoofdvestiging first),
             adres, eigenaar_bsn (eenmanszaak), partij_uuid/partij_nummer, emailadressen,
             telefoonnummers, zaken, klantcontacten, interne_taken, producten

Special cases (`world.special`): passport_expires_soon, lost_document, recent_move, deceased,
repeat_contacts, shielded, no_partij, open_fine and overdue_tax_with_arrangement (the belastingen
simulator's FEATURED_BSN, 999993653), two_branches, eenmanszaak, eenmanszaak_owner, stichting,
vereniging_zonder_vestiging, valid_document (999990639: a passport valid for years after
REFERENCE_DATE, not withdrawn) and expired_document (a person, not shielded or deceased, with a
document whose validity ended before REFERENCE_DATE without inhouding or vermissing: expired, not
withdrawn). `world.document(name)` gives the document of such a case (also lost_document).

Modules: `model` (the dataclasses and `World`), `constants` (the fixed facts above), `names` (name and
street lists), `catalogue` (zaaktypen, actoren, producttypen), `draws` (derived uuids, random dates),
`households` (the builder's random stream; persons drafted per household), `zaken` (zaken,
klantcontacten, interne taken), `persons` (drafts frozen into persons), `documents` (travel documents),
`products`, `companies`, and `build` (`build_world`, which runs them in order); `zaakdossier`
(`zaak_documenten(zaak, zaaktype)`, the titles of a zaak's documents, and `wacht_op_aanvulling`, the
reason a zaak waits for the customer — both derived from the zaak, so the built world is unchanged).
"""

from dgkb.simulators.world.build import build_world
from dgkb.simulators.world.constants import (
    CORE_PERSONS,
    KVK_TEST_NUMBERS,
    README_BSNS,
    REFERENCE_DATE,
    SPECIAL_CASES,
)
from dgkb.simulators.world.model import (
    Actor,
    Address,
    Company,
    DigitaalAdres,
    InterneTaak,
    Klantcontact,
    Person,
    Product,
    ProductType,
    Reisdocument,
    Resultaattype,
    SbiActiviteit,
    Statustype,
    Vestiging,
    World,
    Zaak,
    ZaakStatus,
    Zaaktype,
)
from dgkb.simulators.world.zaakdossier import ZaakDocument, wacht_op_aanvulling, zaak_documenten

__all__ = [
    "CORE_PERSONS",
    "KVK_TEST_NUMBERS",
    "README_BSNS",
    "REFERENCE_DATE",
    "SPECIAL_CASES",
    "Actor",
    "Address",
    "Company",
    "DigitaalAdres",
    "InterneTaak",
    "Klantcontact",
    "Person",
    "Product",
    "ProductType",
    "Reisdocument",
    "Resultaattype",
    "SbiActiviteit",
    "Statustype",
    "Vestiging",
    "World",
    "Zaak",
    "ZaakDocument",
    "ZaakStatus",
    "Zaaktype",
    "build_world",
    "wacht_op_aanvulling",
    "zaak_documenten",
]
