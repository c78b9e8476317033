"""How an order moves on what the warehouse reports about its outbound order.

The WMS owns these facts, so a shipment applies even to an order held meanwhile (the hold is
released with the reason) or whose hand-off answer has not been recorded yet.
"""

from __future__ import annotations

from orderhub.domain import actions
from orderhub.domain.actors import warehouse_actor
from orderhub.domain.fulfilment import ReportKind, WarehouseReport
from orderhub.domain.orders import Order
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import AT_WAREHOUSE, Action, OrderStatus

S = OrderStatus


def moves_for(order: Order, warehouse: str, report: WarehouseReport) -> list[OrderEvent]:
    """How the order moves on a report about its outbound order (none: it changes nothing)."""
    actor, at, source = warehouse_actor(warehouse), report.at, f"wms:{warehouse}"
    events: list[OrderEvent] = []

    def move(action: Action, reason: str | None = None, **params: object) -> None:
        events.append(
            actions.apply(
                order,
                action,
                actor=actor,
                at=at,
                source=source,
                reason=reason,
                params={k: v for k, v in params.items() if v is not None},
            )
        )

    kind = report.kind
    if kind is ReportKind.DELIVERED:
        if order.status is S.SHIPPED:
            move(Action.DELIVER)
        return events
    if kind in (ReportKind.ACCEPTED, ReportKind.PACKED):
        events.append(actions.note(order, f"wms_{kind.value}", actor=actor, at=at, source=source))
        if order.status is S.ALLOCATED:
            move(Action.SEND_TO_WAREHOUSE)
        return events
    if kind is ReportKind.PICKING:
        if order.status is S.ALLOCATED:
            move(Action.SEND_TO_WAREHOUSE)
        if order.status is S.SENT_TO_WAREHOUSE:
            move(Action.START_PICKING)
        return events
    # Shipped: the warehouse's fact wins over a hold, and over a hand-off not yet confirmed
    # (a worker killed after the WMS took the order but before it recorded the answer).
    if order.status is S.ON_HOLD and order.resume_status in AT_WAREHOUSE:
        move(Action.RELEASE, "the warehouse shipped it before it could be stopped")
    if order.status is S.EXCEPTION and order.resume_status in (AT_WAREHOUSE | {S.ALLOCATED}):
        move(Action.RESOLVE, "the warehouse shipped it")
    if order.status is S.ALLOCATED:
        move(Action.SEND_TO_WAREHOUSE)
    if order.status in AT_WAREHOUSE:
        move(Action.SHIP, carrier=report.carrier, tracking_no=report.tracking_no)
    return events
