"""What the channel hub needs: shops, catalogue, raw payloads, quarantine, channel clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from orderhub.domain.channels import Component, Quarantined, SkuBook
from orderhub.domain.fulfilment import Shipment
from orderhub.domain.shops import Shop


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

    def listings(self) -> list[ChannelListing]:
        """Every listing (item and SKU) the shop has on the channel, with its stock now."""
        ...

    def set_stock(self, ids: Mapping[str, str], quantity: int) -> None:
        """Set one listing's sellable quantity to `quantity` (a full update, not a delta), by
        the channel's own inventory call. Raises StockRefused or ChannelUnavailable."""
        ...


@dataclass(frozen=True)
class ChannelListing:
    """One thing a shop sells on its channel, as the channel lists it.

    `channel_sku` is the seller's own code on the listing (Taobao outer_sku_id / outer_iid,
    JD outerSkuId, PDD outer_id, a Shopify variant's sku): what SKU mappings key on. `ids` are
    the channel's identifiers a stock update needs (num_iid and sku_id; a Shopify variant's
    inventory_item_id and location_id; ...), opaque to OrderHub and handed back to set_stock.
    """

    channel_sku: str
    title: str
    ids: Mapping[str, str]
    quantity: int


class StockRefused(Exception):
    """The channel refused a stock update for a business reason (listing gone, off shelf)."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


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
