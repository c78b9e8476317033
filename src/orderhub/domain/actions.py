"""Changing an order: actions through the transition table, and edits before the warehouse.

Each function decides, changes the order and returns the events it recorded; the caller's unit
of work writes them to the timeline and the outbox in the same transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from orderhub.domain.actors import Actor
from orderhub.domain.orders import (
    Order,
    OrderLine,
    PaymentStatus,
    Receiver,
    check_amounts,
    check_lines,
    check_receiver,
)
from orderhub.domain.parcels import ParcelMode
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import (
    BEFORE_WAREHOUSE,
    SUSPENDED,
    TRANSITIONS,
    Action,
    ExceptionReason,
    OrderStatus,
    allowed_actions,
    target_of,
)
from orderhub.errors import EditRefused, IllegalTransition, ValidationFailed


def describe(order: Order) -> str:
    return f"order {order.id or order.channel_order_no} ({order.channel} {order.channel_order_no})"


def effective_status(order: Order) -> OrderStatus:
    """The status that decides what may change: for a held order, the one it was held from."""
    if order.status in SUSPENDED and order.resume_status is not None:
        return order.resume_status
    return order.status


def _event(
    order: Order,
    action: str,
    to: OrderStatus,
    *,
    actor: Actor,
    at: datetime,
    source: str,
    reason: str | None = None,
    reason_code: str | None = None,
    correlation_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> OrderEvent:
    return OrderEvent(
        action=action,
        from_status=order.status,
        to_status=to,
        at=at,
        actor_id=actor.id,
        actor_name=actor.name,
        source=source,
        reason=reason,
        reason_code=reason_code,
        correlation_id=correlation_id,
        detail=detail or {},
        order_id=order.id,
        from_since=order.state_since,
    )


def note(
    order: Order,
    action: str,
    *,
    actor: Actor,
    at: datetime,
    source: str,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> OrderEvent:
    """A fact on the timeline that moves no state (the WMS took it, the channel was told...)."""
    return _event(
        order, action, order.status, actor=actor, at=at, source=source, reason=reason, detail=detail
    )


def created(
    order: Order, *, actor: Actor, at: datetime, source: str, correlation_id: str | None = None
) -> OrderEvent:
    return OrderEvent(
        action="create",
        from_status=None,
        to_status=order.status,
        at=at,
        actor_id=actor.id,
        actor_name=actor.name,
        source=source,
        correlation_id=correlation_id,
        order_id=order.id,
        detail={"channel": order.channel, "channel_order_no": order.channel_order_no},
    )


def _check_params(
    order: Order,
    action: Action,
    reason: str | None,
    reason_code: str | None,
    params: dict[str, Any],
) -> None:
    rule = TRANSITIONS[action]
    if rule.needs_reason and not (reason and reason.strip()):
        raise ValidationFailed(
            f"'{action}' needs a reason; say why {describe(order)} is {action}ed", field="reason"
        )
    if rule.needs_reason_code:
        codes = ", ".join(r.value for r in ExceptionReason)
        if reason_code not in ExceptionReason.__members__.values():
            raise ValidationFailed(
                f"'{action}' needs reason_code, one of: {codes}", field="reason_code"
            )
    if action is Action.SHIP:
        for name in ("carrier", "tracking_no"):
            if not str(params.get(name) or "").strip():
                raise ValidationFailed(f"'ship' needs params.{name}", field=f"params.{name}")


def apply(
    order: Order,
    action: Action,
    *,
    actor: Actor,
    at: datetime,
    reason: str | None = None,
    reason_code: str | None = None,
    params: dict[str, Any] | None = None,
    source: str = "orderhub",
    correlation_id: str | None = None,
) -> OrderEvent:
    """Move the order by `action`, or raise IllegalTransition naming order, state and options."""
    params = params or {}
    target = target_of(action, order.status, order.resume_status)
    if target is None:
        allowed = ", ".join(allowed_actions(order.status, order.resume_status)) or "none (final)"
        where = order.status.value
        if order.status in SUSPENDED and order.resume_status is not None:
            where += f" (from {order.resume_status.value})"
        raise IllegalTransition(
            f"{describe(order)} is {where}; '{action}' is not allowed from there. "
            f"Allowed: {allowed}",
            order_id=order.id,
            order_status=order.status.value,
            action=action.value,
            allowed=[a.value for a in allowed_actions(order.status, order.resume_status)],
        )
    _check_params(order, action, reason, reason_code, params)
    detail = {k: v for k, v in params.items() if v is not None}
    event = _event(
        order,
        action.value,
        target,
        actor=actor,
        at=at,
        source=source,
        reason=reason,
        reason_code=reason_code,
        correlation_id=correlation_id,
        detail=detail,
    )
    if action in (Action.HOLD, Action.RAISE_EXCEPTION):
        order.resume_status = order.status
        order.exception_reason = reason_code
    elif action is Action.INTERCEPT:
        order.resume_status = order.status
        order.exception_reason = ExceptionReason.INTERCEPTING.value
    elif order.status in SUSPENDED:
        order.resume_status = None
        order.exception_reason = None
    if action is Action.PAY:
        order.payment_status = PaymentStatus.PAID
        order.paid_at = at
        order.payment_method = params.get("payment_method") or order.payment_method
        order.transaction_no = params.get("transaction_no") or order.transaction_no
    elif action is Action.ALLOCATE and params.get("warehouse"):
        order.warehouse = str(params["warehouse"])
    elif action is Action.SEND_TO_WAREHOUSE:
        order.handed_off_at = at
    elif action is Action.SHIP:
        order.carrier = str(params["carrier"])
        order.tracking_no = str(params["tracking_no"])
        order.shipped_at = at
    if target is not order.status:
        order.state_since = at
    order.status = target
    order.updated_at = at
    return event


def advance_after_payment(
    order: Order,
    *,
    review_required: bool,
    at: datetime,
    actor: Actor,
    correlation_id: str | None = None,
) -> OrderEvent | None:
    """A paid order goes to review, or, while review is switched off, is approved at once."""
    if order.status is not OrderStatus.PAID:
        return None
    if review_required:
        return apply(order, Action.SUBMIT_REVIEW, actor=actor, at=at, correlation_id=correlation_id)
    return apply(
        order,
        Action.APPROVE,
        actor=actor,
        at=at,
        correlation_id=correlation_id,
        reason="review is switched off (ORDERHUB_REVIEW_REQUIRED=false)",
    )


def _check_editable(order: Order) -> None:
    status = effective_status(order)
    if status not in BEFORE_WAREHOUSE:
        raise EditRefused(
            f"{describe(order)} is {order.status.value}; receiver, lines and notes can only be "
            "edited before the order reaches the warehouse. Intercept it at the warehouse first.",
            order_id=order.id,
            order_status=order.status.value,
        )


def _check_parcels_allow(order: Order, *, receiver: bool, lines: bool) -> None:
    """A merged order shares its receiver and parcel with others; a split one's parcels were
    made from its lines: those cannot change under them."""
    if order.parcel_mode == ParcelMode.MERGED and (receiver or lines):
        raise EditRefused(
            f"{describe(order)} ships in one parcel with other orders of its buyer; unmerge it "
            "first (POST /api/v1/parcels/{parcel_no}/unmerge), then change its receiver or lines",
            order_id=order.id,
            order_status=order.status.value,
        )
    if order.parcel_mode == ParcelMode.SPLIT and lines:
        raise EditRefused(
            f"{describe(order)} is split into parcels made from its lines; its lines cannot "
            "change now; cancel it and create it again with the lines it should have",
            order_id=order.id,
            order_status=order.status.value,
        )


def edit(
    order: Order,
    *,
    actor: Actor,
    at: datetime,
    receiver: Receiver | None = None,
    lines: tuple[OrderLine, ...] | None = None,
    buyer_note: str | None = None,
    seller_note: str | None = None,
    correlation_id: str | None = None,
) -> OrderEvent:
    """Change receiver, lines or notes while the order has not reached the warehouse.

    New lines of an unpaid order re-price it; a paid order's lines may change only if the goods
    total stays what the buyer paid for.
    """
    _check_editable(order)
    _check_parcels_allow(order, receiver=receiver is not None, lines=lines is not None)
    changed: dict[str, Any] = {}
    if receiver is not None:
        order.receiver = check_receiver(receiver)
        changed["receiver"] = True
    if lines is not None:
        check_lines(lines)
        new_goods = sum(line.amount for line in lines)
        if order.payment_status is PaymentStatus.UNPAID:
            a = order.amounts
            amounts = replace(
                a, goods_total=new_goods, paid_total=new_goods + a.shipping_fee + a.tax - a.discount
            )
        else:
            amounts = order.amounts
            if new_goods != amounts.goods_total:
                raise ValidationFailed(
                    f"{describe(order)} is paid for goods worth {amounts.goods_total}; the new "
                    f"lines add up to {new_goods} (difference {new_goods - amounts.goods_total}). "
                    "Keep the paid goods total, or refund the difference first.",
                    field="lines",
                )
        check_amounts(amounts, lines)
        order.lines, order.amounts = lines, amounts
        changed["lines"] = len(lines)
    if buyer_note is not None:
        order.buyer_note = buyer_note
        changed["buyer_note"] = True
    if seller_note is not None:
        order.seller_note = seller_note
        changed["seller_note"] = True
    if not changed:
        raise ValidationFailed("nothing to edit: give receiver, lines, buyer_note or seller_note")
    order.updated_at = at
    return _event(
        order,
        "edit",
        order.status,
        actor=actor,
        at=at,
        source="orderhub",
        correlation_id=correlation_id,
        detail={"changed": sorted(changed)},
    )
