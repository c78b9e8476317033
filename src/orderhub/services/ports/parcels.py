"""What split, merged and backordered parcels need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from orderhub.domain.orders import Order
from orderhub.domain.parcels import Parcel


class ParcelRepository(Protocol):
    def add(self, parcel: Parcel) -> Parcel:
        """Store a new parcel with its lines; returns it with its id (and, for a merged parcel,
        its number, which is made from the id)."""
        ...

    def update(self, parcel: Parcel) -> None:
        """Save its status, stock, hand-off and shipment (and its lines, for a merged parcel
        that took in another order)."""
        ...

    def get(self, parcel_no: str) -> Parcel:
        """The parcel, or NotFound naming the number."""
        ...

    def find(self, parcel_no: str) -> Parcel | None: ...

    def lock(self, order_ids: Sequence[int]) -> None:
        """Hold every parcel of these orders until the transaction ends, so two answers about
        one order's parcels (from two warehouses at once) are applied one after the other."""
        ...

    def of_order(self, order_id: int) -> list[Parcel]:
        """Every parcel that carries part or all of the order, oldest first (cancelled too)."""
        ...

    def backorders(
        self, sku: str, warehouse: str, *, aging_per_min: float, limit: int = 200
    ) -> list[str]:
        """Backorder parcels at `warehouse` that need `sku`: their lead order's highest
        priority with aging first (domain/priority.py), then the oldest."""
        ...

    def in_flight(self, sku: str, warehouse: str) -> int:
        """Parcels holding `sku` at `warehouse` past the hand-off (maybe shipped, unconfirmed)."""
        ...

    def merge_partners(self, order: Order, limit: int = 20) -> list[int]:
        """Other allocated orders this one could share a parcel with: same shop, buyer, receiver
        and warehouse, not split, not marked never_merge (merged ones included)."""
        ...

    def mergeable_groups(self, limit: int = 500) -> list[list[int]]:
        """Allocated orders not in a parcel yet that share shop, buyer, receiver and warehouse
        with another, grouped (the scheduler's merge round)."""
        ...
