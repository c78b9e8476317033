"""The Qimen WMS adapter against the WMS simulator over real HTTP on 127.0.0.1: outbound orders
in, callbacks back to a small receiver that reads them with `Wms().parse_callback`."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from orderhub.domain.fulfilment import MessageKind, ReportKind, WarehouseReport, outbound_no
from orderhub.domain.warehouses import Warehouse, WmsCredentials
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.integrations.wms import Wms
from orderhub.integrations.wms.qimen import QimenError
from orderhub.integrations.wms.qimen import protocol as qm
from orderhub.integrations.wms.qimen.simulator import WmsSimOptions, start_wms_simulator
from orderhub.services.ports import CallbackRejected, OutboxMessage, Outcome, WmsConnector

CREDENTIALS = WmsCredentials(app_key="oh-wms", secret="s3cret-qimen", customer_id="OWNER-7")
CARRIERS = {"SF", "YTO", "ZTO", "STO", "YUNDA"}


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_s}s")
        time.sleep(0.01)


@dataclass
class Receiver:
    """OrderHub's callback endpoint in miniature: parse, keep every report, answer."""

    warehouse: Warehouse | None = None
    reports: list[WarehouseReport] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    fail_next: int = 0  # answer this many callbacks with HTTP 500 first
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        app, wms = FastAPI(), Wms()

        @app.post("/qimen/callback")
        async def callback(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return Response(status_code=500)
            assert self.warehouse is not None
            try:
                reports = wms.parse_callback(self.warehouse, dict(request.query_params), body)
            except CallbackRejected as rejected:
                self.rejected.append(str(rejected))
                kind, answer = wms.answer(self.warehouse, str(rejected))
                return Response(answer, media_type=kind)
            with self.lock:
                self.reports.extend(reports)
            kind, answer = wms.answer(self.warehouse, None)
            return Response(answer, media_type=kind)

        return app

    def of(self, kind: ReportKind) -> list[WarehouseReport]:
        with self.lock:
            return [r for r in self.reports if r.kind is kind]

    def shipped(self) -> dict[str, WarehouseReport]:
        return {str(r.outbound_no): r for r in self.of(ReportKind.SHIPPED)}


@dataclass
class Hub:
    receiver: Receiver
    sim: RunningServer
    warehouse: Warehouse
    wms: Wms
    callback_url: str

    def send(self, messages: list[OutboxMessage]) -> list[Any]:
        return self.wms.client(self.warehouse).send(messages)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.sim.url}/_sim/{path}", timeout=15, **kwargs)
        response.raise_for_status()
        return response.json()

    def flush(self) -> None:
        assert self.control("POST", "flush")["flushed"]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, RunningServer]]:
    receiver = Receiver()
    server = RunningServer(receiver.app()).start()
    yield receiver, server
    server.stop()


@pytest.fixture
def hub_with(
    receiver: tuple[Receiver, RunningServer],
) -> Iterator[Callable[..., Hub]]:
    started: list[Hub] = []

    def start(**options: Any) -> Hub:
        listener, server = receiver
        sim = start_wms_simulator(
            callback_url=f"{server.url}/qimen/callback",
            credentials=CREDENTIALS,
            options=WmsSimOptions(warehouse_code="WH-MAIN", **options),
        )
        now = datetime.now(UTC)
        warehouse = Warehouse(
            code="WH-MAIN",
            name="Main",
            created_at=now,
            updated_at=now,
            wms="qimen",
            base_url=sim.url,
            credentials=CREDENTIALS,
        )
        listener.warehouse = warehouse
        hub = Hub(listener, sim, warehouse, Wms(timeout_s=0.5), f"{server.url}/qimen/callback")
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.wms.close()
        hub.sim.stop()


def create(order_id: int, *, message_id: str | None = None, sku: str = "SKU-1") -> OutboxMessage:
    payload = {
        "outbound_no": outbound_no(order_id),
        "order_id": order_id,
        "warehouse": "WH-MAIN",
        "priority": order_id % 2,
        "queue": "default",
        "shop": "tb-main",
        "channel": "taobao",
        "channel_order_no": f"T{order_id:08d}",
        "created_at": "2024-05-01T08:00:00+00:00",
        "paid_at": "2024-05-01T08:01:00+00:00",
        "receiver": {
            "name": "张三",
            "phone": "13800000000",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address": "文三路 1 号",
            "postcode": "310000",
        },
        "lines": [{"sku": sku, "title": "Tea", "quantity": 2}],
        "buyer_note": None,
        "seller_note": "gift wrap",
    }
    return _message(MessageKind.WMS_OUTBOUND_CREATE, payload, message_id, order_id)


