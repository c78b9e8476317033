"""A parcel's stock and its hand-off to the WMS: reserve, push, withdraw, stop, give back.

Shared by splitting, merging and the pipeline (flow.py calls in here for orders that ship in
parcels); nothing here imports flow, so flow can.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM, Actor
from orderhub.domain.fulfilment import (
    MessageKind,
    StockState,
    outbound_payload,
    wms_target,
)
from orderhub.domain.inventory import InsufficientStock, Movement, MovementKind, needs
from orderhub.domain.orders import Order
from orderhub.domain.parcel_messages import (
    parcel_cancel_payload,
    parcel_outbound_payload,
    parcel_view,
)
from orderhub.domain.parcels import (
    GONE,
    OPEN,
    Parcel,
    ParcelKind,
    ParcelMode,
    ParcelStatus,
)
from orderhub.domain.priority import waiting_since
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import OrderStatus
from orderhub.errors import MergeRefused
from orderhub.services.ports import Command, UnitOfWork

S = OrderStatus
SOURCE = "orderhub"
# An order in these states has its parcels handed to their warehouses as soon as they can go.
HANDED_OFF = frozenset({S.ALLOCATED, S.SENT_TO_WAREHOUSE, S.PICKING})


def note(
    order: Order,
    action: str,
    reason: str,
    *,
    at: datetime,
    actor: Actor = SYSTEM,
    source: str = SOURCE,
    detail: dict[str, object] | None = None,
) -> OrderEvent:
    return actions.note(
        order, action, actor=actor, at=at, source=source, reason=reason, detail=detail
    )


def runs_a_wms(uow: UnitOfWork, code: str) -> bool:
    warehouse = uow.warehouses.find(code)
    return warehouse is not None and warehouse.wms != "none" and warehouse.enabled


def reserve(uow: UnitOfWork, parcel: Parcel, *, reason: str) -> InsufficientStock | None:
    """Hold the parcel's lines in its warehouse, all or nothing; the shortage when short."""
    if not uow.flow.reserve_stock:
        return None
    try:
        uow.inventory.reserve(
            parcel.warehouse,
            needs(parcel.needs()),
            order_id=parcel.lead_order_id,
            at=uow.clock.now(),
            source=SOURCE,
            reason=reason,
        )
    except InsufficientStock as short:
        return short
    parcel.stock_state = StockState.RESERVED
    return None


def take_back(
    uow: UnitOfWork, parcel: Parcel, kind: MovementKind, *, reason: str, source: str = SOURCE
) -> None:
    """Undo a split parcel's reservation: released (goods stay) or shipped (goods left)."""
    if parcel.stock_state != StockState.RESERVED:
        return
    at = uow.clock.now()
    for sku, quantity in parcel.needs():
        left = -quantity if kind is MovementKind.SHIP else 0
        uow.inventory.apply(
            Movement(
                sku,
                parcel.warehouse,
                kind,
                left,
                -quantity,
                reason,
                source,
                at,
                order_id=parcel.lead_order_id,
            )
        )
    parcel.stock_state = StockState.SHIPPED if kind is MovementKind.SHIP else StockState.RELEASED


def push(uow: UnitOfWork, parcel: Parcel, orders: Sequence[Order]) -> bool:
    """Queue the parcel's wms.outbound.create; False when its warehouse runs no WMS now."""
    if not runs_a_wms(uow, parcel.warehouse):
        return False
    payload = parcel_outbound_payload(parcel, orders)
    uow.send(
        Command(
            wms_target(parcel.warehouse),
            MessageKind.WMS_OUTBOUND_CREATE,
            payload,
            parcel.lead_order_id,
            int(payload["priority"]),
            key=parcel.parcel_no,
            since=min(waiting_since(o) for o in orders),
        )
    )
    parcel.handed_off_at = uow.clock.now()
    uow.parcels.update(parcel)
    return True


def push_order(uow: UnitOfWork, order: Order) -> None:
    """Queue the order's own whole-order wms.outbound.create (it left its merged parcel)."""
    assert order.id is not None and order.warehouse is not None
    if runs_a_wms(uow, order.warehouse):
        uow.send(
            Command(
                wms_target(order.warehouse),
                MessageKind.WMS_OUTBOUND_CREATE,
                outbound_payload(order),
                order.id,
                order.priority,
                since=waiting_since(order),
            )
        )


