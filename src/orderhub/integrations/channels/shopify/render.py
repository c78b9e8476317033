"""A simulated order written as the Shopify Admin REST API writes it (simulator only).

Amounts are decimal strings in the shop currency; times are ISO 8601 in the shop's zone, whole
seconds, with the offset; an order-level discount is allocated to a line (Shopify allocates every
discount to lines through `discount_allocations`, so the lines carry all of it).
"""

from __future__ import annotations

import zlib
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from orderhub.domain.mapping import ChannelState
from orderhub.domain.money import exponent
from orderhub.integrations.channels.shopify.carriers import TRACKING_COMPANIES
from orderhub.integrations.channels.simkit import SimOrder, group_of

SHOP_ZONE = ZoneInfo("America/New_York")
SHOP_DOMAIN = "orderhub-sim.myshopify.com"
ID_PREFIX = "45"  # Shopify order ids are long integers; names count from #1001
LOCATION_ID = 65_400_000_001  # the shop's one location: its stock, where orders are fulfilled
_COUNTRY = {"Ontario": ("CA", "Canada")}


def shop_time(at: datetime | None) -> str | None:
    if at is None:
        return None
    return at.astimezone(SHOP_ZONE).replace(microsecond=0).isoformat()


def money(minor: int, currency: str) -> str:
    places = exponent(currency)
    return str(Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places)))


def _id(base: int, text: str) -> int:
    return base + zlib.crc32(text.encode()) % 10**9


def variant_ids(sku: str) -> dict[str, str]:
    """Shopify's ids for a merchant SKU code: its product (one per code prefix, so `TS-WHITE-L`
    and `TS-BLACK-M` are two variants of one product), variant and inventory item, and the
    location that stocks it; order line items carry the same product_id and variant_id."""
    return {
        "product_id": str(_id(8_100_000_000_000, group_of(sku))),
        "variant_id": str(_id(45_200_000_000_000, sku)),
        "inventory_item_id": str(_id(47_300_000_000_000, sku)),
        "location_id": str(LOCATION_ID),
    }


def order_number(no: str) -> int:
    return 1000 + int(no.removeprefix(ID_PREFIX))


def _statuses(order: SimOrder) -> tuple[str, str | None]:
    if order.state is ChannelState.CANCELLED:
        return ("refunded" if order.paid_at else "voided"), None
    if order.state is ChannelState.AWAITING_PAYMENT:
        return "pending", None
    financial = "partially_refunded" if order.refund_requested else "paid"
    fulfillment = {
        ChannelState.PAID: None,
        ChannelState.PARTLY_SHIPPED: "partial",
        ChannelState.SHIPPED: "fulfilled",
        ChannelState.COMPLETED: "fulfilled",
    }[order.state]
    return financial, fulfillment


def _line_discounts(order: SimOrder) -> list[int]:
    """Each line's own discount, plus the order discount on the line that can carry it."""
    discounts = [line.discount for line in order.lines]
    if order.discount:
        room = [line.quantity * line.unit_price - line.discount for line in order.lines]
        widest = max(range(len(room)), key=room.__getitem__)
        discounts[widest] += order.discount
    return discounts


def _address(order: SimOrder) -> dict[str, Any]:
    r = order.receiver
    first, _, last = r["name"].partition(" ")
    street, _, rest = r["address"].partition(", ")
    country_code, country = _COUNTRY.get(r["province"], ("US", "United States"))
    return {
        "name": r["name"],
        "first_name": first,
        "last_name": last,
        "phone": r["phone"],
        "address1": street,
        "address2": rest or None,
        "city": r["city"],
        "province": r["province"],
        "zip": r["postcode"],
        "country": country,
        "country_code": country_code,
    }


