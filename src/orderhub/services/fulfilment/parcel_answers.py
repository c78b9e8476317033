"""The WMS's final answers to a parcel's messages: its hand-off taken, refused or dead, and
its cancel (an intercept) stopped or too late. A merged parcel's orders move together; a split
order is cancelled when nothing of it left, else it goes on with what did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderhub.domain import actions
from orderhub.domain.actors import Actor
from orderhub.domain.fulfilment import InterceptResult, MessageKind
from orderhub.domain.inventory import MovementKind
from orderhub.domain.orders import Order
from orderhub.domain.parcels import GONE, Parcel, ParcelKind, ParcelStatus
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import Action, ExceptionReason, OrderStatus
from orderhub.services.fulfilment import flow
from orderhub.services.fulfilment import parcel_hand_off as hand
from orderhub.services.ports import OutboxMessage, UnitOfWork

S = OrderStatus


def answered(
    uow: UnitOfWork,
    order: Order,
    message: OutboxMessage,
    result: dict[str, Any],
    row: dict[str, Any],
    actor: Actor,
) -> list[OrderEvent]:
    """Apply the WMS's final answer to a parcel's message. `order` is the one the message is
    filed under (the caller records its events); the parcel's other orders are recorded here."""
    parcel = hand.locked(uow, str(message.payload["parcel_no"]))
    if parcel is None:
        return []
    together = hand.members(uow, parcel, order)
    now, status = uow.clock.now(), row["status"]
    moves: dict[int | None, list[OrderEvent]]
    if status in ("dead", "refused") and message.kind == MessageKind.WMS_OUTBOUND_CREATE:
        code = ExceptionReason.DELIVERY_FAILED if status == "dead" else ExceptionReason.WMS_REFUSED
        why = (
            f"{message.kind} of parcel {parcel.parcel_no} could not be delivered to "
            f"{message.target}: {row['last_error']}. Fix the cause, then replay it: "
            f"orderhub outbox retry {message.id}"
            if status == "dead"
            else f"the warehouse refused parcel {parcel.parcel_no}: {row['last_error']}"
        )
        moves = {o.id: flow.delivery_trouble(o, code, why, now, message.target) for o in together}
    elif message.kind == MessageKind.WMS_OUTBOUND_CREATE:
        moves = _taken(uow, parcel, together, result, actor, now, message.target)
    else:
        moves = _cancel_answered(uow, parcel, together, status, result, row, actor, now)
    for other in together:
        if other is not order and moves.get(other.id):
            flow.record(uow, other, moves[other.id], save=True)
    return moves.get(order.id, [])


def _taken(
    uow: UnitOfWork,
    parcel: Parcel,
    together: list[Order],
    answer: dict[str, Any],
    actor: Actor,
    now: datetime,
    source: str,
) -> dict[int | None, list[OrderEvent]]:
    if parcel.status is ParcelStatus.CANCELLED:
        # Cancelled while its hand-off was on the way: the warehouse must drop it again.
        hand.stop(uow, parcel, "cancelled during the hand-off")
        return {}
    if parcel.status is ParcelStatus.PLANNED:
        parcel.status = ParcelStatus.SENT
        uow.parcels.update(parcel)
    moves: dict[int | None, list[OrderEvent]] = {}
    for order in together:
        if order.status is S.ALLOCATED:
            moves[order.id] = [
                actions.apply(
                    order,
                    Action.SEND_TO_WAREHOUSE,
                    actor=actor,
                    at=now,
                    source=source,
                    reason=f"the WMS took parcel {parcel.parcel_no}",
                    params={
                        "wms_order_id": answer.get("wms_order_id"),
                        "parcel_no": parcel.parcel_no,
                    },
                )
            ]
    return moves


