"""What travels between OrderHub, the warehouse (WMS) and the channels once an order is paid.

Outgoing messages are outbox rows: a kind, a target and a JSON payload built here, so every
adapter reads one documented shape (docs/events.md). Incoming warehouse callbacks are parsed by
the WMS adapter into `WarehouseReport`s, the one shape the services apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class MessageKind(StrEnum):
    """Commands OrderHub sends through the outbox (change events have their own names)."""

    WMS_OUTBOUND_CREATE = "wms.outbound.create"  # hand an order to the warehouse
    WMS_OUTBOUND_CANCEL = "wms.outbound.cancel"  # intercept it before it ships
    CHANNEL_SHIPMENT = "channel.shipment"  # tell the channel it shipped (carrier, tracking no)


def wms_target(warehouse: str) -> str:
    return f"wms:{warehouse}"


def channel_target(shop: str) -> str:
    return f"channel:{shop}"


EVENTS_TARGET = "events"  # change events for subscribers (NATS JetStream when configured)


def outbound_no(order_id: int) -> str:
    """The warehouse's key for an order: stable, so a repeated push is recognised as one."""
    return f"OH{order_id:010d}"


def order_id_of(outbound: str) -> int | None:
    if outbound.startswith("OH") and outbound[2:].isdigit():
        return int(outbound[2:])
    return None


class ReportKind(StrEnum):
    ACCEPTED = "accepted"  # the warehouse took the outbound order
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"  # with carrier and tracking no
    DELIVERED = "delivered"  # proof of delivery
    STOCK = "stock"  # on-hand figures per SKU as of a time


@dataclass(frozen=True)
class StockCount:
    sku: str
    on_hand: int
    as_of: datetime


@dataclass(frozen=True)
class WarehouseReport:
    """One fact from the warehouse. `message_id` is the WMS's id: a repeat is ignored."""

    message_id: str
    warehouse: str
    kind: ReportKind
    at: datetime
    outbound_no: str | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    stock: tuple[StockCount, ...] = ()
    detail: dict[str, Any] | None = None


class InterceptResult(StrEnum):
    INTERCEPTED = "intercepted"  # stopped before shipping: the order can be cancelled
    TOO_LATE = "too_late"  # already shipped: it will arrive, handle it as a return
    NOT_FOUND = "not_found"  # the warehouse never had it: nothing to stop


@dataclass(frozen=True)
class Shipment:
    """What the channel is told when the warehouse ships (carrier codes are OrderHub's)."""

    channel_order_no: str
    carrier: str
    tracking_no: str
    shipped_at: datetime
    order_id: int | None = None
