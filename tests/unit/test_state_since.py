"""state_since: the time an order entered its current status, moved by every status change."""

from __future__ import annotations

from datetime import timedelta

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM
from orderhub.domain.orders import PaymentStatus, open_order
from orderhub.domain.transitions import Action, ExceptionReason
from orderhub.domain.transitions import OrderStatus as S
from tests.factories import T0, an_order


def test_a_new_order_entered_its_first_status_when_it_was_opened() -> None:
    order = open_order(an_order(), at=T0 + timedelta(minutes=3), custom_field_defs={})
    assert order.status is S.PENDING_PAYMENT
    assert order.state_since == T0 + timedelta(minutes=3)


def test_every_status_change_restarts_the_clock_and_the_event_says_when_the_stay_began() -> None:
    order = open_order(an_order(), at=T0, custom_field_defs={})
    pay = actions.apply(order, Action.PAY, actor=SYSTEM, at=T0 + timedelta(minutes=10))
    assert pay.from_since == T0
    assert order.state_since == T0 + timedelta(minutes=10)
    review = actions.apply(order, Action.SUBMIT_REVIEW, actor=SYSTEM, at=T0 + timedelta(minutes=12))
    assert review.from_since == T0 + timedelta(minutes=10)
    assert order.state_since == T0 + timedelta(minutes=12)


def test_hold_and_release_each_restart_the_clock() -> None:
    order = open_order(an_order(payment_status=PaymentStatus.PAID), at=T0, custom_field_defs={})
    hold = actions.apply(
        order,
        Action.HOLD,
        actor=SYSTEM,
        at=T0 + timedelta(minutes=5),
        reason_code=ExceptionReason.BUYER_REQUEST.value,
    )
    assert (hold.from_since, order.state_since) == (T0, T0 + timedelta(minutes=5))
    release = actions.apply(order, Action.RELEASE, actor=SYSTEM, at=T0 + timedelta(minutes=50))
    assert order.status is S.PAID
    assert release.from_since == T0 + timedelta(minutes=5)
    assert order.state_since == T0 + timedelta(minutes=50)


def test_exception_and_resolve_each_restart_the_clock() -> None:
    order = open_order(an_order(payment_status=PaymentStatus.PAID), at=T0, custom_field_defs={})
    actions.apply(
        order,
        Action.RAISE_EXCEPTION,
        actor=SYSTEM,
        at=T0 + timedelta(hours=1),
        reason_code=ExceptionReason.OUT_OF_STOCK.value,
    )
    assert (order.status, order.state_since) == (S.EXCEPTION, T0 + timedelta(hours=1))
    resolve = actions.apply(order, Action.RESOLVE, actor=SYSTEM, at=T0 + timedelta(hours=3))
    assert resolve.from_since == T0 + timedelta(hours=1)
    assert (order.status, order.state_since) == (S.PAID, T0 + timedelta(hours=3))


def test_a_note_or_an_edit_leaves_the_clock_alone() -> None:
    order = open_order(an_order(), at=T0, custom_field_defs={})
    actions.note(order, "wms_accepted", actor=SYSTEM, at=T0 + timedelta(minutes=7), source="wms")
    actions.edit(order, actor=SYSTEM, at=T0 + timedelta(minutes=8), seller_note="gift wrap")
    assert order.state_since == T0
