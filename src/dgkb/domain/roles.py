"""Roles of the people and systems that use DGKB."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    KCM = "kcm"  # klantcontactmedewerker, contact-centre agent
    BEHANDELAAR = "behandelaar"  # case worker in the back office
    KLACHTBEHANDELAAR = "klachtbehandelaar"  # complaint handler / klachtencoördinator (Awb hfst. 9)
    PRIVACY = "privacy"  # privacy officer / auditor
    BEHEERDER = "beheerder"  # functional administrator
    # Team lead of a contact centre: reads the measure-and-learn dashboard (suppressed aggregates of
    # pseudonymised events), never a klantbeeld. No purpose in the register names this role, so the
    # PDP denies it every category, and a contact cannot be started in it.
    TEAMLEIDER = "teamleider"
    BURGER = "burger"  # the citizen or business itself
    SYSTEEM = "systeem"  # a registered system (website, form) acting with its own purpose
    # A registered policy enforcement point (portal, case system) asking the AuthZEN PDP on behalf of
    # others: only it may name another role or organisation than its own token's. Reads no data itself.
    PEP = "pep"
