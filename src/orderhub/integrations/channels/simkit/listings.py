"""The simulated shop's listings: one per catalogue SKU, with the channel's ids and its stock.

Each simulator builds a `ListingBook` with its own ids for a merchant SKU code (the same ids its
orders show, so listings and orders agree), serves it through the channel's real list and stock
calls, and mounts `listing_router` for tests and benchmarks:

    GET    /_sim/listings                every listing: channel_sku, title, ids, quantity,
                                         updated_at (time.time() of its last stock update, None
                                         before any), updates (stock updates applied to it),
                                         removed; and stock_calls (stock calls received in all)
    DELETE /_sim/listings/{channel_sku}  the merchant deleted the listing: no longer listed, a
                                         stock update for it gets the channel's refusal
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import APIRouter, Response

from orderhub.integrations.channels.simkit.orders import CATALOGUE


@dataclass(frozen=True)
class SimListing:
    channel_sku: str
    title: str
    ids: Mapping[str, str]
    quantity: int = 0
    updated_at: float | None = None
    updates: int = 0
    removed: bool = False
    # The item (product) it belongs to: listings sharing a group are one item's SKUs/variants.
    group: str = field(default="", compare=False)


def group_of(sku: str) -> str:
    """The item a SKU code belongs to, as the simulators render it (`TS-WHITE-L` -> `TS`)."""
    return sku.split("-")[0]


class ListingBook:
    """Every catalogue SKU as a listing, thread-safe; `ids_of(sku)` gives the channel's ids."""

    def __init__(
        self, ids_of: Callable[[str], Mapping[str, str]], *, english: bool = False
    ) -> None:
        self._lock = threading.Lock()
        self._listings = {
            sku: SimListing(sku, en if english else zh, dict(ids_of(sku)), group=group_of(sku))
            for sku, zh, en, _ in CATALOGUE
        }
        self.stock_calls = 0

    def listed(self) -> list[SimListing]:
        """The listings the shop has (removed ones left out), in catalogue order."""
        with self._lock:
            return [x for x in self._listings.values() if not x.removed]

    def every(self) -> list[SimListing]:
        """Every listing, removed ones too (a stock update tells them apart)."""
        with self._lock:
            return list(self._listings.values())

    def find(self, **ids: str) -> SimListing | None:
        """The listing whose ids include all of these (removed ones too), or None."""
        with self._lock:
            for listing in self._listings.values():
                if all(listing.ids.get(key) == value for key, value in ids.items()):
                    return listing
        return None

    def counted(self) -> None:
        """One stock call arrived (counted whether it is applied or refused)."""
        with self._lock:
            self.stock_calls += 1

    def set_quantity(self, channel_sku: str, quantity: int) -> SimListing:
        """A full stock update: the listing's quantity becomes `quantity`."""
        with self._lock:
            current = self._listings[channel_sku]
            updated = replace(
                current, quantity=quantity, updated_at=time.time(), updates=current.updates + 1
            )
            self._listings[channel_sku] = updated
            return updated

    def remove(self, channel_sku: str) -> bool:
        with self._lock:
            current = self._listings.get(channel_sku)
            if current is None:
                return False
            self._listings[channel_sku] = replace(current, removed=True)
            return True

    def truth(self) -> dict[str, Any]:
        with self._lock:
            listings = list(self._listings.values())
            calls = self.stock_calls
        return {
            "listings": [
                {
                    "channel_sku": x.channel_sku,
                    "title": x.title,
                    "ids": dict(x.ids),
                    "quantity": x.quantity,
                    "updated_at": x.updated_at,
                    "updates": x.updates,
                    "removed": x.removed,
                }
                for x in listings
            ],
            "stock_calls": calls,
        }


def listing_router(book: ListingBook) -> APIRouter:
    router = APIRouter(prefix="/_sim", tags=["simulator control"])

    @router.get("/listings")
    def truth() -> dict[str, Any]:
        return book.truth()

    @router.delete("/listings/{channel_sku}", status_code=204)
    def remove(channel_sku: str) -> Response:
        return Response(status_code=204 if book.remove(channel_sku) else 404)

    return router
