"""Stock that arrives moves waiting orders on; the warehouse's counts correct what is on hand."""

from __future__ import annotations

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM
from orderhub.domain.fulfilment import StockCount
from orderhub.domain.inventory import Movement, MovementKind
from orderhub.domain.orders import Order
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.errors import ValidationFailed
from orderhub.services.fulfilment import flow, parcel_reports, parcel_split
from orderhub.services.ports import UnitOfWork


def stock_arrived(uow: UnitOfWork, sku: str, warehouse: str) -> list[int]:
    """Reserve for the orders waiting on `sku` here; returns those moved on.

    Scarce stock goes to the highest priority first, aging counted (a low score that has waited
    long enough comes before newer high ones: domain/priority.py), then the oldest payment.
    Backorder parcels come first: their orders are partly on their way to the buyer already.
    An order (or a backorder) is moved on only once all its lines are reserved, so a partial
    arrival leaves it waiting (with nothing held) rather than holding stock another order could
    ship with.
    """
    parcel_reports.backorders_arrived(uow, sku, warehouse)
    waiting = uow.orders.waiting_for_stock(
        sku, warehouse, aging_per_min=uow.flow.priority_aging_per_min
    )
    return [
        order_id
        for order_id in waiting
        if resume_if_stocked(uow, uow.orders.get(order_id), "stock arrived")
    ]


def resume_if_stocked(uow: UnitOfWork, order: Order, why: str) -> bool:
    """Reserve for an order waiting in out_of_stock and move it on; False if still short.

    Still short, it is split by stock when the merchant (or a routing rule) says so: what is
    here now ships, the rest waits as a backorder (or it ships whole from a warehouse that has
    all of it)."""
    if order.status is not OrderStatus.EXCEPTION or order.stock_state is not None:
        return False
    short = flow.reserve(uow, order)
    events = [] if short is None else parcel_split.split_when_short(uow, order, short)
    if events is None:
        return False
    if order.parcel_mode is None:  # reserved whole, here or where it moved
        if short is not None and flow.reserve(uow, order) is not None:
            flow.record(uow, order, events, save=True)
            return False
        events.append(
            actions.apply(
                order,
                Action.RESOLVE,
                actor=SYSTEM,
                at=uow.clock.now(),
                source=flow.SOURCE,
                reason=f"{why}: reserved in {order.warehouse}",
            )
        )
    flow.record(uow, order, events, save=True)
    return order.status is not OrderStatus.EXCEPTION


def apply_count(
    uow: UnitOfWork, warehouse: str, count: StockCount, *, reference: str
) -> tuple[bool, str]:
    """Set on hand to the WMS's figure as of `count.as_of`; an older count changes nothing."""
    level = uow.inventory.level(count.sku, warehouse)
    if level is not None and level.counted_at is not None and count.as_of <= level.counted_at:
        return (
            False,
            f"{count.sku}: ignored, as of {count.as_of.isoformat()} is not newer than the "
            + (f"count applied ({level.counted_at.isoformat()})"),
        )
    in_flight = uow.orders.in_flight(count.sku, warehouse) + uow.parcels.in_flight(
        count.sku, warehouse
    )
    if in_flight:
        # The WMS's figure may already leave out parcels whose shipment has not reached us;
        # applying it now would deduct them twice. The next count after they settle applies.
        return False, f"{count.sku}: deferred, {in_flight} orders are at the warehouse unconfirmed"
    delta = count.on_hand - (level.on_hand if level else 0)
    if delta != 0:
        try:
            uow.inventory.apply(
                Movement(
                    count.sku,
                    warehouse,
                    MovementKind.WMS_LEVEL,
                    delta,
                    0,
                    f"WMS count as of {count.as_of.isoformat()}: {count.on_hand} on hand",
                    f"wms:{warehouse}",
                    uow.clock.now(),
                    reference=f"{reference}:{count.sku}",
                )
            )
        except ValidationFailed as refused:
            # Below what is reserved: shipments the WMS counted are still on their way here.
            return False, f"{count.sku}: not applied, {refused.detail}"
    uow.inventory.set_counted(count.sku, warehouse, count.as_of)
    if delta > 0:
        stock_arrived(uow, count.sku, warehouse)
    return True, f"{count.sku}: on hand {count.on_hand} ({delta:+d})"
