"""Mutual TLS to a source: the adapter presents its client certificate; without one it is refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dgkb.domain.identifiers import Subject
from dgkb.simulators.belastingen import create_app
from dgkb.sources.base import FetchRequest, SourceError
from dgkb.sources.config import SourceConfig
from dgkb.sources.generic import GenericRestAdapter


def _cert(
    name: str,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    issuer: x509.Name | None = None,
    *,
    ca: bool = False,
    san: str | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(san))]), critical=False
        )
    return key, builder.sign(issuer_key or key, hashes.SHA256())


def _write(path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> tuple[str, str]:
    key_file, cert_file = path.with_suffix(".key"), path.with_suffix(".pem")
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(cert_file), str(key_file)


@pytest.fixture
async def tls_source(tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    ca_key, ca = _cert("DGKB test CA", ca=True)
    server_key, server = _cert("127.0.0.1", ca_key, ca.subject, san="127.0.0.1")
    client_key, client = _cert("dgkb-client", ca_key, ca.subject)
    ca_file, _ = _write(tmp_path / "ca", ca_key, ca)
    server_cert, server_key_file = _write(tmp_path / "server", server_key, server)
    client_cert, client_key_file = _write(tmp_path / "client", client_key, client)
    app = create_app(["999993653"], [], organisation="gemeente", kind="belastingen")
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ssl_certfile=server_cert,
        ssl_keyfile=server_key_file,
        ssl_ca_certs=ca_file,
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )
    server_ = uvicorn.Server(config)
    task = asyncio.create_task(server_.serve())
    while not server_.started:  # noqa: ASYNC110 - uvicorn offers only this flag
        await asyncio.sleep(0.01)
    port = server_.servers[0].sockets[0].getsockname()[1]
    try:
        yield (
            f"https://127.0.0.1:{port}",
            {"certFile": client_cert, "keyFile": client_key_file, "caFile": ca_file},
        )
    finally:
        server_.should_exit = True
        await task


def _config(url: str, auth: dict[str, str]) -> SourceConfig:
    return SourceConfig.model_validate(
        {
            "id": "belastingen-mtls",
            "kind": "generic-rest",
            "name": "Belastingen (mTLS)",
            "organisation": "00000001001234567000",
            "baseUrl": url,
            "categories": ["dossier.financieel"],
            "deadline": 2,
            "auth": auth,
            "options": {
                "subjectKinds": ["bsn"],
                "requests": [
                    {
                        "method": "GET",
                        "path": "/api/v1/aanslagen?bsn={subject}",
                        "itemsPath": "$.results",
                        "categories": {"dossier.financieel": {"omschrijving": "$.omschrijving"}},
                    }
                ],
            },
        }
    )


async def test_client_certificate_is_presented(tls_source: tuple[str, dict[str, str]]) -> None:
    url, files = tls_source
    adapter = GenericRestAdapter(_config(url, {"type": "mtls", **files}))
    try:
        result = await adapter.fetch(
            FetchRequest(Subject.person("999993653"), {"dossier.financieel": ("omschrijving",)})
        )
    finally:
        await adapter.aclose()
    assert result["dossier.financieel"]


async def test_without_client_certificate_the_source_refuses(tls_source: tuple[str, dict[str, str]]) -> None:
    url, _ = tls_source
    adapter = GenericRestAdapter(_config(url, {"type": "none"}))
    try:
        with pytest.raises(SourceError):
            await adapter.fetch(
                FetchRequest(Subject.person("999993653"), {"dossier.financieel": ("omschrijving",)})
            )
    finally:
        await adapter.aclose()
