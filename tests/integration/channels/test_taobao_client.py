"""The Taobao client against the TOP simulator over real HTTP on 127.0.0.1, faults switched on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from orderhub.domain.mapping import MappedOrder, map_order
from orderhub.integrations.channels.registry import ShopConnection, SimulatorOptions, load_mapping
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.integrations.channels.taobao import CHANNEL
from orderhub.integrations.channels.taobao.client import TaobaoClient, TopError
from orderhub.integrations.channels.taobao.protocol import parse_top_time
from orderhub.integrations.channels.taobao.receivers import with_receivers
from orderhub.services.ports import ChannelUnavailable

FAULTS = {
    "rate_429": 0.2,
    "rate_500": 0.2,
    "rate_timeout": 0.05,
    "timeout_s": 1.5,
    "duplicate": 0.2,
    "out_of_order": 0.2,
}
CREDENTIALS = {"app_key": "tb-key", "app_secret": "tb-secret", "access_token": "tb-session"}


@pytest.fixture
def server() -> Iterator[RunningServer]:
    # Fresh options (and so fresh faults) per test.
    running = RunningServer(CHANNEL.make_simulator(SimulatorOptions(**CREDENTIALS))).start()
    yield running
    running.stop()


def _client(
    server: RunningServer,
    *,
    max_attempts: int = 8,
    clock: Callable[[], datetime] | None = None,
    **extra: str,
) -> TaobaoClient:
    connection = ShopConnection(
        shop="s1",
        base_url=server.url,
        **CREDENTIALS,
        timeout_s=1.0,
        max_attempts=max_attempts,
        rate_per_s=200,
        extra={"page_size": "7", **extra},
    )
    return TaobaoClient(connection, clock=clock)


def _seed(server: RunningServer, count: int, *, advance: int = 0) -> dict[str, Any]:
    httpx.post(f"{server.url}/_sim/orders", json={"count": count}).raise_for_status()
    if advance:
        httpx.post(f"{server.url}/_sim/advance", json={"count": advance}).raise_for_status()
    truth: dict[str, Any] = httpx.get(f"{server.url}/_sim/orders").json()["orders"]
    return truth


def _faults(server: RunningServer, faults: dict[str, float]) -> None:
    httpx.put(f"{server.url}/_sim/faults", json=faults).raise_for_status()


def _window(days: float = 0.1) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(days=days), now + timedelta(seconds=30)


def _pull(client: TaobaoClient, since: datetime, until: datetime) -> list[dict[str, Any]]:
    payloads: list[dict[str, Any]] = []
    page: str | None = None
    while True:
        result = client.fetch_changed(since, until, page)
        payloads.extend(result.payloads)
        page = result.next_page
        if page is None:
            return payloads


def test_the_pull_returns_every_trade_through_throttles_timeouts_and_repeats(
    server: RunningServer,
) -> None:
    truth = _seed(server, 14, advance=7)
    _faults(server, FAULTS)
    payloads = _pull(_client(server), *_window())
    assert {p["tid_str"] for p in payloads} >= set(truth)
    mapping = load_mapping(CHANNEL)
    for payload in payloads:
        mapped = map_order(payload, mapping, shop="s1")
        assert isinstance(mapped, MappedOrder), getattr(mapped, "message", mapped)


def test_a_pull_over_several_days_walks_tops_one_day_windows(server: RunningServer) -> None:
    truth = _seed(server, 9, advance=4)
    # the simulator refuses a window longer than a day, as TOP does
    payloads = _pull(_client(server), *_window(days=3.5))
    assert {p["tid_str"] for p in payloads} == set(truth)


def test_the_pull_reads_pages_oldest_first(server: RunningServer) -> None:
    truth = _seed(server, 20, advance=10)
    payloads = _pull(_client(server), *_window())
    modified = [parse_top_time(p["modified"]) for p in payloads]
    assert modified == sorted(modified)
    assert sorted(p["tid_str"] for p in payloads) == sorted(truth)


def test_a_shop_that_opts_in_gets_receivers_of_trades_awaiting_shipment_decrypted(
    server: RunningServer,
) -> None:
    _seed(server, 10)
    payloads = _pull(_client(server, decrypt_receivers="true"), *_window())
    waiting = [p for p in payloads if p["status"] == "WAIT_SELLER_SEND_GOODS"]
    assert waiting
    for payload in waiting:
        assert payload["orderhub_receiver_source"] == "oaid_decrypt"
        assert "*" not in payload["receiver_name"] + payload["receiver_mobile"]


def test_a_version_read_before_the_address_changed_stays_masked(server: RunningServer) -> None:
    truth = _seed(server, 1)
    client = _client(server, decrypt_receivers="true")
    (tid,) = truth
    before = client.fetch_order(tid)
    assert before is not None and before["orderhub_receiver_source"] == "oaid_decrypt"
    store = server.app.state.store
    moved = {**store.orders[tid].receiver, "address": "天目山路 176 号"}
    store.change(tid, receiver=moved)
    masked = {k: v for k, v in before.items() if k != "orderhub_receiver_source"}
    masked["receiver_name"] = "*"
    # TOP answers matched=false for the old oaid: that version keeps its masked receiver ...
    assert with_receivers(client.call, [masked]) == [masked]
    # ... and the trade read again brings the new oaid and the new address
    after = client.fetch_order(tid)
    assert after is not None and after["receiver_address"] == "天目山路 176 号"


def test_a_clock_more_than_ten_minutes_off_is_refused_as_top_does(server: RunningServer) -> None:
    client = _client(server, clock=lambda: datetime.now(UTC) - timedelta(minutes=11))
    with pytest.raises(TopError) as refused:
        client.fetch_changed(*_window(), None)
    assert refused.value.code == "31"


def test_receivers_stay_masked_unless_the_shop_opts_in(server: RunningServer) -> None:
    _seed(server, 5)
    payloads = _pull(_client(server), *_window())
    mapping = load_mapping(CHANNEL)
    for payload in payloads:
        mapped = map_order(payload, mapping, shop="s1")
        assert isinstance(mapped, MappedOrder)
        assert mapped.order.receiver.masked
        assert "*" in mapped.order.receiver.phone


def test_list_order_numbers_is_exactly_the_ground_truth(server: RunningServer) -> None:
    truth = _seed(server, 12, advance=6)
    _faults(server, FAULTS)
    assert _client(server).list_order_numbers(*_window()) == sorted(truth)


def test_fetch_order_gives_one_trade_or_none_when_top_does_not_know_it(
    server: RunningServer,
) -> None:
    truth = _seed(server, 3)
    client = _client(server)
    tid = sorted(truth)[0]
    trade = client.fetch_order(tid)
    assert trade is not None
    assert trade["tid"] == int(tid)
    assert trade["orders"]["order"]
    assert client.fetch_order("3712999999999999999") is None


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("app_secret", "not-the-secret", "25"), ("access_token", "stale-session", "27")],
)
def test_a_bad_secret_or_session_is_refused_with_tops_error(
    server: RunningServer, field: str, value: str, code: str
) -> None:
    client = _client(server)
    client.connection = replace(client.connection, **{field: value})
    with pytest.raises(TopError) as refused:
        client.fetch_changed(*_window(), None)
    assert refused.value.code == code
    assert code in str(refused.value)


def test_every_sign_method_is_accepted(server: RunningServer) -> None:
    truth = _seed(server, 2)
    for method in ("md5", "hmac", "hmac-sha256"):
        assert _client(server, sign_method=method).list_order_numbers(*_window()) == sorted(truth)


def test_a_shop_throttled_on_every_call_gives_channel_unavailable(server: RunningServer) -> None:
    _seed(server, 2)
    _faults(server, {"rate_429": 1.0})
    with pytest.raises(ChannelUnavailable, match="App Call Limited"):
        _client(server, max_attempts=2).fetch_changed(*_window(), None)
