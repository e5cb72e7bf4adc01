"""Roles of the people and systems that use DGKB."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    KCM = "kcm"  # klantcontactmedewerker, contact-centre agent
    BEHANDELAAR = "behandelaar"  # case worker in the back office
    PRIVACY = "privacy"  # privacy officer / auditor
    BEHEERDER = "beheerder"  # functional administrator
    BURGER = "burger"  # the citizen or business itself
    SYSTEEM = "systeem"  # a registered system (website, form) acting with its own purpose
