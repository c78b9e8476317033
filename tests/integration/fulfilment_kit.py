"""Shared set-up for the fulfilment tests: a hub with stock switched on, a warehouse run by the
simulated Qimen WMS, the channel simulators with one shop each, and checks over the books."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.shops import Credentials, SyncSettings
from orderhub.domain.warehouses import WmsCredentials
from orderhub.integrations.channels.simkit import CATALOGUE, COMBOS, RunningServer
from orderhub.integrations.channels.simulate import SIM_ACCESS_TOKEN, SIM_APP_KEY, SIM_APP_SECRET
from orderhub.integrations.wms.qimen.simulator import WmsSimOptions, start_wms_simulator
from orderhub.permissions import permissions_of
from orderhub.services import shops
from orderhub.services.demo import load_catalogue, load_demo_warehouse
from orderhub.storage.tables import stock_levels, stock_movements

ADMIN = Actor(
    id="test", name="test", kind=ActorKind.SYSTEM, role="admin", permissions=permissions_of("admin")
)
WAREHOUSE = "WH-T"
WMS_CREDENTIALS = WmsCredentials(app_key="wms-test", secret="wms-test-secret", customer_id="OWN")
SKUS = [sku for sku, _, _, _ in CATALOGUE if sku not in COMBOS]


def sim(server: RunningServer, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{server.url}/_sim/{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def start_wms(callback_url: str, **options: Any) -> RunningServer:
    """The Qimen WMS simulator for the test warehouse, sharing its credentials."""
    return start_wms_simulator(
        callback_url=callback_url,
        credentials=WMS_CREDENTIALS,
        options=WmsSimOptions(warehouse_code=WAREHOUSE, **options),
    )


def set_up_books(hub: Hub, wms_url: str, *, stock: int) -> None:
    """The catalogue, the warehouse (its WMS at `wms_url`) and `stock` units of every SKU."""
    load_catalogue(
        hub.uow, actor=ADMIN, combos=COMBOS, products=[(s, t) for s, t, _, _ in CATALOGUE]
    )
    load_demo_warehouse(
        hub.uow,
        hub.wms,
        actor=ADMIN,
        code=WAREHOUSE,
        base_url=wms_url,
        credentials=WMS_CREDENTIALS,
        stock={sku: stock for sku in SKUS} if stock else {},
        name="test warehouse",
        rate_per_s=5000,
    )


def add_shops(hub: Hub, running: dict[str, RunningServer]) -> dict[str, str]:
    codes = {}
    for name, server in running.items():
        code = f"{name}-t"
        shops.create_shop(
            hub.uow(),
            hub.channels,
            actor=ADMIN,
            code=code,
            channel=name,
            name=code,
            base_url=server.url,
            credentials=Credentials(SIM_APP_KEY, SIM_APP_SECRET, SIM_ACCESS_TOKEN),
            settings=SyncSettings(
                interval_s=5,
                overlap_s=60,
                initial_lookback_s=3600,
                timeout_s=2.0,
                max_attempts=3,
                rate_per_s=500,
            ),
        )
        with hub.uow() as uow:
            shop = uow.shops.get(code)
            shop.warehouse = WAREHOUSE
            uow.shops.update(shop)
            uow.commit()
        codes[name] = code
    return codes


def wait_for(
    what: str,
    done: Callable[[], bool],
    *,
    timeout_s: float,
    tick: Callable[[], object],
    state: Callable[[], object] = lambda: "",
) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}: {state()}")
        tick()


def stock_balances(hub: Hub) -> list[str]:
    """Every level equal to the sum of its ledger; the differences, named."""
    problems = []
    with hub.engine.connect() as conn:
        sums = {
            (r.sku, r.warehouse): (r.on_hand, r.reserved)
            for r in conn.execute(
                select(
                    stock_movements.c.sku,
                    stock_movements.c.warehouse,
                    func.sum(stock_movements.c.on_hand_delta).label("on_hand"),
                    func.sum(stock_movements.c.reserved_delta).label("reserved"),
                ).group_by(stock_movements.c.sku, stock_movements.c.warehouse)
            )
        }
        for level in conn.execute(select(stock_levels)):
            ledger = sums.get((level.sku, level.warehouse), (0, 0))
            if (level.on_hand, level.reserved) != tuple(ledger):
                problems.append(
                    f"{level.sku}@{level.warehouse}: level {level.on_hand}/"
                    f"{level.reserved}, ledger {ledger}"
                )
    return problems
