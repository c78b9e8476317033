"""Each channel's client tells its simulator an order shipped, over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from orderhub.domain.fulfilment import Shipment
from orderhub.domain.mapping import ChannelState, MappedOrder, map_order
from orderhub.integrations.channels.registry import (
    ShopConnection,
    SimulatorOptions,
    channel,
    load_mapping,
)
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.services.ports import ChannelClient, ChannelUnavailable, ShipmentRefused

APP_KEY, SECRET, TOKEN = "ship-app-key", "ship-app-secret", "ship-access-token"


def _taobao_shows(payload: dict[str, Any], tracking_no: str) -> bool:
    lines = payload["orders"]["order"]
    return bool(payload["status"] == "WAIT_BUYER_CONFIRM_GOODS") and all(
        line["invoice_no"] == tracking_no and line["logistics_company"] == "顺丰速运"
        for line in lines
    )


def _jd_shows(payload: dict[str, Any], tracking_no: str) -> bool:
    return bool(
        payload["orderState"] == "WAIT_GOODS_RECEIVE_CONFIRM"
        and payload["waybill"] == tracking_no
        and payload["logisticsId"] == "467"
    )


def _pdd_shows(payload: dict[str, Any], tracking_no: str) -> bool:
    return bool(
        payload["order_status"] == 2
        and payload["tracking_number"] == tracking_no
        and payload["logistics_id"] == 44
    )


def _shopify_shows(payload: dict[str, Any], tracking_no: str) -> bool:
    fulfillment = payload["fulfillments"][0]
    return bool(
        payload["fulfillment_status"] == "fulfilled"
        and fulfillment["tracking_number"] == tracking_no
        and fulfillment["tracking_company"] == "SF Express"
    )


# How each channel's own payload says "shipped with this waybill by SF".
SHOWS_SHIPPED: dict[str, Callable[[dict[str, Any], str], bool]] = {
    "taobao": _taobao_shows,
    "jd": _jd_shows,
    "pdd": _pdd_shows,
    "shopify": _shopify_shows,
}


@dataclass
class Channel:
    name: str
    server: RunningServer

    def client(self, **overrides: Any) -> ChannelClient:
        connection = ShopConnection(
            shop="s1",
            base_url=overrides.pop("base_url", self.server.url),
            app_key=APP_KEY,
            app_secret=SECRET,
            access_token=TOKEN,
            timeout_s=2.0,
            max_attempts=overrides.pop("max_attempts", 10),
            rate_per_s=500,
        )
        return channel(self.name).make_client(connection)

    def truth(self) -> dict[str, dict[str, Any]]:
        orders: dict[str, dict[str, Any]] = httpx.get(f"{self.server.url}/_sim/orders").json()[
            "orders"
        ]
        return orders

    def paid_orders(self, count: int) -> list[str]:
        """Numbers of `count` paid orders nobody asked to refund, made now."""
        httpx.post(f"{self.server.url}/_sim/orders", json={"count": count * 3}).raise_for_status()
        paid = [
            no
            for no, o in self.truth().items()
            if o["state"] == "paid" and not o["refund_requested"] and o["visible"]
        ]
        assert len(paid) >= count
        return sorted(paid)[:count]

    def faults(self, **rates: float) -> None:
        httpx.put(f"{self.server.url}/_sim/faults", json=rates).raise_for_status()


@pytest.fixture(params=sorted(SHOWS_SHIPPED))
def sim(request: pytest.FixtureRequest) -> Iterator[Channel]:
    # A fresh simulator per test: faults and shipments set by one test must not leak.
    options = SimulatorOptions(app_key=APP_KEY, app_secret=SECRET, access_token=TOKEN)
    server = RunningServer(channel(request.param).make_simulator(options)).start()
    yield Channel(request.param, server)
    server.stop()


def _shipment(no: str, tracking_no: str, carrier: str = "SF") -> Shipment:
    return Shipment(no, carrier, tracking_no, datetime.now(UTC), order_id=1)


def test_shipped_order_shows_carrier_and_tracking_in_truth_and_in_the_channels_payload(
    sim: Channel,
) -> None:
    no = sim.paid_orders(1)[0]
    client = sim.client()
    client.ship(_shipment(no, "SF1234567890"))

    truth = sim.truth()[no]
    assert (truth["state"], truth["carrier"], truth["tracking_no"]) == (
        "shipped",
        "SF",
        "SF1234567890",
    )
    payload = client.fetch_order(no)
    assert payload is not None and SHOWS_SHIPPED[sim.name](payload, "SF1234567890")
    mapped = map_order(payload, load_mapping(channel(sim.name)), shop="s1")
    assert isinstance(mapped, MappedOrder) and mapped.channel_state is ChannelState.SHIPPED


def test_shipping_again_with_the_same_tracking_no_succeeds_and_changes_nothing(
    sim: Channel,
) -> None:
    no = sim.paid_orders(1)[0]
    client = sim.client()
    first = client.ship(_shipment(no, "YT9876543210", carrier="YTO"))
    version = sim.truth()[no]["version"]

    assert client.ship(_shipment(no, "YT9876543210", carrier="YTO")) == first
    assert sim.truth()[no]["version"] == version


def test_shipping_again_with_another_tracking_no_is_refused_with_the_channels_code(
    sim: Channel,
) -> None:
    no = sim.paid_orders(1)[0]
    client = sim.client()
    client.ship(_shipment(no, "ZT1111111111", carrier="ZTO"))

    with pytest.raises(ShipmentRefused) as refused:
        client.ship(_shipment(no, "ZT2222222222", carrier="ZTO"))
    assert refused.value.code not in ("", "unknown_carrier")
    assert sim.truth()[no]["tracking_no"] == "ZT1111111111"


def test_a_refunded_order_is_refused(sim: Channel) -> None:
    no = sim.paid_orders(1)[0]
    httpx.post(f"{sim.server.url}/_sim/orders/{no}/refund").raise_for_status()

    with pytest.raises(ShipmentRefused) as refused:
        sim.client().ship(_shipment(no, "SF5555555555"))
    assert refused.value.code not in ("", "unknown_carrier")
    assert sim.truth()[no]["state"] == "cancelled"
    assert sim.truth()[no]["tracking_no"] == ""


def test_an_unknown_carrier_is_refused_before_any_call(sim: Channel) -> None:
    # Nothing listens on port 9: a call would end in ChannelUnavailable, not a refusal.
    client = sim.client(base_url="http://127.0.0.1:9", max_attempts=1)
    with pytest.raises(ShipmentRefused) as refused:
        client.ship(_shipment("1", "X1", carrier="DHL"))
    assert refused.value.code == "unknown_carrier"
    assert "DHL" in refused.value.reason and "SF" in refused.value.reason


def test_throttles_and_server_errors_never_turn_into_a_refusal(sim: Channel) -> None:
    numbers = sim.paid_orders(3)
    # The simulator's fault dice are seeded: these rates hit this test's few calls every run.
    sim.faults(rate_429=0.2, rate_500=0.5)
    client = sim.client(max_attempts=4)
    for n, no in enumerate(numbers):
        tracking_no = f"SF70000000000{n}"
        try:
            client.ship(_shipment(no, tracking_no))
        except ChannelUnavailable:
            continue  # retries ran out: the outbox tries again later
        assert sim.truth()[no]["tracking_no"] == tracking_no
    hits = httpx.get(f"{sim.server.url}/_sim/faults").json()["hits"]
    assert hits.get("rate_429", 0) + hits.get("rate_500", 0) > 0
    sim.faults(rate_429=0.0, rate_500=0.0)
    # The outbox's next attempt lands (or finds the first one landed) either way.
    for n, no in enumerate(numbers):
        client.ship(_shipment(no, f"SF70000000000{n}"))
        assert sim.truth()[no]["tracking_no"] == f"SF70000000000{n}"
