"""The read side of the dwell report: counts, exact percentiles and the slowest orders, in SQL.

Neither SQLite nor every PostgreSQL query plan gives a percentile cheaply, and sorting a million
orders' stays per report would take seconds. Instead every percentile is one walk of an index
that is already in seconds order for its step and segment (tables/bottlenecks.py): `ORDER BY
seconds LIMIT 1 OFFSET k`, from whichever end is nearer, filtering left_at inside the index. So
the figures are exact (nearest rank, domain/bottlenecks.py) and no table row is read for them.

Orders waiting now come from orders.status and state_since (index (status, state_since)).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    Table,
    bindparam,
    func,
    select,
)
from sqlalchemy.engine import Connection

from orderhub.domain.bottlenecks import (
    HOP_NAMES,
    OPEN_STATES,
    PERCENTILES,
    Segment,
    SlowStay,
    StepFigures,
    StepKind,
    Window,
    nearest_rank,
)
from orderhub.storage import stays
from orderhub.storage.tables import orders, state_stay_tags, state_stays

# A stay that ended before the order had a warehouse: shown as this value when split by warehouse.
NO_VALUE = ""


def _kind(step: str) -> StepKind:
    return StepKind.HOP if step in HOP_NAMES else StepKind.STATE


def _source(by: Segment | None) -> tuple[Table, Column[Any] | None]:
    """The table and the column a segmentation reads: tags have a table of their own."""
    if by is Segment.TAG:
        return state_stay_tags, state_stay_tags.c.tag
    if by is None:
        return state_stays, None
    return state_stays, state_stays.c[by.value]


def _in_window(table: Table) -> list[ColumnElement[bool]]:
    return [
        table.c.left_at >= bindparam("since"),
        table.c.left_at < bindparam("until"),
    ]


@lru_cache(maxsize=32)
def _groups(by: Segment | None, filtered: bool) -> Select[Any]:
    table, column = _source(by)
    keys = [table.c.step] if column is None else [table.c.step, column]
    query = (
        select(
            *keys,
            func.count().label("n"),
            func.max(table.c.seconds).label("max"),
            func.sum(table.c.seconds).label("total"),
        )
        .where(*_in_window(table))
        .group_by(*keys)
    )
    if filtered:
        query = query.where(table.c.step.in_(bindparam("steps", expanding=True)))
    return query


@lru_cache(maxsize=64)
def _nth(by: Segment | None, descending: bool, missing: bool) -> Select[Any]:
    """The seconds at one rank of one group: one index walk (see the module's note)."""
    table, column = _source(by)
    where = [table.c.step == bindparam("step"), *_in_window(table)]
    if column is not None:
        where.append(column.is_(None) if missing else column == bindparam("value"))
    order = table.c.seconds.desc() if descending else table.c.seconds
    return select(table.c.seconds).where(*where).order_by(order).limit(1).offset(bindparam("skip"))


def _at_rank(
    conn: Connection, by: Segment | None, params: dict[str, Any], rank: int, count: int
) -> float:
    descending = rank > (count + 1) // 2
    skip = count - rank if descending else rank - 1
    missing = by is not None and params.get("value") == NO_VALUE and by is not Segment.TAG
    row = conn.execute(_nth(by, descending, missing), {**params, "skip": skip}).first()
    # Rows that commit between the count and the walk can shift a rank by a few; the window
    # is read in one transaction, so this only guards a reader without snapshot isolation.
    return float(row[0]) if row is not None else 0.0


def step_figures(
    conn: Connection,
    window: Window,
    *,
    by: Segment | None = None,
    steps: Sequence[str] = (),
) -> list[StepFigures]:
    """Count, p50, p90, p99, max and total seconds of the stays and hops that ended in
    `window`, per step (and per value of `by`)."""
    base = {"since": window.since, "until": window.until}
    params = {**base, "steps": list(steps)} if steps else base
    figures: list[StepFigures] = []
    for row in conn.execute(_groups(by, bool(steps)), params):
        step, count = row.step, int(row.n)
        value = None if by is None else (row[1] if row[1] is not None else NO_VALUE)
        group = {**base, "step": step, "value": value}
        p50, p90, p99 = (
            _at_rank(conn, by, group, nearest_rank(p, count), count) for p in PERCENTILES
        )
        figures.append(
            StepFigures(
                _kind(step),
                step,
                count,
                p50,
                p90,
                p99,
                float(row.max),
                float(row.total),
                segment=value,
            )
        )
    return figures


_SLOWEST = (
    select(
        state_stays.c.order_id,
        state_stays.c.step,
        state_stays.c.seconds,
        state_stays.c.entered_at,
        state_stays.c.left_at,
        orders.c.status,
        orders.c.channel_order_no,
        orders.c.shop,
    )
    .join(orders, orders.c.id == state_stays.c.order_id)
    .where(state_stays.c.step == bindparam("step"), *_in_window(state_stays))
    .order_by(state_stays.c.seconds.desc())
    .limit(bindparam("limit"))
)


def slowest_stays(
    conn: Connection, window: Window, steps: Sequence[str], *, limit: int
) -> list[SlowStay]:
    """The longest finished stays of each step in the window, with where the order is now."""
    found: list[SlowStay] = []
    for step in steps:
        params = {"since": window.since, "until": window.until, "step": step, "limit": limit}
        for r in conn.execute(_SLOWEST, params):
            found.append(
                SlowStay(
                    int(r.order_id),
                    _kind(step),
                    step,
                    float(r.seconds),
                    r.entered_at,
                    r.left_at,
                    r.status,
                    r.channel_order_no,
                    r.shop,
                )
            )
    return found


_WAITING_GROUPS = (
    select(orders.c.status, func.count().label("n"), func.min(orders.c.state_since).label("first"))
    .where(
        orders.c.status.in_(bindparam("statuses", expanding=True)),
        orders.c.state_since.is_not(None),
    )
    .group_by(orders.c.status)
)


@lru_cache(maxsize=2)
def _waiting_nth(descending: bool) -> Select[Any]:
    since = orders.c.state_since
    return (
        select(since)
        .where(orders.c.status == bindparam("status"), since.is_not(None))
        .order_by(since.desc() if descending else since)
        .limit(1)
        .offset(bindparam("skip"))
    )


_LONGEST_WAITING = (
    select(
        orders.c.id, orders.c.status, orders.c.state_since, orders.c.channel_order_no, orders.c.shop
    )
    .where(orders.c.status == bindparam("status"), orders.c.state_since.is_not(None))
    .order_by(orders.c.state_since)
    .limit(bindparam("limit"))
)


def waiting_figures(
    conn: Connection, now: datetime, *, steps: Sequence[str] = ()
) -> list[StepFigures]:
    """Orders in each open state right now and how long they have been there (to `now`)."""
    statuses = [s.value for s in OPEN_STATES if not steps or s.value in steps]
    figures: list[StepFigures] = []
    if not statuses:
        return figures
    for row in conn.execute(_WAITING_GROUPS, {"statuses": statuses}):
        count = int(row.n)
        ages: list[float] = []
        for p in PERCENTILES:
            # The p-th percentile of the ages is the (count - rank + 1)-th earliest entry.
            rank = count - nearest_rank(p, count) + 1
            descending = rank > (count + 1) // 2
            skip = count - rank if descending else rank - 1
            found = conn.execute(
                _waiting_nth(descending), {"status": row.status, "skip": skip}
            ).scalar()
            ages.append(max(0.0, (now - found).total_seconds()) if found is not None else 0.0)
        oldest = max(0.0, (now - row.first).total_seconds())
        p50, p90, p99 = ages
        figures.append(
            StepFigures(StepKind.STATE, row.status, count, p50, p90, p99, oldest, total=None)
        )
    return figures


def longest_waiting(
    conn: Connection, now: datetime, statuses: Sequence[str], *, limit: int
) -> list[SlowStay]:
    found: list[SlowStay] = []
    for status in statuses:
        for r in conn.execute(_LONGEST_WAITING, {"status": status, "limit": limit}):
            found.append(
                SlowStay(
                    int(r.id),
                    StepKind.STATE,
                    status,
                    max(0.0, (now - r.state_since).total_seconds()),
                    r.state_since,
                    None,
                    r.status,
                    r.channel_order_no,
                    r.shop,
                )
            )
    return found


class SqlBottleneckRepository:
    """The dwell report on the unit of work's connection: settling pending stays, and the
    reads (in a read-only unit of work, one snapshot per report)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def has_pending(self) -> bool:
        return stays.has_pending(self._conn)

    def settle(self, *, limit: int) -> int:
        return stays.settle(self._conn, limit=limit)

    def step_figures(
        self, window: Window, *, by: Segment | None = None, steps: Sequence[str] = ()
    ) -> list[StepFigures]:
        return step_figures(self._conn, window, by=by, steps=steps)

    def slowest_stays(self, window: Window, steps: Sequence[str], *, limit: int) -> list[SlowStay]:
        return slowest_stays(self._conn, window, steps, limit=limit)

    def waiting_figures(self, now: datetime, *, steps: Sequence[str] = ()) -> list[StepFigures]:
        return waiting_figures(self._conn, now, steps=steps)

    def longest_waiting(
        self, now: datetime, statuses: Sequence[str], *, limit: int
    ) -> list[SlowStay]:
        return longest_waiting(self._conn, now, statuses, limit=limit)
