"""What a change of state sets going: stock, the warehouse hand-off, the channel's shipment.

Every service that moves an order records its event through `record`, so the follow-ups happen
in the same transaction as the change, whoever made it (a person, the channel, the WMS):

- paid (or in review / approved) and nothing reserved yet: reserve the lines in the order's
  warehouse, all or nothing; short stock sends the order to the exception queue (out_of_stock),
  and it moves on by itself when stock arrives (`stock_arrived`);
- approved, with stock: allocated to that warehouse (when auto-allocation is on);
- allocated to a warehouse run by a WMS: a wms.outbound.create command in the outbox;
- intercept: a wms.outbound.cancel command; the order waits on hold for the answer;
- cancelled or voided: reserved stock goes back, an undelivered hand-off is withdrawn;
- shipped: reserved stock is deducted and the channel is told (channel.shipment).

An order that ships in parcels (split, merged: domain/parcels.py) goes through the same steps;
its parcels are handed off, withdrawn and stopped by parcel_hand_off, split by stock when short
(parcel_split, ORDERHUB_SPLIT_BY_STOCK) and merged on allocation (parcel_merge,
ORDERHUB_AUTO_MERGE). An order that does not is not slowed by any of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM
from orderhub.domain.fulfilment import (
    MessageKind,
    StockState,
    cancel_payload,
    channel_target,
    outbound_payload,
    shipment_payload,
    wms_target,
)
from orderhub.domain.inventory import InsufficientStock, Movement, MovementKind, needs
from orderhub.domain.orders import Order, PaymentStatus
from orderhub.domain.ownership import OWN_CHANNELS
from orderhub.domain.parcels import IN_PARCELS, ParcelMode
from orderhub.domain.priority import waiting_since
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import Action, ExceptionReason, OrderStatus, allowed_actions
from orderhub.errors import NotFound
from orderhub.services import priority
from orderhub.services.fulfilment import decisions, parcel_hand_off, parcel_merge, parcel_split
from orderhub.services.ports import Command, UnitOfWork

S = OrderStatus
RESERVE_ON = frozenset({S.PAID, S.PENDING_REVIEW, S.APPROVED})
SOURCE = "orderhub"


def record(
    uow: UnitOfWork, order: Order, events: Sequence[OrderEvent], *, save: bool = False
) -> None:
    """Record the events of a change, and everything they set going.

    With `save`, the order is saved once at the end (one UPDATE for the change and its
    follow-ups). Without, the caller saved the change already; follow-ups that change the order
    again (its stock, its warehouse, maybe its state) save it once more.
    """
    before = _moving_parts(order)
    _record(uow, order, events)
    if save or _moving_parts(order) != before:
        uow.orders.update(order)


def _moving_parts(order: Order) -> tuple[object, ...]:
    return (
        order.status,
        order.stock_state,
        order.warehouse,
        order.resume_status,
        order.parcel_mode,
        order.priority,
    )


def _record(uow: UnitOfWork, order: Order, events: Sequence[OrderEvent]) -> None:
    for event in events:
        uow.record(order, event)
    # Scored before routing, review and the hand-off: they may read the priority, and the
    # warehouse is told it.
    prioritised = priority.after(uow, order, events)
    if prioritised is not None:
        uow.record(order, prioritised)
    for event in events:
        _after(uow, order, event)
    follow_ups = _next_step(uow, order)
    if follow_ups:
        _record(uow, order, follow_ups)


def warehouse_for(uow: UnitOfWork, order: Order) -> str:
    """The order's warehouse: chosen already, else its shop's, else the default."""
    if order.warehouse:
        return order.warehouse
    try:
        shop_warehouse = uow.shops.get(order.shop).warehouse
    except NotFound:
        shop_warehouse = None
    return shop_warehouse or uow.flow.default_warehouse


def reserve(uow: UnitOfWork, order: Order) -> InsufficientStock | None:
    """Hold all of the order's lines in its warehouse, or nothing and the reason."""
    assert order.id is not None
    order.warehouse = warehouse_for(uow, order)
    try:
        uow.inventory.reserve(
            order.warehouse,
            needs((line.sku, line.quantity) for line in order.lines),
            order_id=order.id,
            at=uow.clock.now(),
            source=SOURCE,
            reason=f"order {order.id} paid",
        )
    except InsufficientStock as short:
        return short
    order.stock_state = StockState.RESERVED
    return None


