"""Higher scores first, and no starvation: the outbox's pushes to the simulated Qimen WMS (over
real HTTP on 127.0.0.1), scarce stock for orders waiting for it, and a warehouse's queue.

Time is a controllable clock moved by hand: aging is asserted in rounds and minutes, never in
wall-clock time. The relay runs round by round in the test's thread, sending at most N messages
a round, as a rate-limited target is sent to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from orderhub.app import create_app
from orderhub.bootstrap import Hub, bootstrap
from orderhub.domain.fulfilment import outbound_no
from orderhub.domain.orders import Order, OrderLine, PaymentStatus
from orderhub.domain.priority import longest_overtaking
from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind
from orderhub.domain.transitions import OrderStatus
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.services import catalogue, inventory, orders, rules, warehouses
from orderhub.services.fulfilment.deliveries import RetryPolicy
from orderhub.storage.tables import outbox
from orderhub.worker.relay import Relay
from tests.conftest import CHEAP_HASHER, ApiUser
from tests.factories import an_order
from tests.integration.fulfilment_kit import ADMIN, WAREHOUSE, WMS_CREDENTIALS, sim, start_wms
from tests.unit.fakes import FakeClock

VIP = Rule("VIP buyer", {"field": "tags", "op": "contains", "value": "VIP"}, {"weight": 50})
PRIORITY_RULES = RuleSet(RuleSetKind.PRIORITY, (VIP,), {"base": 0})
MUG = (OrderLine(sku="MUG-350", title="马克杯", quantity=1, unit_price=3900),)
ROUND = 3  # messages the relay sends a round


@pytest.fixture
def clock() -> FakeClock:
    # Near the real time: the WMS simulator checks the signed timestamps against its own clock.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


def _hub(hub: Hub, clock: FakeClock, **settings: Any) -> Iterator[Hub]:
    changed = hub.settings.model_copy(
        update={"review_required": False, "default_warehouse": WAREHOUSE, **settings}
    )
    flowing = bootstrap(changed, clock=clock, hasher=CHEAP_HASHER)
    rules.save_rules(flowing.uow(), PRIORITY_RULES, actor=ADMIN)
    yield flowing
    flowing.close()


@pytest.fixture
def pushing_hub(hub: Hub, clock: FakeClock) -> Iterator[Hub]:
    """Paid orders are approved, allocated and pushed at once (no stock held)."""
    yield from _hub(hub, clock, reserve_stock=False, auto_allocate=True)


@pytest.fixture
def stocked_hub(hub: Hub, clock: FakeClock) -> Iterator[Hub]:
    """Paying reserves stock in a warehouse run by hand; nothing is pushed."""
    yield from _hub(hub, clock, reserve_stock=True, auto_allocate=False)


def _run_by_wms(hub: Hub, **options: Any) -> Iterator[RunningServer]:
    server = start_wms("http://127.0.0.1:9/callbacks", **options)
    warehouses.create_warehouse(
        hub.uow(),
        hub.wms,
        actor=ADMIN,
        code=WAREHOUSE,
        name=WAREHOUSE,
        protocol="qimen",
        base_url=server.url,
        credentials=WMS_CREDENTIALS,
        rate_per_s=1000,
    )
    yield server
    server.stop()


@pytest.fixture
def wms(pushing_hub: Hub) -> Iterator[RunningServer]:
    # It takes orders and holds them (picking an hour later): the test reads what arrived.
    yield from _run_by_wms(pushing_hub, pick_after_s=3600)


@pytest.fixture
def picking_wms(pushing_hub: Hub) -> Iterator[RunningServer]:
    # Accepted orders wait in its pick queue until the test asks for a wave.
    yield from _run_by_wms(pushing_hub, pick_wave=2, ship_after_s=3600)


def _pay(hub: Hub, no: str, *tags: str, lines: tuple[OrderLine, ...] | None = None) -> Order:
    changes: dict[str, Any] = {"lines": lines} if lines else {}
    draft = an_order(channel_order_no=no, payment_status=PaymentStatus.PAID, tags=tags, **changes)
    made = orders.create_order(hub.uow(), draft, actor=ADMIN, review_required=False)
    return made.order


def _pushed_in_order(hub: Hub) -> list[int]:
    """The orders whose push the WMS took, in the order they were sent."""
    with hub.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.order_id)
            .where(outbox.c.event_type == "wms.outbound.create", outbox.c.status == "delivered")
            .order_by(outbox.c.delivered_at, outbox.c.id)
        )
        return [int(r.order_id) for r in rows]


def _relay(hub: Hub) -> Relay:
    return Relay(hub.uow, hub.deliveries, batch=ROUND, policy=RetryPolicy(3, 0.05, 0.1))


def test_vip_orders_reach_the_wms_before_an_older_backlog(
    pushing_hub: Hub, wms: RunningServer, clock: FakeClock
) -> None:
    backlog = [_pay(pushing_hub, f"LOW-{n}").id for n in range(6)]
    clock.advance(minutes=1)
    vips = [_pay(pushing_hub, f"VIP-{n}", "VIP").id for n in range(ROUND)]
    assert {_order(pushing_hub, v).priority for v in vips} == {50}
    relay = _relay(pushing_hub)
    try:
        relay.run_once()
        first_round = _pushed_in_order(pushing_hub)
        assert sorted(first_round) == sorted(vips)
        for _ in range(2):
            clock.advance(minutes=1)
            relay.run_once()
    finally:
        relay.close()
    # Then the backlog, oldest first.
    assert _pushed_in_order(pushing_hub)[ROUND:] == backlog
    # The WMS took them in that order.
    taken = list(sim(wms, "GET", "outbound")["orders"])
    assert taken == [outbound_no(i) for i in [*first_round, *backlog] if i is not None]


def test_a_low_priority_order_is_pushed_within_the_bound_under_a_stream_of_vip_orders(
    pushing_hub: Hub, wms: RunningServer, clock: FakeClock
) -> None:
    aging = pushing_hub.settings.priority_aging_per_min
    low = _pay(pushing_hub, "LOW").id
    # Newer work with a score of 50 ranks ahead of it for (50 - 0) / aging minutes; past that,
    # never again: the bound the docs promise is (100 - 0) / aging for any newer work.
    overtaken_for = timedelta(minutes=(VIP.outcome["weight"] - 0) / aging)
    assert overtaken_for <= longest_overtaking(0, aging)
    relay = _relay(pushing_hub)
    pushed_at: dict[int, int] = {}
    try:
        for minute in range(1, 40):
            clock.advance(minutes=1)
            for n in range(ROUND):  # as many new VIP orders a minute as the relay sends
                _pay(pushing_hub, f"VIP-{minute}-{n}", "VIP")
            relay.run_once()
            for order_id in _pushed_in_order(pushing_hub):
                pushed_at.setdefault(order_id, minute)
            if low in pushed_at:
                break
    finally:
        relay.close()
    assert low in pushed_at, "the low-priority order starved"
    # It waited while newer VIP orders went first, and went as soon as the bound said.
    assert pushed_at[low] == overtaken_for.total_seconds() / 60
    assert len(pushed_at) == ROUND * pushed_at[low]  # a full round every minute
    assert low in [
        int(str(code).removeprefix("OH")) for code in sim(wms, "GET", "outbound")["orders"]
    ]


def test_the_wms_picks_the_most_urgent_first_with_aging_from_the_payment(
    pushing_hub: Hub, picking_wms: RunningServer, clock: FakeClock
) -> None:
    first_low = _pay(pushing_hub, "A-LOW").id
    clock.advance(minutes=1)
    vip = _pay(pushing_hub, "B-VIP", "VIP").id
    clock.advance(minutes=1)
    later_low = _pay(pushing_hub, "C-LOW").id
    clock.advance(minutes=38)  # A-LOW has waited past (50 - 0) / 2 = 25 minutes by now
    late_vip = _pay(pushing_hub, "D-VIP", "VIP").id
    relay = _relay(pushing_hub)
    try:
        relay.run_once()
        relay.run_once()
    finally:
        relay.close()
    held = sim(picking_wms, "GET", "outbound")["orders"]
    assert {o["priority"] for o in held.values()} == {0, 50}  # the push carried the scores
    assert all(o["pick_turn"] is None for o in held.values())  # nothing picked before a wave
    picked = [*sim(picking_wms, "POST", "pick", {"count": 1})["picked"]]
    picked += sim(picking_wms, "POST", "pick", {})["picked"]  # a wave of pick_wave = 2
    picked += sim(picking_wms, "POST", "pick", {})["picked"]
    order_ids = [vip, first_low, later_low, late_vip]
    assert picked == [outbound_no(i) for i in order_ids if i is not None]
    turns = sim(picking_wms, "GET", "outbound")["orders"]
    assert [turns[code]["pick_turn"] for code in picked] == [1, 2, 3, 4]


def _stock(hub: Hub) -> None:
    warehouses.create_warehouse(hub.uow(), hub.wms, actor=ADMIN, code=WAREHOUSE, name=WAREHOUSE)
    catalogue.add_product(hub.uow(), actor=ADMIN, sku="MUG-350", title="马克杯")


def _order(hub: Hub, order_id: int | None) -> Order:
    assert order_id is not None
    with hub.uow.read_only() as uow:
        return uow.orders.get(order_id)


def _status(hub: Hub, order_id: int | None) -> OrderStatus:
    return _order(hub, order_id).status


def _one_mug_arrives(hub: Hub) -> None:
    inventory.receive(
        hub.uow(), actor=ADMIN, sku="MUG-350", warehouse=WAREHOUSE, quantity=1, reason="goods in"
    )


def test_scarce_stock_goes_to_the_vip_order_though_it_paid_later(
    stocked_hub: Hub, clock: FakeClock
) -> None:
    _stock(stocked_hub)
    low = _pay(stocked_hub, "LOW", lines=MUG).id
    clock.advance(minutes=1)
    vip = _pay(stocked_hub, "VIP", "VIP", lines=MUG).id
    assert _status(stocked_hub, low) is _status(stocked_hub, vip) is OrderStatus.EXCEPTION
    _one_mug_arrives(stocked_hub)
    assert (_status(stocked_hub, vip), _status(stocked_hub, low)) == (
        OrderStatus.APPROVED,
        OrderStatus.EXCEPTION,
    )


def test_scarce_stock_goes_to_an_order_that_waited_past_the_bound_before_a_newer_vip(
    stocked_hub: Hub, clock: FakeClock
) -> None:
    _stock(stocked_hub)
    low = _pay(stocked_hub, "LOW", lines=MUG).id
    clock.advance(minutes=30)  # past (50 - 0) / 2 = 25 minutes
    vip = _pay(stocked_hub, "VIP", "VIP", lines=MUG).id
    _one_mug_arrives(stocked_hub)
    assert (_status(stocked_hub, low), _status(stocked_hub, vip)) == (
        OrderStatus.APPROVED,
        OrderStatus.EXCEPTION,
    )


def _queued(hub: Hub, no: str, priority: int, paid_minutes_ago: int, clock: FakeClock) -> int:
    draft = an_order(
        channel_order_no=no,
        payment_status=PaymentStatus.PAID,
        priority=priority,
        paid_at=clock.now() - timedelta(minutes=paid_minutes_ago),
    )
    made = orders.create_order(hub.uow(), draft, actor=ADMIN, review_required=False)
    assert made.order.id is not None
    return made.order.id


def test_the_warehouse_queue_puts_a_long_wait_before_a_newer_higher_score(
    hub: Hub, clock: FakeClock, user_for: Callable[[str], ApiUser]
) -> None:
    reader = user_for("warehouse")
    flowing = bootstrap(
        hub.settings.model_copy(update={"review_required": False, "auto_allocate": True}),
        clock=clock,
        hasher=CHEAP_HASHER,
    )
    try:
        warehouses.create_warehouse(
            flowing.uow(), flowing.wms, actor=ADMIN, code="WH-MAIN", name="main"
        )
        waited = _queued(flowing, "WAITED", 0, 60, clock)  # 0 + 60 x 2 = 120
        urgent = _queued(flowing, "URGENT", 50, 5, clock)  # 50 + 5 x 2 = 60
        fresh = _queued(flowing, "FRESH", 0, 10, clock)  # 0 + 10 x 2 = 20
        with TestClient(create_app(flowing)) as api:
            found = api.get("/api/v1/warehouses/WH-MAIN/queue", headers=reader.headers)
    finally:
        flowing.close()
    assert found.status_code == 200, found.text
    body = found.json()
    assert [o["id"] for o in body["orders"]] == [waited, urgent, fresh]
    assert [o["effective_priority"] for o in body["orders"]] == [120.0, 60.0, 20.0]
