"""Change events for subscribers (ERP, CRM, finance): the outbox target "events" on a broker.

The catalogue of events, their subjects, headers and payloads is docs/events.md.
"""

from __future__ import annotations

from orderhub.integrations.events.nats import NatsEventSender

__all__ = ["NatsEventSender"]