def cancel(order_id: int) -> OutboxMessage:
    payload = {
        "outbound_no": outbound_no(order_id),
        "order_id": order_id,
        "warehouse": "WH-MAIN",
        "reason": "buyer cancelled",
    }
    return _message(MessageKind.WMS_OUTBOUND_CANCEL, payload, None, order_id)


def _message(
    kind: str, payload: dict[str, Any], message_id: str | None, order_id: int
) -> OutboxMessage:
    return OutboxMessage(
        id=order_id,
        message_id=message_id or str(uuid.uuid4()),
        target="wms:WH-MAIN",
        kind=kind,
        payload=payload,
        attempts=0,
        created_at=datetime.now(UTC),
        order_id=order_id,
    )


def test_the_connector_speaks_qimen_and_keeps_one_client_per_warehouse(
    hub_with: Callable[..., Hub],
) -> None:
    hub = hub_with()
    connector: WmsConnector = hub.wms
    assert connector.protocols() == frozenset({"qimen"})
    assert connector.client(hub.warehouse) is connector.client(hub.warehouse)


def test_a_batch_of_creates_is_accepted_and_a_repeated_message_is_applied_once(
    hub_with: Callable[..., Hub],
) -> None:
    hub = hub_with(ship_after_s=60)
    messages = [create(n) for n in range(1, 6)]
    first = hub.send(messages)
    assert [r.outcome for r in first] == [Outcome.DELIVERED] * 5
    assert [r.message_id for r in first] == [m.message_id for m in messages]
    again = hub.send(messages)  # the relay lost the answers and sends the same messages
    assert [r.answer for r in again] == [r.answer for r in first]
    assert all(str(r.answer["wms_order_id"]).startswith("WMS") for r in first)
    # A new message for an order the WMS holds is recognised by deliveryOrderCode.
    (single,) = hub.send([create(1)])
    assert single.outcome is Outcome.DELIVERED
    assert single.answer == first[0].answer
    truth = hub.control("GET", "outbound")
    assert (truth["creates_received"], truth["creates_applied"]) == (11, 5)
    assert truth["duplicates_ignored"] == 6
    assert truth["orders"][outbound_no(1)]["creates"] == 3


def test_shipped_orders_come_back_as_signed_shipped_reports_with_carrier_and_tracking_no(
    hub_with: Callable[..., Hub],
) -> None:
    hub = hub_with(confirm_batch=25)
    results = hub.send([create(n) for n in range(1, 131)])  # two batchcreate calls
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    hub.flush()
    shipped = hub.receiver.shipped()
    assert set(shipped) == {outbound_no(n) for n in range(1, 131)}
    assert {r.carrier for r in shipped.values()} <= CARRIERS
    assert len({r.tracking_no for r in shipped.values()}) == 130
    truth = hub.control("GET", "outbound")["orders"]
    for no, report in shipped.items():
        assert truth[no]["status"] == "DELIVERED"
        assert (truth[no]["carrier"], truth[no]["tracking_no"]) == (
            report.carrier,
            report.tracking_no,
        )
        assert report.warehouse == "WH-MAIN"
    assert not hub.receiver.rejected


def test_progress_and_proof_of_delivery_are_reported_when_the_warehouse_sends_them(
    hub_with: Callable[..., Hub],
) -> None:
    hub = hub_with(report_progress=True, deliver_after_s=0, confirm_batch=1)
    hub.send([create(7)])
    hub.flush()
    kinds = [r.kind for r in hub.receiver.reports if r.outbound_no == outbound_no(7)]
    assert kinds == [ReportKind.PICKING, ReportKind.SHIPPED, ReportKind.DELIVERED]


