"""What travels for a parcel: its wms.outbound.create and cancel, the channel.shipment of the
part of an order it carried, and how the timeline keeps it (docs/events.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orderhub.domain.fulfilment import receiver_payload
from orderhub.domain.orders import Order
from orderhub.domain.parcels import Parcel


def parcel_outbound_payload(parcel: Parcel, orders: Sequence[Order]) -> dict[str, Any]:
    """wms.outbound.create for a parcel: the order's fields (the first order's for a merged
    parcel: they share receiver and shop), the parcel's number, warehouse and lines."""
    lead = min(orders, key=lambda o: o.id or 0)
    by_id = {o.id: o for o in orders}
    r = lead.receiver
    paid = [o.paid_at for o in orders if o.paid_at]
    notes = [o.buyer_note for o in orders if o.buyer_note]
    seller = [o.seller_note for o in orders if o.seller_note]
    urgent = max(orders, key=lambda o: o.priority)
    return {
        "outbound_no": parcel.parcel_no,
        "parcel_no": parcel.parcel_no,
        "parcel_kind": parcel.kind.value,
        "order_id": lead.id,
        "order_ids": list(parcel.order_ids),
        "warehouse": parcel.warehouse,
        "priority": urgent.priority,
        "queue": urgent.queue or "default",
        "shop": lead.shop,
        "channel": lead.channel,
        "channel_order_no": lead.channel_order_no,
        "created_at": min(o.created_at for o in orders).isoformat(),
        "paid_at": min(paid).isoformat() if paid else None,
        "receiver": receiver_payload(r),
        "lines": [
            {
                "sku": line.sku,
                "title": line.title,
                "quantity": line.quantity,
                "order_id": line.order_id,
                "channel_order_no": by_id[line.order_id].channel_order_no,
            }
            for line in parcel.lines
        ],
        "buyer_note": " / ".join(notes) or None,
        "seller_note": " / ".join(seller) or None,
    }


def parcel_cancel_payload(parcel: Parcel, reason: str) -> dict[str, Any]:
    return {
        "outbound_no": parcel.parcel_no,
        "parcel_no": parcel.parcel_no,
        "order_id": parcel.lead_order_id,
        "warehouse": parcel.warehouse,
        "reason": reason,
    }


def shipped_lines(
    order: Order, parcel: Parcel, combos: Mapping[str, Mapping[str, int]] | None = None
) -> list[tuple[str, int]]:
    """What of the channel's order one parcel carried: (channel SKU, quantity) per channel line.

    A line's channel SKU is its own, else OrderHub's SKU. A combo the channel sells as one line
    reached OrderHub as its components (`combos`: channel SKU -> component SKU -> units per
    combo); the parcel carried as many combos as its components make up, a started one counting.
    """
    carried: dict[str, dict[str, int]] = {}
    for line in parcel.lines:
        if line.order_id == order.id:
            parts = carried.setdefault(line.channel_sku or line.sku, {})
            parts[line.sku] = parts.get(line.sku, 0) + line.quantity
    found = []
    for channel_sku, parts in carried.items():
        per_combo = (combos or {}).get(channel_sku)
        if per_combo:
            count = max(-(-qty // per_combo.get(sku, 1)) for sku, qty in parts.items())
        else:
            count = sum(parts.values())
        found.append((channel_sku, count))
    return found


def parcel_shipment_payload(
    order: Order, parcel: Parcel, combos: Mapping[str, Mapping[str, int]] | None = None
) -> dict[str, Any]:
    """channel.shipment for the part of a split order one parcel carried, by channel line."""
    assert parcel.shipped_at is not None
    return {
        "order_id": order.id,
        "channel": order.channel,
        "shop": order.shop,
        "channel_order_no": order.channel_order_no,
        "carrier": parcel.carrier,
        "tracking_no": parcel.tracking_no,
        "shipped_at": parcel.shipped_at.isoformat(),
        "parcel_no": parcel.parcel_no,
        "lines": [
            {"channel_sku": sku, "quantity": q} for sku, q in shipped_lines(order, parcel, combos)
        ],
    }


def parcel_view(parcel: Parcel) -> dict[str, Any]:
    """A parcel as the timeline's detail keeps it."""
    return {
        "parcel_no": parcel.parcel_no,
        "warehouse": parcel.warehouse,
        "status": parcel.status.value,
        "lines": [f"{sku} x{qty}" for sku, qty in parcel.needs()],
    }
