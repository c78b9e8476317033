"""What pushing stock to the channels needs: listings, per-shop rules, the changed SKUs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from orderhub.domain.stock_push import Listing, StockRule
from orderhub.services.ports.channels import ChannelListing


@dataclass(frozen=True)
class StockChange:
    """A SKU whose available stock changed since its listings were last worked out."""

    sku: str
    seq: int
    first_changed_at: datetime


class ListingRepository(Protocol):
    def sync(
        self,
        shop: str,
        channel: str,
        found: Sequence[tuple[ChannelListing, str | None]],
        at: datetime,
    ) -> list[Listing]:
        """Replace what is known of the shop's listings by what the channel listed (each with
        the merchant SKU it maps to); listings the channel no longer has are removed."""
        ...

    def find(
        self, *, shop: str | None = None, sku: str | None = None, limit: int = 500
    ) -> list[Listing]: ...

    def selling(self, skus: Sequence[str]) -> list[Listing]:
        """The mapped listings of enabled shops that sell one of `skus`."""
        ...

    def remap(self, channel: str, shop: str, channel_sku: str, sku: str) -> list[str]:
        """Point the listings of a channel SKU at a merchant SKU; returns the shops touched."""
        ...

    def planned(self, quantities: Mapping[int, int]) -> None:
        """Remember what each listing (by id) was last told to show."""
        ...

    def pushed(
        self, listing_id: int, quantity: int | None, at: datetime, error: str | None
    ) -> None:
        """Record the channel's answer to a push: the quantity it now shows, or the error."""
        ...

    def rule(self, shop: str) -> StockRule:
        """The shop's stock rule (everything, no buffer, when it has none saved)."""
        ...

    def rules(self) -> dict[str, StockRule]: ...

    def save_rule(self, rule: StockRule) -> None: ...

    def changes(self, limit: int) -> list[StockChange]: ...

    def mark_changed(self, skus: Sequence[str], at: datetime) -> None:
        """Note that these SKUs' available stock changed (their listings are worked out soon)."""
        ...

    def clear_changes(self, changes: Sequence[StockChange]) -> None:
        """Forget changes that were worked out, unless a newer one came in meanwhile."""
        ...