def test_a_callback_with_a_wrong_signature_is_rejected_saying_what_to_fix(
    hub_with: Callable[..., Hub],
) -> None:
    hub = hub_with()
    body = qm.encode({"deliveryOrder": {"deliveryOrderCode": outbound_no(1)}})
    forged = WmsCredentials(CREDENTIALS.app_key, "not-the-secret", CREDENTIALS.customer_id)
    query = qm.signed_query(qm.CONFIRM, body, forged, datetime.now(UTC))
    with pytest.raises(CallbackRejected, match="signature does not match.*secret"):
        Wms().parse_callback(hub.warehouse, query, body)
    # Over HTTP the receiver answers Qimen's failure, so the WMS keeps the fact and retries.
    answer = httpx.post(hub.callback_url, params=query, content=body)
    assert qm.read_response(answer.content)["flag"] == "failure"
    assert "signature does not match" in hub.receiver.rejected[0]


@pytest.mark.parametrize(
    ("method", "body", "problem"),
    [
        ("taobao.qimen.entryorder.confirm", b"{}", "not one OrderHub reads"),
        (qm.CONFIRM, b"{not json", "not JSON"),
        (qm.CONFIRM, qm.encode({"deliveryOrder": {}}), "deliveryOrderCode' is missing"),
        (
            qm.CONFIRM,
            qm.encode({"deliveryOrder": {"deliveryOrderCode": "OH1", "operateTime": "x"}}),
            "no carrier and tracking no",
        ),
        (
            qm.PROCESS_REPORT,
            qm.encode({"order": {"orderCode": "OH1"}, "process": {"processStatus": "FLY"}}),
            "not in Qimen's list",
        ),
        (qm.INVENTORY_REPORT, qm.encode({"items": {"item": []}}), "no 'items'"),
    ],
)
def test_a_callback_that_cannot_be_applied_is_rejected_naming_the_problem(
    method: str, body: bytes, problem: str
) -> None:
    now = datetime.now(UTC)
    warehouse = Warehouse("WH-MAIN", "Main", now, now, "qimen", "http://x", CREDENTIALS)
    query = qm.signed_query(method, body, CREDENTIALS, now)
    with pytest.raises(CallbackRejected, match=problem):
        Wms().parse_callback(warehouse, query, body)


def test_a_cancel_before_shipping_intercepts_the_order_and_it_never_ships(
    hub_with: Callable[..., Hub],
) -> None:
    hub = hub_with(ship_after_s=0.3)
    hub.send([create(1), create(2)])
    (result,) = hub.send([cancel(1)])
    assert result.outcome is Outcome.DELIVERED
    assert result.answer is not None and result.answer["result"] == "intercepted"
    # Order 2 was due at the same moment: once it has shipped, order 1 had its chance.
    wait_for(lambda: outbound_no(2) in hub.receiver.shipped())
    hub.flush()
    assert outbound_no(1) not in hub.receiver.shipped()
    assert hub.control("GET", "outbound")["orders"][outbound_no(1)]["status"] == "CANCELED"
    (repeat,) = hub.send([cancel(1)])
    assert repeat.answer is not None and repeat.answer["result"] == "intercepted"


def test_a_cancel_after_shipping_is_too_late_and_an_unknown_order_is_not_found(
    hub_with: Callable[..., Hub],
) -> None:
    hub = hub_with()
    hub.send([create(1)])
    wait_for(lambda: outbound_no(1) in hub.receiver.shipped())
    late, unknown = hub.send([cancel(1), cancel(999)])
    assert (late.outcome, unknown.outcome) == (Outcome.DELIVERED, Outcome.DELIVERED)
    assert late.answer is not None and late.answer["result"] == "too_late"
    assert unknown.answer is not None and unknown.answer["result"] == "not_found"


@pytest.mark.parametrize(
    ("faults", "retry_after_s"),
    [
        ({"rate_429": 1.0}, 1.0),
        ({"rate_500": 1.0}, None),
        ({"rate_timeout": 1.0, "timeout_s": 1.0}, None),
    ],
)
def test_throttles_failures_and_timeouts_become_retry_results_not_exceptions(
    hub_with: Callable[..., Hub], faults: dict[str, float], retry_after_s: float | None
) -> None:
    hub = hub_with(ship_after_s=60)
    hub.control("PUT", "faults", json=faults)
    messages = [create(1), create(2), cancel(3)]
    results = hub.send(messages)
    assert [r.outcome for r in results] == [Outcome.RETRY] * 3
    assert {r.retry_after_s for r in results} == {retry_after_s}
    assert all(r.detail for r in results)
    with pytest.raises(QimenError, match="warehouse WH-MAIN"):
        hub.wms.client(hub.warehouse).stock_snapshot()
    hub.control("PUT", "faults", json={"rate_429": 0, "rate_500": 0, "rate_timeout": 0})
    retried = hub.send(messages[:2])  # the relay's next attempt, same message ids
    assert [r.outcome for r in retried] == [Outcome.DELIVERED] * 2
    # A timed-out create may land late; either way each order is applied once.
    wait_for(lambda: hub.control("GET", "outbound")["creates_received"] >= 2)
    assert hub.control("GET", "outbound")["creates_applied"] == 2