def to_exception(
    order: Order,
    code: ExceptionReason,
    reason: str,
    *,
    at: datetime,
    source: str,
    params: dict[str, object] | None = None,
) -> OrderEvent:
    """The system puts the order into the exception queue, saying why."""
    return actions.apply(
        order,
        Action.RAISE_EXCEPTION,
        actor=SYSTEM,
        at=at,
        reason_code=code,
        reason=reason,
        source=source,
        params=params,
    )


def delivery_trouble(
    order: Order, code: ExceptionReason, reason: str, at: datetime, source: str
) -> list[OrderEvent]:
    """A message about the order failed for good: the exception queue, or, where the order is
    past raising one (e.g. shipped and on hold), a note on its timeline saying why."""
    if Action.RAISE_EXCEPTION not in allowed_actions(order.status, order.resume_status):
        return [
            actions.note(
                order, "delivery_problem", actor=SYSTEM, at=at, source=source, reason=reason
            )
        ]
    return [to_exception(order, code, reason, at=at, source=source)]


def _next_step(uow: UnitOfWork, order: Order) -> list[OrderEvent]:
    """Where the order's state leads next: route it, reserve its stock, review it by the
    rules, or allocate it."""
    flow, now = uow.flow, uow.clock.now()
    if order.warehouse is None and order.status in RESERVE_ON:
        routed = decisions.route(uow, order)
        if routed is not None:
            return [routed]
    if (
        order.status in RESERVE_ON
        and flow.reserve_stock
        and order.stock_state is None
        and order.payment_status is PaymentStatus.PAID
    ):
        short = reserve(uow, order)
        if short is not None:
            split = parcel_split.split_when_short(uow, order, short)
            if split is not None:
                return split
            return [
                to_exception(
                    order,
                    ExceptionReason.OUT_OF_STOCK,
                    f"{short.detail}; it moves on by itself when stock arrives",
                    at=now,
                    source=SOURCE,
                    params={"short": short.short},
                )
            ]
    stocked = order.stock_state in (StockState.RESERVED, IN_PARCELS) or not flow.reserve_stock
    if order.status is S.PENDING_REVIEW and stocked:
        reviewed = decisions.review(uow, order)
        if reviewed is not None:
            return [reviewed]
    if order.status is S.APPROVED and flow.auto_allocate and stocked:
        warehouse = warehouse_for(uow, order)
        return [
            actions.apply(
                order,
                Action.ALLOCATE,
                actor=SYSTEM,
                at=now,
                params={"warehouse": warehouse},
                reason=f"allocated to {warehouse}",
                source=SOURCE,
            )
        ]
    return []


def _after(uow: UnitOfWork, order: Order, event: OrderEvent) -> None:
    """What one event sets going outside the order: commands, stock back or out."""
    if event.action == Action.INTERCEPT:
        cancel_at_warehouse(uow, order, event.reason or "intercepted")
    elif event.action == Action.ALLOCATE:
        _hand_to_warehouse(uow, order)
    elif event.to_status in (S.CANCELLED, S.VOIDED) and event.changes_status:
        _give_back(uow, order, event)
    elif event.action == Action.SHIP:
        _shipped(uow, order, event)
    elif (
        order.parcel_mode and event.changes_status and event.to_status in parcel_hand_off.HANDED_OFF
    ):
        parcel_hand_off.hand_off(uow, order)  # released or resolved: parcels ready go on


