"""In-memory fakes of OrderHub's own ports, for service tests without a database."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Self

from orderhub.domain.accounts import ApiToken, User
from orderhub.domain.orders import CustomFieldDef, Order
from orderhub.domain.timeline import OrderEvent
from orderhub.errors import ConcurrentUpdate, DuplicateOrder, NotFound
from orderhub.services.ports import Command, FlowPolicy
from tests.factories import T0


class FakeClock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class FakeOrders:
    def __init__(self) -> None:
        self.rows: dict[int, Order] = {}
        self.timeline: list[OrderEvent] = []

    def prefetch(self, order_ids: Sequence[int]) -> None:
        pass

    def get(self, order_id: int) -> Order:
        if order_id not in self.rows:
            raise NotFound(f"order {order_id} does not exist")
        return copy.deepcopy(self.rows[order_id])

    def add(self, order: Order) -> int:
        key = (order.channel, order.shop, order.channel_order_no)
        if any((o.channel, o.shop, o.channel_order_no) == key for o in self.rows.values()):
            raise DuplicateOrder(f"order {order.channel_order_no} exists")
        order_id = len(self.rows) + 1
        self.rows[order_id] = copy.deepcopy(order)
        self.rows[order_id].id = order_id
        return order_id

    def update(self, order: Order) -> None:
        assert order.id is not None
        if self.rows[order.id].version != order.version:
            raise ConcurrentUpdate("changed meanwhile")
        order.version += 1
        self.rows[order.id] = copy.deepcopy(order)

    def events(self, order_id: int) -> list[OrderEvent]:
        return [e for e in self.timeline if e.order_id == order_id]


class FakeIdempotency:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], tuple[str, int]] = {}

    def find(self, principal: str, key: str) -> tuple[str, int] | None:
        return self.keys.get((principal, key))

    def add(self, principal: str, key: str, request_hash: str, order_id: int) -> None:
        self.keys[(principal, key)] = (request_hash, order_id)


class FakeCustomFields:
    def __init__(self) -> None:
        self.defs: dict[str, CustomFieldDef] = {}

    def all(self) -> dict[str, CustomFieldDef]:
        return dict(self.defs)

    def add(self, definition: CustomFieldDef) -> None:
        self.defs[definition.name] = definition


class FakeUsers:
    def __init__(self) -> None:
        self.rows: dict[int, User] = {}

    def by_username(self, username: str) -> User | None:
        return next((u for u in self.rows.values() if u.username == username), None)

    def get(self, user_id: int) -> User | None:
        return self.rows.get(user_id)

    def add(self, user: User) -> int:
        user.id = len(self.rows) + 1
        self.rows[user.id] = user
        return user.id

    def set_password(self, user_id: int, password_hash: str) -> None:
        self.rows[user_id].password_hash = password_hash

    def list(self) -> Sequence[User]:
        return list(self.rows.values())


class FakeTokens:
    def __init__(self, users: FakeUsers) -> None:
        self.rows: dict[int, ApiToken] = {}
        self._users = users

    def by_hash(self, token_hash: str) -> tuple[ApiToken, User] | None:
        token = next((t for t in self.rows.values() if t.token_hash == token_hash), None)
        if token is None:
            return None
        user = self._users.get(token.user_id)
        return (token, user) if user else None

    def add(self, token: ApiToken) -> int:
        token.id = len(self.rows) + 1
        self.rows[token.id] = token
        return token.id

    def for_user(self, user_id: int) -> Sequence[ApiToken]:
        return [t for t in self.rows.values() if t.user_id == user_id]

    def revoke(self, token_id: int, user_id: int, at: datetime) -> bool:
        token = self.rows.get(token_id)
        if token is None or token.user_id != user_id or token.revoked_at:
            return False
        token.revoked_at = at
        return True

    def touch(self, token_id: int, at: datetime) -> None:
        self.rows[token_id].last_used_at = at


class FakeWarehouses:
    """No warehouse is run by a WMS here: people ship by hand."""

    def find(self, code: str) -> None:
        return None


class FakeRules:
    """No rules saved: people review, shops' warehouses route."""

    def current(self, kind: object) -> None:
        return None


class FakeUnitOfWork:
    """Keeps committed state across uses, like a database; uncommitted changes are dropped."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.orders = FakeOrders()
        self.idempotency = FakeIdempotency()
        self.custom_fields = FakeCustomFields()
        self.users = FakeUsers()
        self.tokens = FakeTokens(self.users)
        self.warehouses = FakeWarehouses()
        self.rules = FakeRules()
        # Stock and the warehouse are out of these unit tests' scope (integration tests cover them).
        self.flow = FlowPolicy(reserve_stock=False, auto_allocate=False)
        self.published: list[tuple[str, OrderEvent]] = []
        self.sent: list[Command] = []
        self.commits = 0
        self._pending: list[OrderEvent] = []
        self._snapshot: dict[int, Order] = {}

    def __enter__(self) -> Self:
        self._pending = []
        self._snapshot = copy.deepcopy(self.orders.rows)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pending or exc[0] is not None:
            self.rollback()

    def record(self, order: Order, event: OrderEvent) -> None:
        self._pending.append(dataclasses.replace(event, order_id=order.id))

    def send(self, command: Command) -> None:
        self.sent.append(command)

    def commit(self) -> None:
        self.orders.timeline.extend(self._pending)
        self.published.extend((e.action, e) for e in self._pending)
        self._pending = []
        self._snapshot = copy.deepcopy(self.orders.rows)
        self.commits += 1

    def rollback(self) -> None:
        self._pending = []
        self.orders.rows = self._snapshot

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        pending, rows = len(self._pending), copy.deepcopy(self.orders.rows)
        try:
            yield
        except BaseException:
            del self._pending[pending:]
            self.orders.rows = rows
            raise

    def __call__(self) -> Self:
        """Also its own factory, so batch use cases share the one fake database."""
        return self

    def read_only(self) -> Self:
        return self
