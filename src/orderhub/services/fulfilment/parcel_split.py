"""Splitting an order into parcels: by hand, by stock (one parcel per warehouse holding part of
it), by a routing rule; what no warehouse holds waits as a backorder parcel.

Called from the pipeline (flow.py, when reserving falls short) and from the split use case; it
does not import flow, so flow can import it.
"""

from __future__ import annotations

from collections.abc import Sequence

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM, Actor
from orderhub.domain.fulfilment import StockState
from orderhub.domain.inventory import InsufficientStock, Movement, MovementKind, needs
from orderhub.domain.orders import Order
from orderhub.domain.parcel_messages import parcel_view
from orderhub.domain.parcels import (
    IN_PARCELS,
    Parcel,
    ParcelKind,
    ParcelMode,
    ParcelStatus,
    PlannedParcel,
    allot,
    plan_by_stock,
    split_index,
    split_parcel_no,
)
from orderhub.domain.rule_sets import RuleSetKind, decide
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import Action, ExceptionReason, OrderStatus
from orderhub.errors import SplitRefused
from orderhub.services.fulfilment import parcel_hand_off as hand
from orderhub.services.ports import UnitOfWork

S = OrderStatus
SPLIT_BY_STOCK = "by_stock"  # a routing rule's outcome {"split": "by_stock"}


def shipping_warehouses(uow: UnitOfWork) -> list[str]:
    """Warehouses a parcel can go to: enabled, run by a WMS (which reports its shipment)."""
    return [w.code for w in uow.warehouses.list() if w.enabled and w.wms != "none"]


def split_when_short(
    uow: UnitOfWork, order: Order, short: InsufficientStock
) -> list[OrderEvent] | None:
    """The order is short in its warehouse: split it by stock when the merchant (or a routing
    rule) says so and another warehouse holds some of it; None leaves it to wait whole."""
    if order.parcel_mode is not None or order.warehouse is None:
        return None
    by_rule = _rule_says_split(uow, order)
    if not (uow.flow.split_by_stock or by_rule):
        return None
    codes = shipping_warehouses(uow)
    if order.warehouse not in codes:
        return None
    wanted = sorted({line.sku for line in order.lines})
    available = {
        code: {
            sku: level.available
            for sku in wanted
            if (level := uow.inventory.level(sku, code)) is not None
        }
        for code in codes
    }
    plan = plan_by_stock(
        [(line.sku, line.quantity) for line in order.lines], order.warehouse, available
    )
    if not plan:
        return None
    why = by_rule or "ORDERHUB_SPLIT_BY_STOCK"
    if len(plan) == 1:
        # One other warehouse holds all of it: the order ships whole from there.
        moved_from, order.warehouse = order.warehouse, plan[0].warehouse
        return [
            hand.note(
                order,
                "moved_by_stock",
                f"{short.detail}; {order.warehouse} holds all of it, so it ships from there "
                f"({why})",
                at=uow.clock.now(),
                detail={"from": moved_from, "warehouse": order.warehouse},
            )
        ]
    return apply_split(uow, order, plan, actor=SYSTEM, how=f"by stock ({why})")


def _rule_says_split(uow: UnitOfWork, order: Order) -> str | None:
    rules = uow.rules.current(RuleSetKind.ROUTING)
    if rules is None:
        return None
    decision = decide(rules, order)
    if decision.outcome.get("split") != SPLIT_BY_STOCK:
        return None
    return f"routing rules v{rules.version}, {decision.said()}"


def apply_split(
    uow: UnitOfWork,
    order: Order,
    plan: Sequence[PlannedParcel],
    *,
    actor: Actor,
    how: str,
    reason: str | None = None,
) -> list[OrderEvent]:
    """Split the order into the planned parcels, in place of what it had: its hand-off is
    withdrawn, its stock (or its old parcels' stock) released and each parcel reserved in its
    own warehouse; a parcel short of stock becomes a backorder. Returns the events to record
    (the split, and the order's move out of or into out_of_stock); an order allocated already
    has its parcels handed off by the caller, after recording them."""
    assert order.id is not None
    now = uow.clock.now()
    old = hand.open_parcels(uow, order) if order.parcel_mode == ParcelMode.SPLIT else []
    _withdraw(uow, order, old, why=f"split {how}")
    _release_whole(uow, order, f"order {order.id} split into parcels")
    for parcel in old:
        hand.take_back(uow, parcel, MovementKind.RELEASE, reason=f"order {order.id} split again")
        parcel.status = ParcelStatus.CANCELLED
        uow.parcels.update(parcel)
    start = 1 + max((split_index(p.parcel_no) for p in uow.parcels.of_order(order.id)), default=0)
    made: list[Parcel] = []
    shortages: list[str] = []
    for n, (planned, lines) in enumerate(zip(plan, allot(order, plan), strict=True)):
        parcel = Parcel(
            parcel_no=split_parcel_no(order.id, start + n),
            kind=ParcelKind.SPLIT,
            warehouse=planned.warehouse,
            status=ParcelStatus.BACKORDER if planned.backorder else ParcelStatus.PLANNED,
            lines=lines,
            created_at=now,
            created_by=actor.label,
            note=reason or how,
        )
        if not planned.backorder:
            short = hand.reserve(uow, parcel, reason=f"order {order.id} parcel {parcel.parcel_no}")
            if short is not None:
                parcel.status = ParcelStatus.BACKORDER
                shortages.append(f"{parcel.parcel_no}: {short.detail}")
        made.append(uow.parcels.add(parcel))
    order.parcel_mode = ParcelMode.SPLIT
    order.stock_state = IN_PARCELS
    return _split_events(uow, order, made, old, how, reason, shortages, actor)


