"""`dgkb run` (what `make run` starts): the Zaken and Notificaties simulators check ZGW JWTs as Open
Zaak and Open Notificaties do, and the demo still works end to end — DGKB reads zaken with the client
of config/sources.yaml, takes its abonnement with the demo client, and a status change that the Zaken
simulator publishes with its own client reaches the open view."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from dgkb.events.routing_auth import notificaties_api_auth
from dgkb.runner import DEMO_ZGW_CLIENT, DEMO_ZGW_CLIENTS, running_simulators, subscribe
from dgkb.settings import Settings, load_yaml
from dgkb.simulators.common import zgw_authorization
from dgkb.simulators.notificaties import API_PATH
from tests.events.conftest import (
    BSN,
    CRS,
    LOPENDE_ZAAK,
    Node,
    SseClient,
    deliver_round,
    dgkb_node,
    open_contact,
    set_status,
    settings_for,
)


@contextlib.asynccontextmanager
async def demo(database_url: str) -> AsyncIterator[tuple[dict[str, str], Node, Settings]]:
    """The simulators as `dgkb run` starts them and one DGKB process (its public URL is its socket)."""
    async with (
        running_simulators(base_port=0, zgw_clients=DEMO_ZGW_CLIENTS, notificaties_seconds=0) as sims,
        dgkb_node(settings_for(database_url), sims) as node,
    ):
        yield sims, node, settings_for(database_url, public_url=node.api)


async def _open_zaak(zaken_url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An open zaak of BSN and the statustypen of its zaaktype, read with DGKB's demo client."""
    auth = zgw_authorization(*DEMO_ZGW_CLIENT)
    async with httpx.AsyncClient(timeout=10) as c:
        page = (
            await c.get(
                f"{zaken_url}/zaken/api/v1/zaken",
                params={
                    "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": BSN,
                    "einddatum__isnull": "true",
                },
                headers={**CRS, "Authorization": auth()},
            )
        ).json()
        zaak = page["results"][0]
        zaaktype = (await c.get(zaak["zaaktype"], headers={"Authorization": auth()})).json()
        statustypen = [
            (await c.get(u, headers={"Authorization": auth()})).json() for u in zaaktype["statustypen"]
        ]
    return zaak, statustypen


def test_the_demo_client_is_the_one_config_sources_yaml_uses_for_zaken() -> None:
    shipped = load_yaml(Settings().config_files["sources"])
    auth = next(s["auth"] for s in shipped["sources"] if s["id"] == "zaken")
    assert (auth["type"], auth["clientId"], auth["secret"]) == ("zgw-jwt", *DEMO_ZGW_CLIENT)
    assert dict([DEMO_ZGW_CLIENT]) == DEMO_ZGW_CLIENTS


@pytest.mark.postgres
async def test_the_demo_runs_end_to_end_with_strict_zgw_simulators(database_url: str) -> None:
    async with demo(database_url) as (sims, node, settings):
        routing = f"{sims['notificaties']}{API_PATH}"
        async with httpx.AsyncClient() as c:
            anonymous = await c.get(f"{sims['zaken']}/zaken/api/v1/zaken", headers=CRS)
            assert (anonymous.status_code, anonymous.json()["code"]) == (403, "permission_denied")
            assert (await c.get(f"{routing}/kanaal")).status_code == 403
        # what run_all does when no DGKB_NOTIFICATIES_API_* is set: the demo client at the local simulator
        auth = notificaties_api_auth(settings, default_client=DEMO_ZGW_CLIENT)
        abonnement = await subscribe(settings, routing, auth)
        assert abonnement["callbackUrl"] == f"{node.api}/api/v1/notificaties"
        zaak, statustypen = await _open_zaak(sims["zaken"])
        async with await node.as_user("kcm-anna") as anna:
            contact = await open_contact(anna, LOPENDE_ZAAK)
            klantbeeld = (await anna.get(f"/api/v1/contacten/{contact}/klantbeeld")).json()
            lopend = next(s for s in klantbeeld["secties"] if s["categorie"] == "dienst.zaken-lopend")
            assert lopend["status"] == "ok", lopend
            shown = next(z for z in lopend["gegevens"] if z["url"] == zaak["url"])
            new = next(
                s
                for s in statustypen
                if not s["isEindstatus"] and s["omschrijving"] != shown["status"]["omschrijving"]
            )
            async with SseClient(anna, f"/api/v1/contacten/{contact}/gebeurtenissen") as sse:
                # the Zaken simulator publishes with its own client; the routing component accepts it
                await set_status(sims["zaken"], zaak, new["url"])
                await deliver_round(sims["notificaties"])  # the routing component's next round
                kind, data = await sse.next(wait=5)
        assert (kind, data["bron"]) == ("bijgewerkt", "zaken")
