"""What the fulfilment pipeline needs: stock, warehouses, the outbox and its senders, the WMS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from orderhub.domain.fulfilment import StockCount, WarehouseReport
from orderhub.domain.inventory import Movement, Need, StockLevel
from orderhub.domain.warehouses import Warehouse


class InventoryRepository(Protocol):
    def level(self, sku: str, warehouse: str) -> StockLevel | None: ...

    def levels(
        self, *, sku: str | None = None, warehouse: str | None = None, limit: int = 500
    ) -> list[StockLevel]: ...

    def available(self, skus: Sequence[str]) -> dict[str, dict[str, int]]:
        """Available units of each SKU, per warehouse (SKUs never stocked are left out)."""
        ...

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

    def set_counted(self, sku: str, warehouse: str, as_of: datetime) -> None:
        """Remember the as-of time of the WMS count just applied."""
        ...

    def movements(
        self, *, sku: str, warehouse: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class FlowPolicy:
    """How paid orders move on, as the merchant configured it (ORDERHUB_* settings)."""

    # Paying reserves the lines; an order that cannot be reserved waits in out_of_stock.
    reserve_stock: bool = True
    # An approved order is allocated to its warehouse and pushed to the WMS at once.
    auto_allocate: bool = True
    # Where a shop's orders ship from when the shop names no warehouse.
    default_warehouse: str = "WH-MAIN"
    # Change events go to subscribers (a broker is configured); otherwise they are only kept.
    publish_events: bool = False
    # An order short in its warehouse ships from the warehouses that hold it, one parcel each;
    # what none holds waits as a backorder (domain/parcels.py). Off: it waits in out_of_stock.
    split_by_stock: bool = False
    # A newly allocated order shares one parcel with its buyer's orders to the same receiver
    # still waiting in that warehouse (their hand-off not yet delivered).
    auto_merge: bool = False
    # Changes of available stock are pushed to the shops' listings (services/stock_push.py).
    push_stock: bool = True
    # Points of priority a minute of waiting adds: work queues serve the highest score plus
    # aging first (domain/priority.py); no work waits behind newer work for long.
    priority_aging_per_min: float = 2.0


@dataclass(frozen=True)
class Command:
    """A message for another system, written to the outbox with the change that caused it."""

    target: str
    kind: str
    payload: dict[str, Any]
    order_id: int | None = None
    priority: int = 0
    # Orders the messages of one key (default: the order) to one target; coalescing replaces
    # the key's message not yet sent.
    key: str | None = None
    # Since when the work it carries waits (an order's payment), for its place in the line:
    # it ages from then. None: from when it is written.
    since: datetime | None = None


class WarehouseRepository(Protocol):
    def get(self, code: str) -> Warehouse:
        """The warehouse, or NotFound naming the code and how to add it."""
        ...

    def find(self, code: str) -> Warehouse | None: ...

    def list(self) -> Sequence[Warehouse]: ...

    def add(self, warehouse: Warehouse) -> int: ...

    def update(self, warehouse: Warehouse) -> None: ...


class InboxRepository(Protocol):
    def claim(self, message_id: str, *, source: str, kind: str, at: datetime) -> bool:
        """Record an inbound message once: False when it was applied before (a duplicate)."""
        ...

    def claim_many(self, messages: dict[str, str], *, source: str, at: datetime) -> set[str]:
        """`claim` for many in one go: the ids that were new."""
        ...

    def set_outcome(self, message_id: str, outcome: str) -> None: ...


class OutboxRepository(Protocol):
    def supersede(self, order_id: int, target: str, kind: str, reason: str) -> int:
        """Withdraw undelivered messages of `kind` for the order; how many were withdrawn."""
        ...

    def coalesce(self, command: Command, now: datetime) -> bool:
        """Write `command`, replacing its key's message not yet sent; True if it replaced one."""
        ...

    def pending_for(self, order_id: int, target: str, kind: str) -> bool:
        """Whether a message of `kind` for the order is waiting or being sent."""
        ...

    def claim(
        self, *, now: datetime, limit: int, lease_s: float, skip: Sequence[str] = ()
    ) -> tuple[list[OutboxMessage], datetime]:
        """Lease up to `limit` due messages per target, targets in `skip` left out (highest
        priority with aging first, then oldest; one per order and target at a time); returns
        them with the lease that finishing them needs."""
        ...

    def reprioritise(
        self, order_id: int, target: str, kind: str, *, priority: int, since: datetime
    ) -> int:
        """Give the order's messages of `kind` not yet sent a new priority (payload too) and
        their place in the line by it; how many changed."""
        ...

    def finish(self, rows: Sequence[dict[str, Any]], *, lease: datetime) -> set[int]:
        """Record outcomes; returns the ids this lease still held (others were re-claimed)."""
        ...

    def release(self, ids: Sequence[int], *, lease: datetime, at: datetime) -> None: ...

    def counts(self) -> list[dict[str, Any]]: ...

    def list(
        self,
        *,
        status: str | None = None,
        target: str | None = None,
        order_id: int | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]: ...

    def get(self, message_id: int) -> dict[str, Any]: ...

    def retry(self, message_id: int, *, at: datetime) -> dict[str, Any]: ...


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
