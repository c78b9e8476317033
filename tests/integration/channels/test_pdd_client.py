"""The PDD client against the PDD simulator over real HTTP on 127.0.0.1, faults switched on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from orderhub.domain.mapping import MappedOrder, map_order
from orderhub.integrations.channels.pdd import CHANNEL
from orderhub.integrations.channels.pdd.client import PddApiError, PddClient
from orderhub.integrations.channels.pdd.signing import signed
from orderhub.integrations.channels.pdd.simulator import create_app
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
CLIENT_ID, SECRET, TOKEN = "pdd-client-id", "pdd-secret", "pdd-token"


@pytest.fixture
def server() -> Iterator[RunningServer]:
    # Fresh options (and so fresh faults) per test: faults set by one test must not leak.
    running = RunningServer(
        CHANNEL.make_simulator(
            SimulatorOptions(app_key=CLIENT_ID, app_secret=SECRET, access_token=TOKEN)
        )
    ).start()
    yield running
    running.stop()


def _client(server: RunningServer, **overrides: Any) -> PddClient:
    connection = ShopConnection(
        shop="s1",
        base_url=server.url,
        app_key=CLIENT_ID,
        app_secret=SECRET,
        access_token=TOKEN,
        timeout_s=1.0,
        max_attempts=8,
        rate_per_s=200,
    )
    return PddClient(replace(connection, **overrides), page_size=7)


def _seed(server: RunningServer, count: int, *, advance: int = 0) -> set[str]:
    httpx.post(f"{server.url}/_sim/orders", json={"count": count}).raise_for_status()
    if advance:
        httpx.post(f"{server.url}/_sim/advance", json={"count": advance}).raise_for_status()
    truth = httpx.get(f"{server.url}/_sim/orders").json()["orders"]
    return set(truth)


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(minutes=2), now + timedelta(minutes=1)


def test_every_order_is_pulled_through_faults_across_pages(server: RunningServer) -> None:
    truth = _seed(server, 20, advance=10)
    httpx.put(f"{server.url}/_sim/faults", json=FAULTS).raise_for_status()
    client = _client(server)
    since, until = _window()
    seen: set[str] = set()
    pages, page = 0, None
    while True:
        result = client.fetch_changed(since, until, page)
        seen.update(p["order_sn"] for p in result.payloads)
        pages += 1
        if result.next_page is None:
            break
        page = result.next_page
    client.close()
    assert truth <= seen
    assert pages >= 3
    assert all(no.split("-")[0].isdigit() and len(no.split("-")[1]) == 15 for no in truth)


def test_list_order_numbers_is_exactly_the_ground_truth(server: RunningServer) -> None:
    truth = _seed(server, 10, advance=5)
    httpx.put(f"{server.url}/_sim/faults", json=FAULTS).raise_for_status()
    client = _client(server)
    assert client.list_order_numbers(*_window()) == sorted(truth)
    client.close()


def test_pulled_payloads_map_to_canonical_orders(server: RunningServer) -> None:
    _seed(server, 12, advance=12)
    client = _client(server)
    mapping = load_mapping(CHANNEL)
    since, until = _window()
    page = client.fetch_changed(since, until, None)
    payloads = list(page.payloads)
    while page.next_page is not None:
        page = client.fetch_changed(since, until, page.next_page)
        payloads.extend(page.payloads)
    client.close()
    mapped = [map_order(p, mapping, shop="s1") for p in payloads]
    assert mapped and all(isinstance(m, MappedOrder) for m in mapped)
    for m in mapped:
        assert isinstance(m, MappedOrder)
        assert m.order.receiver.masked
        assert m.order.amounts.paid_total == m.order.amounts.expected_paid_total


def test_a_wrong_secret_is_refused_with_pdds_sign_error(server: RunningServer) -> None:
    _seed(server, 2)
    client = _client(server, app_secret="not-the-secret")
    with pytest.raises(PddApiError) as refused:
        client.fetch_changed(*_window(), None)
    client.close()
    assert refused.value.code == 20004
    assert refused.value.error_msg == "签名sign校验失败"


def test_an_unsigned_call_gets_the_error_envelope(server: RunningServer) -> None:
    body = {"type": "pdd.order.information.get", "client_id": CLIENT_ID}
    body |= {"timestamp": "1480411125", "order_sn": "x", "sign": "00"}
    answer = httpx.post(f"{server.url}/api/router", json=body)
    assert answer.status_code == 200
    assert answer.json()["error_response"]["error_code"] == 20004


def test_a_window_over_thirty_minutes_is_refused_by_the_gateway(server: RunningServer) -> None:
    params = {
        "type": "pdd.order.number.list.increment.get",
        "client_id": CLIENT_ID,
        "access_token": TOKEN,
        "timestamp": "1480411125",
        "start_updated_at": "1700000000",
        "end_updated_at": str(1700000000 + 31 * 60),
        "is_lucky_flag": "0",
        "order_status": "5",
        "refund_status": "5",
    }
    answer = httpx.post(f"{server.url}/api/router", data=signed(params, SECRET))
    error = answer.json()["error_response"]
    assert error["error_code"] == 10000
    assert "30" in error["sub_msg"]


def test_a_long_range_is_pulled_in_thirty_minute_windows(server: RunningServer) -> None:
    truth = _seed(server, 5)
    client = _client(server)
    until = datetime.now(UTC) + timedelta(minutes=1)
    assert client.list_order_numbers(until - timedelta(hours=3), until) == sorted(truth)
    client.close()


def test_one_order_and_its_decrypted_receiver(server: RunningServer) -> None:
    truth = _seed(server, 6)
    client = _client(server)
    orders = [client.fetch_order(no) for no in sorted(truth)]
    assert all(o is not None for o in orders)
    waiting = next(o for o in orders if o is not None and o["receiver_name"])
    clear = client.decrypt(waiting)
    assert clear["receiver_name"][0] == waiting["receiver_name_mask"][0]
    assert clear["receiver_phone"][-4:] == waiting["receiver_phone_mask"][-4:]
    assert "*" not in clear["receiver_address"]
    assert client.fetch_order("201125-000000000000000") is None
    client.close()


def test_an_order_updated_after_the_range_is_still_listed_by_its_deal_time(
    server: RunningServer,
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    httpx.post(f"{server.url}/_sim/orders", json={"count": 8}).raise_for_status()
    before = httpx.get(f"{server.url}/_sim/orders").json()["orders"]
    deals = {no for no, o in before.items() if o["state"] != "awaiting_payment"}
    time.sleep(1.1)  # PDD ranges are whole seconds: the updates below fall after `until`
    until = datetime.now(UTC)
    time.sleep(1.1)
    httpx.post(f"{server.url}/_sim/advance", json={"count": 8}).raise_for_status()
    client = _client(server)
    listed = set(client.list_order_numbers(since, until))
    client.close()
    assert deals <= listed <= set(before)


def test_a_throttle_answered_inside_http_200_is_retried() -> None:
    app = create_app(SimulatorOptions(app_key=CLIENT_ID, app_secret=SECRET, access_token=TOKEN))
    throttles = [1]

    @app.middleware("http")
    async def over_the_limit(request: Request, call_next: Any) -> Response:
        if request.url.path == "/api/router" and throttles:
            throttles.pop()
            error = {"error_code": 70031, "error_msg": "调用过于频繁，请调整调用频率"}
            return JSONResponse({"error_response": error})
        response: Response = await call_next(request)
        return response

    running = RunningServer(app).start()
    try:
        truth = _seed(running, 1)
        client = _client(running)
        order = client.fetch_order(truth.pop())
        client.close()
    finally:
        running.stop()
    assert order is not None
    assert not throttles
