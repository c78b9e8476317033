"""Stock per SKU per warehouse and the ledger of every change to it.

Available = on hand - reserved, never below zero. Paying an order reserves its lines, cancelling
releases them, shipping deducts them; goods received, counts and WMS stock reports change what
is on hand. Every change is a movement with its reason and source, so the level is always the
sum of its ledger. The database enforces the floor too (a conditional update and a CHECK), so
concurrent orders for the last units cannot oversell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from orderhub.errors import OrderHubError, ValidationFailed


class MovementKind(StrEnum):
    RECEIVE = "receive"  # goods in
    ADJUST = "adjust"  # a count corrected by a person
    WMS_LEVEL = "wms_level"  # the warehouse reported its on-hand figure
    RESERVE = "reserve"  # an order was paid
    RELEASE = "release"  # an order was cancelled before shipping
    SHIP = "ship"  # reserved goods left the warehouse


@dataclass(frozen=True)
class StockLevel:
    sku: str
    warehouse: str
    on_hand: int = 0
    reserved: int = 0
    # As-of time of the WMS count applied last (an older report changes nothing).
    counted_at: datetime | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class Movement:
    """One change of one level: deltas, what the level became, and why."""

    sku: str
    warehouse: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    reason: str
    source: str
    at: datetime
    order_id: int | None = None
    # Idempotency key of the outside message that caused it (e.g. a WMS message id).
    reference: str | None = None


class InsufficientStock(OrderHubError):
    code = "insufficient_stock"
    status = 409
    title = "Not enough stock"

    def __init__(self, detail: str, *, short: list[dict[str, object]]) -> None:
        super().__init__(detail, short=short)
        self.short = short


@dataclass(frozen=True)
class Need:
    """Units of one SKU an order needs from one warehouse."""

    sku: str
    quantity: int


def needs(lines: Iterable[tuple[str, int]]) -> list[Need]:
    """Lines summed per SKU (an order may list a SKU twice), in a stable order.

    The stable order matters: concurrent reservations take row locks SKU by SKU in the same
    sequence, so two orders sharing SKUs cannot deadlock.
    """
    totals: dict[str, int] = {}
    for sku, quantity in lines:
        if quantity <= 0:
            raise ValidationFailed(f"{sku}: a quantity to reserve must be at least 1")
        totals[sku] = totals.get(sku, 0) + quantity
    return [Need(sku, totals[sku]) for sku in sorted(totals)]


def shortage(
    warehouse: str, asked: list[Need], levels: dict[str, StockLevel]
) -> InsufficientStock | None:
    """The refusal naming every short SKU, or None when all of `asked` is available."""
    short = [
        {
            "sku": n.sku,
            "warehouse": warehouse,
            "asked": n.quantity,
            "available": levels[n.sku].available if n.sku in levels else 0,
        }
        for n in asked
        if n.sku not in levels or levels[n.sku].available < n.quantity
    ]
    if not short:
        return None
    named = ", ".join(f"{s['sku']} (asked {s['asked']}, available {s['available']})" for s in short)
    return InsufficientStock(f"not enough stock in {warehouse}: {named}", short=short)


def check_change(level: StockLevel, on_hand_delta: int, reserved_delta: int) -> StockLevel:
    """The level after a change, or a refusal when it would leave stock below zero."""
    after = StockLevel(
        level.sku, level.warehouse, level.on_hand + on_hand_delta, level.reserved + reserved_delta
    )
    if after.reserved < 0 or after.available < 0:
        raise ValidationFailed(
            f"{level.sku} in {level.warehouse}: on hand {level.on_hand}, reserved "
            f"{level.reserved}; this change would leave on hand {after.on_hand} and reserved "
            f"{after.reserved}. Stock never goes below what is reserved."
        )
    return after
