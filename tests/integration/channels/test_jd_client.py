"""The JD client against the JD simulator over real HTTP on 127.0.0.1, faults switched on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from orderhub.domain.mapping import MappedOrder, map_order
from orderhub.integrations.channels.jd import CHANNEL
from orderhub.integrations.channels.jd.client import JdApiError, JdClient
from orderhub.integrations.channels.jd.signing import jd_time, sign
from orderhub.integrations.channels.registry import ShopConnection, SimulatorOptions, load_mapping
from orderhub.integrations.channels.simkit import RunningServer

FAULTS = {
    "rate_429": 0.2,
    "rate_500": 0.2,
    "rate_timeout": 0.05,
    "timeout_s": 1.5,
    "duplicate": 0.2,
    "out_of_order": 0.2,
}
CREDENTIALS = {"app_key": "jd-key", "app_secret": "jd-secret", "access_token": "jd-token"}


@pytest.fixture
def server() -> Iterator[RunningServer]:
    # Fresh options (and so fresh faults) per test: faults set by one test must not leak.
    running = RunningServer(CHANNEL.make_simulator(SimulatorOptions(**CREDENTIALS))).start()
    yield running
    running.stop()


def _client(server: RunningServer, **overrides: Any) -> JdClient:
    connection = ShopConnection(
        shop="s1",
        base_url=server.url,
        **CREDENTIALS,
        timeout_s=1.0,
        max_attempts=8,
        rate_per_s=200,
    )
    for name, value in overrides.items():
        connection = ShopConnection(**{**connection.__dict__, name: value})
    return JdClient(connection, page_size=7)


def _seed(server: RunningServer, count: int) -> set[str]:
    """Create orders; return the ground truth: those JD shows a seller (paid ones)."""
    httpx.post(f"{server.url}/_sim/orders", json={"count": count}).raise_for_status()
    httpx.put(f"{server.url}/_sim/faults", json=FAULTS).raise_for_status()
    return _truth(server)


def _truth(server: RunningServer) -> set[str]:
    truth = httpx.get(f"{server.url}/_sim/orders").json()["orders"]
    return {no for no, o in truth.items() if o["visible"]}


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(minutes=5), now + timedelta(minutes=1)


def test_every_paid_order_is_pulled_across_pages_through_faults(server: RunningServer) -> None:
    visible = _seed(server, 30)
    client = _client(server)
    since, until = _window()
    seen: list[str] = []
    pages, token = 0, None
    while True:
        page = client.fetch_changed(since, until, token)
        seen += [str(p["orderId"]) for p in page.payloads]
        pages += 1
        token = page.next_page
        if token is None:
            break
    assert pages >= 4
    assert visible <= set(seen)
    assert set(seen) <= visible


def test_pulled_payloads_map_to_canonical_orders(server: RunningServer) -> None:
    _seed(server, 10)
    client = _client(server)
    mapping = load_mapping(CHANNEL)
    payloads = client.fetch_changed(*_window(), None).payloads
    mapped = [map_order(payload, mapping, shop="s1") for payload in payloads]
    assert mapped
    assert all(isinstance(m, MappedOrder) for m in mapped), mapped
    for m in mapped:
        assert isinstance(m, MappedOrder)
        order = m.order
        assert order.receiver.masked
        assert order.amounts.paid_total == (
            order.amounts.goods_total + order.amounts.shipping_fee - order.amounts.discount
        )


def test_list_order_numbers_returns_exactly_the_ground_truth(server: RunningServer) -> None:
    visible = _seed(server, 16)
    assert _client(server).list_order_numbers(*_window()) == sorted(visible)


def test_fetch_order_returns_one_order_and_none_for_an_unknown_number(
    server: RunningServer,
) -> None:
    no = sorted(_seed(server, 5))[0]
    client = _client(server)
    order = client.fetch_order(no)
    assert order is not None and order["orderId"] == no
    assert client.fetch_order("39999999999") is None


def test_the_decrypt_call_returns_the_real_receiver_of_a_masked_order(
    server: RunningServer,
) -> None:
    no = sorted(_seed(server, 5))[0]
    client = _client(server)
    order = client.fetch_order(no)
    assert order is not None
    real = client.decrypt_receivers({no: order["oaid"]})[no]
    assert "*" not in real["fullname"] and "*" not in real["mobile"]
    assert real["mobile"][-4:] == order["consigneeInfo"]["mobile"][-4:]
    assert client.decrypt_receivers({no: "not-its-oaid"}) == {}


def test_a_request_signed_with_a_wrong_secret_is_refused_with_jd_invalid_signature(
    server: RunningServer,
) -> None:
    client = _client(server, app_secret="wrong-secret")
    with pytest.raises(JdApiError) as refused:
        client.fetch_changed(*_window(), None)
    assert refused.value.code == "12"
    assert refused.value.en_desc == "Invalid Signature"


def test_an_unsigned_request_gets_jd_error_envelope(server: RunningServer) -> None:
    answer = httpx.post(
        f"{server.url}/routerjson",
        data={
            "method": "jingdong.pop.order.search",
            "v": "2.0",
            "timestamp": jd_time(datetime.now(UTC)),
            "app_key": CREDENTIALS["app_key"],
        },
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "error_response": {"code": "11", "zh_desc": "缺少签名参数", "en_desc": "Missing Signature"}
    }


def test_a_window_that_ended_before_the_orders_were_made_finds_none(
    server: RunningServer,
) -> None:
    # Also proves the client sends Beijing time: UTC text read as Beijing would shift by 8 hours.
    _seed(server, 5)
    now = datetime.now(UTC)
    page = _client(server).fetch_changed(now - timedelta(hours=9), now - timedelta(minutes=1), None)
    assert page.payloads == [] and page.next_page is None


def test_a_request_with_a_stale_timestamp_is_refused_with_jd_invalid_timestamp(
    server: RunningServer,
) -> None:
    params = {
        "method": "jingdong.pop.order.search",
        "v": "2.0",
        "app_key": CREDENTIALS["app_key"],
        "access_token": CREDENTIALS["access_token"],
        "timestamp": jd_time(datetime.now(UTC) - timedelta(minutes=7)),
        "360buy_param_json": "{}",
    }
    params["sign"] = sign(params, CREDENTIALS["app_secret"])
    answer = httpx.get(f"{server.url}/routerjson", params=params).json()
    assert answer["error_response"]["code"] == "8"


def test_orders_that_change_mid_pull_make_no_other_order_skip_a_page(
    server: RunningServer,
) -> None:
    # Three batches a second apart; page 1 is read, then its orders change (they leave the
    # window). Page numbers would now skip a page's worth of orders; the keyset cursor does not.
    store = server.app.state.store
    for _ in range(3):
        httpx.post(f"{server.url}/_sim/orders", json={"count": 7}).raise_for_status()
        time.sleep(1.05)
    visible = _truth(server)
    client = _client(server)
    since, until = datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC)
    first = client.fetch_changed(since, until, None)
    later = datetime.now(UTC) + timedelta(minutes=10)
    store.now = lambda: later
    for payload in first.payloads:
        store.change(str(payload["orderId"]), buyer_note="改了地址")
    seen = {str(p["orderId"]) for p in first.payloads}
    token = first.next_page
    while token is not None:
        page = client.fetch_changed(since, until, token)
        seen |= {str(p["orderId"]) for p in page.payloads}
        token = page.next_page
    assert seen == visible
