"""The dwell report's pure parts: nearest-rank percentiles, what an event ends, the slowest step
named, and the window people type."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM
from orderhub.domain.bottlenecks import (
    StepFigures,
    StepKind,
    finished_steps,
    nearest_rank,
    percentile,
    short_duration,
    slowest,
    window,
)
from orderhub.domain.orders import PaymentStatus, open_order
from orderhub.domain.transitions import Action
from orderhub.errors import ValidationFailed
from tests.factories import T0, an_order


def test_nearest_rank_is_exact_where_floating_point_is_not() -> None:
    # 0.9 * 10 = 9.000000000000002 in floating point; its ceiling would wrongly be 10.
    assert nearest_rank(90, 10) == 9
    assert [nearest_rank(p, 12) for p in (50, 90, 99, 100)] == [6, 11, 12, 12]
    assert nearest_rank(99, 1) == 1


def test_a_percentile_is_always_one_of_the_measured_values() -> None:
    values = sorted([3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.3, 5.8, 9.7, 9.3])
    assert [percentile(values, p) for p in (50, 90, 99)] == [4.0, 9.3, 9.7]
    with pytest.raises(ValueError):
        nearest_rank(50, 0)


def test_figures_from_values_give_count_percentiles_and_max() -> None:
    figures = StepFigures.of(StepKind.STATE, "paid", [60.0 * i for i in range(1, 101)])
    assert figures is not None
    assert (figures.count, figures.p50, figures.p90, figures.p99) == (100, 3000.0, 5400.0, 5940.0)
    assert figures.max == 6000.0
    assert StepFigures.of(StepKind.STATE, "paid", []) is None


def test_a_status_change_ends_the_stay_it_left_from_the_time_it_entered() -> None:
    order = open_order(an_order(payment_status=PaymentStatus.PAID), at=T0, custom_field_defs={})
    event = actions.apply(order, Action.APPROVE, actor=SYSTEM, at=T0 + timedelta(minutes=7))
    (stay,) = finished_steps(order, event)
    assert (stay.kind, stay.step, stay.entered_at, stay.seconds) == (
        StepKind.STATE,
        "paid",
        T0,
        420.0,
    )
    note = actions.note(order, "edit", actor=SYSTEM, at=T0 + timedelta(hours=1), source="x")
    assert finished_steps(order, note) == []


def test_hand_off_shipment_and_delivery_each_end_a_hop_between_systems() -> None:
    order = open_order(an_order(payment_status=PaymentStatus.PAID), at=T0, custom_field_defs={})
    for minutes, action in ((1, Action.APPROVE), (2, Action.ALLOCATE)):
        actions.apply(order, action, actor=SYSTEM, at=T0 + timedelta(minutes=minutes))
    handed = actions.apply(
        order, Action.SEND_TO_WAREHOUSE, actor=SYSTEM, at=T0 + timedelta(minutes=30)
    )
    assert [(s.kind, s.step, s.seconds) for s in finished_steps(order, handed)] == [
        (StepKind.STATE, "allocated", 28 * 60.0),
        (StepKind.HOP, "payment_to_handoff", 30 * 60.0),
    ]
    shipped = actions.apply(
        order,
        Action.SHIP,
        actor=SYSTEM,
        at=T0 + timedelta(hours=3),
        params={"carrier": "SF", "tracking_no": "SF1"},
    )
    assert finished_steps(order, shipped)[1].seconds == 2.5 * 3600
    delivered = actions.apply(order, Action.DELIVER, actor=SYSTEM, at=T0 + timedelta(days=1))
    assert finished_steps(order, delivered)[1].step == "shipped_to_delivered"
    assert finished_steps(order, delivered)[1].seconds == 21 * 3600.0


def test_a_channel_payment_time_ahead_of_our_clock_counts_as_no_time() -> None:
    order = open_order(
        an_order(payment_status=PaymentStatus.PAID, paid_at=T0 + timedelta(minutes=5)),
        at=T0,
        custom_field_defs={},
    )
    for action in (Action.APPROVE, Action.ALLOCATE):
        actions.apply(order, action, actor=SYSTEM, at=T0)
    handed = actions.apply(order, Action.SEND_TO_WAREHOUSE, actor=SYSTEM, at=T0)
    assert finished_steps(order, handed)[1].seconds == 0.0


def _f(step: str, p90: float, p99: float, kind: StepKind = StepKind.STATE) -> StepFigures:
    return StepFigures(kind, step, 10, p90 / 2, p90, p99, p99)


def test_the_slowest_step_is_the_highest_p90_among_the_states_the_flow_answers_for() -> None:
    figures = [
        _f("pending_payment", 90_000, 95_000),  # the buyer's time: never named
        _f("pending_review", 600, 6_000),
        _f("sent_to_warehouse", 3_600, 9_000),
        _f("picking", 3_600, 20_000),  # same p90, a higher p99: named
        _f("shipped", 90_000, 90_000),  # the courier's transit: never named
        _f("payment_to_handoff", 7_200, 8_000, StepKind.HOP),
    ]
    named = slowest(figures, StepKind.STATE)
    assert named is not None and named.step == "picking"
    hop = slowest(figures, StepKind.HOP)
    assert hop is not None and hop.step == "payment_to_handoff"
    assert slowest([], StepKind.STATE) is None


def test_a_window_is_a_duration_back_from_now_or_an_iso_time() -> None:
    now = T0 + timedelta(days=3)
    assert window("1d", None, now=now).since == now - timedelta(days=1)
    assert window("90m", "30m", now=now).until == now - timedelta(minutes=30)
    span = window("2026-11-11T08:00:00+08:00", None, now=now)
    assert span.since == T0
    for bad, says in (
        ("yesterday", "30m, 12h, 1d"),
        ("2026-11-11T00:00:00", "needs a time zone"),
    ):
        with pytest.raises(ValidationFailed, match=says):
            window(bad, None, now=now)
    with pytest.raises(ValidationFailed, match="must be before until"):
        window("1h", "2h", now=now)


def test_short_durations_keep_two_units() -> None:
    assert [short_duration(s) for s in (0, 0.25, 45, 750, 11_100, 187_200)] == [
        "0s",
        "0.25s",
        "45s",
        "12m 30s",
        "3h 05m",
        "2d 04h",
    ]