def render_order(order: SimOrder) -> dict[str, Any]:
    cur = order.currency
    oid = int(order.no)
    financial, fulfillment = _statuses(order)
    discounts = _line_discounts(order)
    lines_price = sum(line.quantity * line.unit_price for line in order.lines)
    all_discounts = sum(discounts)
    subtotal = lines_price - all_discounts
    shipping = {"amount": money(order.shipping_fee, cur), "currency_code": cur}
    cancelled = order.state is ChannelState.CANCELLED
    buyer = order.buyer_id.removeprefix("b")
    line_items = [
        {
            "id": oid * 100 + n + 1,
            "product_id": int(variant_ids(line.sku)["product_id"]),
            "variant_id": int(variant_ids(line.sku)["variant_id"]),
            "sku": line.sku,
            "title": line.title,
            "variant_title": None,
            "quantity": line.quantity,
            "price": money(line.unit_price, cur),
            "total_discount": money(discount, cur),
            "discount_allocations": (
                [{"amount": money(discount, cur), "discount_application_index": 0}]
                if discount
                else []
            ),
        }
        for n, (line, discount) in enumerate(zip(order.lines, discounts, strict=True))
    ]
    refunds = (
        [{"id": oid * 10 + 1, "created_at": shop_time(order.modified_at), "note": "buyer asked"}]
        if order.refund_requested or financial == "refunded"
        else []
    )
    fulfillments = [fulfillment_of(order, n) for n in range(len(order.parcels))]
    return {
        "id": oid,
        "name": f"#{order_number(order.no)}",
        "order_number": order_number(order.no),
        "email": f"{order.buyer_nick}@example.com",
        "created_at": shop_time(order.created_at),
        "updated_at": shop_time(order.modified_at),
        "processed_at": shop_time(order.created_at),
        "cancelled_at": shop_time(order.modified_at) if cancelled else None,
        "cancel_reason": "customer" if cancelled else None,
        "closed_at": (
            shop_time(order.modified_at) if order.state is ChannelState.COMPLETED else None
        ),
        "financial_status": financial,
        "fulfillment_status": fulfillment,
        "currency": cur,
        "presentment_currency": cur,
        "taxes_included": False,
        "total_line_items_price": money(lines_price, cur),
        "total_discounts": money(all_discounts, cur),
        "subtotal_price": money(subtotal, cur),
        "total_tax": money(0, cur),
        "total_price": money(subtotal + order.shipping_fee, cur),
        "total_shipping_price_set": {"shop_money": shipping, "presentment_money": shipping},
        "line_items": line_items,
        "shipping_address": _address(order),
        "customer": {
            "id": 7_000_000_000_000 + int(buyer) if buyer.isdigit() else None,
            "email": f"{order.buyer_nick}@example.com",
            "first_name": order.receiver["name"].partition(" ")[0],
        },
        "note": order.buyer_note or None,
        "tags": ", ".join(order.tags),
        "payment_gateway_names": ["shopify_payments"],
        "refunds": refunds,
        "fulfillments": fulfillments,
    }


FULFILLMENT_ORDER_SUFFIX = 3  # fulfillment order id = order id * 10 + 3 (one per order here)


def fulfillment_of(order: SimOrder, n: int) -> dict[str, Any]:
    """The order's n-th fulfillment (its n-th parcel), as orders/{id}.json and
    fulfillments.json write it: the line items it carried, with the quantities."""
    oid = int(order.no)
    parcel = order.parcels[n]
    company = TRACKING_COMPANIES.get(parcel.carrier, parcel.carrier) or None
    line_ids = {line.sku: oid * 100 + k + 1 for k, line in enumerate(order.lines)}
    return {
        "id": oid * 1000 + 200 + n,
        "order_id": oid,
        "status": "success",
        "created_at": shop_time(order.modified_at),
        "tracking_company": company,
        "tracking_number": parcel.tracking_no or None,
        "tracking_numbers": [parcel.tracking_no] if parcel.tracking_no else [],
        "line_items": [
            {"id": line_ids[sku], "sku": sku, "quantity": quantity}
            for sku, quantity in parcel.lines
            if sku in line_ids
        ],
    }


def fulfillment_order_status(order: SimOrder) -> str:
    """Open until shipped, in progress while partly shipped; closed once every line left, or when
    the order was cancelled."""
    if order.state is ChannelState.PARTLY_SHIPPED:
        return "in_progress"
    if order.state in (ChannelState.AWAITING_PAYMENT, ChannelState.PAID):
        return "open"
    return "closed"


def fulfillment_order_of(order: SimOrder) -> dict[str, Any]:
    """The order's one fulfillment order (every line from the one location); each line item's
    fulfillable_quantity is what is left of it to ship."""
    oid = int(order.no)
    fo_id = oid * 10 + FULFILLMENT_ORDER_SUFFIX
    status = fulfillment_order_status(order)
    open_ = status in ("open", "in_progress")
    left = order.remaining()
    return {
        "id": fo_id,
        "order_id": oid,
        "status": status,
        "request_status": "unsubmitted",
        "assigned_location_id": LOCATION_ID,
        "supported_actions": ["create_fulfillment", "hold", "move"] if open_ else [],
        "line_items": [
            {
                "id": fo_id * 100 + n + 1,
                "fulfillment_order_id": fo_id,
                "line_item_id": oid * 100 + n + 1,
                "variant_id": int(variant_ids(line.sku)["variant_id"]),
                "quantity": line.quantity,
                "fulfillable_quantity": left.get(line.sku, 0) if open_ else 0,
            }
            for n, line in enumerate(order.lines)
        ],
    }
