"""The bottleneck report on a known data set (bottlenecks_kit.py), through the real services,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Table, func, select

from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor
from orderhub.domain.bottlenecks import BottleneckReport, Segment, StepFigures
from orderhub.errors import PermissionDenied, ValidationFailed
from orderhub.permissions import permissions_of
from orderhub.services import bottlenecks
from orderhub.storage.tables import state_stay_tags, state_stays, state_stays_pending
from orderhub.worker.scheduler import Scheduler
from tests.conftest import SETUP_ADMIN
from tests.factories import T0
from tests.integration.bottlenecks_kit import Flow, H, make_flow


@pytest.fixture
def flow(hub: Hub) -> Flow:
    return make_flow(hub)


def _by_step(figures: list[StepFigures]) -> dict[str, StepFigures]:
    return {f.step: f for f in figures if f.segment is None}


def _report(flow: Flow, **kwargs: Any) -> BottleneckReport:
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


def _count(hub: Hub, table: Table) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_stays_wait_pending_until_the_worker_settles_them_into_the_report(hub: Hub) -> None:
    make_flow(hub)
    pending = _count(hub, state_stays_pending)
    # 12 paid, 12 in review, 10 approved, 10 allocated, 10 at the warehouse, 1 held, 1 in
    # exception; hops: 10 hand-offs, 10 shipments.
    assert (pending, _count(hub, state_stays)) == (12 + 12 + 10 + 10 + 10 + 1 + 1 + 20, 0)
    assert Scheduler(hub).run_due() >= 1
    assert (_count(hub, state_stays_pending), _count(hub, state_stays)) == (0, pending)
    # Once more under its tag, each stay of a vip order: 5 stays and 2 hops of 2, 4, 6, 8 and
    # 10, and 12's stays in paid, in review and in exception.
    assert _count(hub, state_stay_tags) == 5 * 7 + 3