def _cancel_answered(
    uow: UnitOfWork,
    parcel: Parcel,
    together: list[Order],
    status: str,
    answer: dict[str, Any],
    row: dict[str, Any],
    actor: Actor,
    now: datetime,
) -> dict[int | None, list[OrderEvent]]:
    outcome = answer.get("result")
    stopped = status == "delivered" and outcome in (
        InterceptResult.INTERCEPTED,
        InterceptResult.NOT_FOUND,
    )
    if parcel.status is ParcelStatus.INTERCEPTING:
        if stopped:
            hand.take_back(
                uow, parcel, MovementKind.RELEASE, reason=f"parcel {parcel.parcel_no} stopped"
            )
            parcel.status = ParcelStatus.CANCELLED
        else:
            parcel.status = ParcelStatus.SENT
        uow.parcels.update(parcel)
    source = f"wms:{parcel.warehouse}"
    waiting = [
        o for o in together if o.status is S.ON_HOLD and o.exception_reason == "intercepting"
    ]
    if not waiting:
        return {}
    if parcel.kind is ParcelKind.MERGE:
        if stopped:
            # The orders that asked are cancelled; the others go to the warehouse on their own.
            asked = ", ".join(str(o.id) for o in waiting)
            hand.dissolve(
                uow,
                parcel,
                waiting,
                why=f"the warehouse stopped it for order {asked}",
                loaded=together,
            )
            return {
                o.id: [
                    actions.apply(
                        o,
                        Action.INTERCEPTED,
                        actor=actor,
                        at=now,
                        source=source,
                        reason=f"the warehouse stopped merged parcel {parcel.parcel_no}",
                    )
                ]
                for o in waiting
            }
        why = _too_late(parcel, outcome, row)
        return {o.id: [_release(o, why, actor, now, source)] for o in waiting}
    order = waiting[0]
    return {order.id: _split_decided(uow, order, actor, now, source)}


def _too_late(parcel: Parcel, outcome: object, row: dict[str, Any]) -> str:
    if outcome == InterceptResult.TOO_LATE:
        return f"too late: parcel {parcel.parcel_no} had already shipped; handle it as a return"
    return f"the warehouse refused to stop parcel {parcel.parcel_no}: {row['last_error']}"


def _release(order: Order, why: str, actor: Actor, now: datetime, source: str) -> OrderEvent:
    return actions.apply(order, Action.RELEASE, actor=actor, at=now, source=source, reason=why)


def _split_decided(
    uow: UnitOfWork, order: Order, actor: Actor, now: datetime, source: str
) -> list[OrderEvent]:
    """Every answer is in: the order is cancelled if nothing of it left, else it goes on with
    what left (and is shipped, when that was all)."""
    assert order.id is not None
    parcels = uow.parcels.of_order(order.id)
    if any(p.status is ParcelStatus.INTERCEPTING for p in parcels):
        return []  # more answers to come
    stopped = [p.parcel_no for p in parcels if p.status is ParcelStatus.CANCELLED]
    left = [p for p in parcels if p.status in GONE or p.status is ParcelStatus.SENT]
    if not left:
        return [
            actions.apply(
                order,
                Action.INTERCEPTED,
                actor=actor,
                at=now,
                source=source,
                reason=f"the warehouse stopped parcels {', '.join(stopped)}",
            )
        ]
    said = ", ".join(p.parcel_no for p in left)
    events = [
        _release(
            order,
            f"too late for parcels {said} (shipped or shipping): handle them as a return"
            + (f"; stopped: {', '.join(stopped)}" if stopped else ""),
            actor,
            now,
            source,
        )
    ]
    unfinished = [
        p for p in parcels if p.status not in GONE and p.status is not ParcelStatus.CANCELLED
    ]
    if not unfinished and order.status in (S.SENT_TO_WAREHOUSE, S.PICKING):
        last = max((p for p in left), key=lambda p: p.shipped_at or now)
        events.append(
            actions.apply(
                order,
                Action.SHIP,
                actor=actor,
                at=now,
                source=source,
                reason="every parcel not stopped has shipped",
                params={"carrier": last.carrier, "tracking_no": last.tracking_no},
            )
        )
    return events
