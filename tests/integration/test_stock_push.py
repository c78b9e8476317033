"""Stock changes reach every simulated channel listing, by each shop's rule, over real HTTP.

The planner and the relay run in the test's thread, round by round; the four channel simulators
answer their real inventory calls on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from orderhub.bootstrap import Hub
from orderhub.domain.stock_push import StockRule
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.integrations.channels.simulate import start_simulators
from orderhub.services import inventory, stock_push, warehouses
from orderhub.services.fulfilment.deliveries import RetryPolicy
from orderhub.storage.tables import outbox
from orderhub.worker.relay import Relay
from tests.conftest import ApiUser
from tests.integration.fulfilment_kit import (
    ADMIN,
    WAREHOUSE,
    add_shops,
    set_up_books,
    sim,
    wait_for,
)

OTHER = "WH-2"


@pytest.fixture
def channel_sims() -> Iterator[dict[str, RunningServer]]:
    running = start_simulators(first_port=0)
    yield running
    for server in running.values():
        server.stop()


@pytest.fixture
def shops(hub: Hub, channel_sims: dict[str, RunningServer]) -> dict[str, str]:
    """A shop per channel, the catalogue, two warehouses (no stock yet), listings read."""
    set_up_books(hub, "http://127.0.0.1:9", stock=0)
    warehouses.create_warehouse(hub.uow(), hub.wms, actor=ADMIN, code=OTHER, name="second")
    codes = add_shops(hub, channel_sims)
    for code in codes.values():
        report = stock_push.sync_listings(hub.uow, hub.channels, actor=ADMIN, shop=code)
        assert report.listings >= 8 and report.unmapped == []
    return codes


def _relay(hub: Hub) -> Relay:
    return Relay(hub.uow, hub.deliveries, lease_s=5, policy=RetryPolicy(5, 0.01, 0.05))


def _shown(server: RunningServer) -> dict[str, dict[str, Any]]:
    return {x["channel_sku"]: x for x in sim(server, "GET", "listings")["listings"]}


def _receive(hub: Hub, sku: str, quantity: int, warehouse: str = WAREHOUSE) -> None:
    inventory.receive(
        hub.uow(), actor=ADMIN, sku=sku, warehouse=warehouse, quantity=quantity, reason="test"
    )


def _settle(
    hub: Hub, relay: Relay, sims: dict[str, RunningServer], want: dict[str, dict[str, int]]
) -> None:
    """Plan and relay until every channel shows `want` (channel -> channel_sku -> quantity)."""

    def shown_everywhere() -> bool:
        return all(
            {sku: _shown(sims[name])[sku]["quantity"] for sku in skus} == skus
            for name, skus in want.items()
        )

    def tick() -> None:
        stock_push.plan(hub.uow)
        relay.run_once()

    wait_for(
        "listings to show the stock",
        shown_everywhere,
        timeout_s=30,
        tick=tick,
        state=lambda: {n: {s: _shown(sims[n])[s]["quantity"] for s in w} for n, w in want.items()},
    )


def test_stock_changes_reach_every_channel_with_the_shops_share_and_buffer(
    hub: Hub, channel_sims: dict[str, RunningServer], shops: dict[str, str]
) -> None:
    rules = {
        "taobao": StockRule(shops["taobao"], percent=50, buffer=2),
        "jd": StockRule(shops["jd"], percent=10, minimum=3),
        "pdd": StockRule(shops["pdd"]),
        "shopify": StockRule(shops["shopify"], warehouses=(OTHER,)),
    }
    for rule in rules.values():
        stock_push.save_stock_rule(hub.uow(), rule, actor=ADMIN)
    _receive(hub, "TEA-LONGJING-250", 10)
    _receive(hub, "MUG-350", 25)
    _receive(hub, "MUG-350", 6, warehouse=OTHER)
    _receive(hub, "TEA-LONGJING-250", 4, warehouse=OTHER)
    # Available: tea 14 (10 + 4), mugs 31 (25 + 6); a gift set is one of each.
    _settle(
        hub,
        _relay(hub),
        channel_sims,
        {
            "taobao": {"TEA-LONGJING-250": 6, "MUG-350": 14, "SET-TEA-MUG": 6},  # (n - 2) / 2
            "jd": {"TEA-LONGJING-250": 3, "MUG-350": 3, "SET-TEA-MUG": 3},  # 10% < 3: 3
            "pdd": {"TEA-LONGJING-250": 14, "MUG-350": 31, "SET-TEA-MUG": 14},
            "shopify": {"TEA-LONGJING-250": 4, "MUG-350": 6, "SET-TEA-MUG": 4},  # WH-2 only
        },
    )
    with hub.uow.read_only() as uow:
        listing = uow.listings.find(shop=shops["pdd"], sku="MUG-350")[0]
    assert (listing.planned_quantity, listing.pushed_quantity) == (31, 31)
    assert listing.pushed_at is not None and listing.last_error is None


def test_combo_listings_follow_their_components(
    hub: Hub, channel_sims: dict[str, RunningServer], shops: dict[str, str]
) -> None:
    relay = _relay(hub)
    _receive(hub, "TEA-LONGJING-250", 5)
    _receive(hub, "MUG-350", 2)
    pdd = {"pdd": {"SET-TEA-MUG": 2, "MUG-350": 2, "TEA-LONGJING-250": 5}}
    _settle(hub, relay, channel_sims, pdd)
    _receive(hub, "MUG-350", 10)  # mugs are no longer short: tea now limits the sets
    _settle(hub, relay, channel_sims, {"pdd": {"SET-TEA-MUG": 5, "MUG-350": 12}})


def test_a_burst_of_changes_on_one_sku_becomes_one_call_per_listing(
    hub: Hub, channel_sims: dict[str, RunningServer], shops: dict[str, str]
) -> None:
    relay = _relay(hub)
    _receive(hub, "SOCKS-5P", 1)
    _settle(hub, relay, channel_sims, {name: {"SOCKS-5P": 1} for name in shops})
    before = {name: _shown(s)["SOCKS-5P"]["updates"] for name, s in channel_sims.items()}
    for _ in range(40):  # forty goods-in before the planner looks again
        _receive(hub, "SOCKS-5P", 1)
    _settle(hub, relay, channel_sims, {name: {"SOCKS-5P": 41} for name in shops})
    after = {name: _shown(s)["SOCKS-5P"]["updates"] for name, s in channel_sims.items()}
    assert {name: after[name] - before[name] for name in shops} == {name: 1 for name in shops}


def test_a_newer_figure_replaces_the_one_not_yet_sent(
    hub: Hub, channel_sims: dict[str, RunningServer], shops: dict[str, str]
) -> None:
    _receive(hub, "BAG-CANVAS", 3)
    stock_push.plan(hub.uow)
    _receive(hub, "BAG-CANVAS", 4)
    stock_push.plan(hub.uow)  # no relay in between: the first figure was never sent
    with hub.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.target, outbox.c.payload).where(
                outbox.c.event_type == "channel.stock", outbox.c.status == "pending"
            )
        ).all()
    bags = [(target, p["quantity"]) for target, p in rows if p["channel_sku"] == "BAG-CANVAS"]
    assert sorted(bags) == sorted((f"channel:{code}", 7) for code in shops.values())


def test_a_refused_update_is_kept_on_the_listing_with_the_channels_reason(
    hub: Hub, channel_sims: dict[str, RunningServer], shops: dict[str, str]
) -> None:
    relay = _relay(hub)
    httpx.delete(f"{channel_sims['taobao'].url}/_sim/listings/HOODIE-GRY-XL").raise_for_status()
    _receive(hub, "HOODIE-GRY-XL", 5)
    _settle(hub, relay, channel_sims, {"pdd": {"HOODIE-GRY-XL": 5}})

    def refused() -> bool:
        with hub.uow.read_only() as uow:
            found = uow.listings.find(shop=shops["taobao"], sku="HOODIE-GRY-XL")[0]
        return found.last_error is not None

    wait_for("the refusal", refused, timeout_s=20, tick=relay.run_once)
    with hub.uow.read_only() as uow:
        listing = uow.listings.find(shop=shops["taobao"], sku="HOODIE-GRY-XL")[0]
    assert listing.pushed_quantity is None
    assert "isv.item-is-delete" in (listing.last_error or "")  # Taobao's own code, kept


def test_a_rule_that_could_oversell_or_names_an_unknown_warehouse_is_refused_by_the_api(
    api: TestClient, user_for: Callable[[str], ApiUser], shops: dict[str, str]
) -> None:
    admin_headers = user_for("admin").headers
    client = api
    url = f"/api/v1/shops/{shops['jd']}/stock-rule"
    unknown = client.put(url, json={"warehouses": ["WH-NOWHERE"]}, headers=admin_headers)
    assert unknown.status_code == 422
    assert "WH-NOWHERE" in unknown.json()["detail"]
    too_much = client.put(url, json={"percent": 150}, headers=admin_headers)
    assert too_much.status_code == 422
    saved = client.put(url, json={"percent": 60, "buffer": 5}, headers=admin_headers)
    assert saved.status_code == 200 and saved.json()["percent"] == 60
    listed = client.get(f"/api/v1/listings?shop={shops['jd']}", headers=admin_headers)
    assert {x["channel_sku"] for x in listed.json()} >= {"MUG-350", "SET-TEA-MUG"}
