from __future__ import annotations

import pytest

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM
from orderhub.domain.orders import PaymentStatus, open_order
from orderhub.domain.transitions import (
    TRANSITIONS,
    Action,
    ExceptionReason,
    OrderStatus,
    allowed_actions,
)
from orderhub.errors import EditRefused, IllegalTransition, ValidationFailed
from tests.factories import T0, an_order


def _order(status: OrderStatus = OrderStatus.PENDING_PAYMENT):  # type: ignore[no-untyped-def]
    order = open_order(an_order(id=7), at=T0, custom_field_defs={})
    order.status = status
    return order


def test_every_action_has_exactly_one_transition() -> None:
    assert set(TRANSITIONS) == set(Action)


def test_paid_order_cannot_skip_to_shipped() -> None:
    order = _order(OrderStatus.PAID)
    with pytest.raises(IllegalTransition) as refused:
        actions.apply(
            order, Action.SHIP, actor=SYSTEM, at=T0, params={"carrier": "SF", "tracking_no": "1"}
        )
    message = str(refused.value)
    assert "order 7" in message and "is paid" in message and "'ship'" in message
    assert "Allowed: submit_review, approve, cancel, void, hold, raise_exception" in message
    assert order.status is OrderStatus.PAID


def test_paying_records_the_payment_and_an_event() -> None:
    order = _order()
    event = actions.apply(
        order,
        Action.PAY,
        actor=SYSTEM,
        at=T0,
        params={"payment_method": "alipay", "transaction_no": "2026"},
    )
    assert (event.from_status, event.to_status) == (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)
    assert order.payment_status is PaymentStatus.PAID
    assert order.transaction_no == "2026"


def test_paid_order_goes_to_review_or_is_approved_when_review_is_off() -> None:
    reviewed, skipped = _order(OrderStatus.PAID), _order(OrderStatus.PAID)
    actions.advance_after_payment(reviewed, review_required=True, at=T0, actor=SYSTEM)
    event = actions.advance_after_payment(skipped, review_required=False, at=T0, actor=SYSTEM)
    assert reviewed.status is OrderStatus.PENDING_REVIEW
    assert skipped.status is OrderStatus.APPROVED
    assert event is not None and "review is switched off" in (event.reason or "")


def test_hold_needs_a_typed_reason_code() -> None:
    order = _order(OrderStatus.APPROVED)
    with pytest.raises(ValidationFailed, match="reason_code, one of: address_changed"):
        actions.apply(order, Action.HOLD, actor=SYSTEM, at=T0)


def test_a_held_order_leaves_hold_only_by_release_and_returns_where_it_was() -> None:
    order = _order(OrderStatus.ALLOCATED)
    actions.apply(
        order, Action.HOLD, actor=SYSTEM, at=T0, reason_code=ExceptionReason.BUYER_REQUEST.value
    )
    assert order.status is OrderStatus.ON_HOLD
    assert order.exception_reason == "buyer_request"
    with pytest.raises(IllegalTransition, match="on_hold \\(from allocated\\)"):
        actions.apply(order, Action.SEND_TO_WAREHOUSE, actor=SYSTEM, at=T0)
    event = actions.apply(order, Action.RELEASE, actor=SYSTEM, at=T0)
    assert event.to_status is OrderStatus.ALLOCATED
    assert order.status is OrderStatus.ALLOCATED
    assert order.exception_reason is None and order.resume_status is None


def test_an_exception_is_resolved_back_to_the_state_it_interrupted() -> None:
    order = _order(OrderStatus.PENDING_REVIEW)
    actions.apply(
        order,
        Action.RAISE_EXCEPTION,
        actor=SYSTEM,
        at=T0,
        reason_code=ExceptionReason.UNMAPPED_SKU.value,
    )
    assert allowed_actions(order.status, order.resume_status) == [
        Action.CANCEL,
        Action.VOID,
        Action.RESOLVE,
    ]
    actions.apply(order, Action.RESOLVE, actor=SYSTEM, at=T0)
    assert order.status is OrderStatus.PENDING_REVIEW


def test_an_order_at_the_warehouse_cannot_be_cancelled_even_from_an_exception() -> None:
    order = _order(OrderStatus.PICKING)
    actions.apply(
        order,
        Action.RAISE_EXCEPTION,
        actor=SYSTEM,
        at=T0,
        reason_code=ExceptionReason.ADDRESS_CHANGED.value,
    )
    assert Action.CANCEL not in allowed_actions(order.status, order.resume_status)
    with pytest.raises(IllegalTransition, match="exception \\(from picking\\)"):
        actions.apply(order, Action.CANCEL, actor=SYSTEM, at=T0, reason="buyer asked")


def test_cancel_needs_a_reason() -> None:
    with pytest.raises(ValidationFailed, match="needs a reason"):
        actions.apply(_order(), Action.CANCEL, actor=SYSTEM, at=T0)


def test_ship_needs_carrier_and_tracking_no() -> None:
    order = _order(OrderStatus.PICKING)
    with pytest.raises(ValidationFailed, match="params.tracking_no"):
        actions.apply(order, Action.SHIP, actor=SYSTEM, at=T0, params={"carrier": "SF"})
    actions.apply(
        order, Action.SHIP, actor=SYSTEM, at=T0, params={"carrier": "SF", "tracking_no": "SF123"}
    )
    assert (order.carrier, order.tracking_no) == ("SF", "SF123")


@pytest.mark.parametrize(
    "final", [OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.VOIDED]
)
def test_final_states_allow_nothing(final: OrderStatus) -> None:
    assert allowed_actions(final) == []
    with pytest.raises(IllegalTransition, match=r"Allowed: none \(final\)"):
        actions.apply(_order(final), Action.PAY, actor=SYSTEM, at=T0)


def test_receiver_can_be_edited_before_the_warehouse_and_not_after() -> None:
    order = _order(OrderStatus.APPROVED)
    new = order.receiver.__class__(
        "李四", "13900001111", "上海市", "上海市", "浦东新区", "张江路 1 号"
    )
    event = actions.edit(order, actor=SYSTEM, at=T0, receiver=new)
    assert order.receiver.name == "李四" and event.detail == {"changed": ["receiver"]}
    order.status = OrderStatus.SENT_TO_WAREHOUSE
    with pytest.raises(EditRefused, match="before the order reaches the warehouse"):
        actions.edit(order, actor=SYSTEM, at=T0, seller_note="late")


def test_editing_lines_of_an_unpaid_order_reprices_it() -> None:
    order = _order()
    line = order.lines[0].__class__(sku="A", title="a", quantity=1, unit_price=1000)
    actions.edit(order, actor=SYSTEM, at=T0, lines=(line,))
    assert order.amounts.goods_total == 1000
    assert order.amounts.paid_total == 1000 + 1000 - 500


def test_editing_lines_of_a_paid_order_must_keep_the_paid_goods_total() -> None:
    order = _order(OrderStatus.PENDING_REVIEW)
    order.payment_status = PaymentStatus.PAID
    line = order.lines[0].__class__(sku="A", title="a", quantity=1, unit_price=1000)
    with pytest.raises(ValidationFailed, match=r"difference -14300"):
        actions.edit(order, actor=SYSTEM, at=T0, lines=(line,))
