"""Change events reach NATS JetStream as docs/events.md promises, against the real server
(a stream and subject prefix per test, deleted after it); the schema tests need no server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import nats
import pytest
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from orderhub.domain import actions
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.orders import Order, open_order
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.integrations.events import NatsEventSender
from orderhub.services.ports import OutboxMessage, Outcome
from orderhub.storage.outbox import message_row
from tests.conftest import unavailable
from tests.factories import T0, an_order

NATS_HOST, NATS_PORT = "127.0.0.1", 4222
NATS_URL = f"nats://{NATS_HOST}:{NATS_PORT}"
NATS_START = (
    "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- "
    "-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log"
)
DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMA = json.loads((DOCS / "events.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
DOCUMENTED_HEADERS = {"Nats-Msg-Id", "OrderHub-Event", "OrderHub-Event-Version", "Content-Type"}
T = TypeVar("T")
CLERK = Actor(id="u-7", name="小王", kind=ActorKind.USER, role="operator")


# -- outbox messages built the way the unit of work builds them --------------------------------


def order_story(order_id: int) -> tuple[Order, list[OrderEvent]]:
    """One order's life so far: created, paid, held, edited, noted, released."""
    order = open_order(an_order(channel_order_no=f"M-{order_id}"), at=T0, custom_field_defs={})
    order.id = order_id
    at = T0
    events = [actions.created(order, actor=CLERK, at=at, source="manual", correlation_id="req-1")]

    def later() -> datetime:
        nonlocal at
        at += timedelta(minutes=5)
        return at

    events.append(actions.apply(order, Action.PAY, actor=CLERK, at=later()))
    events.append(
        actions.apply(
            order,
            Action.HOLD,
            actor=CLERK,
            at=later(),
            reason="buyer asked to wait",
            reason_code="buyer_request",
        )
    )
    events.append(actions.edit(order, actor=CLERK, at=later(), seller_note="call before"))
    events.append(actions.note(order, "buyer_called", actor=CLERK, at=later(), source="orderhub"))
    events.append(actions.apply(order, Action.RELEASE, actor=CLERK, at=later()))
    return order, events


def outbox_messages(order_count: int) -> list[OutboxMessage]:
    """What the relay claims: message_row's rows, read back as storage/outbox.py reads them."""
    messages: list[OutboxMessage] = []
    for n in range(1, order_count + 1):
        order, events = order_story(n)
        for event in events:
            row = message_row(order, event, uuid.uuid4(), event.at, publish=True)
            messages.append(
                OutboxMessage(
                    id=len(messages) + 1,
                    message_id=row["message_id"],
                    target=row["target"],
                    kind=row["event_type"],
                    # Through JSON, as it comes back from the outbox's JSON column.
                    payload=json.loads(json.dumps(row["payload"])),
                    attempts=0,
                    created_at=row["created_at"],
                    order_id=row["order_id"],
                )
            )
    return messages


# -- the server, a stream per test, and a subscriber's view of it -------------------------------


@dataclass(frozen=True)
class Names:
    stream: str
    prefix: str


@dataclass(frozen=True)
class Received:
    subject: str
    headers: dict[str, str]
    payload: dict[str, Any]
    deliveries: int


def require_nats() -> None:
    try:
        with socket.create_connection((NATS_HOST, NATS_PORT), timeout=2):
            return
    except OSError:
        unavailable(
            f"NATS JetStream is not reachable on {NATS_HOST}:{NATS_PORT}; start it with "
            f"`{NATS_START}`"
        )


def on_server(work: Callable[[JetStreamContext], Awaitable[T]]) -> T:
    """Run `work` with a JetStream context of its own connection, as a subscriber would."""

    async def run() -> T:
        nc = await nats.connect(NATS_URL)
        try:
            return await work(nc.jetstream())
        finally:
            await nc.close()

    return asyncio.run(run())


@pytest.fixture
def names() -> Iterator[Names]:
    require_nats()
    tag = uuid.uuid4().hex[:12]
    made = Names(stream=f"ORDERHUB_TEST_{tag}", prefix=f"orderhubtest{tag}")
    yield made
    with contextlib.suppress(NotFoundError):
        on_server(lambda js: js.delete_stream(made.stream))