def withdraw(uow: UnitOfWork, order_id: int, warehouse: str, reason: str) -> bool:
    """Withdraw the order's hand-offs to `warehouse` not yet sent; False when one is on its way
    right now (the WMS may take it: the caller must not act as if it never went)."""
    target = wms_target(warehouse)
    uow.outbox.supersede(order_id, target, MessageKind.WMS_OUTBOUND_CREATE, reason)
    return not uow.outbox.pending_for(order_id, target, MessageKind.WMS_OUTBOUND_CREATE)


def stop(uow: UnitOfWork, parcel: Parcel, reason: str) -> None:
    """Ask the WMS to drop the parcel (answered intercepted, not found or too late)."""
    uow.send(
        Command(
            wms_target(parcel.warehouse),
            MessageKind.WMS_OUTBOUND_CANCEL,
            parcel_cancel_payload(parcel, reason),
            parcel.lead_order_id,
            key=parcel.parcel_no,
        )
    )


def locked(uow: UnitOfWork, parcel_no: str) -> Parcel | None:
    """The parcel, read again once every parcel of its orders is held by this transaction: what
    decides for an order (its last parcel shipped, every intercept answered) sees the others'
    committed state, whichever warehouse answered first."""
    parcel = uow.parcels.find(parcel_no)
    if parcel is None:
        return None
    uow.parcels.lock(parcel.order_ids)
    return uow.parcels.find(parcel_no)


def open_parcels(uow: UnitOfWork, order: Order) -> list[Parcel]:
    assert order.id is not None
    return [p for p in uow.parcels.of_order(order.id) if p.status in OPEN]


def merged_parcel(uow: UnitOfWork, order: Order) -> Parcel | None:
    """The merged parcel the order travels in, if it is in one still to leave."""
    assert order.id is not None
    for parcel in uow.parcels.of_order(order.id):
        if parcel.kind is ParcelKind.MERGE and parcel.status in OPEN:
            return parcel
    return None


def members(uow: UnitOfWork, parcel: Parcel, order: Order) -> list[Order]:
    """The parcel's orders, `order` as the caller holds it and the others loaded."""
    return [order if i == order.id else uow.orders.get(i) for i in parcel.order_ids]


def hand_off(uow: UnitOfWork, order: Order) -> None:
    """Hand the order's parcels that are ready to their warehouses (on allocation, and when a
    backorder got its stock or a held order goes on)."""
    if order.status not in HANDED_OFF:
        return
    if order.parcel_mode == ParcelMode.MERGED:
        parcel = merged_parcel(uow, order)
        if parcel is not None and parcel.handed_off_at is None:
            together = members(uow, parcel, order)
            # A merged parcel goes once all its orders are allocated.
            if all(o.status in HANDED_OFF for o in together):
                push(uow, parcel, together)
        return
    pushed = [
        p
        for p in open_parcels(uow, order)
        if p.status is ParcelStatus.PLANNED and p.handed_off_at is None and push(uow, p, [order])
    ]
    if pushed:
        uow.record(
            order,
            note(
                order,
                "parcels_handed_off",
                "handed to the warehouse: " + "; ".join(p.describe() for p in pushed),
                at=uow.clock.now(),
                detail={"parcels": [parcel_view(p) for p in pushed]},
            ),
        )


def give_back(uow: UnitOfWork, order: Order, reason: str) -> None:
    """The order is cancelled or voided: its parcels are withdrawn and their stock released; a
    merged parcel goes on without it (each other order on its own)."""
    assert order.id is not None
    if order.parcel_mode == ParcelMode.MERGED:
        _leave_merge(uow, order, reason)
        return
    parcels = open_parcels(uow, order)
    for warehouse in sorted({p.warehouse for p in parcels}):
        withdraw(uow, order.id, warehouse, reason)
    for parcel in parcels:
        if parcel.status in (ParcelStatus.SENT, ParcelStatus.INTERCEPTING):
            stop(uow, parcel, reason)  # held at the warehouse, then cancelled: drop it there too
        take_back(uow, parcel, MovementKind.RELEASE, reason=f"order {order.id}: {reason}")
        parcel.status = ParcelStatus.CANCELLED
        uow.parcels.update(parcel)
    order.stock_state = StockState.RELEASED
    if parcels:
        uow.record(
            order,
            note(
                order,
                "parcels_cancelled",
                f"{reason}: parcels {', '.join(p.parcel_no for p in parcels)} cancelled, "
                "their stock released",
                at=uow.clock.now(),
                detail={"parcels": [p.parcel_no for p in parcels]},
            ),
        )


