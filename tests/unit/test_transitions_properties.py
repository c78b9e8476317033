"""Properties: no sequence of actions leaves the table, and accepted amounts always add up."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM
from orderhub.domain.orders import Amounts, OrderLine, open_order
from orderhub.domain.transitions import (
    SUSPENDED,
    TRANSITIONS,
    Action,
    ExceptionReason,
    OrderStatus,
    allowed_actions,
)
from orderhub.errors import IllegalTransition, ValidationFailed
from tests.factories import T0, an_order

INPUTS = {
    "reason": "why",
    "reason_code": ExceptionReason.OTHER.value,
    "params": {"carrier": "SF", "tracking_no": "SF1"},
}


@settings(max_examples=300)
@given(st.lists(st.sampled_from(list(Action)), max_size=25))
def test_no_sequence_of_actions_leaves_the_transition_table(sequence: list[Action]) -> None:
    order = open_order(an_order(id=1), at=T0, custom_field_defs={})
    for action in sequence:
        before, resume = order.status, order.resume_status
        allowed = action in allowed_actions(before, resume)
        try:
            event = actions.apply(order, action, actor=SYSTEM, at=T0, **INPUTS)  # type: ignore[arg-type]
        except IllegalTransition:
            assert not allowed
            assert (order.status, order.resume_status) == (before, resume)
            continue
        assert allowed
        rule = TRANSITIONS[action]
        assert before in rule.source
        expected = rule.target if rule.target is not None else resume
        assert order.status is expected
        assert (event.from_status, event.to_status) == (before, order.status)
        # A suspended order always knows where it goes back to, and only it does.
        assert (order.resume_status is not None) == (order.status in SUSPENDED)
        assert order.resume_status not in SUSPENDED


line_st = st.builds(
    lambda q, p, d: OrderLine(
        sku="S", title="t", quantity=q, unit_price=p, line_discount=min(d, q * p)
    ),
    st.integers(1, 50),
    st.integers(0, 10**7),
    st.integers(0, 10**6),
)


@given(
    st.lists(line_st, min_size=1, max_size=8),
    st.integers(0, 10**5),
    st.integers(0, 10**5),
    st.integers(0, 10**5),
)
def test_consistent_amounts_are_accepted_and_add_up(
    lines: list[OrderLine], shipping: int, tax: int, discount: int
) -> None:
    goods = sum(x.amount for x in lines)
    discount = min(discount, goods + shipping + tax)
    amounts = Amounts(goods, shipping, discount, tax, goods + shipping + tax - discount)
    order = open_order(an_order(lines=tuple(lines), amounts=amounts), at=T0, custom_field_defs={})
    assert order.amounts.goods_total == sum(
        x.quantity * x.unit_price - x.line_discount for x in order.lines
    )
    assert order.amounts.paid_total == order.amounts.expected_paid_total


@given(st.lists(line_st, min_size=1, max_size=8), st.integers(-(10**6), 10**6).filter(bool))
def test_any_paid_total_off_by_some_amount_is_refused_naming_that_difference(
    lines: list[OrderLine], off: int
) -> None:
    goods = sum(x.amount for x in lines)
    assume(goods + off >= 0)
    order = an_order(lines=tuple(lines), amounts=Amounts(goods, paid_total=goods + off))
    with pytest.raises(ValidationFailed) as refused:
        open_order(order, at=T0, custom_field_defs={})
    assert f"(difference {off})" in refused.value.detail


def test_every_status_is_reachable_from_a_new_order() -> None:
    seen, frontier = (
        {OrderStatus.PENDING_PAYMENT, OrderStatus.PAID},
        [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID],
    )
    while frontier:
        status = frontier.pop()
        for action in allowed_actions(status, OrderStatus.PAID):
            target = TRANSITIONS[action].target
            if target is not None and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(OrderStatus)
