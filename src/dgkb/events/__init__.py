"""Real-time: inbound change notifications (ZGW Notificaties, CloudEvents), the event bus
(in-process or NATS JetStream), the per-subject hub of open views, and reconciliation."""

from dgkb.events.bus import ChangeEvent, EventBus, InProcessBus, NatsBus, build_bus
from dgkb.events.hub import ChangeHub, Subscription

__all__ = ["ChangeEvent", "ChangeHub", "EventBus", "InProcessBus", "NatsBus", "Subscription", "build_bus"]
