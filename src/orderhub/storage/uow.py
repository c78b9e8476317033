"""The unit of work: one connection, one transaction; timeline and outbox written before COMMIT."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from cryptography.fernet import Fernet
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from orderhub.domain.orders import Order
from orderhub.domain.timeline import OrderEvent
from orderhub.services.ports import Clock, Command, FlowPolicy, SystemClock
from orderhub.storage.accounts import SqlTokenRepository, SqlUserRepository
from orderhub.storage.alerts import SqlAlertRepository
from orderhub.storage.bottlenecks import SqlBottleneckRepository
from orderhub.storage.catalogue import SqlCatalogueRepository
from orderhub.storage.channel_records import SqlPayloadRepository, SqlQuarantineRepository
from orderhub.storage.custom_fields import (
    CachedCustomFieldRepository,
    CustomFieldCache,
    SqlCustomFieldRepository,
)
from orderhub.storage.database import WRITE, WriterQueue, writer_queue
from orderhub.storage.idempotency import SqlIdempotencyRepository
from orderhub.storage.inbox import SqlInboxRepository
from orderhub.storage.inventory import SqlInventoryRepository
from orderhub.storage.notifications import SqlRecipientRepository
from orderhub.storage.orders import INSERT_EVENTS, SqlOrderRepository, event_row
from orderhub.storage.outbox import INSERT_MESSAGES, SqlOutboxRepository, command_row, message_row
from orderhub.storage.parcels import SqlParcelRepository
from orderhub.storage.rules import RuleCache, SqlRuleRepository
from orderhub.storage.shops import SqlShopRepository
from orderhub.storage.stays import StayRecorder
from orderhub.storage.stock_push import SqlListingRepository
from orderhub.storage.warehouses import SqlWarehouseRepository


class SqlUnitOfWork:
    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        custom_field_cache: CustomFieldCache | None = None,
        *,
        rule_cache: RuleCache | None = None,
        read_only: bool = False,
        cipher: Fernet | None = None,
        flow: FlowPolicy | None = None,
    ) -> None:
        self.flow = flow or FlowPolicy()
        # Encrypts shop credentials at rest; without one, shops cannot be read or written.
        self._cipher = cipher or Fernet(Fernet.generate_key())
        self._engine = engine
        # A reader takes no write lock (plain BEGIN on SQLite, no writer queue) and cannot commit.
        self.read_only = read_only
        # Connections from it carry the WRITE option (BEGIN IMMEDIATE) without a per-call copy.
        self._writer = engine.execution_options(**{WRITE: True})
        self.clock: Clock = clock or SystemClock()
        self._custom_field_cache = custom_field_cache or CustomFieldCache(ttl_s=0)
        self._rule_cache = rule_cache or RuleCache(ttl_s=0)
        self._queued: WriterQueue | None = None
        self._conn: Connection | None = None
        self._events: list[tuple[Order, OrderEvent]] = []
        self._commands: list[Command] = []
        # The stays and hops the recorded events end (the dwell report), written at commit.
        self._stays = StayRecorder()

    def __enter__(self) -> Self:
        queue = None if self.read_only else writer_queue(self._engine)
        self._queued = queue if queue is not None and queue.enter() else None
        try:
            conn = (self._engine if self.read_only else self._writer).connect()
            try:
                conn.begin()
            except BaseException:
                conn.close()
                raise
        except BaseException:
            self._leave_queue()
            raise
        self._conn = conn
        self._events, self._commands = [], []
        self._stays.clear()
        self.orders = SqlOrderRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn, self.clock)
        self.custom_fields = CachedCustomFieldRepository(
            SqlCustomFieldRepository(conn, self.clock), self._custom_field_cache
        )
        self.users = SqlUserRepository(conn)
        self.tokens = SqlTokenRepository(conn)
        self.shops = SqlShopRepository(conn, self._cipher)
        self.catalogue = SqlCatalogueRepository(conn)
        self.payloads = SqlPayloadRepository(conn)
        self.quarantine = SqlQuarantineRepository(conn)
        self.inventory = SqlInventoryRepository(conn)
        self.warehouses = SqlWarehouseRepository(conn, self._cipher)
        self.inbox = SqlInboxRepository(conn)
        self.outbox = SqlOutboxRepository(conn, aging_per_min=self.flow.priority_aging_per_min)
        self.parcels = SqlParcelRepository(conn)
        self.recipients = SqlRecipientRepository(conn, self._cipher)
        self.alerts = SqlAlertRepository(conn)
        self.bottlenecks = SqlBottleneckRepository(conn)
        self.listings = SqlListingRepository(conn)
        self.rules = SqlRuleRepository(conn, self._rule_cache)
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
        self._stays.note(order, event)

    def send(self, command: Command) -> None:
        self._commands.append(command)

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit; use the factory's writer")
        conn = self.connection
        messages: list[dict[str, Any]] = []
        if self._events:
            rows: list[dict[str, Any]] = []
            for order, event in self._events:
                assert order.id is not None
                row = event_row(event)
                row["order_id"] = order.id
                rows.append(row)
                if event.published:
                    messages.append(
                        message_row(
                            order,
                            event,
                            uuid.uuid4(),
                            self.clock.now(),
                            publish=self.flow.publish_events,
                            aging_per_min=self.flow.priority_aging_per_min,
                        )
                    )
            conn.execute(INSERT_EVENTS, rows)
            self._events = []
            self._stays.write(conn)
        if self._commands:
            now = self.clock.now()
            aging = self.flow.priority_aging_per_min
            messages.extend(command_row(c, now, aging_per_min=aging) for c in self._commands)
            self._commands = []
        if messages:
            conn.execute(INSERT_MESSAGES, messages)
        if self.inventory.changed:
            if self.flow.push_stock:
                self.listings.mark_changed(sorted(self.inventory.changed), self.clock.now())
            self.inventory.changed = set()
        conn.commit()
        if self.custom_fields.declared:
            self._custom_field_cache.clear()
            self.custom_fields.declared = False
        if self.rules.saved:
            self._rule_cache.clear()
            self.rules.saved = False

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the transaction that can fail alone: on an error its writes are rolled
        back and the events, commands and stays it recorded are forgotten, so they are not
        written at COMMIT either."""
        events, commands, stays = len(self._events), len(self._commands), self._stays.mark()
        nested = self.connection.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            del self._events[events:]
            del self._commands[commands:]
            self._stays.forget_after(stays)
            raise
        nested.commit()

    def rollback(self) -> None:
        self._events, self._commands = [], []
        self._stays.clear()
        self.connection.rollback()


class SqlUnitOfWorkFactory:
    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        cipher: Fernet | None = None,
        flow: FlowPolicy | None = None,
    ) -> None:
        self.engine, self.clock, self.cipher = engine, clock, cipher
        self.flow = flow or FlowPolicy()
        self.custom_field_cache = CustomFieldCache()
        self.rule_cache = RuleCache()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine,
            self.clock,
            self.custom_field_cache,
            rule_cache=self.rule_cache,
            cipher=self.cipher,
            flow=self.flow,
        )

    def read_only(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine,
            self.clock,
            self.custom_field_cache,
            read_only=True,
            rule_cache=self.rule_cache,
            cipher=self.cipher,
            flow=self.flow,
        )