@pytest.fixture
def sender(names: Names) -> Iterator[NatsEventSender]:
    made = NatsEventSender(NATS_URL, names.stream, names.prefix, timeout_s=5.0)
    yield made
    made.close()


def read_all(names: Names, durable: str = "reader") -> list[Received]:
    """Everything new for a durable pull consumer, each acked synchronously, as docs advise."""

    async def read(js: JetStreamContext) -> list[Received]:
        sub = await js.pull_subscribe(f"{names.prefix}.>", durable=durable, stream=names.stream)
        received: list[Received] = []
        while True:
            try:
                batch = await sub.fetch(200, timeout=1)
            except NatsTimeout:
                return received
            for msg in batch:
                headers, payload = dict(msg.headers or {}), json.loads(msg.data)
                received.append(Received(msg.subject, headers, payload, msg.metadata.num_delivered))
                await msg.ack_sync()

    return on_server(read)


def stream_state(names: Names) -> tuple[int, StreamConfig]:
    info = on_server(lambda js: js.stream_info(names.stream))
    return info.state.messages, info.config


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# -- behaviour against the real server ---------------------------------------------------------


@pytest.mark.nats
def test_every_event_arrives_once_on_its_subject_with_headers_and_a_valid_payload(
    sender: NatsEventSender, names: Names
) -> None:
    messages = outbox_messages(order_count=3)

    results = sender.send(messages)

    assert [r.message_id for r in results] == [m.message_id for m in messages]
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    received = read_all(names)
    by_id = {r.headers["Nats-Msg-Id"]: r for r in received}
    assert len(received) == len(by_id) == len(messages)
    assert all(r.deliveries == 1 for r in received)
    for message in messages:
        got = by_id[message.message_id]
        assert got.subject == f"{names.prefix}.{message.kind}"
        assert got.headers.keys() >= DOCUMENTED_HEADERS
        assert got.headers["OrderHub-Event"] == message.kind
        assert got.headers["OrderHub-Event-Version"] == "1"
        assert got.headers["Content-Type"] == "application/json"
        assert got.payload == message.payload
        VALIDATOR.validate(got.payload)
    kinds = Counter(r.headers["OrderHub-Event"] for r in received)
    assert kinds == {
        "order.created": 3,
        "order.status_changed": 9,
        "order.edited": 3,
        "order.buyer_called": 3,
    }


@pytest.mark.nats
def test_one_orders_events_arrive_in_the_order_they_were_written(
    sender: NatsEventSender, names: Names
) -> None:
    messages = outbox_messages(order_count=4)
    sender.send(messages)

    received = read_all(names)

    for order_id in range(1, 5):
        sent = [m.message_id for m in messages if m.order_id == order_id]
        got = [r.headers["Nats-Msg-Id"] for r in received if r.payload["order_id"] == order_id]
        assert got == sent


@pytest.mark.nats
def test_sending_the_same_batch_again_stores_nothing_new(
    sender: NatsEventSender, names: Names
) -> None:
    messages = outbox_messages(order_count=2)
    sender.send(messages)
    first = read_all(names)

    again = sender.send(messages)

    assert {r.outcome for r in again} == {Outcome.DELIVERED}
    assert all(r.answer is not None and r.answer["duplicate"] for r in again)
    assert stream_state(names)[0] == len(messages) == len(first)
    assert read_all(names) == []


@pytest.mark.nats
def test_a_missing_stream_is_created_with_the_documented_subjects_storage_and_dedup_window(
    sender: NatsEventSender, names: Names
) -> None:
    sender.send(outbox_messages(order_count=1)[:1])

    _, config = stream_state(names)

    assert config.subjects == [f"{names.prefix}.>"]
    assert config.storage == StorageType.FILE
    assert config.duplicate_window == 120.0


@pytest.mark.nats
def test_an_existing_stream_is_used_as_it_is_and_keeps_what_it_holds(
    sender: NatsEventSender, names: Names
) -> None:
    async def make_stream_with_one_message(js: JetStreamContext) -> None:
        await js.add_stream(
            name=names.stream, subjects=[f"{names.prefix}.>"], duplicate_window=600.0
        )
        await js.publish(f"{names.prefix}.order.created", b"{}", headers={"Nats-Msg-Id": "old"})

    on_server(make_stream_with_one_message)

    sender.send(outbox_messages(order_count=1))

    count, config = stream_state(names)
    assert count == 1 + 6
    assert config.duplicate_window == 600.0


