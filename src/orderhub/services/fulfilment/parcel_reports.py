"""What happens to parcels: the WMS's reports (taken, picking, shipped with tracking, delivered)
and stock arriving for backorders (the answers to their messages: parcel_answers).

A split order moves to sent_to_warehouse when the WMS takes its first parcel and to shipped when
its last parcel ships; each parcel takes its own stock and tells the channel of its own lines. A
merged parcel moves all its orders together: one tracking no, each order's channel told of the
whole order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM, warehouse_actor
from orderhub.domain.fulfilment import (
    MessageKind,
    ReportKind,
    WarehouseReport,
    channel_target,
)
from orderhub.domain.inventory import MovementKind
from orderhub.domain.orders import Order
from orderhub.domain.ownership import OWN_CHANNELS
from orderhub.domain.parcel_messages import parcel_shipment_payload
from orderhub.domain.parcels import GONE, Parcel, ParcelKind, ParcelStatus
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import Action, ExceptionReason, OrderStatus
from orderhub.errors import NotFound
from orderhub.services.fulfilment import flow
from orderhub.services.fulfilment import parcel_hand_off as hand
from orderhub.services.fulfilment.warehouse_moves import moves_for
from orderhub.services.ports import Command, UnitOfWork

S = OrderStatus
_TAKEN = (ReportKind.ACCEPTED, ReportKind.PACKED, ReportKind.PICKING)


# --- the WMS's reports ----------------------------------------------------------------------


def apply_report(uow: UnitOfWork, warehouse: str, report: WarehouseReport, parcel_no: str) -> str:
    """Apply one report about a parcel; "applied", or "ignored: ..." saying why not."""
    parcel = hand.locked(uow, parcel_no)
    if parcel is None:
        return f"ignored: parcel {parcel_no} does not exist"
    if parcel.warehouse != warehouse:
        return f"ignored: parcel {parcel_no} ships from {parcel.warehouse}, not {warehouse}"
    if parcel.status is ParcelStatus.CANCELLED:
        return f"ignored: parcel {parcel_no} was cancelled"
    if report.kind is ReportKind.SHIPPED and parcel.status in GONE:
        return f"ignored: parcel {parcel_no} has shipped already"
    if report.kind in _TAKEN and parcel.status is ParcelStatus.PLANNED:
        parcel.status = ParcelStatus.SENT
    elif report.kind is ReportKind.SHIPPED:
        parcel.status = ParcelStatus.SHIPPED
        parcel.carrier, parcel.tracking_no = report.carrier, report.tracking_no
        parcel.shipped_at = report.at
    elif report.kind is ReportKind.DELIVERED and parcel.status is ParcelStatus.SHIPPED:
        parcel.status = ParcelStatus.DELIVERED
    uow.parcels.update(parcel)
    orders = [uow.orders.get(i) for i in parcel.order_ids]
    if parcel.kind is ParcelKind.MERGE:
        moved = [_merged_moves(uow, parcel, order, warehouse, report) for order in orders]
    else:
        moved = [_split_moves(uow, parcel, orders[0], warehouse, report)]
    if any(moved):
        return "applied"
    said = ", ".join(f"order {o.id} is {o.status.value}" for o in orders)
    return f"ignored: {said}"


def _merged_moves(
    uow: UnitOfWork, parcel: Parcel, order: Order, warehouse: str, report: WarehouseReport
) -> bool:
    """One order of a merged parcel moves as if the parcel were its own."""
    events = moves_for(order, warehouse, report)
    if report.kind is ReportKind.SHIPPED and events:
        others = ", ".join(str(i) for i in parcel.order_ids if i != order.id)
        events.insert(
            0,
            _note(
                order,
                "parcel_shipped",
                f"merged parcel {parcel.parcel_no} shipped: {report.carrier} {report.tracking_no}"
                f" (with orders {others})",
                warehouse,
                report.at,
                {"parcel_no": parcel.parcel_no, "orders": list(parcel.order_ids)},
            ),
        )
    if events:
        flow.record(uow, order, events, save=True)
    return bool(events)


def _split_moves(
    uow: UnitOfWork, parcel: Parcel, order: Order, warehouse: str, report: WarehouseReport
) -> bool:
    """A split order moves with its first parcel taken and its last one shipped."""
    assert order.id is not None
    if report.kind is ReportKind.SHIPPED:
        return _split_shipped(uow, parcel, order, warehouse, report)
    events: list[OrderEvent] = []
    if report.kind in (ReportKind.ACCEPTED, ReportKind.PACKED):
        events.append(
            _note(
                order,
                f"wms_{report.kind.value}",
                f"parcel {parcel.parcel_no}",
                warehouse,
                report.at,
            )
        )
        events += _taken_first(order, parcel, warehouse, report)
    elif report.kind is ReportKind.DELIVERED:
        parcels = [
            p for p in uow.parcels.of_order(order.id) if p.status is not ParcelStatus.CANCELLED
        ]
        done = all(p.status is ParcelStatus.DELIVERED for p in parcels)
        events.append(
            _note(
                order,
                "parcel_delivered",
                f"parcel {parcel.parcel_no} delivered"
                + ("" if done else "; others are still on their way"),
                warehouse,
                report.at,
            )
        )
        if done and order.status is S.SHIPPED:
            events += moves_for(order, warehouse, report)
    elif report.kind is ReportKind.PICKING:
        events += moves_for(order, warehouse, report)
    if events:
        flow.record(uow, order, events, save=True)
    return bool(events)


def _split_shipped(
    uow: UnitOfWork, parcel: Parcel, order: Order, warehouse: str, report: WarehouseReport
) -> bool:
    assert order.id is not None
    source = f"wms:{warehouse}"
    hand.take_back(
        uow,
        parcel,
        MovementKind.SHIP,
        reason=f"order {order.id} parcel {parcel.parcel_no} shipped",
        source=source,
    )
    uow.parcels.update(parcel)
    tell_channel(uow, order, parcel_shipment_payload(order, parcel, _combos(uow, order)))
    parcels = [p for p in uow.parcels.of_order(order.id) if p.status is not ParcelStatus.CANCELLED]
    gone = [p for p in parcels if p.status in GONE]
    events = [
        _note(
            order,
            "parcel_shipped",
            f"parcel {parcel.parcel_no} shipped: {report.carrier} {report.tracking_no} "
            f"({len(gone)} of {len(parcels)})",
            warehouse,
            report.at,
            {
                "parcel_no": parcel.parcel_no,
                "carrier": report.carrier,
                "tracking_no": report.tracking_no,
                "shipped": len(gone),
                "parcels": len(parcels),
            },
        )
    ]
    if len(gone) == len(parcels):
        events += moves_for(order, warehouse, report)  # the last one: the order has shipped
    else:
        events += _taken_first(order, parcel, warehouse, report)
    flow.record(uow, order, events, save=True)
    return True


def _taken_first(
    order: Order, parcel: Parcel, warehouse: str, report: WarehouseReport
) -> list[OrderEvent]:
    """The WMS has a parcel of an order not yet at the warehouse: the order is now."""
    if order.status is not S.ALLOCATED:
        return []
    return [
        actions.apply(
            order,
            Action.SEND_TO_WAREHOUSE,
            actor=warehouse_actor(warehouse),
            at=report.at,
            source=f"wms:{warehouse}",
            reason=f"the WMS took parcel {parcel.parcel_no}",
        )
    ]


def _combos(uow: UnitOfWork, order: Order) -> dict[str, dict[str, int]]:
    """The combos among the order's channel SKUs: channel SKU -> component SKU -> units each."""
    mine = {line.channel_sku for line in order.lines if line.channel_sku}
    if not any(line.channel_sku != line.sku for line in order.lines if line.channel_sku):
        return {}
    book = uow.catalogue.sku_book(order.channel, order.shop)
    found = {}
    for channel_sku in mine:
        sku = book.resolve(channel_sku)
        if sku in book.combos:
            found[channel_sku] = {part.sku: part.quantity for part in book.combos[sku]}
    return found


