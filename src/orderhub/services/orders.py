"""Order use cases: one public function per use case, one transaction each.

The API, the console, the CLI and (later) the channel ingest all call these same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM, Actor
from orderhub.domain.orders import (
    MANUAL_CHANNEL,
    CustomFieldDef,
    Order,
    OrderLine,
    Receiver,
    manual_order_no,
    open_order,
)
from orderhub.domain.ownership import NotOwner, System, check_write
from orderhub.domain.timeline import OrderEvent, Stay, stays, time_in_states
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.errors import AlreadyExists, IdempotencyConflict, OrderHubError
from orderhub.permissions import ACTION_PERMISSIONS, Permission, require
from orderhub.services import priority
from orderhub.services.fulfilment import flow
from orderhub.services.ports import IdempotencyKeyTaken, UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger()


@dataclass(frozen=True)
class Created:
    order: Order
    # True when an Idempotency-Key matched an earlier request: nothing new was created.
    replayed: bool = False


def create_order(
    uow: UnitOfWork,
    order: Order,
    *,
    actor: Actor,
    review_required: bool,
    source: str = "api",
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    correlation_id: str | None = None,
) -> Created:
    """Put a new order into the pool; with an idempotency key, a repeat returns the first result."""
    require(actor, Permission.ORDER_CREATE)
    try:
        return _create(
            uow,
            order,
            actor=actor,
            review_required=review_required,
            source=source,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            correlation_id=correlation_id,
        )
    except IdempotencyKeyTaken:
        # A concurrent request with the same key won; ours rolled back. Answer with its result.
        assert idempotency_key is not None
        with uow:
            earlier = _earlier_result(uow, actor, idempotency_key, request_hash)
        assert earlier is not None
        return Created(earlier, replayed=True)


def _create(
    uow: UnitOfWork,
    order: Order,
    *,
    actor: Actor,
    review_required: bool,
    source: str,
    idempotency_key: str | None,
    request_hash: str | None,
    correlation_id: str | None,
) -> Created:
    with uow:
        if idempotency_key is not None:
            earlier = _earlier_result(uow, actor, idempotency_key, request_hash)
            if earlier is not None:
                return Created(earlier, replayed=True)
        now = uow.clock.now()
        if order.channel == MANUAL_CHANNEL and not order.channel_order_no:
            order.channel_order_no = manual_order_no(now)
        order = open_order(order, at=now, custom_field_defs=uow.custom_fields.all())
        events = [
            actions.created(
                order, actor=actor, at=now, source=source, correlation_id=correlation_id
            )
        ]
        # A paid order moves on before it is inserted: one INSERT instead of INSERT + UPDATE.
        follow_up = actions.advance_after_payment(
            order,
            review_required=review_required,
            at=now,
            actor=SYSTEM,
            correlation_id=correlation_id,
        )
        if follow_up is not None:
            events.append(follow_up)
        # Scored before the insert, so the priority goes in with it (no UPDATE after).
        prioritised = priority.after(uow, order, events)
        if prioritised is not None:
            events.append(prioritised)
        order.id = uow.orders.add(order)
        flow.record(uow, order, events)
        if idempotency_key is not None:
            uow.idempotency.add(actor.id, idempotency_key, request_hash or "", order.id)
        uow.commit()
    return Created(order)


def _earlier_result(
    uow: UnitOfWork, actor: Actor, key: str, request_hash: str | None
) -> Order | None:
    found = uow.idempotency.find(actor.id, key)
    if found is None:
        return None
    stored_hash, order_id = found
    if stored_hash != (request_hash or ""):
        raise IdempotencyConflict(
            f"Idempotency-Key '{key}' was already used with a different body (it created order "
            f"{order_id}); send the same body to get that result, or use a new key for a new order",
            order_id=order_id,
        )
    return uow.orders.get(order_id)


def apply_action(
    uow: UnitOfWork,
    order_id: int,
    action: Action,
    *,
    actor: Actor,
    review_required: bool,
    reason: str | None = None,
    reason_code: str | None = None,
    params: dict[str, Any] | None = None,
    source: str = "orderhub",
    correlation_id: str | None = None,
) -> Order:
    """Apply one action to one order (pay, approve, hold, cancel, ...)."""
    require(actor, ACTION_PERMISSIONS[action])
    with uow:
        order = uow.orders.get(order_id)
        if action is Action.SHIP and order.warehouse:
            warehouse = uow.warehouses.find(order.warehouse)
            if warehouse is not None and warehouse.wms != "none":
                _owned(
                    order,
                    ["carrier", "tracking_no"],
                    actor,
                    how=f"the WMS of {warehouse.code} reports the shipment; ship by hand only "
                    "from a warehouse without a WMS",
                )
        event = actions.apply(
            order,
            action,
            actor=actor,
            at=uow.clock.now(),
            reason=reason,
            reason_code=reason_code,
            params=params,
            source=source,
            correlation_id=correlation_id,
        )
        uow.orders.update(order)
        flow.record(uow, order, [event])
        if action is Action.PAY:
            # After the payment's own follow-ups: short stock may have stopped the order.
            follow_up = actions.advance_after_payment(
                order,
                review_required=review_required,
                at=event.at,
                actor=SYSTEM,
                correlation_id=correlation_id,
            )
            if follow_up is not None:
                uow.orders.update(order)
                flow.record(uow, order, [follow_up])
        uow.commit()
    return order


@dataclass(frozen=True)
class BatchResult:
    order_id: int
    ok: bool
    status: OrderStatus | None = None
    error_code: str | None = None
    detail: str | None = None


def apply_batch(
    uow_factory: UnitOfWorkFactory,
    order_ids: Sequence[int],
    action: Action,
    *,
    actor: Actor,
    review_required: bool,
    reason: str | None = None,
    reason_code: str | None = None,
    params: dict[str, Any] | None = None,
    correlation_id: str | None = None,
) -> list[BatchResult]:
    """The action on each order in its own transaction: one failure leaves the others done."""
    require(actor, ACTION_PERMISSIONS[action])
    results: list[BatchResult] = []
    for order_id in dict.fromkeys(order_ids):
        try:
            order = apply_action(
                uow_factory(),
                order_id,
                action,
                actor=actor,
                review_required=review_required,
                reason=reason,
                reason_code=reason_code,
                params=params,
                correlation_id=correlation_id,
            )
        except OrderHubError as error:
            results.append(BatchResult(order_id, False, error_code=error.code, detail=error.detail))
        else:
            results.append(BatchResult(order_id, True, status=order.status))
    return results


def edit_order(
    uow: UnitOfWork,
    order_id: int,
    *,
    actor: Actor,
    receiver: Receiver | None = None,
    lines: tuple[OrderLine, ...] | None = None,
    buyer_note: str | None = None,
    seller_note: str | None = None,
    correlation_id: str | None = None,
) -> Order:
    """Change receiver, lines or notes; refused once the order has reached the warehouse."""
    require(actor, Permission.ORDER_EDIT)
    with uow:
        order = uow.orders.get(order_id)
        touched = [
            name
            for name, value in (("lines", lines), ("buyer_note", buyer_note))
            if value is not None
        ]
        _owned(
            order,
            touched,
            actor,
            how=f"change them on {order.channel}; OrderHub takes the new version when it syncs",
        )
        event = actions.edit(
            order,
            actor=actor,
            at=uow.clock.now(),
            receiver=receiver,
            lines=lines,
            buyer_note=buyer_note,
            seller_note=seller_note,
            correlation_id=correlation_id,
        )
        uow.record(order, event)
        uow.orders.update(order)
        uow.commit()
    return order


def get_order(uow: UnitOfWork, order_id: int, *, actor: Actor) -> Order:
    require(actor, Permission.ORDER_READ)
    with uow:
        return uow.orders.get(order_id)


@dataclass(frozen=True)
class Timeline:
    order: Order
    events: list[OrderEvent]
    stays: list[Stay]
    seconds_in_state: dict[str, float]


def get_timeline(uow: UnitOfWork, order_id: int, *, actor: Actor) -> Timeline:
    """The order's events and how long it spent in each state (the open stay runs to now)."""
    require(actor, Permission.ORDER_READ)
    with uow:
        order = uow.orders.get(order_id)
        events = uow.orders.events(order_id)
        now = uow.clock.now()
    totals = time_in_states(events, now)
    return Timeline(
        order,
        events,
        stays(events, now),
        {status.value: spent.total_seconds() for status, spent in totals.items()},
    )


def declare_custom_field(uow: UnitOfWork, definition: CustomFieldDef, *, actor: Actor) -> None:
    require(actor, Permission.SETTINGS_MANAGE)
    with uow:
        if definition.name in uow.custom_fields.all():
            raise AlreadyExists(f"custom field '{definition.name}' is already declared")
        uow.custom_fields.add(definition)
        uow.commit()


def list_custom_fields(uow: UnitOfWork, *, actor: Actor) -> list[CustomFieldDef]:
    require(actor, Permission.ORDER_READ)
    with uow:
        return list(uow.custom_fields.all().values())


def _owned(order: Order, fields: list[str], actor: Actor, *, how: str) -> None:
    """Refuse, and log, a write by OrderHub's people to facts another system owns."""
    try:
        check_write(order.channel, System.ORDERHUB, fields, how=how)
    except NotOwner as refused:
        log.warning(
            "write refused: not the owner",
            order_id=order.id,
            actor=actor.label,
            fields=fields,
            owner=refused.extra.get("owner"),
        )
        raise
