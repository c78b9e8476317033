"""The order state machine: one explicit transition table and the function that applies it.

States follow the flow merchants know from the Chinese ERPs (待付款 -> 已付款 -> 待审核 -> 已审核 ->
已配货 -> 已推送仓库 -> 拣货中 -> 已发货 -> 已签收 -> 已完成). Hold (挂起) and exception (异常)
are states too, so the time spent in them shows on the timeline; an order leaves them only by
`release` or `resolve`, which return it to where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    ALLOCATED = "allocated"
    SENT_TO_WAREHOUSE = "sent_to_warehouse"
    PICKING = "picking"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    VOIDED = "voided"
    ON_HOLD = "on_hold"
    EXCEPTION = "exception"


class Action(StrEnum):
    PAY = "pay"
    SUBMIT_REVIEW = "submit_review"
    APPROVE = "approve"
    ALLOCATE = "allocate"
    SEND_TO_WAREHOUSE = "send_to_warehouse"
    START_PICKING = "start_picking"
    SHIP = "ship"
    DELIVER = "deliver"
    COMPLETE = "complete"
    CANCEL = "cancel"
    VOID = "void"
    HOLD = "hold"
    RELEASE = "release"
    RAISE_EXCEPTION = "raise_exception"
    RESOLVE = "resolve"
    # Cancel an order the warehouse already has: held until the WMS answers.
    INTERCEPT = "intercept"
    # The WMS stopped it before it shipped (a fact from the warehouse, not a button).
    INTERCEPTED = "intercepted"


class ExceptionReason(StrEnum):
    """Why an order is held or in the exception queue (typed, so queues can be counted)."""

    ADDRESS_CHANGED = "address_changed"
    OUT_OF_STOCK = "out_of_stock"
    RISK = "risk"
    REFUND_REQUESTED = "refund_requested"
    UNMAPPED_SKU = "unmapped_sku"
    PLATFORM_ALREADY_SHIPPED = "platform_already_shipped"
    AMOUNT_MISMATCH = "amount_mismatch"
    BUYER_REQUEST = "buyer_request"
    AWAITING_INFO = "awaiting_info"
    INTERCEPTING = "intercepting"
    WMS_REFUSED = "wms_refused"
    CHANNEL_REFUSED_SHIPMENT = "channel_refused_shipment"
    DELIVERY_FAILED = "delivery_failed"
    OTHER = "other"


S = OrderStatus
BEFORE_WAREHOUSE = frozenset({S.PENDING_PAYMENT, S.PAID, S.PENDING_REVIEW, S.APPROVED, S.ALLOCATED})
AT_WAREHOUSE = frozenset({S.SENT_TO_WAREHOUSE, S.PICKING})
SUSPENDED = frozenset({S.ON_HOLD, S.EXCEPTION})
TERMINAL = frozenset({S.COMPLETED, S.CANCELLED, S.VOIDED})


@dataclass(frozen=True)
class Transition:
    action: Action
    source: frozenset[OrderStatus]
    # None: back to the status the order was suspended from.
    target: OrderStatus | None
    # For an order that is held or in exception: the status it was suspended from must be here.
    resume_from: frozenset[OrderStatus] | None = None
    needs_reason: bool = False
    needs_reason_code: bool = False


TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(Action.PAY, frozenset({S.PENDING_PAYMENT}), S.PAID),
        Transition(Action.SUBMIT_REVIEW, frozenset({S.PAID}), S.PENDING_REVIEW),
        Transition(Action.APPROVE, frozenset({S.PAID, S.PENDING_REVIEW}), S.APPROVED),
        Transition(Action.ALLOCATE, frozenset({S.APPROVED}), S.ALLOCATED),
        Transition(Action.SEND_TO_WAREHOUSE, frozenset({S.ALLOCATED}), S.SENT_TO_WAREHOUSE),
        Transition(Action.START_PICKING, frozenset({S.SENT_TO_WAREHOUSE}), S.PICKING),
        Transition(Action.SHIP, frozenset({S.SENT_TO_WAREHOUSE, S.PICKING}), S.SHIPPED),
        Transition(Action.DELIVER, frozenset({S.SHIPPED}), S.DELIVERED),
        Transition(Action.COMPLETE, frozenset({S.SHIPPED, S.DELIVERED}), S.COMPLETED),
        Transition(
            Action.CANCEL,
            BEFORE_WAREHOUSE | SUSPENDED,
            S.CANCELLED,
            resume_from=BEFORE_WAREHOUSE,
            needs_reason=True,
        ),
        Transition(
            Action.VOID,
            BEFORE_WAREHOUSE | SUSPENDED,
            S.VOIDED,
            resume_from=BEFORE_WAREHOUSE,
            needs_reason=True,
        ),
        Transition(
            Action.HOLD,
            (BEFORE_WAREHOUSE - {S.PENDING_PAYMENT}) | AT_WAREHOUSE,
            S.ON_HOLD,
            needs_reason_code=True,
        ),
        Transition(Action.RELEASE, frozenset({S.ON_HOLD}), None),
        Transition(
            Action.RAISE_EXCEPTION,
            # A shipped order too: the channel may refuse the shipment (refunded meanwhile).
            BEFORE_WAREHOUSE | AT_WAREHOUSE | {S.SHIPPED},
            S.EXCEPTION,
            needs_reason_code=True,
        ),
        Transition(Action.RESOLVE, frozenset({S.EXCEPTION}), None),
        Transition(Action.INTERCEPT, AT_WAREHOUSE, S.ON_HOLD, needs_reason=True),
        Transition(
            Action.INTERCEPTED, frozenset({S.ON_HOLD}), S.CANCELLED, resume_from=AT_WAREHOUSE
        ),
    )
}


def allowed_actions(status: OrderStatus, resume_status: OrderStatus | None = None) -> list[Action]:
    """The actions the table allows from here, in table order."""
    return [
        t.action
        for t in TRANSITIONS.values()
        if status in t.source
        and (status not in SUSPENDED or t.resume_from is None or resume_status in t.resume_from)
    ]


def target_of(
    action: Action, status: OrderStatus, resume_status: OrderStatus | None
) -> OrderStatus | None:
    """Where `action` takes an order in `status`, or None when the table does not allow it."""
    if action not in allowed_actions(status, resume_status):
        return None
    target = TRANSITIONS[action].target
    return target if target is not None else resume_status
