"""Which orders a fulfilment step concerns: ids picked by status, warehouse and SKU."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from orderhub.storage.priority import order_rank
from orderhub.storage.tables import order_lines, orders

_PAST_HAND_OFF = ("allocated", "sent_to_warehouse", "picking", "on_hold", "exception")
_BEFORE_WAREHOUSE = ("pending_payment", "paid", "pending_review", "approved", "allocated")


class OrderSelections:
    _conn: Connection

    def waiting_to_route(self, limit: int = 5000) -> list[int]:
        """Paid orders not yet allocated (or waiting for stock): where they ship may change.
        Split or merged ones are left out: their parcels say where they ship."""
        out_of_stock = (orders.c.status == "exception") & (
            orders.c.exception_reason == "out_of_stock"
        )
        query = (
            select(orders.c.id)
            .where(
                orders.c.status.in_(("paid", "pending_review", "approved")) | out_of_stock,
                orders.c.parcel_mode.is_(None),
            )
            .order_by(orders.c.id)
            .limit(limit)
        )
        return [int(i) for i in self._conn.execute(query).scalars()]

    def recent(self, limit: int) -> list[int]:
        """The newest orders' ids, newest first."""
        query = select(orders.c.id).order_by(orders.c.id.desc()).limit(limit)
        return [int(i) for i in self._conn.execute(query).scalars()]

    def waiting_for_stock(
        self, sku: str, warehouse: str, *, aging_per_min: float, limit: int = 200
    ) -> list[int]:
        """Orders out of stock in `warehouse` that need `sku`: who gets scarce stock first is
        the highest priority with aging (storage/priority.py), then the oldest payment."""
        query = (
            select(orders.c.id)
            .where(
                orders.c.status == "exception",
                orders.c.exception_reason == "out_of_stock",
                orders.c.warehouse == warehouse,
                orders.c.parcel_mode.is_(None),  # a split order waits in its backorder parcels
                orders.c.id.in_(select(order_lines.c.order_id).where(order_lines.c.sku == sku)),
            )
            .order_by(order_rank(aging_per_min), orders.c.paid_at, orders.c.id)
            .limit(limit)
        )
        return [int(i) for i in self._conn.execute(query).scalars()]

    def before_warehouse(self, limit: int) -> list[int]:
        """Orders not yet at their warehouse: up to allocated (its hand-off not yet taken), or
        held or in the exception queue from there; oldest first."""
        query = (
            select(orders.c.id)
            .where(
                orders.c.status.in_(_BEFORE_WAREHOUSE)
                | (
                    orders.c.status.in_(("on_hold", "exception"))
                    & orders.c.resume_status.in_(_BEFORE_WAREHOUSE)
                )
            )
            .order_by(orders.c.id)
            .limit(limit)
        )
        return [int(i) for i in self._conn.execute(query).scalars()]

    def in_flight(self, sku: str, warehouse: str) -> int:
        """Orders holding `sku` here that the warehouse may have shipped unbeknown to us yet."""
        query = select(func.count()).where(
            orders.c.warehouse == warehouse,
            orders.c.stock_state == "reserved",
            orders.c.status.in_(_PAST_HAND_OFF),
            orders.c.id.in_(select(order_lines.c.order_id).where(order_lines.c.sku == sku)),
        )
        return int(self._conn.execute(query).scalar_one())
