"""Stock levels and their ledger in SQL.

A change is one conditional UPDATE that only matches while the result stays at or above the
floor (on hand >= reserved >= 0), returning the new level; the CHECK constraint on the table
holds the same line for any other writer. So two transactions racing for the last unit cannot
both win, on SQLite or PostgreSQL, whatever their isolation level.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from orderhub.domain.inventory import (
    Movement,
    MovementKind,
    Need,
    StockLevel,
    check_change,
    shortage,
)
from orderhub.storage.tables import stock_levels, stock_movements

_C = stock_levels.c
_CHANGE = (
    stock_levels.update()
    .where(
        _C.sku == bindparam("_sku"),
        _C.warehouse == bindparam("_warehouse"),
        _C.reserved + bindparam("_reserved_delta") >= 0,
        _C.on_hand + bindparam("_on_hand_delta") >= _C.reserved + bindparam("_reserved_delta"),
    )
    .values(
        on_hand=_C.on_hand + bindparam("_on_hand_delta"),
        reserved=_C.reserved + bindparam("_reserved_delta"),
        updated_at=bindparam("_at"),
    )
    .returning(_C.on_hand, _C.reserved)
)
_LEVEL = select(stock_levels).where(
    _C.sku == bindparam("sku"), _C.warehouse == bindparam("warehouse")
)
_INSERT_LEVEL = stock_levels.insert()
_INSERT_MOVEMENT = stock_movements.insert()


def _level(row: Any) -> StockLevel:
    return StockLevel(
        row["sku"],
        row["warehouse"],
        int(row["on_hand"]),
        int(row["reserved"]),
        counted_at=row["counted_at"],
    )


class SqlInventoryRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        # SKUs whose available stock this transaction changed: the unit of work notes them
        # for the stock push to the channels when it commits.
        self.changed: set[str] = set()

    def level(self, sku: str, warehouse: str) -> StockLevel | None:
        row = self._conn.execute(_LEVEL, {"sku": sku, "warehouse": warehouse}).mappings().first()
        return _level(row) if row else None

    def levels(
        self, *, sku: str | None = None, warehouse: str | None = None, limit: int = 500
    ) -> list[StockLevel]:
        query = select(stock_levels).order_by(_C.sku, _C.warehouse).limit(limit)
        if sku:
            query = query.where(_C.sku == sku)
        if warehouse:
            query = query.where(_C.warehouse == warehouse)
        return [_level(r) for r in self._conn.execute(query).mappings()]

    def available(self, skus: Sequence[str]) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        if not skus:
            return found
        query = select(_C.sku, _C.warehouse, _C.on_hand - _C.reserved).where(_C.sku.in_(list(skus)))
        for sku, warehouse, available in self._conn.execute(query):
            found.setdefault(sku, {})[warehouse] = int(available)
        return found

    def apply(self, movement: Movement) -> StockLevel:
        """Change one level by a movement and write it to the ledger; refuses going below zero."""
        params = {
            "_sku": movement.sku,
            "_warehouse": movement.warehouse,
            "_at": movement.at,
            "_on_hand_delta": movement.on_hand_delta,
            "_reserved_delta": movement.reserved_delta,
        }
        row = self._conn.execute(_CHANGE, params).first()
        if row is not None:
            after = StockLevel(movement.sku, movement.warehouse, int(row[0]), int(row[1]))
        else:
            current = self.level(movement.sku, movement.warehouse)
            if current is not None:  # the floor refused it: say why
                check_change(current, movement.on_hand_delta, movement.reserved_delta)
            after = check_change(
                StockLevel(movement.sku, movement.warehouse),
                movement.on_hand_delta,
                movement.reserved_delta,
            )
            self._conn.execute(
                _INSERT_LEVEL,
                {
                    "sku": after.sku,
                    "warehouse": after.warehouse,
                    "on_hand": after.on_hand,
                    "reserved": after.reserved,
                    "updated_at": movement.at,
                },
            )
        self._record(movement, after)
        return after

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
        """All of `asked`, or InsufficientStock naming each short SKU and nothing changed.

        A savepoint undoes the lines already taken, so the caller's transaction goes on (the
        order is still saved, in the exception queue)."""
        savepoint = self._conn.begin_nested()
        try:
            results = self._reserve_each(warehouse, asked, order_id, at, source, reason)
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
        return results

    def _reserve_each(
        self,
        warehouse: str,
        asked: Sequence[Need],
        order_id: int,
        at: datetime,
        source: str,
        reason: str,
    ) -> list[StockLevel]:
        results: list[StockLevel] = []
        short: list[Need] = []
        for need in asked:  # in SKU order (domain.inventory.needs): no lock-order deadlocks
            row = self._conn.execute(
                _CHANGE,
                {
                    "_sku": need.sku,
                    "_warehouse": warehouse,
                    "_at": at,
                    "_on_hand_delta": 0,
                    "_reserved_delta": need.quantity,
                },
            ).first()
            if row is None:
                short.append(need)
                continue
            after = StockLevel(need.sku, warehouse, int(row[0]), int(row[1]))
            self._record(
                Movement(
                    need.sku,
                    warehouse,
                    MovementKind.RESERVE,
                    0,
                    need.quantity,
                    reason,
                    source,
                    at,
                    order_id,
                ),
                after,
            )
            results.append(after)
        if short:
            levels = {n.sku: lv for n in short if (lv := self.level(n.sku, warehouse))}
            refusal = shortage(warehouse, short, levels)
            assert refusal is not None
            raise refusal
        return results

    def set_counted(self, sku: str, warehouse: str, as_of: datetime) -> None:
        self._conn.execute(
            stock_levels.update()
            .where(_C.sku == sku, _C.warehouse == warehouse)
            .values(counted_at=as_of)
        )

    def _record(self, movement: Movement, after: StockLevel) -> None:
        if movement.on_hand_delta != movement.reserved_delta:  # shipping leaves it as it was
            self.changed.add(movement.sku)
        self._conn.execute(
            _INSERT_MOVEMENT,
            {
                "sku": movement.sku,
                "warehouse": movement.warehouse,
                "kind": movement.kind.value,
                "on_hand_delta": movement.on_hand_delta,
                "reserved_delta": movement.reserved_delta,
                "on_hand_after": after.on_hand,
                "reserved_after": after.reserved,
                "reason": movement.reason,
                "source": movement.source,
                "order_id": movement.order_id,
                "reference": movement.reference,
                "at": movement.at,
            },
        )

    def movements(
        self, *, sku: str, warehouse: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        query = (
            select(stock_movements)
            .where(stock_movements.c.sku == sku)
            .order_by(stock_movements.c.id.desc())
            .limit(limit)
        )
        if warehouse:
            query = query.where(stock_movements.c.warehouse == warehouse)
        return [dict(r) for r in self._conn.execute(query).mappings()]
