"""Outbound messages (text message, e-mail) through the GOV.UK Notify API that NotifyNL serves.

`Notifier` is the port (dgkb.notify.port); `build_notifier(settings)` gives the NotifyNL
implementation (dgkb.notify.notifynl) configured by `DGKB_NOTIFY_*` (dgkb.notify.config), which
outside production defaults to the local simulator (dgkb.simulators.notifynl).
"""

from dgkb.notify.config import DEMO_API_KEY, DEMO_TEMPLATES, NotifyConfig, notify_config
from dgkb.notify.notifynl import DisabledNotifier, NotifyNLNotifier, build_notifier
from dgkb.notify.port import (
    MessageKind,
    Notifier,
    NotifyError,
    NotifyRejected,
    NotifyTemplates,
    NotifyUnavailable,
)

__all__ = [
    "DEMO_API_KEY",
    "DEMO_TEMPLATES",
    "DisabledNotifier",
    "MessageKind",
    "Notifier",
    "NotifyConfig",
    "NotifyError",
    "NotifyNLNotifier",
    "NotifyRejected",
    "NotifyTemplates",
    "NotifyUnavailable",
    "build_notifier",
    "notify_config",
]
