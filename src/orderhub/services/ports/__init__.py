"""What services need from the outside world, as Protocols; storage and tests provide them."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Protocol, Self

from orderhub.domain.accounts import ApiToken, User
from orderhub.domain.orders import CustomFieldDef, Order
from orderhub.domain.rule_sets import RuleSet, RuleSetKind
from orderhub.domain.timeline import OrderEvent
from orderhub.services.ports.alerts import AlertRepository, DueOrder
from orderhub.services.ports.bottlenecks import BottleneckRepository
from orderhub.services.ports.channels import (
    CatalogueRepository,
    ChannelClient,
    ChannelConnector,
    ChannelListing,
    ChannelPage,
    ChannelUnavailable,
    PayloadRepository,
    QuarantineRepository,
    ShipmentRefused,
    ShopRepository,
    StockRefused,
)
from orderhub.services.ports.fulfilment import (
    CallbackRejected,
    Command,
    DeliveryResult,
    FlowPolicy,
    InboxRepository,
    InventoryRepository,
    OutboxMessage,
    OutboxRepository,
    Outcome,
    Sender,
    WarehouseRepository,
    WmsClient,
    WmsConnector,
)
from orderhub.services.ports.notifications import Notifiers, RecipientRepository
from orderhub.services.ports.parcels import ParcelRepository
from orderhub.services.ports.stock_push import ListingRepository, StockChange


class IdempotencyKeyTaken(Exception):
    """Another request with the same key committed first; its result is the one to return."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OrderRepository(Protocol):
    def get(self, order_id: int) -> Order:
        """The order, or NotFound naming the id."""
        ...

    def prefetch(self, order_ids: Sequence[int]) -> None:
        """Read these orders ahead in a few statements, for a batch about to `get` each."""
        ...

    def find(self, channel: str, shop: str, channel_order_no: str) -> Order | None:
        """The order the pool holds for this channel order, if any."""
        ...

    def known_numbers(self, channel: str, shop: str, numbers: Sequence[str]) -> set[str]:
        """Which of these channel order numbers the pool holds."""
        ...

    def add(self, order: Order) -> int: ...

    def update(self, order: Order) -> None:
        """Save the order if nobody changed it since it was loaded, else ConcurrentUpdate."""
        ...

    def waiting_to_route(self, limit: int = 5000) -> list[int]:
        """Paid orders not yet allocated, or waiting for stock."""
        ...

    def recent(self, limit: int) -> list[int]:
        """The newest orders' ids, newest first."""
        ...

    def waiting_for_stock(
        self, sku: str, warehouse: str, *, aging_per_min: float, limit: int = 200
    ) -> list[int]:
        """Orders in out_of_stock at `warehouse` that need `sku`: the highest priority with
        aging first (domain/priority.py), then the oldest payment."""
        ...

    def before_warehouse(self, limit: int) -> list[int]:
        """Orders not yet at their warehouse (up to allocated, or held from there), oldest
        first: the ones a new priority may still move up or down the line."""
        ...

    def in_flight(self, sku: str, warehouse: str) -> int:
        """Orders holding `sku` at `warehouse` past the hand-off (maybe shipped, unconfirmed)."""
        ...

    def events(self, order_id: int) -> list[OrderEvent]: ...


class IdempotencyRepository(Protocol):
    def find(self, principal: str, key: str) -> tuple[str, int] | None:
        """(request hash, order id) stored for this key, if any."""
        ...

    def add(self, principal: str, key: str, request_hash: str, order_id: int) -> None:
        """Store the key, or IdempotencyKeyTaken when a concurrent request stored it first."""
        ...


class CustomFieldRepository(Protocol):
    def all(self) -> dict[str, CustomFieldDef]: ...

    def add(self, definition: CustomFieldDef) -> None: ...


class UserRepository(Protocol):
    def by_username(self, username: str) -> User | None: ...

    def get(self, user_id: int) -> User | None: ...

    def add(self, user: User) -> int: ...

    def set_password(self, user_id: int, password_hash: str) -> None: ...

    def list(self) -> Sequence[User]: ...


class TokenRepository(Protocol):
    def by_hash(self, token_hash: str) -> tuple[ApiToken, User] | None: ...

    def add(self, token: ApiToken) -> int: ...

    def for_user(self, user_id: int) -> Sequence[ApiToken]: ...

    def revoke(self, token_id: int, user_id: int, at: datetime) -> bool: ...

    def touch(self, token_id: int, at: datetime) -> None: ...


class RuleRepository(Protocol):
    def current(self, kind: RuleSetKind) -> RuleSet | None: ...

    def versions(self, kind: RuleSetKind) -> list[RuleSet]: ...

    def add(self, rule_set: RuleSet, *, at: datetime, by: str) -> RuleSet:
        """Store as the next version; returns it with its version."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Recorded events reach the timeline and the outbox before COMMIT."""

    # Read-only properties, so implementations may narrow each to their own repository type.
    @property
    def orders(self) -> OrderRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def custom_fields(self) -> CustomFieldRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def shops(self) -> ShopRepository: ...

    @property
    def catalogue(self) -> CatalogueRepository: ...

    @property
    def payloads(self) -> PayloadRepository: ...

    @property
    def quarantine(self) -> QuarantineRepository: ...

    @property
    def inventory(self) -> InventoryRepository: ...

    @property
    def warehouses(self) -> WarehouseRepository: ...

    @property
    def inbox(self) -> InboxRepository: ...

    @property
    def listings(self) -> ListingRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def rules(self) -> RuleRepository: ...

    @property
    def parcels(self) -> ParcelRepository: ...

    @property
    def recipients(self) -> RecipientRepository: ...

    @property
    def alerts(self) -> AlertRepository: ...

    @property
    def bottlenecks(self) -> BottleneckRepository: ...

    @property
    def flow(self) -> FlowPolicy: ...

    @property
    def clock(self) -> Clock: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def record(self, order: Order, event: OrderEvent) -> None: ...

    def send(self, command: Command) -> None:
        """Queue a message for another system; it is written to the outbox at COMMIT."""
        ...

    def commit(self) -> None: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A part of the transaction that can fail alone (its records forgotten with it)."""
        ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork:
        """A unit of work that may write (on SQLite it takes the write lock at BEGIN)."""
        ...

    def read_only(self) -> UnitOfWork:
        """A unit of work for reads only: it takes no write lock and cannot commit."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


__all__ = [
    "AlertRepository",
    "BottleneckRepository",
    "CallbackRejected",
    "CatalogueRepository",
    "ChannelClient",
    "ChannelConnector",
    "ChannelListing",
    "ChannelPage",
    "ChannelUnavailable",
    "Clock",
    "Command",
    "CustomFieldRepository",
    "DeliveryResult",
    "DueOrder",
    "FlowPolicy",
    "IdempotencyKeyTaken",
    "IdempotencyRepository",
    "InboxRepository",
    "InventoryRepository",
    "ListingRepository",
    "Notifiers",
    "OrderRepository",
    "OutboxMessage",
    "OutboxRepository",
    "Outcome",
    "ParcelRepository",
    "PasswordHasher",
    "PayloadRepository",
    "QuarantineRepository",
    "RecipientRepository",
    "RuleRepository",
    "Sender",
    "ShipmentRefused",
    "ShopRepository",
    "StockChange",
    "StockRefused",
    "SystemClock",
    "TokenRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepository",
    "WarehouseRepository",
    "WmsClient",
    "WmsConnector",
]
