"""The read side of the dwell report: counts, exact percentiles and the slowest orders, in SQL.

Neither SQLite nor every PostgreSQL plan gives a percentile cheaply, and sorting a million
orders' stays per report would take seconds. Instead (tables/bottlenecks.py):

1. one pass over the segmentation's index, in its order, counts the window's stays per step,
   segment value and bucket of seconds (log-spaced, 5 % wide: domain/bottlenecks.bucket_of),
   already grouped, so nothing is sorted;
2. the counts say which bucket holds each rank (nearest rank, domain/bottlenecks.py) and where
   in it; the exact value is then one short walk of the walking index inside that bucket only
   (`ORDER BY seconds LIMIT 1 OFFSET k` from the bucket's nearer end, left_at filtered inside
   the index), one statement per group for p50, p90, p99 and max.

So the figures are exact, no table row is read for them, and the work is one pass over the
index (as long as the stays kept, whatever the window) plus, per group, four walks of a few
per cent of its stays each.

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
    RankPlace,
    Segment,
    SlowStay,
    StepFigures,
    StepKind,
    Window,
    nearest_rank,
    place,
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
def _counts(by: Segment | None, filtered: bool) -> Select[Any]:
    """How many stays of each step (and segment value) in each bucket ended in the window: one
    pass over the index (step, segment, bucket, seconds, left_at), grouped in its order."""
    table, column = _source(by)
    keys = [table.c.step, *([column] if column is not None else []), table.c.bucket]
    query = select(*keys, func.count().label("n")).where(*_in_window(table)).group_by(*keys)
    if filtered:
        query = query.where(table.c.step.in_(bindparam("steps", expanding=True)))
    return query


# p50, p90, p99 and max: which bind names each walk takes its bucket and offset from.
_WALKS = (("b50", "k50"), ("b90", "k90"), ("b99", "k99"), ("bmax", "kmax"))


@lru_cache(maxsize=256)
def _figures(by: Segment | None, missing: bool, descending: tuple[bool, ...]) -> Select[Any]:
    """The four figures of one group in one statement: each a walk inside the bucket that holds
    its rank, in order of seconds from the nearer end of the bucket, LIMIT 1 OFFSET k."""
    table, column = _source(by)
    where = [table.c.step == bindparam("step"), *_in_window(table)]
    if column is not None:
        where.append(column.is_(None) if missing else column == bindparam("value"))

    def walk(bucket: str, skip: str, down: bool) -> Any:
        order = table.c.seconds.desc() if down else table.c.seconds
        return (
            select(table.c.seconds)
            .where(*where, table.c.bucket == bindparam(bucket))
            .order_by(order)
            .limit(1)
            .offset(bindparam(skip))
            .scalar_subquery()
        )

    return select(*(walk(b, k, down) for (b, k), down in zip(_WALKS, descending, strict=True)))


def _walks(buckets: list[tuple[int, int]], count: int) -> tuple[dict[str, int], tuple[bool, ...]]:
    """Each figure's bucket and offset, walking the bucket from its nearer end."""
    top_bucket, top_count = buckets[-1]
    places = [place(buckets, nearest_rank(p, count)) for p in PERCENTILES]
    places.append(RankPlace(top_bucket, top_count, top_count))  # the longest: the top's last
    params: dict[str, int] = {}
    descending: list[bool] = []
    for (bucket, skip), at in zip(_WALKS, places, strict=True):
        down = at.rank > (at.in_bucket + 1) // 2
        params[bucket] = at.bucket
        params[skip] = at.in_bucket - at.rank if down else at.rank - 1
        descending.append(down)
    return params, tuple(descending)


Buckets = list[tuple[int, int]]
# (step, segment value) -> its (bucket, count) pairs; the value None for all orders.
Groups = dict[tuple[str, str | None], Buckets]


def _bucket_counts(
    conn: Connection, by: Segment | None, params: dict[str, Any], filtered: bool
) -> Groups:
    groups: Groups = {}
    if by is None:
        for step, bucket, n in conn.execute(_counts(None, filtered), params).all():
            groups.setdefault((step, None), []).append((bucket, n))
        return groups
    for step, value, bucket, n in conn.execute(_counts(by, filtered), params).all():
        key = (step, value if value is not None else NO_VALUE)
        groups.setdefault(key, []).append((bucket, n))
    return groups


def _overall(groups: Groups) -> Groups:
    """All orders' counts from a segmentation where each stay has exactly one value."""
    summed: dict[str, dict[int, int]] = {}
    for (step, _), buckets in groups.items():
        per_bucket = summed.setdefault(step, {})
        for bucket, n in buckets:
            per_bucket[bucket] = per_bucket.get(bucket, 0) + n
    return {(step, None): list(per_bucket.items()) for step, per_bucket in summed.items()}


def _figures_of(
    conn: Connection,
    by: Segment | None,
    groups: Groups,
    base: dict[str, Any],
) -> list[StepFigures]:
    figures: list[StepFigures] = []
    for (step, value), buckets in groups.items():
        buckets.sort()
        count = sum(n for _, n in buckets)
        walks, descending = _walks(buckets, count)
        missing = by not in (None, Segment.TAG) and value == NO_VALUE
        group = {**base, "step": step, "value": value, **walks}
        # The window is read in one transaction (one snapshot), so the walks see the rows
        # that were counted; `or 0.0` only guards a reader without snapshot isolation.
        found = conn.execute(_figures(by, missing, descending), group).one()
        p50, p90, p99, longest = (float(x or 0.0) for x in found)
        figures.append(StepFigures(_kind(step), step, count, p50, p90, p99, longest, segment=value))
    return figures


def step_figures(
    conn: Connection,
    window: Window,
    *,
    by: Segment | None = None,
    steps: Sequence[str] = (),
) -> tuple[list[StepFigures], list[StepFigures]]:
    """Count, p50, p90, p99 and max seconds of the stays and hops that ended in `window`, per
    step for all orders, and per step and value of `by`: counted per bucket, then each figure
    read exactly inside the bucket that holds its rank.

    A segmentation where every stay has one value (all but tags) gives all orders' counts too,
    summed: one pass over the index serves both."""
    base = {"since": window.since, "until": window.until}
    params = {**base, "steps": list(steps)} if steps else base
    segments: Groups = {}
    if by is None or by is Segment.TAG:
        overall = _bucket_counts(conn, None, params, bool(steps))
        if by is Segment.TAG:
            segments = _bucket_counts(conn, by, params, bool(steps))
    else:
        segments = _bucket_counts(conn, by, params, bool(steps))
        overall = _overall(segments)
    return _figures_of(conn, None, overall, base), _figures_of(conn, by, segments, base)


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
    # The bucket first, as in the index: the same order, read from the index's top.
    .order_by(state_stays.c.bucket.desc(), state_stays.c.seconds.desc())
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
        figures.append(StepFigures(StepKind.STATE, row.status, count, p50, p90, p99, oldest))
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
    ) -> tuple[list[StepFigures], list[StepFigures]]:
        return step_figures(self._conn, window, by=by, steps=steps)

    def slowest_stays(self, window: Window, steps: Sequence[str], *, limit: int) -> list[SlowStay]:
        return slowest_stays(self._conn, window, steps, limit=limit)

    def waiting_figures(self, now: datetime, *, steps: Sequence[str] = ()) -> list[StepFigures]:
        return waiting_figures(self._conn, now, steps=steps)

    def longest_waiting(
        self, now: datetime, statuses: Sequence[str], *, limit: int
    ) -> list[SlowStay]:
        return longest_waiting(self._conn, now, statuses, limit=limit)
