"""The Shopify client against the Shopify simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from orderhub.domain.mapping import MappedOrder, map_order
from orderhub.integrations.channels.registry import (
    ShopConnection,
    SimulatorOptions,
    load_mapping,
)
from orderhub.integrations.channels.shopify import CHANNEL
from orderhub.integrations.channels.shopify.client import ShopifyClient
from orderhub.integrations.channels.shopify.simulator import BAD_TOKEN, create_app
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.services.ports import ChannelUnavailable

SECRET, TOKEN = "shpss_test", "shpat_test"
FAULTS = {
    "rate_429": 0.2,
    "rate_500": 0.2,
    "rate_timeout": 0.05,
    "timeout_s": 1.5,
    "duplicate": 0.2,
    "out_of_order": 0.2,
}
ORDERS_PATH = "/admin/api/2025-01/orders.json"


@pytest.fixture
def server() -> Iterator[RunningServer]:
    # Fresh options per test: the faults object is mutable and PUT /_sim/faults changes it.
    options = SimulatorOptions(app_secret=SECRET, access_token=TOKEN)
    running = RunningServer(create_app(options)).start()
    yield running
    running.stop()


def _client(server: RunningServer, token: str = TOKEN, page_size: int = 5) -> ShopifyClient:
    return ShopifyClient(
        ShopConnection(
            shop="s1",
            base_url=server.url,
            app_key="sim-app-key",
            app_secret=SECRET,
            access_token=token,
            timeout_s=1.0,
            max_attempts=8,
            rate_per_s=200,
            extra={"page_size": str(page_size)},
        )
    )


def _truth(server: RunningServer) -> dict[str, dict[str, object]]:
    orders: dict[str, dict[str, object]] = httpx.get(f"{server.url}/_sim/orders").json()["orders"]
    return orders


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(hours=1)


def _seed(server: RunningServer, count: int) -> None:
    httpx.post(f"{server.url}/_sim/orders", json={"count": count}).raise_for_status()
    httpx.post(f"{server.url}/_sim/advance", json={"count": count // 2}).raise_for_status()


def test_pull_through_faults_returns_every_order_across_pages(server: RunningServer) -> None:
    _seed(server, 23)
    httpx.put(f"{server.url}/_sim/faults", json=FAULTS).raise_for_status()
    client = _client(server)
    since, until = _window()
    seen: set[str] = set()
    pages, page = 0, None
    mapping = load_mapping(CHANNEL)
    while True:
        result = client.fetch_changed(since, until, page)
        pages += 1
        for payload in result.payloads:
            mapped = map_order(payload, mapping, shop="s1")
            assert isinstance(mapped, MappedOrder), mapped
            seen.add(mapped.order.channel_order_no)
        page = result.next_page
        if page is None:
            break
    assert pages >= 5
    assert set(_truth(server)) <= seen


def test_list_order_numbers_is_exactly_the_ground_truth(server: RunningServer) -> None:
    _seed(server, 17)
    httpx.put(f"{server.url}/_sim/faults", json=FAULTS).raise_for_status()
    numbers = _client(server, page_size=4).list_order_numbers(*_window())
    assert sorted(numbers) == sorted(_truth(server))


def test_window_excludes_orders_changed_at_or_after_until(server: RunningServer) -> None:
    _seed(server, 3)
    since, _ = _window()
    assert _client(server).list_order_numbers(since, since + timedelta(minutes=1)) == []


def test_fetch_order_returns_the_full_order_or_none(server: RunningServer) -> None:
    _seed(server, 2)
    no = sorted(_truth(server))[0]
    client = _client(server)
    order = client.fetch_order(no)
    assert order is not None and str(order["id"]) == no and order["name"].startswith("#10")
    assert client.fetch_order("999") is None


def test_wrong_access_token_is_refused_with_shopifys_401(server: RunningServer) -> None:
    answer = httpx.get(
        f"{server.url}{ORDERS_PATH}", headers={"X-Shopify-Access-Token": "shpat_wrong"}
    )
    assert answer.status_code == 401 and answer.json() == {"errors": BAD_TOKEN}
    with pytest.raises(ChannelUnavailable, match="401"):
        _client(server, token="shpat_wrong").fetch_changed(*_window(), None)


def test_later_pages_refuse_filters_beside_page_info(server: RunningServer) -> None:
    _seed(server, 3)
    headers = {"X-Shopify-Access-Token": "shpat_test"}
    first = httpx.get(f"{server.url}{ORDERS_PATH}?status=any&limit=1", headers=headers)
    assert first.headers["X-Shopify-Shop-Api-Call-Limit"].endswith("/40")
    link = first.headers["link"]
    assert 'rel="next"' in link and "page_info=" in link
    url = link[1 : link.index(">")]
    assert httpx.get(url, headers=headers).status_code == 200
    refused = httpx.get(url + "&updated_at_min=2026-01-01T00:00:00Z", headers=headers)
    assert refused.status_code == 400 and "updated_at_min" in refused.json()["errors"]


def test_throttle_answers_with_retry_after_and_shopifys_message(server: RunningServer) -> None:
    httpx.put(f"{server.url}/_sim/faults", json={"rate_429": 1.0}).raise_for_status()
    answer = httpx.get(f"{server.url}{ORDERS_PATH}", headers={"X-Shopify-Access-Token": "x"})
    assert answer.status_code == 429 and answer.headers["retry-after"] == "1"
    assert "Exceeded 2 calls per second" in answer.json()["errors"]
