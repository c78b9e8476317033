"""What a channel's word means for an order in the pool: the decisions of the channel ingest.

Pure functions: given the order as the pool has it (or nothing) and the channel's newest version,
say which actions to apply. The channel owns payment, cancellation and refunds; OrderHub owns the
flow; when the platform is ahead of us (shipped it already) the order goes to the exception
queue for a person, never silently forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from orderhub.domain.mapping import ChannelState, MappedOrder
from orderhub.domain.orders import Order, OrderLine
from orderhub.domain.parcels import ParcelMode
from orderhub.domain.transitions import (
    AT_WAREHOUSE,
    BEFORE_WAREHOUSE,
    SUSPENDED,
    TERMINAL,
    Action,
    ExceptionReason,
    OrderStatus,
)

SHIPPED_ON_CHANNEL = frozenset(
    {ChannelState.PARTLY_SHIPPED, ChannelState.SHIPPED, ChannelState.COMPLETED}
)


@dataclass(frozen=True)
class Step:
    action: Action
    reason: str | None = None
    reason_code: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def is_stale(stored_modified_at: datetime | None, incoming: datetime) -> bool:
    """A version no newer than the one applied is a repeat or arrived out of order."""
    return stored_modified_at is not None and incoming <= stored_modified_at


def _our_parcels_told(order: Order, state: ChannelState, effective: OrderStatus) -> bool:
    """A split order at the warehouse tells the channel of each parcel as it leaves: the
    channel showing it partly shipped (or, for a channel that ships per order, shipped) is then
    our own word coming back, not the platform being ahead of us."""
    return (
        order.parcel_mode == ParcelMode.SPLIT
        and effective in AT_WAREHOUSE
        and state in (ChannelState.PARTLY_SHIPPED, ChannelState.SHIPPED)
    )


def steps_for(
    order: Order, mapped: MappedOrder, *, unmapped_skus: tuple[str, ...] = ()
) -> list[Step]:
    """The actions that bring `order` in line with what the channel now says.

    Applied in order; each is checked against the transition table by the caller, so a step
    that no longer fits (the order moved on meanwhile) is refused, not forced.
    """
    status = order.status
    effective = order.resume_status if status in SUSPENDED and order.resume_status else status
    state = mapped.channel_state
    steps: list[Step] = []
    if status in TERMINAL:
        return steps
    if state is ChannelState.CANCELLED:
        if effective in BEFORE_WAREHOUSE:
            steps.append(
                Step(
                    Action.CANCEL, reason=f"cancelled on {order.channel} ({mapped.channel_status})"
                )
            )
        elif status in AT_WAREHOUSE:
            steps.append(
                Step(
                    Action.INTERCEPT,
                    reason=f"cancelled on {order.channel} after reaching the warehouse; "
                    "asking the warehouse to stop it",
                )
            )
        return steps
    if status is OrderStatus.PENDING_PAYMENT and state is not ChannelState.AWAITING_PAYMENT:
        steps.append(
            Step(
                Action.PAY,
                params={
                    k: v
                    for k, v in (
                        ("payment_method", mapped.order.payment_method),
                        ("transaction_no", mapped.order.transaction_no),
                    )
                    if v
                },
            )
        )
    if status in SUSPENDED:
        return steps
    if mapped.refund_requested and (effective in BEFORE_WAREHOUSE or effective in AT_WAREHOUSE):
        steps.append(
            Step(
                Action.RAISE_EXCEPTION,
                reason_code=ExceptionReason.REFUND_REQUESTED,
                reason=f"the buyer asked {order.channel} for a refund",
            )
        )
    elif (
        state in SHIPPED_ON_CHANNEL
        and (effective in BEFORE_WAREHOUSE or effective in AT_WAREHOUSE)
        and not _our_parcels_told(order, state, effective)
    ):
        steps.append(
            Step(
                Action.RAISE_EXCEPTION,
                reason_code=ExceptionReason.PLATFORM_ALREADY_SHIPPED,
                reason=f"{order.channel} shows it {mapped.channel_status} but "
                "OrderHub has not shipped it",
            )
        )
    elif unmapped_skus:
        steps.append(
            Step(
                Action.RAISE_EXCEPTION,
                reason_code=ExceptionReason.UNMAPPED_SKU,
                reason="no merchant SKU for "
                + ", ".join(unmapped_skus)
                + "; add a SKU mapping and the order moves on by itself",
            )
        )
    elif state is ChannelState.COMPLETED and status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        steps.append(Step(Action.COMPLETE, reason=f"finished on {order.channel}"))
    return steps


@dataclass(frozen=True)
class Component:
    sku: str
    quantity: int
    weight: int


@dataclass(frozen=True)
class SkuBook:
    """The merchant's SKUs as ingest needs them: mappings, known SKUs and combos."""

    mappings: dict[str, str]  # channel SKU -> merchant SKU (this channel and shop)
    known: frozenset[str]
    combos: dict[str, tuple[Component, ...]]

    def resolve(self, channel_sku: str) -> str | None:
        sku = self.mappings.get(channel_sku, channel_sku)
        return sku if sku in self.known else None


def apply_skus(
    lines: tuple[OrderLine, ...], book: SkuBook
) -> tuple[tuple[OrderLine, ...], tuple[str, ...]]:
    """Merchant SKUs for the lines, combos expanded; and the channel SKUs left unmapped.

    A combo line becomes its components with the line's amount spread by weight (the last
    component takes the rounding), so the order's totals still add up to the cent.
    """
    result: list[OrderLine] = []
    unmapped: list[str] = []
    for line in lines:
        channel_sku = line.channel_sku or line.sku
        sku = book.resolve(channel_sku)
        if sku is None:
            unmapped.append(channel_sku)
            result.append(replace(line, sku=channel_sku, channel_sku=channel_sku))
        elif sku in book.combos:
            result.extend(_expand(line, sku, book.combos[sku]))
        else:
            result.append(replace(line, sku=sku, channel_sku=channel_sku))
    return tuple(result), tuple(dict.fromkeys(unmapped))


def _expand(line: OrderLine, combo: str, parts: tuple[Component, ...]) -> list[OrderLine]:
    total_weight = sum(p.weight * p.quantity for p in parts) or len(parts)
    gross = line.quantity * line.unit_price
    expanded: list[OrderLine] = []
    gross_left, discount_left = gross, line.line_discount
    for n, part in enumerate(parts):
        quantity = part.quantity * line.quantity
        last = n == len(parts) - 1
        share = part.weight * part.quantity if total_weight else 1
        part_gross = gross_left if last else gross * share // total_weight
        part_discount = discount_left if last else line.line_discount * share // total_weight
        # Keep unit prices whole: what does not divide goes into the line discount.
        unit_price = -(-part_gross // quantity)
        extra = unit_price * quantity - part_gross
        expanded.append(
            OrderLine(
                sku=part.sku,
                title=f"{line.title} / {part.sku}",
                quantity=quantity,
                unit_price=unit_price,
                line_discount=part_discount + extra,
                channel_sku=line.channel_sku or combo,
            )
        )
        gross_left -= part_gross
        discount_left -= part_discount
    return expanded


@dataclass
class Quarantined:
    """A payload that could not become an order, kept as it came with the reason."""

    channel: str
    shop: str
    channel_order_no: str | None
    field: str | None
    reason: str
    payload: dict[str, Any]
    source: str
    received_at: datetime
    status: str = "open"
    attempts: int = 1
    resolved_at: datetime | None = None
    resolution: str | None = None
    order_id: int | None = None
    id: int | None = None