def _split_events(
    uow: UnitOfWork,
    order: Order,
    made: list[Parcel],
    old: list[Parcel],
    how: str,
    reason: str | None,
    shortages: list[str],
    actor: Actor,
) -> list[OrderEvent]:
    now = uow.clock.now()
    ready = [p for p in made if p.status is ParcelStatus.PLANNED]
    waiting = [p for p in made if p.status is ParcelStatus.BACKORDER]
    said = f"split {how} into {len(made)} parcels: " + "; ".join(p.describe() for p in made)
    if waiting:
        said += ". Waiting for stock (backorder): " + ", ".join(p.parcel_no for p in waiting)
        said += "; each ships when its stock arrives"
    if old:
        said += f". Replaces parcels {', '.join(p.parcel_no for p in old)}"
    if reason:
        said += f". Reason: {reason}"
    events = [
        actions.note(
            order,
            "split",
            actor=actor,
            at=now,
            source=hand.SOURCE,
            reason=said,
            detail={
                "parcels": [parcel_view(p) for p in made],
                "replaced": [p.parcel_no for p in old],
                "short": shortages,
            },
        )
    ]
    out_of_stock = (
        order.status is S.EXCEPTION and order.exception_reason == ExceptionReason.OUT_OF_STOCK
    )
    if ready and out_of_stock:
        events.append(
            actions.apply(
                order,
                Action.RESOLVE,
                actor=SYSTEM,
                at=now,
                source=hand.SOURCE,
                reason=f"split: {', '.join(p.parcel_no for p in ready)} can ship now",
            )
        )
    elif not ready and not out_of_stock:
        events.append(
            actions.apply(
                order,
                Action.RAISE_EXCEPTION,
                actor=SYSTEM,
                at=now,
                source=hand.SOURCE,
                reason_code=ExceptionReason.OUT_OF_STOCK,
                reason="no parcel of the split has its stock yet; each moves on by itself when "
                "its stock arrives",
            )
        )
    return events


def _withdraw(uow: UnitOfWork, order: Order, old: list[Parcel], *, why: str) -> None:
    """Take back what was handed to a WMS and not yet taken, or refuse: it may be there."""
    assert order.id is not None
    at_warehouse = [
        p.parcel_no for p in old if p.status not in (ParcelStatus.PLANNED, ParcelStatus.BACKORDER)
    ]
    if at_warehouse:
        raise SplitRefused(
            f"order {order.id}'s parcels {', '.join(at_warehouse)} are at the warehouse; "
            "intercept the order before splitting it again",
            order_id=order.id,
        )
    warehouses = {p.warehouse for p in old if p.handed_off_at is not None}
    if order.parcel_mode is None and order.warehouse is not None:
        warehouses.add(order.warehouse)
    for code in sorted(warehouses):
        if not hand.withdraw(uow, order.id, code, why):
            raise SplitRefused(
                f"order {order.id} is being handed to {code} right now; try again in a moment "
                "(once the WMS has it, intercept the order before splitting it)",
                order_id=order.id,
                warehouse=code,
            )


def _release_whole(uow: UnitOfWork, order: Order, reason: str) -> None:
    """Give back the stock the order held as a whole (its parcels reserve their own)."""
    if order.stock_state != StockState.RESERVED or order.warehouse is None:
        return
    at = uow.clock.now()
    for need in needs((line.sku, line.quantity) for line in order.lines):
        uow.inventory.apply(
            Movement(
                need.sku,
                order.warehouse,
                MovementKind.RELEASE,
                0,
                -need.quantity,
                reason,
                hand.SOURCE,
                at,
                order_id=order.id,
            )
        )
    order.stock_state = None
