"""Outbox rows: change events that leave OrderHub, written in the transaction that caused them.

Delivery (the relay in the worker) comes with the fulfilment pipeline; until then the rows are
the durable record of every change event, in commit order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from orderhub.domain.orders import Order
from orderhub.domain.timeline import OrderEvent
from orderhub.storage.tables import outbox

INSERT_MESSAGES = outbox.insert()
PENDING = "pending"
EVENT_VERSION = 1
_NO_STATUS_CHANGE = {"edit": "order.edited"}


def event_type(event: OrderEvent) -> str:
    if event.from_status is None:
        return "order.created"
    if event.changes_status:
        return "order.status_changed"
    return _NO_STATUS_CHANGE.get(event.action, f"order.{event.action}")


def message_row(order: Order, event: OrderEvent, message_id: UUID, now: datetime) -> dict[str, Any]:
    return {
        "message_id": str(message_id),
        "event_type": event_type(event),
        "aggregate_id": str(order.id),
        "payload": {
            "version": EVENT_VERSION,
            "order_id": order.id,
            "channel": order.channel,
            "shop": order.shop,
            "channel_order_no": order.channel_order_no,
            "action": event.action,
            "from_status": event.from_status.value if event.from_status else None,
            "to_status": event.to_status.value,
            "at": event.at.isoformat(),
            "actor": event.actor_name,
            "source": event.source,
            "reason_code": event.reason_code,
            "correlation_id": event.correlation_id,
        },
        "created_at": now,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
    }
