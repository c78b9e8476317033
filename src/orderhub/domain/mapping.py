"""Channel payload -> canonical order, driven by a declarative mapping (data, never code).

A mapping is a plain dict (each channel keeps it as YAML beside its adapter; a merchant may extend
it, e.g. to carry an extra field into a custom field). `map_order` reads a payload with it and
returns a `MappedOrder`, or a `Rejection` naming the canonical field, the channel's path and what
is wrong, so the payload can be quarantined and replayed once the mapping or the data is fixed.
The rule language is documented in docs/mapping.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from orderhub.domain.mapping_rules import (
    MISSING,
    FieldReader,
    MappingError,
    Rejected,
    Rejection,
    check_mapping,
    rule_path,
    walk,
)
from orderhub.domain.orders import (
    Amounts,
    Invoice,
    Order,
    OrderLine,
    OrderType,
    PaymentStatus,
    Receiver,
)

__all__ = ["ChannelState", "MappedOrder", "MappingError", "Rejection", "check_mapping", "map_order"]


class ChannelState(StrEnum):
    """Where the channel says the order is, whatever words the channel uses for it."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PARTLY_SHIPPED = "partly_shipped"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass
class MappedOrder:
    """A payload read into the canonical shape, plus what the channel says about its state."""

    order: Order
    channel_state: ChannelState
    channel_status: str
    modified_at: datetime
    refund_requested: bool = False
    # Lines the channel names by its own SKU; the merchant SKU comes from the SKU mapping.
    extras: dict[str, Any] = field(default_factory=dict)


def map_order(
    payload: Mapping[str, Any], mapping: Mapping[str, Any], *, shop: str
) -> MappedOrder | Rejection:
    """Read one payload. Never raises for bad data: a bad payload is a Rejection."""
    try:
        return _map(payload, mapping, shop)
    except Rejected as rejected:
        return rejected.rejection


def _map(payload: Mapping[str, Any], mapping: Mapping[str, Any], shop: str) -> MappedOrder:
    read = FieldReader(mapping)
    currency = read.get(payload, "currency") or read.currency
    read.currency = str(currency).upper()
    status = read.get(payload, "status", required=True)
    try:
        state = ChannelState(status)
    except ValueError:
        raise Rejected(
            Rejection(
                "status",
                f"maps to '{status}', not a channel state "
                f"({', '.join(s.value for s in ChannelState)})",
            )
        ) from None
    lines = _lines(payload, mapping, read)

    def amount(name: str) -> int:
        return int(read.get(payload, f"amounts.{name}") or 0)

    goods = (
        amount("goods_total")
        if "amounts.goods_total" in read.rules
        else sum(line.amount for line in lines)
    )
    order = Order(
        channel=str(mapping["channel"]),
        shop=shop,
        channel_order_no=read.get(payload, "channel_order_no", required=True),
        currency=read.currency,
        amounts=Amounts(
            goods_total=goods,
            shipping_fee=amount("shipping_fee"),
            discount=amount("discount"),
            tax=amount("tax"),
            paid_total=amount("paid_total"),
        ),
        lines=lines,
        receiver=_receiver(payload, read),
        created_at=read.get(payload, "created_at", required=True),
        order_type=OrderType(read.get(payload, "order_type") or OrderType.NORMAL),
        payment_status=(
            PaymentStatus.UNPAID if state is ChannelState.AWAITING_PAYMENT else PaymentStatus.PAID
        ),
        buyer_id=read.get(payload, "buyer_id"),
        buyer_nick=read.get(payload, "buyer_nick"),
        buyer_note=read.get(payload, "buyer_note"),
        seller_note=read.get(payload, "seller_note"),
        payment_method=read.get(payload, "payment_method"),
        transaction_no=read.get(payload, "transaction_no"),
        paid_at=read.get(payload, "paid_at"),
        invoice=(
            Invoice(title, read.get(payload, "invoice.tax_id"))
            if (title := read.get(payload, "invoice.title"))
            else None
        ),
        tags=tuple(read.get(payload, "tags") or ()),
        custom_fields={
            name.removeprefix("custom_fields."): value
            for name in read.rules
            if name.startswith("custom_fields.")
            if (value := read.get(payload, name)) is not None
        },
    )
    raw_status = (
        walk(payload, read.rules["status"]["path"]) if "path" in read.rules["status"] else status
    )
    return MappedOrder(
        order=order,
        channel_state=state,
        channel_status=str(raw_status),
        modified_at=read.get(payload, "modified_at", required=True),
        refund_requested=bool(read.get(payload, "refund_requested")),
    )


def _receiver(payload: Mapping[str, Any], read: FieldReader) -> Receiver:
    def part(name: str) -> str:
        return str(read.get(payload, f"receiver.{name}") or "")

    receiver = Receiver(
        part("name"),
        part("phone"),
        part("province"),
        part("city"),
        part("district"),
        part("address"),
        read.get(payload, "receiver.postcode"),
        bool(read.get(payload, "receiver.masked")),
    )
    for name in ("name", "phone", "address"):
        if not getattr(receiver, name).strip():
            rule = read.rules.get(f"receiver.{name}", {})
            raise Rejected(
                Rejection(
                    f"receiver.{name}",
                    "is missing; the warehouse cannot ship without it",
                    rule_path(rule) if rule else None,
                )
            )
    return receiver


def _lines(
    payload: Mapping[str, Any], mapping: Mapping[str, Any], read: FieldReader
) -> tuple[OrderLine, ...]:
    spec = mapping["lines"]
    items = walk(payload, spec["path"])
    if items is MISSING or not isinstance(items, list) or not items:
        raise Rejected(Rejection("lines", "no lines in the payload", spec["path"]))
    line_reader = FieldReader({"fields": spec["fields"], "defaults": mapping.get("defaults", {})})
    line_reader.currency = read.currency
    lines = []
    for n, item in enumerate(items):
        try:
            channel_sku = line_reader.get(item, "channel_sku")
            sku = line_reader.get(item, "sku") or channel_sku
            lines.append(
                OrderLine(
                    sku=str(sku or ""),
                    channel_sku=channel_sku,
                    title=str(line_reader.get(item, "title") or sku or ""),
                    quantity=int(line_reader.get(item, "quantity", required=True)),
                    unit_price=int(line_reader.get(item, "unit_price", required=True)),
                    line_discount=int(line_reader.get(item, "line_discount") or 0),
                )
            )
        except Rejected as rejected:
            inner = rejected.rejection
            raise Rejected(
                Rejection(
                    f"lines[{n}].{inner.field}",
                    inner.reason,
                    f"{spec['path']}[{n}].{inner.path}" if inner.path else None,
                )
            ) from None
    return tuple(lines)
