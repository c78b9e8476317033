"""Paid orders through stock, the simulated WMS and back to the channels, in one process.

The relay runs in the test's thread (round by round), OrderHub serves the WMS callbacks over
real HTTP, and the Qimen WMS and channel simulators answer on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from orderhub.app import create_app
from orderhub.bootstrap import Hub, bootstrap
from orderhub.domain.fulfilment import ReportKind, StockCount, WarehouseReport
from orderhub.domain.orders import Amounts, Order, OrderLine, PaymentStatus
from orderhub.domain.ownership import NotOwner
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.integrations.channels.simulate import start_simulators
from orderhub.services import inventory
from orderhub.services import orders as order_service
from orderhub.services import outbox as outbox_service
from orderhub.services.channel_sync import pull_shop
from orderhub.services.fulfilment.deliveries import RetryPolicy
from orderhub.services.fulfilment.warehouse_reports import apply_reports
from orderhub.storage.tables import orders, outbox
from orderhub.worker.relay import Relay
from tests.conftest import CHEAP_HASHER
from tests.factories import an_order
from tests.integration.fulfilment_kit import (
    ADMIN,
    SKUS,
    WAREHOUSE,
    add_shops,
    set_up_books,
    sim,
    start_wms,
    stock_balances,
    wait_for,
)


@pytest.fixture
def flow_hub(hub: Hub) -> Iterator[Hub]:
    """The hub's database with the whole pipeline on: reserve, approve, allocate, push."""
    settings = hub.settings.model_copy(
        update={
            "reserve_stock": True,
            "auto_allocate": True,
            "review_required": False,
            "default_warehouse": WAREHOUSE,
        }
    )
    flowing = bootstrap(settings, hasher=CHEAP_HASHER)
    yield flowing
    flowing.close()


@pytest.fixture
def orderhub(flow_hub: Hub) -> Iterator[RunningServer]:
    server = RunningServer(create_app(flow_hub)).start()
    yield server
    server.stop()


@pytest.fixture
def wms(orderhub: RunningServer) -> Iterator[RunningServer]:
    server = start_wms(f"{orderhub.url}/api/v1/wms/{WAREHOUSE}/callbacks", report_progress=True)
    yield server
    server.stop()


@pytest.fixture
def channel_sims() -> Iterator[dict[str, RunningServer]]:
    running = start_simulators(first_port=0)
    yield running
    for server in running.values():
        server.stop()


def _relay(hub: Hub) -> Relay:
    return Relay(hub.uow, hub.deliveries, lease_s=5, policy=RetryPolicy(20, 0.05, 0.5))


def _statuses(hub: Hub) -> dict[str, int]:
    with hub.engine.connect() as conn:
        rows = conn.execute(select(orders.c.status)).scalars().all()
    counts: dict[str, int] = {}
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


def _pull_all(hub: Hub, codes: dict[str, str]) -> None:
    for code in codes.values():
        pull_shop(hub.uow, hub.channels, code, review_required=False)


def test_paid_orders_ship_and_every_channel_shows_the_tracking_no(
    flow_hub: Hub, wms: RunningServer, channel_sims: dict[str, RunningServer]
) -> None:
    set_up_books(flow_hub, wms.url, stock=1000)
    sim(wms, "PUT", "stock", {sku: 1000 for sku in SKUS})
    codes = add_shops(flow_hub, channel_sims)
    for server in channel_sims.values():
        sim(server, "POST", "orders", {"count": 8})
    _pull_all(flow_hub, codes)
    relay = _relay(flow_hub)

    def shipped_everywhere() -> bool:
        counts = _statuses(flow_hub)
        settled = ("shipped", "cancelled", "exception", "pending_payment")
        moving = sum(n for s, n in counts.items() if s not in settled)
        return moving == 0 and not any(
            r["status"] in ("pending", "sending")
            for r in outbox_service.messages(flow_hub.uow(), actor=ADMIN)
        )

    wait_for(
        "every paid order shipped",
        shipped_everywhere,
        timeout_s=60,
        tick=relay.run_once,
        state=lambda: (
            _statuses(flow_hub),
            outbox_service.counts(flow_hub.uow(), actor=ADMIN),
            [m["last_error"] for m in outbox_service.messages(flow_hub.uow(), actor=ADMIN)][:5],
            sim(wms, "GET", "callbacks"),
        ),
    )
    with flow_hub.engine.connect() as conn:
        rows = conn.execute(select(orders).where(orders.c.status == "shipped")).mappings().all()
    assert rows, f"nothing shipped: {_statuses(flow_hub)}"
    truth = {}
    for server in channel_sims.values():
        truth.update(sim(server, "GET", "orders")["orders"])
    for row in rows:
        seen = truth[row["channel_order_no"]]
        assert (seen["carrier"], seen["tracking_no"]) == (row["carrier"], row["tracking_no"])
    assert stock_balances(flow_hub) == []
    relay.close()