def cancel_at_warehouse(uow: UnitOfWork, order: Order, reason: str) -> None:
    """Ask the WMS to stop the order's outbound order (answered intercepted or too late)."""
    if order.parcel_mode:
        parcel_hand_off.intercept(uow, order, reason)
        return
    _send(uow, order, MessageKind.WMS_OUTBOUND_CANCEL, cancel_payload(order, reason))


def _send(uow: UnitOfWork, order: Order, kind: MessageKind, payload: dict[str, object]) -> None:
    assert order.warehouse is not None
    # The hand-off waits its turn from the order's payment: an order that waited for stock
    # already has its age counted (domain/priority.py).
    since = waiting_since(order) if kind == MessageKind.WMS_OUTBOUND_CREATE else None
    uow.send(
        Command(
            wms_target(order.warehouse),
            kind,
            dict(payload),
            order.id,
            order.priority,
            since=since,
        )
    )


def _hand_to_warehouse(uow: UnitOfWork, order: Order) -> None:
    order.warehouse = warehouse_for(uow, order)
    if order.parcel_mode:
        parcel_hand_off.hand_off(uow, order)
        return
    if uow.flow.auto_merge and parcel_merge.merge_on_allocation(uow, order):
        return
    warehouse = uow.warehouses.find(order.warehouse)
    # A warehouse without a WMS is run by hand: people send, pick and ship in the console.
    if warehouse is not None and warehouse.wms != "none" and warehouse.enabled:
        _send(uow, order, MessageKind.WMS_OUTBOUND_CREATE, outbound_payload(order))


def _give_back(uow: UnitOfWork, order: Order, event: OrderEvent) -> None:
    assert order.id is not None
    if order.stock_state == StockState.RESERVED:
        _take_back(uow, order, event, MovementKind.RELEASE, f"order {order.id} {event.to_status}")
        order.stock_state = StockState.RELEASED
    if order.parcel_mode:
        parcel_hand_off.give_back(uow, order, f"order {event.to_status.value}")
        return
    if order.warehouse:
        uow.outbox.supersede(
            order.id,
            wms_target(order.warehouse),
            MessageKind.WMS_OUTBOUND_CREATE,
            f"order {event.to_status.value} before the warehouse took it",
        )


def release(uow: UnitOfWork, order: Order, event: OrderEvent) -> None:
    """Give the order's reserved stock back (it is to be reserved again elsewhere)."""
    if order.stock_state == StockState.RESERVED:
        _take_back(uow, order, event, MovementKind.RELEASE, f"order {order.id}: {event.reason}")
        order.stock_state = None


def _take_back(
    uow: UnitOfWork, order: Order, event: OrderEvent, kind: MovementKind, reason: str
) -> None:
    """Undo the order's reservation: released (goods stay) or shipped (goods left)."""
    assert order.id is not None and order.warehouse is not None
    for need in needs((line.sku, line.quantity) for line in order.lines):
        left = -need.quantity if kind is MovementKind.SHIP else 0
        uow.inventory.apply(
            Movement(
                need.sku,
                order.warehouse,
                kind,
                left,
                -need.quantity,
                reason,
                event.source,
                event.at,
                order_id=order.id,
            )
        )


def _shipped(uow: UnitOfWork, order: Order, event: OrderEvent) -> None:
    assert order.id is not None
    if order.stock_state == StockState.RESERVED:
        _take_back(uow, order, event, MovementKind.SHIP, f"order {order.id} shipped")
        order.stock_state = StockState.SHIPPED
    if order.parcel_mode == ParcelMode.SPLIT:
        # Each parcel took its own stock and told the channel of its lines as it shipped.
        order.stock_state = StockState.SHIPPED
        return
    if order.channel in OWN_CHANNELS:
        return  # a manual or imported order: no channel to tell
    try:
        uow.shops.get(order.shop)
    except NotFound:
        return  # its shop is not connected: nobody to tell
    uow.send(
        Command(
            channel_target(order.shop),
            MessageKind.CHANNEL_SHIPMENT,
            shipment_payload(order, event.at),
            order.id,
            order.priority,
        )
    )
