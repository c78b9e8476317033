"""The unit of work: one connection, one transaction; timeline and outbox written before COMMIT."""

from __future__ import annotations

import uuid
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from orderhub.domain.orders import Order
from orderhub.domain.timeline import OrderEvent
from orderhub.services.ports import Clock, SystemClock
from orderhub.storage.accounts import SqlTokenRepository, SqlUserRepository
from orderhub.storage.custom_fields import SqlCustomFieldRepository
from orderhub.storage.database import WRITE
from orderhub.storage.idempotency import SqlIdempotencyRepository
from orderhub.storage.orders import INSERT_EVENTS, SqlOrderRepository, event_row
from orderhub.storage.outbox import INSERT_MESSAGES, message_row


class SqlUnitOfWork:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self._engine = engine
        self.clock: Clock = clock or SystemClock()
        self._conn: Connection | None = None
        self._events: list[tuple[Order, OrderEvent]] = []

    def __enter__(self) -> Self:
        conn = self._engine.connect().execution_options(**{WRITE: True})
        conn.begin()
        self._conn = conn
        self._events = []
        self.orders = SqlOrderRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn, self.clock)
        self.custom_fields = SqlCustomFieldRepository(conn, self.clock)
        self.users = SqlUserRepository(conn)
        self.tokens = SqlTokenRepository(conn)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

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

    def rollback(self) -> None:
        self._events = []
        self.connection.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine, self.clock = engine, clock

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.clock)
