"""What services need from the outside world, as Protocols; storage and tests provide them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, Self

from orderhub.domain.accounts import ApiToken, User
from orderhub.domain.channels import Component, Quarantined, SkuBook
from orderhub.domain.fulfilment import Shipment, StockCount, WarehouseReport
from orderhub.domain.inventory import Movement, Need, StockLevel
from orderhub.domain.orders import CustomFieldDef, Order
from orderhub.domain.shops import Shop
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.warehouses import Warehouse


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


class ShopRepository(Protocol):
    def get(self, code: str) -> Shop: ...

    def list(self) -> Sequence[Shop]: ...

    def add(self, shop: Shop) -> int: ...

    def update(self, shop: Shop) -> None: ...

    def record_sync(
        self, code: str, *, at: datetime, cursor_at: datetime | None, error: str | None
    ) -> None: ...


class CatalogueRepository(Protocol):
    def sku_book(self, channel: str, shop: str) -> SkuBook: ...

    def add_product(
        self, sku: str, title: str, at: datetime, components: Sequence[Component] = ()
    ) -> None: ...

    def products(self) -> list[dict[str, Any]]: ...

    def add_mapping(
        self, channel: str, shop: str, channel_sku: str, sku: str, at: datetime
    ) -> None: ...

    def mappings(self) -> list[dict[str, Any]]: ...

    def waiting_for_sku(self, channel: str, channel_sku: str) -> list[int]: ...


class PayloadRepository(Protocol):
    def add(
        self,
        *,
        channel: str,
        shop: str,
        channel_order_no: str | None,
        modified_at: datetime | None,
        received_at: datetime,
        source: str,
        outcome: str,
        order_id: int | None,
        payload: dict[str, Any],
    ) -> None: ...


class QuarantineRepository(Protocol):
    def add(self, item: Quarantined) -> int: ...

    def get(self, item_id: int) -> Quarantined: ...

    def list(
        self, *, status: str | None = "open", shop: str | None = None, limit: int = 100
    ) -> Sequence[Quarantined]: ...

    def resolve(
        self,
        item_id: int,
        *,
        status: str,
        at: datetime,
        resolution: str,
        order_id: int | None = None,
    ) -> None: ...

    def open_numbers(self, channel: str, shop: str) -> set[str]: ...

    def count_open(self) -> int: ...


class InventoryRepository(Protocol):
    def level(self, sku: str, warehouse: str) -> StockLevel | None: ...

    def levels(
        self, *, sku: str | None = None, warehouse: str | None = None, limit: int = 500
    ) -> list[StockLevel]: ...

    def apply(self, movement: Movement) -> StockLevel:
        """Change one level and write the ledger; refuses to go below what is reserved."""
        ...

    def reserve(
        self,
        warehouse: str,
        asked: Sequence[Need],
        *,
        order_id: int,
        at: datetime,
        source: str,
        reason: str,
    ) -> list[StockLevel]:
        """All of `asked` or InsufficientStock; never two winners for the last unit."""
        ...

    def movements(
        self, *, sku: str, warehouse: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]: ...


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
    def clock(self) -> Clock: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def record(self, order: Order, event: OrderEvent) -> None: ...

    def commit(self) -> None: ...

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


@dataclass(frozen=True)
class ChannelPage:
    """One page of a channel's incremental pull: raw payloads, as the channel sent them."""

    payloads: list[dict[str, Any]]
    # Opaque token for the next page; None on the last one.
    next_page: str | None = None


