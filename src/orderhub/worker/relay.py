"""The outbox relay: claim due messages, deliver them per target, finish them.

At least once: a message is finished only after its receiver answered, in the transaction that
applies the answer. A relay killed at any point leaves claims that expire (ORDERHUB_OUTBOX_LEASE_S)
and are claimed again; receivers dedupe by message id. Several relays may run: PostgreSQL hands
them disjoint rows (SKIP LOCKED), SQLite serialises their claims.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from orderhub.services.fulfilment.deliveries import RetryPolicy, finish
from orderhub.services.ports import (
    DeliveryResult,
    OutboxMessage,
    Outcome,
    Sender,
    UnitOfWorkFactory,
)

log = structlog.get_logger()


class SenderSource(Protocol):
    def sender(self, target: str) -> Sender: ...

    def rate_per_s(self, target: str) -> float | None: ...


class TokenBucket:
    """A per-target rate limit: `rate` messages a second, bursts up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._tokens = rate
        self._at = time.monotonic()

    def take(self, wanted: int) -> int:
        now = time.monotonic()
        self._tokens = min(self.rate, self._tokens + (now - self._at) * self.rate)
        self._at = now
        granted = min(wanted, int(self._tokens))
        self._tokens -= granted
        return granted

    def wait_s(self) -> float:
        return max(0.0, (1 - self._tokens) / self.rate)


class Relay:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        senders: SenderSource,
        *,
        batch: int = 500,
        lease_s: float = 30.0,
        policy: RetryPolicy | None = None,
        poll_s: float = 0.2,
        name: str | None = None,
    ) -> None:
        self._uows, self._senders = uows, senders
        self.batch, self.lease_s, self.poll_s = batch, lease_s, poll_s
        self.policy = policy or RetryPolicy()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._buckets: dict[str, TokenBucket] = {}
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="relay")
        # Set by whoever just wrote messages (the stock pusher): an idle relay looks at once.
        self._wake = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def run_once(self) -> dict[str, int]:
        """One round, waited for: claim, deliver each target's messages in parallel, finish."""
        totals: dict[str, int] = defaultdict(int)
        for future in self._start_round(skip=()).values():
            for key, value in future.result().items():
                totals[key] += value
        return dict(totals)

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop` is set. A target still busy with its last batch is skipped when
        claiming, so a slow receiver delays only its own messages; an idle round waits."""
        busy: dict[str, Future[dict[str, int]]] = {}
        while not stop.is_set():
            started: dict[str, Future[dict[str, int]]] = {}
            try:
                for target in [t for t, job in busy.items() if job.done()]:
                    busy.pop(target).result()
                started = self._start_round(skip=tuple(busy))
                busy.update(started)
            except Exception:
                log.exception("outbox relay round failed; trying again")
                stop.wait(max(self.poll_s, 1.0))
                continue
            if started:
                continue
            if busy:  # the next round starts as soon as a busy target is free again
                wait(busy.values(), timeout=self.poll_s, return_when=FIRST_COMPLETED)
            else:
                self._wake.wait(self.poll_s)
                self._wake.clear()
        for job in busy.values():
            job.result()

    def _start_round(self, *, skip: tuple[str, ...]) -> dict[str, Future[dict[str, int]]]:
        with self._uows() as uow:
            now = uow.clock.now()
            claimed, lease = uow.outbox.claim(
                now=now, limit=self.batch, lease_s=self.lease_s, skip=skip
            )
            uow.commit()
        by_target: dict[str, list[OutboxMessage]] = defaultdict(list)
        for message in claimed:
            by_target[message.target].append(message)
        return {
            target: self._pool.submit(self._deliver, target, messages, lease, now)
            for target, messages in by_target.items()
        }

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _deliver(
        self, target: str, messages: list[OutboxMessage], lease: datetime, now: datetime
    ) -> dict[str, int]:
        try:
            sender = self._senders.sender(target)
            rate = self._senders.rate_per_s(target)
        except Exception as error:
            results = [DeliveryResult(m.message_id, Outcome.RETRY, str(error)) for m in messages]
            return finish(
                self._uows, messages, results, lease=lease, worker=self.name, policy=self.policy
            )
        allowed = len(messages)
        if rate:
            bucket = self._buckets.setdefault(target, TokenBucket(rate))
            allowed = bucket.take(len(messages))
        now_sending, later = messages[:allowed], messages[allowed:]
        if later:
            self._give_back(later, lease, now, self._buckets[target].wait_s())
        counts: dict[str, int] = defaultdict(int)
        for start in range(0, len(now_sending), max(1, sender.batch_size)):
            chunk = now_sending[start : start + max(1, sender.batch_size)]
            for key, value in self._send(sender, target, chunk, lease).items():
                counts[key] += value
        counts["rate_limited"] += len(later)
        return counts

    def _send(
        self, sender: Sender, target: str, chunk: Sequence[OutboxMessage], lease: datetime
    ) -> dict[str, int]:
        try:
            results = sender.send(chunk)
        except Exception as error:
            log.exception("sender raised instead of reporting", target=target)
            results = [DeliveryResult(m.message_id, Outcome.RETRY, repr(error)) for m in chunk]
        return finish(self._uows, chunk, results, lease=lease, worker=self.name, policy=self.policy)

    def _give_back(
        self, messages: Sequence[OutboxMessage], lease: datetime, now: datetime, wait_s: float
    ) -> None:
        with self._uows() as uow:
            uow.outbox.release(
                [m.id for m in messages], lease=lease, at=now + timedelta(seconds=wait_s)
            )
            uow.commit()