def tell_channel(uow: UnitOfWork, order: Order, payload: dict[str, Any]) -> None:
    """channel.shipment for part of the order, unless nobody is to be told."""
    if order.channel in OWN_CHANNELS:
        return
    try:
        uow.shops.get(order.shop)
    except NotFound:
        return
    uow.send(
        Command(
            channel_target(order.shop),
            MessageKind.CHANNEL_SHIPMENT,
            payload,
            order.id,
            order.priority,
        )
    )


def _note(
    order: Order,
    action: str,
    reason: str,
    warehouse: str,
    at: datetime,
    detail: dict[str, object] | None = None,
) -> OrderEvent:
    return hand.note(
        order,
        action,
        reason,
        at=at,
        actor=warehouse_actor(warehouse),
        source=f"wms:{warehouse}",
        detail=detail,
    )


# --- stock arriving -------------------------------------------------------------------------


def backorders_arrived(uow: UnitOfWork, sku: str, warehouse: str) -> list[str]:
    """Reserve for the backorder parcels waiting on `sku` here, the highest priority with aging
    first, and send each on its way; returns the parcels moved on (one still short waits,
    holding nothing)."""
    moved = []
    waiting = uow.parcels.backorders(sku, warehouse, aging_per_min=uow.flow.priority_aging_per_min)
    for parcel_no in waiting:
        parcel = uow.parcels.get(parcel_no)
        if parcel.status is not ParcelStatus.BACKORDER:
            continue
        if (
            hand.reserve(uow, parcel, reason=f"backorder {parcel.parcel_no}: stock arrived")
            is not None
        ):
            continue
        parcel.status = ParcelStatus.PLANNED
        uow.parcels.update(parcel)
        order = uow.orders.get(parcel.lead_order_id)
        now = uow.clock.now()
        events = [
            hand.note(
                order,
                "backorder_reserved",
                f"stock arrived: backorder {parcel.describe()} reserved; it ships next",
                at=now,
                detail={"parcel_no": parcel.parcel_no},
            )
        ]
        if order.status is S.EXCEPTION and order.exception_reason == ExceptionReason.OUT_OF_STOCK:
            events.append(
                actions.apply(
                    order,
                    Action.RESOLVE,
                    actor=SYSTEM,
                    at=now,
                    source=hand.SOURCE,
                    reason=f"stock arrived: backorder {parcel.parcel_no} reserved in {warehouse}",
                )
            )
        flow.record(uow, order, events, save=True)
        hand.hand_off(uow, order)
        moved.append(parcel_no)
    return moved