def test_an_unreachable_wms_is_a_retry_result(hub_with: Callable[..., Hub]) -> None:
    hub = hub_with()
    hub.sim.stop()
    wait_for(lambda: _refused(hub.sim.url))
    results = hub.send([create(1), cancel(2)])
    assert [r.outcome for r in results] == [Outcome.RETRY] * 2


def _refused(url: str) -> bool:
    try:
        httpx.get(f"{url}/_sim/stock", timeout=0.2)
    except httpx.HTTPError:
        return True
    return False


def test_a_refusal_carries_the_wms_code_and_message(hub_with: Callable[..., Hub]) -> None:
    hub = hub_with(ship_after_s=60)
    good, bad = create(1), create(2)
    bad.payload["warehouse"] = "WH-OTHER"
    results = hub.send([good, bad])
    assert [r.outcome for r in results] == [Outcome.DELIVERED, Outcome.REFUSED]
    assert results[1].code == qm.INVALID_ARGUMENT
    assert "warehouseCode must be WH-MAIN" in str(results[1].detail)
    broken = create(3)
    del broken.payload["lines"]
    (invalid,) = hub.send([broken])
    assert (invalid.outcome, invalid.code) == (Outcome.REFUSED, "invalid-payload")
    assert "lines" in str(invalid.detail)


def test_duplicate_callbacks_carry_the_same_message_id(hub_with: Callable[..., Hub]) -> None:
    hub = hub_with(confirm_batch=2)
    hub.control("PUT", "faults", json={"duplicate": 1.0})
    hub.send([create(n) for n in range(1, 6)])
    hub.flush()
    wait_for(lambda: len(hub.receiver.of(ReportKind.SHIPPED)) == 10)
    ids = [r.message_id for r in hub.receiver.of(ReportKind.SHIPPED)]
    assert len(set(ids)) == 5
    assert all(ids.count(i) == 2 for i in ids)
    assert hub.control("GET", "callbacks")["duplicates_sent"] == 3


def test_stock_snapshot_returns_what_the_warehouse_holds_and_its_count_is_reported(
    hub_with: Callable[..., Hub],
) -> None:
    hub = hub_with()
    counts = {f"SKU-{n:03d}": n for n in range(150)}  # two pages of stock.query
    hub.control("PUT", "stock", json=counts)
    snapshot = hub.wms.client(hub.warehouse).stock_snapshot()
    assert {c.sku: c.on_hand for c in snapshot} == counts
    hub.flush()
    (report,) = hub.receiver.of(ReportKind.STOCK)
    assert {c.sku: c.on_hand for c in report.stock} == counts
    # Shipping counts stock down.
    hub.send([create(1, sku="SKU-010")])
    hub.flush()
    assert hub.control("GET", "stock")["stock"]["SKU-010"] == 8


def test_every_callback_arrives_even_when_the_receiver_fails_a_few_times(
    hub_with: Callable[..., Hub],
) -> None:
    hub = hub_with(confirm_batch=4)
    hub.receiver.fail_next = 3
    hub.send([create(n) for n in range(1, 11)])
    hub.flush()
    assert set(hub.receiver.shipped()) == {outbound_no(n) for n in range(1, 11)}
    stats = hub.control("GET", "callbacks")
    assert stats["failed_attempts"] == 3
    assert stats["pending"] == 0


def test_thousands_of_orders_ship_in_batch_confirmations_of_a_hundred(
    hub_with: Callable[..., Hub],
) -> None:
    """Its speed is measured in bench/fulfilment.py (the raw phase), not here."""
    hub = hub_with(confirm_batch=100)
    count = 4000
    for start in range(0, count, 100):
        hub.send([create(n) for n in range(start + 1, start + 101)])
    wait_for(lambda: len(hub.receiver.of(ReportKind.SHIPPED)) == count, timeout_s=60)
    assert set(hub.receiver.shipped()) == {outbound_no(n) for n in range(1, count + 1)}
