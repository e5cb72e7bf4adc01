"""Fixtures for the audit tests: a pseudonymizer, a writer and a request context factory."""

from __future__ import annotations

import pytest

from dgkb.audit import AuditWriter
from dgkb.domain.assurance import Assurance
from dgkb.domain.channels import Kanaal
from dgkb.domain.context import Actor, RequestContext, Trace
from dgkb.domain.identifiers import Subject
from dgkb.domain.pseudonym import Pseudonymizer
from dgkb.domain.roles import Role
from dgkb.store.db import Database

from .support import BSN, KEYRING, OIN, PURPOSE, MakeContext


@pytest.fixture
def pseudonymizer() -> Pseudonymizer:
    return Pseudonymizer(KEYRING)


@pytest.fixture
def writer(database: Database, pseudonymizer: Pseudonymizer) -> AuditWriter:
    return AuditWriter(database, pseudonymizer)


@pytest.fixture
def make_context() -> MakeContext:
    def make(
        *,
        bsn: str = BSN,
        actor_id: str = "medewerker-42",
        purpose: str = PURPOSE,
        contact_id: str | None = "contact-1",
    ) -> RequestContext:
        return RequestContext(
            actor=Actor(id=actor_id, role=Role.KCM, organisation=OIN, organisation_unit="KCC"),
            subject=Subject.person(bsn),
            purpose_id=purpose,
            assurance=Assurance.DIGID_MIDDEN,
            channel=Kanaal.TELEFOON,
            trace=Trace(),
            contact_id=contact_id,
        )

    return make