def test_an_order_short_of_stock_waits_and_moves_on_when_goods_arrive(
    flow_hub: Hub, wms: RunningServer
) -> None:
    set_up_books(flow_hub, wms.url, stock=0)
    order = _manual_order(flow_hub, sku=SKUS[0], quantity=2)
    assert (order.status, order.exception_reason) == (OrderStatus.EXCEPTION, "out_of_stock")
    inventory.receive(
        flow_hub.uow(), actor=ADMIN, sku=SKUS[0], warehouse=WAREHOUSE, quantity=5, reason="in"
    )
    moved = order_service.get_order(flow_hub.uow(), order.id or 0, actor=ADMIN)
    assert moved.status is OrderStatus.ALLOCATED and moved.stock_state == "reserved"
    with flow_hub.uow.read_only() as uow:
        level = uow.inventory.level(SKUS[0], WAREHOUSE)
    assert level is not None and (level.on_hand, level.reserved) == (5, 2)


def test_cancelling_before_the_hand_off_gives_the_stock_back_and_withdraws_the_push(
    flow_hub: Hub, wms: RunningServer
) -> None:
    set_up_books(flow_hub, wms.url, stock=3)
    order = _manual_order(flow_hub, sku=SKUS[0], quantity=3)
    assert order.status is OrderStatus.ALLOCATED
    order_service.apply_action(
        flow_hub.uow(),
        order.id or 0,
        Action.CANCEL,
        actor=ADMIN,
        review_required=False,
        reason="buyer changed mind",
    )
    with flow_hub.uow.read_only() as uow:
        level = uow.inventory.level(SKUS[0], WAREHOUSE)
    assert level is not None and level.reserved == 0
    with flow_hub.engine.connect() as conn:
        statuses = (
            conn.execute(
                select(outbox.c.status).where(
                    outbox.c.order_id == order.id, outbox.c.target != "events"
                )
            )
            .scalars()
            .all()
        )
    assert statuses == ["superseded"]
    assert stock_balances(flow_hub) == []


def test_an_intercept_stops_the_parcel_and_gives_the_stock_back(
    flow_hub: Hub, orderhub: RunningServer
) -> None:
    slow = start_wms(f"{orderhub.url}/api/v1/wms/{WAREHOUSE}/callbacks", ship_after_s=600)
    try:
        set_up_books(flow_hub, slow.url, stock=4)
        order = _manual_order(flow_hub, sku=SKUS[1], quantity=1)
        relay = _relay(flow_hub)
        relay.run_once()
        taken = order_service.get_order(flow_hub.uow(), order.id or 0, actor=ADMIN)
        assert taken.status is OrderStatus.SENT_TO_WAREHOUSE
        _intercept(flow_hub, relay, order.id or 0)
        stopped = order_service.get_order(flow_hub.uow(), order.id or 0, actor=ADMIN)
        assert stopped.status is OrderStatus.CANCELLED and stopped.stock_state == "released"
        outbound = sim(slow, "GET", "outbound")["orders"]
        assert [o["status"] for o in outbound.values()] == ["CANCELED"]
        relay.close()
    finally:
        slow.stop()


def test_a_refused_shipment_puts_the_order_in_exception_with_the_channels_reason(
    flow_hub: Hub, wms: RunningServer, channel_sims: dict[str, RunningServer]
) -> None:
    set_up_books(flow_hub, wms.url, stock=100)
    sim(wms, "PUT", "stock", {sku: 100 for sku in SKUS})
    taobao = {"taobao": channel_sims["taobao"]}
    codes = add_shops(flow_hub, taobao)
    no = sim(taobao["taobao"], "POST", "orders", {"count": 1})["created"][0]
    _pull_all(flow_hub, codes)
    sim(taobao["taobao"], "POST", f"orders/{no}/refund")
    relay = _relay(flow_hub)
    wait_for(
        "the refusal",
        lambda: _statuses(flow_hub).get("exception", 0) == 1,
        timeout_s=30,
        tick=relay.run_once,
    )
    with flow_hub.engine.connect() as conn:
        row = conn.execute(select(orders)).mappings().one()
    assert row["exception_reason"] == "channel_refused_shipment"
    relay.close()


def _manual_order(hub: Hub, *, sku: str, quantity: int) -> Order:
    line = OrderLine(sku=sku, title=sku, quantity=quantity, unit_price=1000)
    draft = an_order(
        channel_order_no="",
        lines=(line,),
        amounts=Amounts(goods_total=line.amount, paid_total=line.amount),
        payment_status=PaymentStatus.PAID,
    )
    return order_service.create_order(
        hub.uow(), draft, actor=ADMIN, source="api", review_required=False
    ).order


