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

from orderhub.domain.orders import Order, Receiver


class MessageKind(StrEnum):
    """Commands OrderHub sends through the outbox (change events have their own names)."""

    WMS_OUTBOUND_CREATE = "wms.outbound.create"  # hand an order to the warehouse
    WMS_OUTBOUND_CANCEL = "wms.outbound.cancel"  # intercept it before it ships
    CHANNEL_SHIPMENT = "channel.shipment"  # tell the channel it shipped (carrier, tracking no)
    CHANNEL_STOCK = "channel.stock"  # set a listing's quantity on the channel


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
class ShippedLine:
    """Part of an order that left in one parcel: the channel's SKU code and how many."""

    channel_sku: str
    quantity: int


@dataclass(frozen=True)
class Shipment:
    """What the channel is told when the warehouse ships (carrier codes are OrderHub's).

    `lines` empty means the whole order left in this parcel. Otherwise the order was split
    and this parcel carries only these lines; the channel is told it is a partial shipment
    (Taobao's is_split with the sub-orders' ids, a Shopify fulfillment of those line items).
    """

    channel_order_no: str
    carrier: str
    tracking_no: str
    shipped_at: datetime
    order_id: int | None = None
    lines: tuple[ShippedLine, ...] = ()


class StockState(StrEnum):
    RESERVED = "reserved"  # its lines are held in its warehouse
    RELEASED = "released"  # cancelled before shipping: given back
    SHIPPED = "shipped"  # left the warehouse: deducted from on hand


def receiver_payload(r: Receiver) -> dict[str, Any]:
    """Where the parcel goes, as the warehouse is told it."""
    return {
        "name": r.name,
        "phone": r.phone,
        "province": r.province,
        "city": r.city,
        "district": r.district,
        "address": r.address,
        "postcode": r.postcode,
    }


def outbound_payload(order: Order) -> dict[str, Any]:
    """wms.outbound.create: everything the warehouse needs to pick, pack and ship."""
    assert order.id is not None and order.warehouse is not None
    r = order.receiver
    return {
        "outbound_no": outbound_no(order.id),
        "order_id": order.id,
        "warehouse": order.warehouse,
        "priority": order.priority,
        "queue": order.queue or "default",
        "shop": order.shop,
        "channel": order.channel,
        "channel_order_no": order.channel_order_no,
        "created_at": order.created_at.isoformat(),
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "receiver": receiver_payload(r),
        "lines": [
            {"sku": line.sku, "title": line.title, "quantity": line.quantity}
            for line in order.lines
        ],
        "buyer_note": order.buyer_note,
        "seller_note": order.seller_note,
    }


def cancel_payload(order: Order, reason: str) -> dict[str, Any]:
    """wms.outbound.cancel: stop the outbound order if it has not shipped."""
    assert order.id is not None
    return {
        "outbound_no": outbound_no(order.id),
        "order_id": order.id,
        "warehouse": order.warehouse,
        "reason": reason,
    }


def shipment_payload(order: Order, shipped_at: datetime) -> dict[str, Any]:
    """channel.shipment: the carrier and tracking no the channel must show."""
    return {
        "order_id": order.id,
        "channel": order.channel,
        "shop": order.shop,
        "channel_order_no": order.channel_order_no,
        "carrier": order.carrier,
        "tracking_no": order.tracking_no,
        "shipped_at": shipped_at.isoformat(),
    }


def shipment_of(payload: dict[str, Any]) -> Shipment:
    return Shipment(
        channel_order_no=payload["channel_order_no"],
        carrier=payload["carrier"],
        tracking_no=payload["tracking_no"],
        shipped_at=datetime.fromisoformat(payload["shipped_at"]),
        order_id=payload.get("order_id"),
        lines=tuple(
            ShippedLine(line["channel_sku"], int(line["quantity"]))
            for line in payload.get("lines") or ()
        ),
    )
