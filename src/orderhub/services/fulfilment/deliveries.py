"""Finishing outbox deliveries: record each attempt, schedule retries, and act on the answers.

One transaction per batch finishes the messages and applies what their answers mean to the
orders (the warehouse took it, the channel refused, the parcel was intercepted), so an answer is
applied exactly once even though a message may be delivered more than once.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM, Actor, warehouse_actor
from orderhub.domain.fulfilment import InterceptResult, MessageKind
from orderhub.domain.orders import Order
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import Action, ExceptionReason, OrderStatus
from orderhub.errors import ConcurrentUpdate, OrderHubError
from orderhub.services import stock_push
from orderhub.services.fulfilment import flow, parcel_answers
from orderhub.services.fulfilment.flow import cancel_at_warehouse
from orderhub.services.ports import (
    DeliveryResult,
    OutboxMessage,
    Outcome,
    UnitOfWork,
    UnitOfWorkFactory,
)

log = structlog.get_logger()
_COMMANDS = frozenset(k.value for k in MessageKind)
S = OrderStatus


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_s: float = 1.0
    max_s: float = 600.0


def retry_delay(attempt: int, policy: RetryPolicy, retry_after_s: float | None) -> float:
    """Exponential backoff with full jitter; a receiver's Retry-After is a floor, not a hint."""
    ceiling = min(policy.max_s, policy.base_s * 2 ** max(0, attempt - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after_s or 0.0)


def finish(
    uows: UnitOfWorkFactory,
    claimed: Sequence[OutboxMessage],
    results: Sequence[DeliveryResult],
    *,
    lease: datetime,
    worker: str,
    policy: RetryPolicy,
) -> dict[str, int]:
    """Record the outcome of each claimed message and apply the final ones to their orders."""
    by_id = {r.message_id: r for r in results}
    counts: dict[str, int] = {}
    with uows() as uow:
        now = uow.clock.now()
        rows = []
        for message in claimed:
            result = by_id.get(message.message_id) or DeliveryResult(
                message.message_id, Outcome.RETRY, "the sender gave no result for it"
            )
            rows.append(_row(message, result, now, policy, worker))
        held = uow.outbox.finish(rows, lease=lease)
        settling = [
            (m, r) for m, r in zip(claimed, rows, strict=True) if m.id in held and _settles(m, r)
        ]
        uow.orders.prefetch([m.order_id for m, _ in settling if m.order_id is not None])
        for row in rows:
            status = row["status"] if row["id"] in held else "lost_lease"
            counts[status] = counts.get(status, 0) + 1
        for message, row in settling:
            _settle(uow, message, by_id.get(message.message_id), row)
        stock_push.record_pushes(
            uow, [(m, r) for m, r in zip(claimed, rows, strict=True) if m.id in held]
        )
        uow.commit()
    return counts


def _settles(message: OutboxMessage, row: dict[str, Any]) -> bool:
    """Whether the final answer to a command changes its order. A change event's does not:
    subscribers being unreachable must never stop an order."""
    return message.order_id is not None and message.kind in _COMMANDS and row["status"] != "pending"


def _row(
    message: OutboxMessage,
    result: DeliveryResult,
    now: datetime,
    policy: RetryPolicy,
    worker: str,
) -> dict[str, Any]:
    attempt = message.attempts + 1
    row: dict[str, Any] = {
        "id": message.id,
        "attempt_at": now,
        "outcome": result.outcome.value,
        "worker": worker,
        "delivered_at": None,
        "answer": result.answer,
        "last_error": None,
        "next_attempt_at": None,
    }
    if result.outcome is Outcome.DELIVERED:
        row.update(status="delivered", delivered_at=now)
    elif result.outcome is Outcome.REFUSED:
        reason = f"{result.detail} ({result.code})" if result.code else result.detail
        row.update(status="refused", last_error=reason)
    elif attempt >= policy.max_attempts:
        row.update(status="dead", last_error=f"after {attempt} tries: {result.detail}")
    else:
        delay = retry_delay(attempt, policy, result.retry_after_s)
        row.update(
            status="pending",
            last_error=result.detail,
            next_attempt_at=now + timedelta(seconds=delay),
        )
    return row


SETTLE_ATTEMPTS = 3


def _settle(
    uow: UnitOfWork, message: OutboxMessage, result: DeliveryResult | None, row: dict[str, Any]
) -> None:
    assert message.order_id is not None
    # A read-ahead order may be stale by the time its row is locked (another worker answered
    # about another parcel of it meanwhile): then the answer is applied again to a fresh read.
    for attempt in range(1, SETTLE_ATTEMPTS + 1):
        try:
            with uow.savepoint():
                order = uow.orders.get(message.order_id)
                events = _consequences(uow, order, message, result, row)
                if events:
                    flow.record(uow, order, events, save=True)
            return
        except ConcurrentUpdate:
            if attempt == SETTLE_ATTEMPTS:
                log.warning("delivery answer not applied", message=message.message_id)
        except OrderHubError as error:
            # The order moved on; the answer is kept on the outbox row for the record.
            log.warning("delivery answer not applied", message=message.message_id, error=str(error))
            return


def _consequences(
    uow: UnitOfWork,
    order: Order,
    message: OutboxMessage,
    result: DeliveryResult | None,
    row: dict[str, Any],
) -> list[OrderEvent]:
    now, status = uow.clock.now(), row["status"]
    actor: Actor = (
        warehouse_actor(message.target.partition(":")[2])
        if message.target.startswith("wms:")
        else SYSTEM
    )
    source = message.target
    answer = (result.answer if result else None) or {}
    if "parcel_no" in message.payload and message.kind != MessageKind.CHANNEL_SHIPMENT:
        # A parcel's hand-off or cancel (split or merged): its orders move together.
        return parcel_answers.answered(uow, order, message, answer, row, actor)
    if status == "dead":
        return flow.delivery_trouble(
            order,
            ExceptionReason.DELIVERY_FAILED,
            f"{message.kind} could not be delivered to {message.target}: {row['last_error']}. "
            f"Fix the cause, then replay it: orderhub outbox retry {message.id}",
            now,
            source,
        )
    kind = message.kind
    if kind == MessageKind.WMS_OUTBOUND_CREATE:
        if status == "refused":
            return flow.delivery_trouble(
                order,
                ExceptionReason.WMS_REFUSED,
                f"the warehouse refused the order: {row['last_error']}",
                now,
                source,
            )
        if order.status is S.ALLOCATED:
            return [
                actions.apply(
                    order,
                    Action.SEND_TO_WAREHOUSE,
                    actor=actor,
                    at=now,
                    source=source,
                    params={"wms_order_id": answer.get("wms_order_id")},
                )
            ]
        if order.status in (S.CANCELLED, S.VOIDED):
            # Cancelled while the hand-off was on its way: the warehouse must drop it again.
            cancel_at_warehouse(uow, order, f"order {order.status.value} during the hand-off")
        return []
    if kind == MessageKind.WMS_OUTBOUND_CANCEL:
        return _intercept_answer(order, status, answer, row, actor, now, source)
    if kind == MessageKind.CHANNEL_SHIPMENT:
        if status == "refused":
            return flow.delivery_trouble(
                order,
                ExceptionReason.CHANNEL_REFUSED_SHIPMENT,
                f"{order.channel} refused the shipment: {row['last_error']}",
                now,
                source,
            )
        # A split order's parcels each carry their own tracking no.
        payload = message.payload
        shipped = f"{payload.get('carrier')} {payload.get('tracking_no')}"
        if payload.get("parcel_no"):
            shipped = f"parcel {payload['parcel_no']}: {shipped}"
        return [
            actions.note(
                order,
                "channel_shipped",
                actor=SYSTEM,
                at=now,
                source=source,
                reason=f"{order.channel} shows it shipped ({shipped})",
                detail=answer,
            )
        ]
    return []


def _intercept_answer(
    order: Order,
    status: str,
    answer: dict[str, Any],
    row: dict[str, Any],
    actor: Actor,
    now: datetime,
    source: str,
) -> list[OrderEvent]:
    waiting = order.status is S.ON_HOLD and order.exception_reason == "intercepting"
    if not waiting:
        return []
    result = answer.get("result")
    if status == "delivered" and result in (InterceptResult.INTERCEPTED, InterceptResult.NOT_FOUND):
        return [
            actions.apply(
                order,
                Action.INTERCEPTED,
                actor=actor,
                at=now,
                source=source,
                reason="the warehouse stopped it before shipping"
                if result == InterceptResult.INTERCEPTED
                else "the warehouse never had it",
            )
        ]
    why = (
        "too late: the warehouse had already shipped it; handle it as a return"
        if result == InterceptResult.TOO_LATE
        else f"the warehouse refused to stop it: {row['last_error']}"
    )
    return [actions.apply(order, Action.RELEASE, actor=actor, at=now, source=source, reason=why)]
