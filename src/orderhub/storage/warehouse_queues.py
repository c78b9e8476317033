"""The read side of a warehouse's queues: what waits there, straight from SQL, as plain data.

An order waits at its warehouse from allocation until it ships (a split or merged order, at each
warehouse where one of its parcels has still to leave): `allocated` (stock reserved, not
yet pushed), `sent_to_warehouse` (the WMS has it), `picking`, and, beside those, the orders routed
there that wait for stock (`exception` with reason `out_of_stock`). Each is in one queue of the
warehouse, the one routing rules chose (none recorded: `default`). Orders wait since they were
paid (since they were created, for the few without a payment time): that is the clock the buyer
and the shipping deadline count from. They are worked highest effective priority first: the score
plus what waiting added (ORDERHUB_PRIORITY_AGING_PER_MIN points a minute, domain/priority.py),
so a low score that has waited long enough comes before newer high ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, literal, select
from sqlalchemy.engine import Connection

from orderhub.domain.parcels import OPEN
from orderhub.domain.priority import DEFAULT_AGING_PER_MIN, effective_priority
from orderhub.storage.priority import order_rank, order_since
from orderhub.storage.tables import orders, parcel_lines, parcels

DEFAULT_QUEUE = "default"
# The stages in the order an order passes them; out of stock waits before allocation.
STAGES = ("out_of_stock", "allocated", "sent_to_warehouse", "picking")
_AT_WAREHOUSE = ("allocated", "sent_to_warehouse", "picking")

_queue = func.coalesce(orders.c.queue, literal(DEFAULT_QUEUE))
_since = order_since
_stage = case(
    (orders.c.status == "exception", literal("out_of_stock")), else_=orders.c.status
).label("stage")

ORDER_COLUMNS = [
    orders.c.id,
    orders.c.channel,
    orders.c.channel_order_no,
    orders.c.shop,
    orders.c.status,
    _stage,
    _queue.label("queue"),
    orders.c.priority,
    _since.label("waiting_since"),
    orders.c.receiver_province,
    orders.c.tags,
]


@dataclass(frozen=True)
class QueueCounts:
    """One queue of a warehouse (or the whole warehouse): how many wait at each stage."""

    queue: str
    by_stage: dict[str, int]
    oldest_since: datetime | None  # when the longest-waiting order was paid
    top_priority: int | None

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())

    def oldest_wait_s(self, now: datetime) -> float | None:
        return None if self.oldest_since is None else (now - self.oldest_since).total_seconds()


@dataclass(frozen=True)
class WarehouseQueues:
    warehouse: str
    queue: str | None  # the queue asked for; None: all of them
    overall: QueueCounts  # every queue asked for together
    queues: list[QueueCounts]  # by name, `default` first
    orders: list[dict[str, Any]]  # the waiting orders in the order to work them, up to `limit`
    limit: int


def _waiting_at(warehouse: str, queue: str | None) -> list[ColumnElement[bool]]:
    # A split or merged order waits wherever one of its parcels still has to leave; a whole
    # order, at its own warehouse.
    parcel_here = exists().where(
        parcel_lines.c.order_id == orders.c.id,
        parcels.c.id == parcel_lines.c.parcel_id,
        parcels.c.warehouse == warehouse,
        parcels.c.status.in_(sorted(OPEN)),
    )
    where: list[ColumnElement[bool]] = [
        (orders.c.parcel_mode.is_(None) & (orders.c.warehouse == warehouse)) | parcel_here,
        orders.c.status.in_(_AT_WAREHOUSE)
        | ((orders.c.status == "exception") & (orders.c.exception_reason == "out_of_stock")),
    ]
    if queue is not None:
        where.append(_queue == queue)
    return where


def warehouse_queues(
    conn: Connection,
    warehouse: str,
    *,
    queue: str | None = None,
    limit: int = 200,
    aging_per_min: float = DEFAULT_AGING_PER_MIN,
    now: datetime | None = None,
) -> WarehouseQueues:
    """Counts per queue and stage, the oldest wait, and the orders in the order to work them:
    the highest effective priority first (the score plus aging), then the longest waiting,
    then the order id. Each order says its `effective_priority` as of `now`."""
    where = _waiting_at(warehouse, queue)
    grouped = conn.execute(
        select(
            _queue.label("queue"),
            _stage,
            func.count().label("n"),
            func.min(_since).label("oldest"),
            func.max(orders.c.priority).label("top"),
        )
        .where(*where)
        .group_by(_queue, _stage)
    ).mappings()
    per_queue: dict[str, list[dict[str, Any]]] = {}
    for row in grouped:
        per_queue.setdefault(row["queue"], []).append(dict(row))
    queues = [
        _counts(name, per_queue[name])
        for name in sorted(per_queue, key=lambda n: (n != DEFAULT_QUEUE, n))
    ]
    waiting = conn.execute(
        select(*ORDER_COLUMNS)
        .where(*where)
        .order_by(order_rank(aging_per_min), _since, orders.c.id)
        .limit(limit)
    ).mappings()
    at = now or datetime.now(UTC)
    listed = [
        {
            **row,
            "effective_priority": round(
                effective_priority(row["priority"], at - row["waiting_since"], aging_per_min), 1
            ),
        }
        for row in waiting
    ]
    return WarehouseQueues(
        warehouse=warehouse,
        queue=queue,
        overall=_counts(queue or "", [r for rows in per_queue.values() for r in rows]),
        queues=queues,
        orders=listed,
        limit=limit,
    )


def _counts(queue: str, rows: list[dict[str, Any]]) -> QueueCounts:
    by_stage = dict.fromkeys(STAGES, 0)
    for row in rows:
        by_stage[row["stage"]] += int(row["n"])
    oldest = [r["oldest"] for r in rows if r["oldest"] is not None]
    tops = [int(r["top"]) for r in rows if r["top"] is not None]
    return QueueCounts(
        queue=queue,
        by_stage=by_stage,
        oldest_since=min(oldest) if oldest else None,
        top_priority=max(tops) if tops else None,
    )
