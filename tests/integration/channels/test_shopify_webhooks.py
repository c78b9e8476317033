"""The Shopify simulator pushes signed order webhooks; the channel's WebhookSpec reads them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from orderhub.domain.mapping import ChannelState, MappedOrder, map_order
from orderhub.integrations.channels.registry import SimulatorOptions, load_mapping
from orderhub.integrations.channels.shopify import CHANNEL
from orderhub.integrations.channels.shopify.simulator import create_app
from orderhub.integrations.channels.simkit import RunningServer, SimStore

SECRET = "shpss_hooks"


class Receiver:
    """A stand-in for OrderHub's webhook endpoint that keeps what arrives."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        self.app = FastAPI()

        @self.app.post("/hooks/shopify")
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._lock:
                self.received.append((dict(request.headers), body))
            return Response(status_code=200)

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(self.received) < count:
            time.sleep(0.02)
        return list(self.received)


@pytest.fixture
def hooked() -> Iterator[tuple[RunningServer, Receiver, SimStore]]:
    receiver = Receiver()
    target = RunningServer(receiver.app).start()
    options = SimulatorOptions(app_secret=SECRET, webhook_url=f"{target.url}/hooks/shopify")
    app = create_app(options)
    shop = RunningServer(app).start()
    yield shop, receiver, app.state.store
    shop.stop()
    target.stop()


def test_every_change_arrives_as_a_genuine_order_webhook(
    hooked: tuple[RunningServer, Receiver, SimStore],
) -> None:
    shop, receiver, store = hooked
    assert CHANNEL.webhook is not None
    httpx.post(f"{shop.url}/_sim/orders", json={"count": 4}).raise_for_status()
    moved = httpx.post(f"{shop.url}/_sim/advance", json={"count": 4}).json()["moved"]
    truth = httpx.get(f"{shop.url}/_sim/orders").json()["orders"]
    open_orders = [no for no, o in truth.items() if o["state"] not in ("cancelled", "completed")]
    store.change(open_orders[0], state=ChannelState.CANCELLED)  # the buyer cancels one
    expected = 4 + len(moved) + 2  # a cancellation is both orders/updated and orders/cancelled
    received = receiver.wait_for(expected)
    assert len(received) == expected
    mapping = load_mapping(CHANNEL)
    topics = []
    for headers, body in received:
        assert CHANNEL.webhook.verify(headers, body, SECRET) is None
        assert headers["x-shopify-shop-domain"].endswith(".myshopify.com")
        assert headers["x-shopify-webhook-id"]
        topics.append(headers["x-shopify-topic"])
        (payload,) = CHANNEL.webhook.payloads(body)
        assert isinstance(map_order(payload, mapping, shop="s1"), MappedOrder)
    assert topics[:4] == ["orders/create"] * 4
    assert topics.count("orders/updated") == len(moved) + 1
    assert topics.count("orders/cancelled") == 1
    assert CHANNEL.webhook.verify(received[0][0], received[0][1], "another secret") is not None


def test_dropped_webhooks_are_never_sent(hooked: tuple[RunningServer, Receiver, SimStore]) -> None:
    shop, receiver, _ = hooked
    httpx.put(f"{shop.url}/_sim/faults", json={"drop_webhook": 1.0}).raise_for_status()
    httpx.post(f"{shop.url}/_sim/orders", json={"count": 3}).raise_for_status()
    assert receiver.wait_for(1, timeout_s=0.5) == []
