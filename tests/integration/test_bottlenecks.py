"""The bottleneck report on a known data set, through the real services (SQLite and PostgreSQL).

Ten paid orders wait i x 10 minutes in review and i hours at the warehouse (i = 1..10), so every
percentile is known by hand (nearest rank: p50 of ten is the 5th, p90 the 9th, p99 the 10th).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor
from orderhub.domain.bottlenecks import Segment, StepFigures
from orderhub.domain.orders import PaymentStatus
from orderhub.domain.transitions import Action
from orderhub.errors import PermissionDenied, ValidationFailed
from orderhub.permissions import permissions_of
from orderhub.services import bottlenecks, orders
from tests.conftest import SETUP_ADMIN
from tests.factories import T0, an_order
from tests.unit.fakes import FakeClock

H = 3600.0


@dataclass
class Flow:
    hub: Hub
    clock: FakeClock
    ids: dict[int, int]


def _create(hub: Hub, no: int, **changes: Any) -> int:
    order = an_order(channel_order_no=f"B-{no}", payment_status=PaymentStatus.PAID, **changes)
    created = orders.create_order(hub.uow(), order, actor=SETUP_ADMIN, review_required=True)
    assert created.order.id is not None
    return created.order.id


def _act(hub: Hub, order_id: int, action: Action, **kwargs: Any) -> None:
    orders.apply_action(
        hub.uow(), order_id, action, actor=SETUP_ADMIN, review_required=True, **kwargs
    )


def _run(
    hub: Hub, clock: FakeClock, steps: list[tuple[datetime, int, Action, dict[str, Any]]]
) -> None:
    for at, order_id, action, kwargs in sorted(steps, key=lambda s: s[0]):
        clock.at = at
        _act(hub, order_id, action, **kwargs)


@pytest.fixture
def flow(hub: Hub) -> Iterator[Flow]:
    """Orders 1..10 through review and the warehouse; 11 held and released; 12 in exception."""
    clock = FakeClock(T0)
    hub.uow.clock = clock
    ids = {
        i: _create(
            hub,
            i,
            shop="east" if i % 2 else "west",
            tags=("vip",) if i % 2 == 0 else (),
        )
        for i in range(1, 13)
    }
    steps: list[tuple[datetime, int, Action, dict[str, Any]]] = []
    for i in range(1, 11):
        approved = T0 + timedelta(minutes=10 * i)
        handed = approved + timedelta(minutes=2)
        warehouse = "WH1" if i <= 5 else "WH2"
        steps += [
            (approved, ids[i], Action.APPROVE, {}),
            (
                approved + timedelta(minutes=1),
                ids[i],
                Action.ALLOCATE,
                {"params": {"warehouse": warehouse}},
            ),
            (handed, ids[i], Action.SEND_TO_WAREHOUSE, {}),
            (
                handed + timedelta(hours=i),
                ids[i],
                Action.SHIP,
                {"params": {"carrier": "SF", "tracking_no": f"SF{i}"}},
            ),
        ]
    steps += [
        (T0 + timedelta(minutes=5), ids[11], Action.HOLD, {"reason_code": "risk"}),
        (T0 + timedelta(minutes=65), ids[11], Action.RELEASE, {}),
        (T0 + timedelta(minutes=10), ids[12], Action.RAISE_EXCEPTION, {"reason_code": "other"}),
        (T0 + timedelta(minutes=40), ids[12], Action.RESOLVE, {}),
    ]
    _run(hub, clock, steps)
    clock.at = T0 + timedelta(hours=12)
    yield Flow(hub, clock, ids)


def _by_step(figures: list[StepFigures]) -> dict[str, StepFigures]:
    return {f.step: f for f in figures if f.segment is None}


def _report(flow: Flow, **kwargs: Any) -> bottlenecks.BottleneckReport:
    return bottlenecks.report(flow.hub.uow, actor=SETUP_ADMIN, **kwargs)


def test_the_report_gives_exact_percentiles_per_state_and_names_the_slowest(flow: Flow) -> None:
    report = _report(flow, since="1d")
    steps = _by_step(report.steps)
    review = steps["pending_review"]
    # Ten approved after 10..100 minutes, 11 waited 5 before its hold, 12 waited 10 before its
    # exception: twelve stays.
    assert review.count == 12
    assert (review.p50, review.p90, review.p99, review.max) == (2400.0, 5400.0, 6000.0, 6000.0)
    warehouse = steps["sent_to_warehouse"]
    assert warehouse.count == 10
    assert (warehouse.p50, warehouse.p90, warehouse.p99) == (5 * H, 9 * H, 10 * H)
    assert warehouse.total == 55 * H
    assert steps["on_hold"].count == 1 and steps["on_hold"].p50 == H
    assert steps["exception"].p90 == 30 * 60.0
    assert report.slowest_step is not None
    assert report.slowest_step.step == "sent_to_warehouse"


def test_hops_measure_payment_to_handoff_and_handoff_to_shipped(flow: Flow) -> None:
    report = _report(flow, since="1d")
    steps = _by_step(report.steps)
    # Paid at T0 (created paid), handed off 10 i + 2 minutes later.
    assert steps["payment_to_handoff"].p50 == (50 + 2) * 60.0
    assert steps["handoff_to_shipped"].p90 == 9 * H
    assert report.slowest_hop is not None and report.slowest_hop.step == "handoff_to_shipped"
    assert "shipped_to_delivered" not in steps


def test_segments_split_each_state_by_warehouse_shop_and_tag(flow: Flow) -> None:
    by_warehouse = {
        (f.step, f.segment): f for f in _report(flow, since="1d", by="warehouse").segments
    }
    assert by_warehouse[("sent_to_warehouse", "WH1")].p50 == 3 * H
    assert by_warehouse[("sent_to_warehouse", "WH2")].p50 == 8 * H
    # Reviewed before it was allocated: no warehouse yet.
    assert by_warehouse[("pending_review", "")].count == 12
    by_tag = {(f.step, f.segment): f for f in _report(flow, since="1d", by="tag").segments}
    vip = by_tag[("sent_to_warehouse", "vip")]
    assert (vip.count, vip.p50, vip.p90) == (5, 6 * H, 10 * H)
    by_shop = {(f.step, f.segment): f for f in _report(flow, since="1d", by="shop").segments}
    assert by_shop[("sent_to_warehouse", "east")].max == 9 * H


def test_the_window_keeps_only_stays_that_ended_inside_it(flow: Flow) -> None:
    # Until T0 + 5 h: orders 1..4 had shipped (handed off 10 i + 2 minutes in, then i hours).
    until = (T0 + timedelta(hours=5)).isoformat()
    report = _report(flow, since=T0.isoformat(), until=until, steps=["sent_to_warehouse"])
    (only,) = report.steps
    assert (only.step, only.count, only.max) == ("sent_to_warehouse", 4, 4 * H)


def test_orders_waiting_now_and_the_slowest_orders_say_where_they_are(flow: Flow) -> None:
    report = _report(flow, since="1d", limit=2)
    waiting = {f.step: f for f in report.waiting}
    # 11 and 12 went back to review at 65 and 40 minutes; now is 12 hours.
    assert waiting["pending_review"].count == 2
    assert waiting["pending_review"].max == 12 * H - 40 * 60
    assert waiting["shipped"].count == 10
    slowest = [s for s in report.slowest_orders if s.step == "sent_to_warehouse"]
    assert [s.order_id for s in slowest] == [flow.ids[10], flow.ids[9]]
    assert slowest[0].status == "shipped" and slowest[0].seconds == 10 * H
    longest = [s for s in report.longest_waiting if s.step == "pending_review"]
    assert [s.order_id for s in longest] == [flow.ids[12], flow.ids[11]]


def test_the_report_needs_report_read_and_says_what_is_wrong_with_its_input(
    flow: Flow,
) -> None:
    agent = Actor(id="a", name="agent", role="agent", permissions=permissions_of("agent"))
    with pytest.raises(PermissionDenied):
        bottlenecks.report(flow.hub.uow, actor=agent)
    with pytest.raises(ValidationFailed, match="use one of: channel, shop"):
        _report(flow, by="colour")
    with pytest.raises(ValidationFailed, match="30m, 12h, 1d"):
        _report(flow, since="yesterday")
    with pytest.raises(ValidationFailed, match="neither a state nor a hop"):
        _report(flow, steps=["lost"])
    assert Segment("order_type") is Segment.ORDER_TYPE
