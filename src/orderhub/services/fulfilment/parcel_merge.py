"""Merging orders into one parcel: by hand, on allocation (ORDERHUB_AUTO_MERGE) and by the
scheduler's merge round; and undoing a merge before the WMS has the parcel.

Called from the pipeline (flow.py, on allocation) and from the merge use cases; it does not
import flow, so flow can import it.
"""

from __future__ import annotations

from collections.abc import Sequence

from orderhub.domain.actors import SYSTEM, Actor
from orderhub.domain.orders import Order
from orderhub.domain.parcels import (
    Parcel,
    ParcelKind,
    ParcelMode,
    ParcelStatus,
    merge_differences,
    merge_key,
    whole_lines,
    why_not_mergeable,
)
from orderhub.domain.transitions import OrderStatus
from orderhub.errors import MergeRefused
from orderhub.services.fulfilment import parcel_hand_off as hand
from orderhub.services.ports import UnitOfWork

S = OrderStatus
AUTOMATICALLY = "automatically (ORDERHUB_AUTO_MERGE)"


def refusals(uow: UnitOfWork, orders: Sequence[Order]) -> list[str]:
    """Every reason these orders cannot share one parcel (empty: they can)."""
    reasons = [
        why
        for order in orders
        if (why := why_not_mergeable(order, stock_needed=uow.flow.reserve_stock)) is not None
    ]
    if reasons:
        return reasons
    reasons = merge_differences(orders)
    warehouse = orders[0].warehouse
    if not reasons and warehouse is not None and not hand.runs_a_wms(uow, warehouse):
        reasons.append(
            f"{warehouse} is not run by a WMS (or is disabled); merged parcels are handed to a WMS"
        )
    return reasons


def merge(uow: UnitOfWork, orders: Sequence[Order], *, actor: Actor, how: str) -> Parcel:
    """Put the orders (checked by `refusals`) in one new parcel: their own hand-offs are
    withdrawn, and the parcel is handed off once they are all allocated. The caller saves the
    orders."""
    reason = f"merged {how}"
    for order in orders:
        assert order.id is not None and order.warehouse is not None
        if not hand.withdraw(uow, order.id, order.warehouse, reason):
            raise MergeRefused(
                f"order {order.id} is being handed to {order.warehouse} right now; it can no "
                "longer be merged (once the WMS has it, intercept it first)",
                order_id=order.id,
            )
    parcel = uow.parcels.add(
        Parcel(
            parcel_no="",
            kind=ParcelKind.MERGE,
            warehouse=str(orders[0].warehouse),
            status=ParcelStatus.PLANNED,
            lines=tuple(line for order in orders for line in whole_lines(order)),
            created_at=uow.clock.now(),
            created_by=actor.label,
            note=reason,
        )
    )
    for order in orders:
        order.parcel_mode = ParcelMode.MERGED
    _tell(uow, parcel, orders, f"{reason} into parcel {parcel.parcel_no}", actor)
    if all(o.status in hand.HANDED_OFF for o in orders):
        hand.push(uow, parcel, orders)
    return parcel


def join(uow: UnitOfWork, parcel: Parcel, order: Order, *, actor: Actor, how: str) -> bool:
    """Add the order to a merged parcel not yet at the WMS (its hand-off withdrawn and made
    again with the order in it); False when the parcel's hand-off is on its way right now."""
    assert order.id is not None
    if parcel.status is not ParcelStatus.PLANNED:
        return False
    if parcel.handed_off_at is not None and not hand.withdraw(
        uow, parcel.lead_order_id, parcel.warehouse, f"order {order.id} joins it"
    ):
        return False
    parcel.lines = parcel.lines + whole_lines(order)
    parcel.handed_off_at = None
    uow.parcels.update(parcel)
    order.parcel_mode = ParcelMode.MERGED
    together = [order if i == order.id else uow.orders.get(i) for i in parcel.order_ids]
    _tell(uow, parcel, together, f"order {order.id} joined parcel {parcel.parcel_no} {how}", actor)
    if all(o.status in hand.HANDED_OFF for o in together):
        hand.push(uow, parcel, together)
    return True


def _tell(
    uow: UnitOfWork, parcel: Parcel, orders: Sequence[Order], what: str, actor: Actor
) -> None:
    """The merge on the timeline of every order in the parcel."""
    ids = [o.id for o in orders]
    for order in orders:
        others = ", ".join(str(i) for i in ids if i != order.id)
        uow.record(
            order,
            hand.note(
                order,
                "merged",
                f"{what}, with orders {others}: one parcel, one tracking no",
                at=uow.clock.now(),
                actor=actor,
                detail={"parcel_no": parcel.parcel_no, "orders": ids},
            ),
        )


def merge_on_allocation(uow: UnitOfWork, order: Order) -> bool:
    """A newly allocated order joins its buyer's orders to the same receiver waiting in the same
    warehouse (not yet taken by the WMS); False when there is none and it goes on its own."""
    if why_not_mergeable(order, stock_needed=uow.flow.reserve_stock) is not None:
        return False
    if not hand.runs_a_wms(uow, str(order.warehouse)):
        return False
    partners = [uow.orders.get(i) for i in uow.parcels.merge_partners(order)]
    partners = [p for p in partners if merge_key(p) == merge_key(order)]
    for partner in partners:
        if partner.parcel_mode != ParcelMode.MERGED:
            continue
        parcel = hand.merged_parcel(uow, partner)
        if parcel is not None and join(uow, parcel, order, actor=SYSTEM, how=AUTOMATICALLY):
            return True
    waiting = [
        p
        for p in partners
        if p.parcel_mode is None
        and why_not_mergeable(p, stock_needed=uow.flow.reserve_stock) is None
        and p.id is not None
        and hand.withdraw(uow, p.id, str(p.warehouse), f"merged with order {order.id}")
    ]
    if not waiting:
        return False
    merge(uow, [*waiting, order], actor=SYSTEM, how=AUTOMATICALLY)
    for partner in waiting:  # the pipeline saves `order`
        uow.orders.update(partner)
    return True