@pytest.mark.nats
def test_an_event_name_that_cannot_be_a_subject_is_refused_and_the_rest_still_go(
    sender: NatsEventSender, names: Names
) -> None:
    good = outbox_messages(order_count=1)
    bad = replace(good[0], message_id=str(uuid.uuid4()), kind="order.has space")

    results = sender.send([bad, *good])

    assert results[0].outcome is Outcome.REFUSED
    assert results[0].code == "bad_subject"
    assert {r.outcome for r in results[1:]} == {Outcome.DELIVERED}
    assert len(read_all(names)) == len(good)


@pytest.mark.nats
def test_an_unreachable_server_gives_retry_results_within_the_timeout_without_raising() -> None:
    url = f"nats://127.0.0.1:{closed_port()}"
    unreachable = NatsEventSender(url, "ORDERHUB_NOWHERE", "nowhere", timeout_s=2.0)
    messages = outbox_messages(order_count=1)
    try:
        started = time.monotonic()
        results = unreachable.send(messages)
        took = time.monotonic() - started
    finally:
        unreachable.close()

    assert took < 2.0
    assert [r.message_id for r in results] == [m.message_id for m in messages]
    assert {r.outcome for r in results} == {Outcome.RETRY}
    assert all(url in (r.detail or "") for r in results)


@pytest.mark.nats
def test_the_sender_reconnects_after_its_connection_is_lost(
    sender: NatsEventSender, names: Names
) -> None:
    first, second = outbox_messages(order_count=2)[:6], outbox_messages(order_count=2)[6:]
    assert {r.outcome for r in sender.send(first)} == {Outcome.DELIVERED}
    loop, conn = sender._loop, sender._conn
    assert loop is not None and conn is not None
    # As if the server dropped us: the client closes, and the next send must connect again.
    asyncio.run_coroutine_threadsafe(conn.client.close(), loop).result(5)

    assert {r.outcome for r in sender.send(second)} == {Outcome.DELIVERED}
    assert len(read_all(names)) == len(first) + len(second)


@pytest.mark.nats
def test_a_5000_message_batch_is_acked_in_full(names: Names) -> None:
    template = outbox_messages(order_count=1)
    batch = [
        replace(template[i % len(template)], id=i + 1, message_id=str(uuid.uuid4()))
        for i in range(5000)
    ]
    sender = NatsEventSender(NATS_URL, names.stream, names.prefix, timeout_s=30.0)
    try:
        results = sender.send(batch)
    finally:
        sender.close()

    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    assert len({r.message_id for r in results}) == 5000


# -- the documented schema matches what message_row writes (no server needed) --------------------


def test_the_payload_schema_lists_exactly_the_fields_message_row_writes() -> None:
    order, events = order_story(1)
    row = message_row(order, events[0], uuid.uuid4(), T0, publish=True)

    assert set(SCHEMA["properties"]) == set(SCHEMA["required"]) == set(row["payload"])
    assert SCHEMA["properties"]["version"]["const"] == row["payload"]["version"]


def test_the_payload_schema_knows_every_order_status() -> None:
    assert set(SCHEMA["$defs"]["status"]["enum"]) == {s.value for s in OrderStatus}


def test_the_schema_takes_every_event_of_a_story_but_not_a_missing_field_or_naive_time() -> None:
    payloads = [m.payload for m in outbox_messages(order_count=1)]
    missing = {k: v for k, v in payloads[0].items() if k != "to_status"}
    naive = {**payloads[0], "at": datetime(2026, 11, 11).isoformat()}

    assert all(VALIDATOR.is_valid(p) for p in payloads)
    assert not VALIDATOR.is_valid(missing)
    assert not VALIDATOR.is_valid(naive)


def test_the_catalogue_names_every_event_header_and_action() -> None:
    catalogue = (DOCS / "events.md").read_text(encoding="utf-8")
    for kind in {"order.created", "order.status_changed", "order.edited", "order.<action>"}:
        assert f"`{kind}`" in catalogue
    for header in DOCUMENTED_HEADERS:
        assert f"`{header}`" in catalogue
    assert [a for a in Action if f"`{a.value}`" not in catalogue] == []