def _leave_merge(uow: UnitOfWork, order: Order, reason: str) -> None:
    parcel = merged_parcel(uow, order)
    order.parcel_mode = None
    if parcel is None:
        return
    if parcel.status in (ParcelStatus.SENT, ParcelStatus.INTERCEPTING):
        # The WMS has the parcel: going on without this order means stopping it there first,
        # or the others would leave twice (in it and on their own).
        raise MergeRefused(
            f"order {order.id} is in merged parcel {parcel.parcel_no}, which the WMS at "
            f"{parcel.warehouse} has; release the order's hold, then intercept it",
            order_id=order.id,
            parcel_no=parcel.parcel_no,
        )
    if parcel.status is ParcelStatus.PLANNED and not withdraw(
        uow, parcel.lead_order_id, parcel.warehouse, reason
    ):
        raise MergeRefused(
            f"order {order.id} is in merged parcel {parcel.parcel_no}, which is being handed to "
            f"{parcel.warehouse} right now; try again in a moment (once the WMS has it, "
            "intercept the order instead)",
            order_id=order.id,
            parcel_no=parcel.parcel_no,
        )
    dissolve(uow, parcel, [order], why=f"order {order.id} left it: {reason}")


def dissolve(
    uow: UnitOfWork,
    parcel: Parcel,
    leaving: Sequence[Order] = (),
    *,
    why: str,
    keep_apart: bool = False,
    loaded: Sequence[Order] = (),
) -> list[Order]:
    """End a merged parcel before it left: `leaving` go their way (the caller moves them), the
    others go on alone, each with its own whole-order hand-off queued if it is allocated or
    further (the WMS does not have it). `keep_apart` marks them never_merge, so the automatic
    merge does not put them back; `loaded` are the parcel's orders the caller holds already."""
    parcel.status = ParcelStatus.CANCELLED
    parcel.handed_off_at = None
    uow.parcels.update(parcel)
    at = uow.clock.now()
    held = {o.id: o for o in loaded}
    gone = {o.id for o in leaving}
    rest = [held.get(i) or uow.orders.get(i) for i in parcel.order_ids if i not in gone]
    if keep_apart:
        why += "; marked never_merge so it is not merged again automatically"
    for other in rest:
        other.parcel_mode = None
        other.never_merge = other.never_merge or keep_apart
        if other.status in HANDED_OFF or (
            other.status in (S.ON_HOLD, S.EXCEPTION) and other.resume_status in HANDED_OFF
        ):
            push_order(uow, other)
        uow.record(
            other,
            note(
                other,
                "unmerged",
                f"merged parcel {parcel.parcel_no} ended ({why}); the order ships on its own",
                at=at,
                detail={"parcel_no": parcel.parcel_no},
            ),
        )
        uow.orders.update(other)
    for order in leaving:
        uow.record(
            order,
            note(
                order,
                "unmerged",
                f"left merged parcel {parcel.parcel_no} ({why})",
                at=at,
                detail={"parcel_no": parcel.parcel_no},
            ),
        )
    return rest


def intercept(uow: UnitOfWork, order: Order, reason: str) -> None:
    """Intercept: ask the WMS to drop each of the order's parcels it may have."""
    parcels = open_parcels(uow, order)
    asking = [
        p
        for p in parcels
        if p.status is ParcelStatus.SENT
        or (p.status is ParcelStatus.PLANNED and p.handed_off_at is not None)
    ]
    if not asking:
        # Nothing of it is at the warehouse still to leave: ask about the last parcel that
        # left, so the WMS's answer (too late) releases the hold.
        assert order.id is not None
        gone = [p for p in uow.parcels.of_order(order.id) if p.status in GONE]
        asking = gone[-1:]
    for parcel in asking:
        stop(uow, parcel, reason)
        if parcel.status in OPEN:
            parcel.status = ParcelStatus.INTERCEPTING
            uow.parcels.update(parcel)
