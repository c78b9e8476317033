"""The unit of work: one connection, one transaction; timeline and outbox written before COMMIT."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from orderhub.domain.orders import CustomFieldDef, Order
from orderhub.domain.timeline import OrderEvent
from orderhub.services.ports import Clock, SystemClock
from orderhub.storage.accounts import SqlTokenRepository, SqlUserRepository
from orderhub.storage.custom_fields import SqlCustomFieldRepository
from orderhub.storage.database import WRITE, WriterQueue, writer_queue
from orderhub.storage.idempotency import SqlIdempotencyRepository
from orderhub.storage.orders import INSERT_EVENTS, SqlOrderRepository, event_row
from orderhub.storage.outbox import INSERT_MESSAGES, message_row

# How long another process's custom field declaration may go unseen (this process's own are seen
# at once).
CUSTOM_FIELDS_TTL_S = 1.0


class CustomFieldCache:
    """The declared custom fields, read once and shared by the units of work of one factory.

    Every create validates against them, and they change seldom: a declaration made through this
    factory clears the cache when it commits; one made elsewhere (another process, or SQL by
    hand) is picked up within `ttl_s`.
    """

    def __init__(self, ttl_s: float = CUSTOM_FIELDS_TTL_S) -> None:
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._generation = 0
        self._entry: tuple[int, float, dict[str, CustomFieldDef]] | None = None

    def get(self, load: Callable[[], dict[str, CustomFieldDef]]) -> dict[str, CustomFieldDef]:
        entry, now = self._entry, time.monotonic()
        if entry is not None and entry[0] == self._generation and now - entry[1] < self._ttl_s:
            return dict(entry[2])
        generation = self._generation
        fields = load()
        with self._lock:
            # A declaration that committed while we read may not be in `fields`: keep nothing.
            if generation == self._generation:
                self._entry = (generation, now, fields)
        return dict(fields)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entry = None


class CachedCustomFieldRepository:
    def __init__(self, repository: SqlCustomFieldRepository, cache: CustomFieldCache) -> None:
        self._repository, self._cache = repository, cache
        self.declared = False

    def all(self) -> dict[str, CustomFieldDef]:
        return self._cache.get(self._repository.all)

    def add(self, definition: CustomFieldDef) -> None:
        self._repository.add(definition)
        self.declared = True


class SqlUnitOfWork:
    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        custom_field_cache: CustomFieldCache | None = None,
    ) -> None:
        self._engine = engine
        # Connections from it carry the WRITE option (BEGIN IMMEDIATE) without a per-call copy.
        self._writer = engine.execution_options(**{WRITE: True})
        self.clock: Clock = clock or SystemClock()
        self._custom_field_cache = custom_field_cache or CustomFieldCache(ttl_s=0)
        self._queued: WriterQueue | None = None
        self._conn: Connection | None = None
        self._events: list[tuple[Order, OrderEvent]] = []

    def __enter__(self) -> Self:
        queue = writer_queue(self._engine)
        self._queued = queue if queue is not None and queue.enter() else None
        try:
            conn = self._writer.connect()
            try:
                conn.begin()
            except BaseException:
                conn.close()
                raise
        except BaseException:
            self._leave_queue()
            raise
        self._conn = conn
        self._events = []
        self.orders = SqlOrderRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn, self.clock)
        self.custom_fields = CachedCustomFieldRepository(
            SqlCustomFieldRepository(conn, self.clock), self._custom_field_cache
        )
        self.users = SqlUserRepository(conn)
        self.tokens = SqlTokenRepository(conn)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            try:
                self._conn.close()
            finally:
                self._conn = None
                self._leave_queue()  # the next writer's turn

    def _leave_queue(self) -> None:
        if self._queued is not None:
            self._queued.leave()
            self._queued = None

    @property
    def connection(self) -> Connection:
        assert self._conn is not None, "use the unit of work inside `with uow:`"
        return self._conn

    def record(self, order: Order, event: OrderEvent) -> None:
        self._events.append((order, event))

    def commit(self) -> None:
        conn = self.connection
        if self._events:
            rows: list[dict[str, Any]] = []
            messages: list[dict[str, Any]] = []
            for order, event in self._events:
                assert order.id is not None
                row = event_row(event)
                row["order_id"] = order.id
                rows.append(row)
                messages.append(message_row(order, event, uuid.uuid4(), self.clock.now()))
            conn.execute(INSERT_EVENTS, rows)
            conn.execute(INSERT_MESSAGES, messages)
            self._events = []
        conn.commit()
        if self.custom_fields.declared:
            self._custom_field_cache.clear()
            self.custom_fields.declared = False

    def rollback(self) -> None:
        self._events = []
        self.connection.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine, self.clock = engine, clock
        self.custom_field_cache = CustomFieldCache()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.clock, self.custom_field_cache)
