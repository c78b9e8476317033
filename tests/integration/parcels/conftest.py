"""Split, merge and backorder tests: a hub with the whole pipeline on, two warehouses each run by
a simulated Qimen WMS over real HTTP (WH-T and WH-U), the channel simulators, and helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from orderhub.app import create_app
from orderhub.bootstrap import Hub, bootstrap
from orderhub.domain.orders import Amounts, Order, OrderLine, PaymentStatus, Receiver
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.integrations.channels.simulate import start_simulators
from orderhub.integrations.wms.qimen.simulator import WmsSimOptions, start_wms_simulator
from orderhub.services import inventory
from orderhub.services import orders as order_service
from orderhub.services.demo import load_demo_warehouse
from orderhub.services.fulfilment.deliveries import RetryPolicy
from orderhub.storage.tables import outbox
from orderhub.worker.relay import Relay
from tests.conftest import CHEAP_HASHER
from tests.factories import an_order
from tests.integration.fulfilment_kit import (
    ADMIN,
    WAREHOUSE,
    WMS_CREDENTIALS,
    set_up_books,
    sim,
    start_wms,
    wait_for,
)

OTHER_WAREHOUSE = "WH-U"
RECEIVER = Receiver("张三", "13800001234", "浙江省", "杭州市", "西湖区", "文三路 90 号")


@pytest.fixture
def flags() -> dict[str, bool]:
    """Pipeline switches a test turns on (parametrize `flags` to override)."""
    return {}


@pytest.fixture
def flow_hub(hub: Hub, flags: dict[str, bool]) -> Iterator[Hub]:
    settings = hub.settings.model_copy(
        update={
            "reserve_stock": True,
            "auto_allocate": True,
            "review_required": False,
            "default_warehouse": WAREHOUSE,
            **flags,
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


def _callbacks(orderhub: RunningServer, code: str) -> str:
    return f"{orderhub.url}/api/v1/wms/{code}/callbacks"


@pytest.fixture
def wms(orderhub: RunningServer) -> Iterator[RunningServer]:
    server = start_wms(_callbacks(orderhub, WAREHOUSE), report_progress=True)
    yield server
    server.stop()


@pytest.fixture
def wms_u(orderhub: RunningServer) -> Iterator[RunningServer]:
    server = start_wms_simulator(
        callback_url=_callbacks(orderhub, OTHER_WAREHOUSE),
        credentials=WMS_CREDENTIALS,
        options=WmsSimOptions(warehouse_code=OTHER_WAREHOUSE, report_progress=True),
    )
    yield server
    server.stop()


@pytest.fixture
def channel_sims() -> Iterator[dict[str, RunningServer]]:
    running = start_simulators(first_port=0)
    yield running
    for server in running.values():
        server.stop()


def two_warehouses(
    hub: Hub,
    wms: RunningServer,
    wms_u: RunningServer,
    *,
    stock_t: dict[str, int],
    stock_u: dict[str, int],
) -> None:
    """The catalogue, WH-T (its WMS `wms`) and WH-U (its WMS `wms_u`), each with its stock."""
    set_up_books(hub, wms.url, stock=0)
    for sku, quantity in stock_t.items():
        receive(hub, sku, quantity, WAREHOUSE)
    load_demo_warehouse(
        hub.uow,
        hub.wms,
        actor=ADMIN,
        code=OTHER_WAREHOUSE,
        base_url=wms_u.url,
        credentials=WMS_CREDENTIALS,
        stock=stock_u,
        name="second test warehouse",
        rate_per_s=5000,
    )


def receive(hub: Hub, sku: str, quantity: int, warehouse: str = WAREHOUSE) -> None:
    inventory.receive(
        hub.uow(), actor=ADMIN, sku=sku, warehouse=warehouse, quantity=quantity, reason="goods in"
    )


def level(hub: Hub, sku: str, warehouse: str = WAREHOUSE) -> tuple[int, int]:
    """(on hand, reserved)."""
    with hub.uow.read_only() as uow:
        found = uow.inventory.level(sku, warehouse)
    return (found.on_hand, found.reserved) if found else (0, 0)


def paid_order(
    hub: Hub,
    lines: list[tuple[str, int]],
    *,
    buyer_id: str | None = "buyer-1",
    receiver: Receiver = RECEIVER,
) -> Order:
    """A paid manual order of these (sku, quantity) lines, through the whole pipeline."""
    made = tuple(OrderLine(sku=s, title=s, quantity=q, unit_price=1000) for s, q in lines)
    goods = sum(line.amount for line in made)
    draft = an_order(
        channel_order_no="",
        lines=made,
        amounts=Amounts(goods_total=goods, paid_total=goods),
        payment_status=PaymentStatus.PAID,
        buyer_id=buyer_id,
        receiver=receiver,
    )
    return order_service.create_order(
        hub.uow(), draft, actor=ADMIN, source="api", review_required=False
    ).order


def reload(hub: Hub, order: Order | int) -> Order:
    order_id = order if isinstance(order, int) else order.id or 0
    return order_service.get_order(hub.uow(), order_id, actor=ADMIN)


def make_relay(hub: Hub) -> Relay:
    return Relay(hub.uow, hub.deliveries, lease_s=5, policy=RetryPolicy(20, 0.05, 0.5))


def commands(hub: Hub, order_id: int | None = None, kind: str | None = None) -> list[Any]:
    """Outbox commands (not change events), oldest first, optionally one order's or kind's."""
    query = select(outbox).where(outbox.c.target != "events").order_by(outbox.c.id)
    if order_id is not None:
        query = query.where(outbox.c.order_id == order_id)
    if kind is not None:
        query = query.where(outbox.c.event_type == kind)
    with hub.engine.connect() as conn:
        return list(conn.execute(query).mappings())


def outbound(server: RunningServer) -> dict[str, Any]:
    """The simulated WMS's outbound orders by number."""
    found: dict[str, Any] = sim(server, "GET", "outbound")["orders"]
    return found


def until(hub: Hub, relay: Relay, what: str, done: Callable[[], bool]) -> None:
    """Run the relay round by round until `done` (the WMS's callbacks arrive over HTTP)."""
    wait_for(
        what,
        done,
        timeout_s=30,
        tick=relay.run_once,
        state=lambda: [(c["event_type"], c["status"], c["last_error"]) for c in commands(hub)],
    )


def timeline(hub: Hub, order_id: int) -> list[Any]:
    return order_service.get_timeline(hub.uow(), order_id, actor=ADMIN).events
