"""Publish outbox change events to NATS JetStream (docs/events.md is the subscriber's contract).

nats-py is asyncio and the relay is synchronous, so the sender owns a private event loop in a
daemon thread; `send` hands it a batch and waits. One send is bounded by `timeout_s` in total
(connect, stream check, every ack), so a dead broker costs the relay one timeout, not a hang.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import structlog
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import PubAck, StorageType, StreamConfig
from nats.js.errors import APIError, BadRequestError, NoStreamResponseError, NotFoundError

from orderhub.services.ports import DeliveryResult, OutboxMessage, Outcome

log = structlog.get_logger()

HEADER_MSG_ID = "Nats-Msg-Id"  # JetStream drops a repeat of this id within the duplicate window
HEADER_EVENT = "OrderHub-Event"
HEADER_VERSION = "OrderHub-Event-Version"
HEADER_CONTENT_TYPE = "Content-Type"
JSON = "application/json"

# Longer than a relay lease, so a message re-claimed after a worker died is still recognised.
DEFAULT_DUPLICATE_WINDOW_S = 120.0
# Per batch; the relay claims this many rows at a time.
DEFAULT_BATCH_SIZE = 500
# A send waits this much beyond its own deadline before giving up on the loop thread itself.
_LOOP_GRACE_S = 2.0
# One NATS subject token per dot: no wildcards, no whitespace, no empty tokens.
_SUBJECT = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


class _Unreachable(Exception):
    """The broker could not be reached or the stream could not be made ready."""


@dataclass
class _Connection:
    client: Client
    js: JetStreamContext
    stream_ready: bool = False


class NatsEventSender:
    """The Sender for the outbox target "events": one JetStream message per change event.

    Subject `<subject_prefix>.<kind>`, body the JSON payload, headers Nats-Msg-Id (the outbox
    message id, for JetStream's dedup), OrderHub-Event and OrderHub-Event-Version. The stream is
    created when missing (subjects `<subject_prefix>.>`, file storage), never changed or deleted.
    """

    def __init__(
        self,
        url: str,
        stream: str = "ORDERHUB",
        subject_prefix: str = "orderhub",
        timeout_s: float = 5.0,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        duplicate_window_s: float = DEFAULT_DUPLICATE_WINDOW_S,
    ) -> None:
        if not _SUBJECT.match(subject_prefix):
            raise ValueError(
                f"subject prefix {subject_prefix!r} is not a NATS subject: use dot-separated "
                "tokens of letters, digits, '-' and '_' (e.g. 'orderhub')"
            )
        self.url, self.stream, self.subject_prefix = url, stream, subject_prefix
        self.timeout_s = timeout_s
        self.batch_size = batch_size
        self.duplicate_window_s = duplicate_window_s
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._conn: _Connection | None = None
        self._connecting: asyncio.Lock | None = None

    def subject(self, kind: str) -> str:
        return f"{self.subject_prefix}.{kind}"

    # -- the synchronous face the relay calls -------------------------------------------------

    def send(self, messages: Sequence[OutboxMessage]) -> list[DeliveryResult]:
        if not messages:
            return []
        batch = list(messages)
        future = asyncio.run_coroutine_threadsafe(self._send(batch), self._running_loop())
        try:
            return future.result(timeout=self.timeout_s + _LOOP_GRACE_S)
        except TimeoutError:
            # _send keeps its own deadline; landing here means the loop thread is stuck.
            future.cancel()
            log.error("nats send overran its deadline", url=self.url, stream=self.stream)
            return [
                _retry(m, f"no answer from the NATS sender within {self.timeout_s}s") for m in batch
            ]

    def close(self) -> None:
        """Close the connection and stop the loop thread; a later send starts them again."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._disconnect(), loop).result(self.timeout_s)
        except TimeoutError:
            log.warning("nats connection did not close in time", url=self.url)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(self.timeout_s)
        if not thread.is_alive():
            loop.close()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name=f"nats-events-{self.stream}", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    # -- inside the loop thread ---------------------------------------------------------------

    async def _send(self, messages: list[OutboxMessage]) -> list[DeliveryResult]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        try:
            async with asyncio.timeout_at(deadline):
                conn = await self._ready()
        except (_Unreachable, TimeoutError) as exc:
            await self._disconnect()
            detail = str(exc) or f"NATS at {self.url} did not answer within {self.timeout_s}s"
            log.warning("nats unreachable", url=self.url, stream=self.stream, error=detail)
            return [_retry(m, detail) for m in messages]

        results: dict[str, DeliveryResult] = {}
        acks: dict[str, asyncio.Future[PubAck]] = {}
        failure: str | None = None
        try:
            async with asyncio.timeout_at(deadline):
                await self._publish(conn.js, messages, results, acks)
        except TimeoutError:
            failure = f"NATS at {self.url} did not take the batch within {self.timeout_s}s"
        except (NatsError, OSError) as exc:
            failure = f"publishing to NATS at {self.url} failed: {exc!r}"
        if failure is not None:
            # Nothing after the failing message was handed to NATS; the connection is suspect.
            for message in messages:
                if message.message_id not in acks:
                    results.setdefault(message.message_id, _retry(message, failure))
            await self._disconnect()

        if acks:
            # After a failure the connection is gone and no further ack can come: take what came.
            wait_s = 0 if failure is not None else max(deadline - loop.time(), 0)
            await asyncio.wait(acks.values(), timeout=wait_s)
        timed_out = False
        for message_id, ack in acks.items():
            if not ack.done():
                ack.cancel()  # frees its slot in nats-py's pending-publish semaphore
                timed_out = True
            results[message_id] = self._result(message_id, ack)
        if timed_out:
            # Acks that do not come usually mean a half-dead connection: start afresh next time.
            await self._disconnect()
        return [results[m.message_id] for m in messages]

    async def _publish(
        self,
        js: JetStreamContext,
        messages: list[OutboxMessage],
        results: dict[str, DeliveryResult],
        acks: dict[str, asyncio.Future[PubAck]],
    ) -> None:
        """Hand every message to NATS without waiting for acks (they pipeline on one socket)."""
        for message in messages:
            refusal = self._refusal(message)
            if refusal is not None:
                results[message.message_id] = refusal
                continue
            try:
                body = orjson.dumps(message.payload)
            except orjson.JSONEncodeError as exc:
                results[message.message_id] = DeliveryResult(
                    message.message_id,
                    Outcome.REFUSED,
                    detail=f"the payload cannot be written as JSON: {exc}",
                    code="payload_not_json",
                )
                continue
            # No wait_stall: with one, nats-py yields to the loop for every message and its
            # flusher then writes each message in a syscall of its own (half the throughput).
            acks[message.message_id] = await js.publish_async(
                self.subject(message.kind), body, stream=self.stream, headers=self._headers(message)
            )

    def _refusal(self, message: OutboxMessage) -> DeliveryResult | None:
        """A message no retry can publish: its event name is not a subject token sequence."""
        if _SUBJECT.match(message.kind):
            return None
        return DeliveryResult(
            message.message_id,
            Outcome.REFUSED,
            detail=f"event name {message.kind!r} cannot be a NATS subject "
            f"({self.subject_prefix}.<event>); names are dot-separated tokens of letters, digits, "
            "'-' and '_'",
            code="bad_subject",
        )

    def _headers(self, message: OutboxMessage) -> dict[str, str]:
        headers = {
            HEADER_MSG_ID: message.message_id,
            HEADER_EVENT: message.kind,
            HEADER_CONTENT_TYPE: JSON,
        }
        version = message.payload.get("version")
        if version is not None:
            headers[HEADER_VERSION] = str(version)
        return headers

    def _result(self, message_id: str, ack: asyncio.Future[PubAck]) -> DeliveryResult:
        if ack.cancelled():
            return DeliveryResult(
                message_id,
                Outcome.RETRY,
                detail=f"JetStream did not acknowledge within {self.timeout_s}s",
            )
        error = ack.exception()
        if error is None:
            pub = ack.result()
            answer = {"stream": pub.stream, "seq": pub.seq, "duplicate": bool(pub.duplicate)}
            return DeliveryResult(message_id, Outcome.DELIVERED, answer=answer)
        if isinstance(error, NoStreamResponseError):
            if self._conn is not None:
                self._conn.stream_ready = False  # someone removed the stream: check it again
            detail = (
                f"no JetStream stream answered on NATS at {self.url}; stream {self.stream} must "
                f"exist and take subjects {self.subject_prefix}.>"
            )
        elif isinstance(error, APIError):
            detail = f"JetStream refused the message for now: {error}"
        else:
            detail = f"publishing to NATS at {self.url} failed: {error!r}"
        return DeliveryResult(message_id, Outcome.RETRY, detail=detail)

    async def _ready(self) -> _Connection:
        """The live connection with the stream in place, connecting when there is none."""
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            conn = self._conn
            if conn is None or conn.client.is_closed or not conn.client.is_connected:
                await self._disconnect()
                conn = self._conn = await self._connect()
            if not conn.stream_ready:
                await self._ensure_stream(conn.js)
                conn.stream_ready = True
            return conn

    async def _connect(self) -> _Connection:
        errors: list[Exception] = []

        async def remember(error: Exception) -> None:
            # nats-py's default callback logs every failed attempt with a traceback.
            errors.append(error)

        client = Client()
        try:
            # Reconnecting is ours (a fresh connection on the next send): nats-py's own would
            # buffer publishes while away and replay them after this send reported RETRY.
            await client.connect(
                self.url,
                name="orderhub-events",
                allow_reconnect=False,
                max_reconnect_attempts=1,
                reconnect_time_wait=0,
                connect_timeout=max(1, round(self.timeout_s)),
                error_cb=remember,
            )
        except (NatsError, OSError) as exc:
            cause = errors[-1] if errors else exc
            raise _Unreachable(f"cannot connect to NATS at {self.url}: {cause!r}") from exc
        except asyncio.CancelledError:
            # The send's deadline hit mid-handshake: leave no half-open client behind.
            await client.close()
            raise
        return _Connection(client, client.jetstream(timeout=self.timeout_s))

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        try:
            await js.stream_info(self.stream)
            return
        except NotFoundError:
            pass
        except (NatsError, OSError) as exc:
            raise _Unreachable(f"cannot read stream {self.stream} on {self.url}: {exc!r}") from exc
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.subject_prefix}.>"],
            storage=StorageType.FILE,
            duplicate_window=self.duplicate_window_s,
        )
        try:
            await js.add_stream(config)
            log.info("jetstream stream created", stream=self.stream, subjects=config.subjects)
        except BadRequestError:
            # Another worker created it between our look and our create: fine if it is there now.
            try:
                await js.stream_info(self.stream)
            except (NatsError, OSError) as exc:
                raise _Unreachable(
                    f"cannot create stream {self.stream} on {self.url}: {exc!r}"
                ) from exc
        except (NatsError, OSError) as exc:
            raise _Unreachable(
                f"cannot create stream {self.stream} on {self.url}: {exc!r}"
            ) from exc

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.client.is_closed:
            try:
                await conn.client.close()
            except (NatsError, OSError) as exc:
                log.info("nats connection closed with an error", url=self.url, error=repr(exc))


def _retry(message: OutboxMessage, detail: str) -> DeliveryResult:
    return DeliveryResult(message.message_id, Outcome.RETRY, detail=detail)
