"""The write side of the dwell report: stays and hops that recorded events end.

The unit of work hands every recorded event to `StayRecorder.note`; it keeps what the event ends
together with the order's segments as they are at that moment (the warehouse an order was
allocated to shows from the stays that end after the allocation), and `write` appends them to
state_stays_pending in one executemany beside the timeline and the outbox rows: one small row,
no index to keep, so paying and ingest stay as fast as they were.

`settle` moves pending rows into the indexed report tables in batches (the worker each tick,
and a report before it reads), each filed in its bucket of seconds: one transaction then pays
for many rows' index entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from orderhub.domain.bottlenecks import FinishedStep, bucket_of, finished_steps
from orderhub.domain.orders import Order
from orderhub.domain.timeline import OrderEvent
from orderhub.storage.tables import state_stay_tags, state_stays, state_stays_pending

_PENDING = state_stays_pending
INSERT_PENDING = _PENDING.insert()
_INSERT_STAYS = state_stays.insert()
_INSERT_STAY_TAGS = state_stay_tags.insert()
# What a pending row carries over; settling adds its bucket.
_STAY_COLUMNS = [c.name for c in state_stays.c if c.name not in ("id", "bucket")]


@dataclass(frozen=True)
class _Ended:
    # The order itself, not its id: a new order has no id until it is inserted.
    order: Order
    step: FinishedStep
    channel: str
    shop: str
    warehouse: str | None
    order_type: str
    tags: tuple[str, ...]


class StayRecorder:
    def __init__(self) -> None:
        self._ended: list[_Ended] = []

    def note(self, order: Order, event: OrderEvent) -> None:
        for step in finished_steps(order, event):
            self._ended.append(
                _Ended(
                    order,
                    step,
                    order.channel,
                    order.shop,
                    order.warehouse,
                    order.order_type.value,
                    order.tags,
                )
            )

    def clear(self) -> None:
        self._ended = []

    def mark(self) -> int:
        """Where the stays noted so far end (for a savepoint)."""
        return len(self._ended)

    def forget_after(self, mark: int) -> None:
        """Drop the stays noted after `mark` (their savepoint was rolled back)."""
        del self._ended[mark:]

    def write(self, conn: Connection) -> None:
        if not self._ended:
            return
        rows: list[dict[str, Any]] = []
        for e in self._ended:
            assert e.order.id is not None, "an order's stays are written after the order"
            rows.append(
                {
                    "order_id": e.order.id,
                    "kind": e.step.kind.value,
                    "step": e.step.step,
                    "entered_at": e.step.entered_at,
                    "left_at": e.step.left_at,
                    "seconds": e.step.seconds,
                    "channel": e.channel,
                    "shop": e.shop,
                    "warehouse": e.warehouse,
                    "order_type": e.order_type,
                    "tags": list(e.tags),
                }
            )
        conn.execute(INSERT_PENDING, rows)
        self._ended = []


def _take(limit: int) -> Any:
    """Delete the oldest `limit` pending rows and return them, in one statement: a row is moved
    once even with two settlers at once (PostgreSQL: the second skips the rows the first holds)."""
    oldest = (
        select(_PENDING.c.id)
        .order_by(_PENDING.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        delete(_PENDING)
        .where(_PENDING.c.id.in_(oldest))
        .returning(*(_PENDING.c[name] for name in _STAY_COLUMNS), _PENDING.c.tags)
    )


def has_pending(conn: Connection) -> bool:
    return conn.execute(select(_PENDING.c.id).limit(1)).first() is not None


def settle(conn: Connection, *, limit: int) -> int:
    """Move up to `limit` pending stays into the report tables; returns how many moved."""
    taken = conn.execute(_take(limit)).mappings().all()
    if not taken:
        return 0
    stays = [
        {**{name: row[name] for name in _STAY_COLUMNS}, "bucket": bucket_of(row["seconds"])}
        for row in taken
    ]
    conn.execute(_INSERT_STAYS, stays)
    tags = [
        {
            "order_id": stay["order_id"],
            "tag": tag,
            "step": stay["step"],
            "left_at": stay["left_at"],
            "seconds": stay["seconds"],
            "bucket": stay["bucket"],
        }
        for stay, row in zip(stays, taken, strict=True)
        for tag in row["tags"]
    ]
    if tags:
        conn.execute(_INSERT_STAY_TAGS, tags)
    return len(taken)
