"""Each channel's client lists the shop's listings and sets their stock, over real HTTP against
its simulator on 127.0.0.1 (Taobao TOP, JD JOS, PDD POP, Shopify Admin REST)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from orderhub.integrations.channels.simkit import CATALOGUE
from orderhub.services.ports import StockRefused
from tests.integration.channels.sims import CHANNELS, Sim

# What each channel answers for a listing it does not have (see each PROTOCOL.md).
UNKNOWN = {
    "taobao": ({"num_iid": "100000000001", "sku_id": "1000000000001"}, "isv.item-not-exist"),
    "jd": ({"skuId": "100000000001", "wareId": "1000000000"}, "sku_not_found"),
    "pdd": ({"goods_id": "10000000001", "sku_id": "100000000001"}, "goods_not_exist"),
    "shopify": ({"inventory_item_id": "47300000000001", "location_id": "65400000001"}, "404"),
}
# ...and for one the merchant deleted (MUG-350 is a product of its own on every channel).
REMOVED = {
    "taobao": "isv.item-is-delete",
    "jd": "sku_not_found",
    "pdd": "goods_not_exist",
    "shopify": "404",
}


@pytest.fixture(params=CHANNELS)
def sim(request: pytest.FixtureRequest) -> Iterator[Sim]:
    # A fresh simulator per test: stock and faults set by one test must not leak.
    running = Sim.start(request.param)
    yield running
    running.server.stop()


def test_listings_are_every_catalogue_sku_with_the_ids_its_orders_show(sim: Sim) -> None:
    client = sim.client()
    listings = {x.channel_sku: x for x in client.listings()}

    assert sorted(listings) == sorted(sku for sku, *_ in CATALOGUE)  # the combo SET-TEA-MUG too
    assert all(x.quantity == 0 and x.title and x.ids for x in listings.values())
    no, lines = sim.paid_order(client, min_lines=1)
    for sku, _, ids in lines:
        assert ids.items() <= dict(listings[sku].ids).items(), f"order {no} line {sku}"


def test_set_stock_replaces_the_listings_quantity_and_records_when(sim: Sim) -> None:
    client = sim.client()
    mug = next(x for x in client.listings() if x.channel_sku == "MUG-350")
    calls = sim.stock_calls()

    client.set_stock(mug.ids, 12)
    client.set_stock(mug.ids, 5)  # a full update: 5, not 17

    truth = sim.listings()["MUG-350"]
    assert (truth["quantity"], truth["updates"]) == (5, 2)
    assert isinstance(truth["updated_at"], float)
    assert sim.stock_calls() == calls + 2
    assert sim.listings()["TS-WHITE-L"]["updates"] == 0
    assert next(x for x in client.listings() if x.channel_sku == "MUG-350").quantity == 5


def test_a_listing_the_channel_does_not_have_is_refused_with_its_code(sim: Sim) -> None:
    ids, code = UNKNOWN[sim.name]

    with pytest.raises(StockRefused) as refused:
        sim.client().set_stock(ids, 3)
    assert refused.value.code.startswith(code)
    assert all(x["updates"] == 0 for x in sim.listings().values())


def test_a_deleted_listing_is_no_longer_listed_and_its_stock_is_refused(sim: Sim) -> None:
    client = sim.client()
    mug = next(x for x in client.listings() if x.channel_sku == "MUG-350")
    httpx.delete(f"{sim.server.url}/_sim/listings/MUG-350").raise_for_status()

    assert "MUG-350" not in {x.channel_sku for x in client.listings()}
    with pytest.raises(StockRefused) as refused:
        client.set_stock(mug.ids, 3)
    assert refused.value.code.startswith(REMOVED[sim.name])


def test_throttles_and_server_errors_are_retried_until_listings_and_stock_land(sim: Sim) -> None:
    client = sim.client(max_attempts=20)
    # The simulator's fault dice are seeded: these rates hit this test's calls every run.
    sim.faults(rate_429=0.2, rate_500=0.4)

    listings = client.listings()
    chosen = [x for x in listings if x.channel_sku in ("MUG-350", "SET-TEA-MUG", "BAG-CANVAS")]
    for quantity, listing in enumerate(chosen, start=1):
        client.set_stock(listing.ids, quantity)

    assert sim.fault_hits() > 0
    assert len(listings) == len(CATALOGUE)
    truth = sim.listings()
    assert [truth[x.channel_sku]["quantity"] for x in chosen] == [1, 2, 3]


def test_a_negative_quantity_is_refused_before_any_call(sim: Sim) -> None:
    client = sim.client()
    mug = next(x for x in client.listings() if x.channel_sku == "MUG-350")
    calls = sim.stock_calls()

    with pytest.raises(ValueError, match="-1"):
        client.set_stock(mug.ids, -1)
    assert sim.stock_calls() == calls
