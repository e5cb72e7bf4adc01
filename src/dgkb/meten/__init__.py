"""Meten en leren (issue 15 §4): pseudonymised events of contacts, ratings, complaints and reports,
and periodic samples of the sources' health — DGKB's own data for the team lead's dashboard.

MetenRecorder   records events at the moment they happen (never failing the action that caused them)
HealthSampler   stores each source's calls, errors and latency per interval (no personal data)
"""

from dgkb.meten.health import HealthSampler
from dgkb.meten.recorder import ContactEvent, MetenRecorder, categorise

__all__ = ["ContactEvent", "HealthSampler", "MetenRecorder", "categorise"]