def test_shipping_by_hand_from_a_wms_warehouse_is_refused_as_the_wms_owns_shipments(
    flow_hub: Hub, wms: RunningServer
) -> None:
    set_up_books(flow_hub, wms.url, stock=5)
    order = _manual_order(flow_hub, sku=SKUS[0], quantity=1)
    _relay(flow_hub).run_once()
    with pytest.raises(NotOwner) as refused:
        order_service.apply_action(
            flow_hub.uow(),
            order.id or 0,
            Action.SHIP,
            actor=ADMIN,
            review_required=False,
            params={"carrier": "SF", "tracking_no": "SF1"},
        )
    assert f"the WMS of {WAREHOUSE} reports the shipment" in refused.value.detail


def test_a_channel_orders_lines_are_the_channels_to_change(flow_hub: Hub) -> None:
    draft = an_order(channel="taobao", channel_order_no="T-1", shop="tb")
    order = order_service.create_order(
        flow_hub.uow(), draft, actor=ADMIN, source="taobao", review_required=False
    ).order
    with pytest.raises(NotOwner) as refused:
        order_service.edit_order(flow_hub.uow(), order.id or 0, actor=ADMIN, lines=draft.lines)
    assert "belong to taobao; change them on taobao" in refused.value.detail
    edited = order_service.edit_order(
        flow_hub.uow(), order.id or 0, actor=ADMIN, seller_note="call first"
    )
    assert edited.seller_note == "call first"


def test_an_intercept_after_the_parcel_left_is_reported_too_late(flow_hub: Hub) -> None:
    # The WMS ships at once; its shipped callback cannot reach OrderHub yet (nobody listens).
    quick = start_wms("http://127.0.0.1:9/unreachable")
    try:
        set_up_books(flow_hub, quick.url, stock=4)
        order = _manual_order(flow_hub, sku=SKUS[2], quantity=1)
        relay = _relay(flow_hub)
        relay.run_once()
        wait_for(
            "the WMS to ship",
            lambda: (
                [o["status"] for o in sim(quick, "GET", "outbound")["orders"].values()]
                == ["DELIVERED"]
            ),
            timeout_s=10,
            tick=lambda: None,
        )
        _intercept(flow_hub, relay, order.id or 0)
        relay.close()
        after = order_service.get_order(flow_hub.uow(), order.id or 0, actor=ADMIN)
        assert after.status is OrderStatus.SENT_TO_WAREHOUSE and after.stock_state == "reserved"
        timeline = order_service.get_timeline(flow_hub.uow(), order.id or 0, actor=ADMIN)
        last = timeline.events[-1]
        assert (last.action, last.source) == ("release", f"wms:{WAREHOUSE}")
        assert last.reason is not None and last.reason.startswith("too late")
    finally:
        quick.stop()


def test_wms_counts_apply_once_and_an_older_one_changes_nothing(flow_hub: Hub) -> None:
    set_up_books(flow_hub, "http://127.0.0.1:9", stock=10)
    t0 = datetime.now(UTC)

    def count(message_id: str, on_hand: int, as_of: datetime) -> WarehouseReport:
        return WarehouseReport(
            message_id=message_id,
            warehouse=WAREHOUSE,
            kind=ReportKind.STOCK,
            at=as_of,
            stock=(StockCount(SKUS[0], on_hand, as_of),),
        )

    def on_hand() -> int:
        with flow_hub.uow.read_only() as uow:
            level = uow.inventory.level(SKUS[0], WAREHOUSE)
        return level.on_hand if level else -1

    first = apply_reports(flow_hub.uow, WAREHOUSE, [count("c1", 7, t0)])
    assert [o.outcome for o in first] == ["applied"] and on_hand() == 7
    again = apply_reports(flow_hub.uow, WAREHOUSE, [count("c1", 7, t0)])
    assert [o.outcome for o in again] == ["duplicate"]
    older = apply_reports(flow_hub.uow, WAREHOUSE, [count("c0", 3, t0 - timedelta(minutes=5))])
    assert "ignored" in older[0].outcome and on_hand() == 7
    _manual_order(flow_hub, sku=SKUS[0], quantity=1)  # allocated: maybe shipped, unconfirmed
    later = apply_reports(flow_hub.uow, WAREHOUSE, [count("c2", 2, t0 + timedelta(minutes=5))])
    assert "deferred" in later[0].outcome and on_hand() == 7
    assert stock_balances(flow_hub) == []


def _intercept(hub: Hub, relay: Relay, order_id: int) -> None:
    """A person intercepts the order; the relay takes the cancel to the WMS and its answer back."""
    order_service.apply_action(
        hub.uow(),
        order_id,
        Action.INTERCEPT,
        actor=ADMIN,
        review_required=False,
        reason="buyer cancelled",
    )
    relay.run_once()