class ChannelClient(Protocol):
    """One shop's connection to its sales channel (Taobao TOP, JD, PDD, Shopify Admin API...).

    Implementations sign requests the channel's way, retry timeouts, 5xx and 429 (honouring
    Retry-After) with backoff, and raise ChannelUnavailable when retries run out.
    """

    channel: str

    def fetch_changed(self, since: datetime, until: datetime, page: str | None) -> ChannelPage:
        """Orders modified in [since, until), one page at a time, oldest first."""
        ...

    def fetch_order(self, channel_order_no: str) -> dict[str, Any] | None:
        """One order's full payload, or None when the channel does not know it."""
        ...

    def list_order_numbers(self, since: datetime, until: datetime) -> list[str]:
        """Every order number the channel has, created or modified in [since, until)."""
        ...

    def ship(self, shipment: Shipment) -> str | None:
        """Tell the channel the order shipped (its own call: Taobao's offline logistics send, JD's
        and PDD's ship calls, a Shopify fulfillment). Returns the channel's reference, if any.

        A repeat of a shipment the channel already has with the same tracking no succeeds.
        Raises ShipmentRefused when the channel says no for a business reason (refunded,
        closed, shipped with another tracking no), ChannelUnavailable when it cannot be reached.
        """
        ...


class ShipmentRefused(Exception):
    """The channel answered and said no; retrying will not help. `code` is the channel's."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


class ChannelUnavailable(Exception):
    """The channel did not answer usefully: retries ran out (timeouts, 5xx, 429), or it refused
    the call (bad signature, expired token). Clients raise it, or a subclass, for both."""


class ChannelConnector(Protocol):
    """Reaches the channels: a client per shop, the field mapping per channel."""

    def client(self, shop: Shop) -> ChannelClient: ...

    def mapping(self, channel: str) -> Mapping[str, Any]: ...

    def channels(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class OutboxMessage:
    """One message claimed from the outbox for delivery."""

    id: int
    message_id: str  # receivers dedupe on it
    target: str  # "wms:WH-MAIN", "channel:tb-main", "events"
    kind: str  # a MessageKind or a change event name
    payload: dict[str, Any]
    attempts: int  # tries before this one
    created_at: datetime
    order_id: int | None = None


class Outcome(StrEnum):
    DELIVERED = "delivered"  # the receiver took it (a duplicate it already had counts)
    REFUSED = "refused"  # the receiver answered no for a business reason; do not retry
    RETRY = "retry"  # not reached, 5xx, 429, timeout: try again later


@dataclass(frozen=True)
class DeliveryResult:
    message_id: str
    outcome: Outcome
    detail: str | None = None  # the error, or the receiver's reason for refusing
    code: str | None = None  # the receiver's code for a refusal
    retry_after_s: float | None = None  # the receiver's Retry-After, when it sent one
    answer: dict[str, Any] | None = None  # what the receiver said (e.g. an intercept result)


class Sender(Protocol):
    """Delivers messages to one target; never raises for a failed delivery, it reports it."""

    batch_size: int

    def send(self, messages: Sequence[OutboxMessage]) -> list[DeliveryResult]:
        """One result per message, matched by message_id."""
        ...

    def close(self) -> None: ...


class CallbackRejected(Exception):
    """An inbound callback that cannot be applied: bad signature, unknown method, malformed body.
    The message says what is wrong; the raw body is kept (quarantined) by the caller."""


class WmsClient(Sender, Protocol):
    """One warehouse's WMS: takes wms.outbound.create / wms.outbound.cancel messages (a cancel's
    result goes in `DeliveryResult.answer["result"]` as an InterceptResult value) and answers
    stock queries."""

    def stock_snapshot(self) -> list[StockCount]:
        """On-hand per SKU as the WMS counts it now (the periodic pull)."""
        ...


class WmsConnector(Protocol):
    def client(self, warehouse: Warehouse) -> WmsClient: ...

    def protocols(self) -> frozenset[str]: ...

    def parse_callback(
        self, warehouse: Warehouse, query: Mapping[str, str], body: bytes
    ) -> list[WarehouseReport]:
        """Verify the signature and read the facts, or CallbackRejected saying why."""
        ...

    def answer(self, warehouse: Warehouse, error: str | None) -> tuple[str, bytes]:
        """The (content type, body) the WMS expects back: success, or failure with `error`."""
        ...
