"""The dev issuer's signing key shared by several nodes (issue 13): with DGKB_DEV_ISSUER_KEY_FILE and one
public URL a token minted by one node is valid on the others; without it each process has a key of its
own and another node refuses the token. Nodes starting together agree on one key."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from dgkb.api.dev_issuer import _load_or_create_key
from tests.api.conftest import GEMEENTE, running_stack
from tests.conftest import fresh_database_url

LOPENDE_ZAAK = GEMEENTE + "vraag-lopende-zaak"


async def test_a_token_of_one_node_is_valid_on_another_only_with_a_shared_key_file(
    tmp_path: Path, simulators: dict[str, str]
) -> None:
    url = await fresh_database_url("sqlite", tmp_path)
    shared = {"public_url": "http://dgkb.test", "dev_issuer_key_file": tmp_path / "keys" / "dev-issuer.pem"}
    async with running_stack(url, simulators, **shared) as a, running_stack(url, simulators, **shared) as b:
        token = await a.token("kcm-anna")
        opened = await b.client.post(
            "/api/v1/contacten",
            json={"kanaal": "telefoon", "verwerkingsactiviteit": LOPENDE_ZAAK},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert opened.status_code == 201, opened.text
    assert (tmp_path / "keys" / "dev-issuer.pem").stat().st_mode & 0o777 == 0o600

    own = {"public_url": "http://dgkb.test"}
    async with running_stack(url, simulators, **own) as a, running_stack(url, simulators, **own) as b:
        token = await a.token("kcm-anna")
        refused = await b.client.post(
            "/api/v1/contacten",
            json={"kanaal": "telefoon", "verwerkingsactiviteit": LOPENDE_ZAAK},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 401, refused.text


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "dev-issuer.pem"
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: _load_or_create_key(key_file), range(8)))
    pems = {
        k.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        for k in keys
    }
    assert len(pems) == 1
    assert pems == {key_file.read_bytes()}
    assert [p.name for p in tmp_path.iterdir()] == ["dev-issuer.pem"], "no draft left behind"
