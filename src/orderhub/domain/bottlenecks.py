"""Dwell time and bottlenecks: where an order's time goes, and which step is the slowest.

A *stay* is the time an order spent in one state, from the event that moved it in to the event
that moved it out. A *hop* is the time between two systems' milestones on the way out: from the
payment to the warehouse taking the order, from there to the parcel leaving, and from that to
the buyer receiving it. Each finished stay and hop is written once, when it ends (the unit of
work, at commit); stays still open are the orders' current states since `state_since`.

Percentiles are exact, by nearest rank: the p-th percentile of n values is the value at rank
ceil(p * n / 100) in ascending order (1-based), so it is always one of the measured values.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from orderhub.domain.orders import Order
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.errors import ValidationFailed

PERCENTILES = (50, 90, 99)


class StepKind(StrEnum):
    STATE = "state"
    HOP = "hop"


class Segment(StrEnum):
    """What a report can be broken down by; each is copied onto the stay when it ends."""

    CHANNEL = "channel"
    SHOP = "shop"
    WAREHOUSE = "warehouse"
    ORDER_TYPE = "order_type"
    TAG = "tag"


@dataclass(frozen=True)
class Hop:
    """The way between two systems: from `starts` (an order milestone) to the `ends` action."""

    name: str
    label: str
    starts: str
    ends: Action

    def start_of(self, order: Order) -> datetime | None:
        value: datetime | None = getattr(order, self.starts)
        return value


HOPS: tuple[Hop, ...] = (
    Hop("payment_to_handoff", "paid -> sent_to_warehouse", "paid_at", Action.SEND_TO_WAREHOUSE),
    Hop("handoff_to_shipped", "sent_to_warehouse -> shipped", "handed_off_at", Action.SHIP),
    Hop("shipped_to_delivered", "shipped -> delivered", "shipped_at", Action.DELIVER),
)
_HOP_BY_END = {hop.ends.value: hop for hop in HOPS}
HOP_NAMES = tuple(hop.name for hop in HOPS)

S = OrderStatus
# The states in which the merchant's chain holds the order, from payment until the parcel
# leaves. The others are shown but never named the bottleneck: waiting for the buyer to pay or
# to confirm receipt is the buyer's time, and shipped is the courier's transit, which would
# always be the longest (the hop shipped_to_delivered measures the courier).
CHAIN_STATES = frozenset(
    {
        S.PAID,
        S.PENDING_REVIEW,
        S.APPROVED,
        S.ALLOCATED,
        S.SENT_TO_WAREHOUSE,
        S.PICKING,
        S.ON_HOLD,
        S.EXCEPTION,
    }
)
# States an order can still be waiting in (every state but the final ones).
OPEN_STATES = tuple(s for s in S if s not in (S.COMPLETED, S.CANCELLED, S.VOIDED))
# The order the report lists steps in: the states along the flow, then the hops.
STEP_ORDER = (*(s.value for s in S), *HOP_NAMES)


@dataclass(frozen=True)
class FinishedStep:
    """A stay or a hop that has just ended, as the unit of work writes it."""

    kind: StepKind
    step: str
    entered_at: datetime
    left_at: datetime
    seconds: float


def _finished(kind: StepKind, step: str, entered: datetime, left: datetime) -> FinishedStep:
    # Channel times (paid_at) come from another clock and may run a little ahead of ours.
    seconds = max(0.0, (left - entered).total_seconds())
    return FinishedStep(kind, step, entered, left, seconds)


def finished_steps(order: Order, event: OrderEvent) -> list[FinishedStep]:
    """What `event` ends: the stay in the state it left, and the hop it completes, if any.

    Call it right after the event is applied: the hop's start is read from the order's
    milestones, which the ending action does not move.
    """
    ended: list[FinishedStep] = []
    if event.changes_status and event.from_status is not None and event.from_since is not None:
        ended.append(_finished(StepKind.STATE, event.from_status.value, event.from_since, event.at))
    hop = _HOP_BY_END.get(event.action)
    start = hop.start_of(order) if hop is not None else None
    if hop is not None and start is not None:
        ended.append(_finished(StepKind.HOP, hop.name, start, event.at))
    return ended


def nearest_rank(percentile: int, count: int) -> int:
    """The 1-based rank of the `percentile`-th percentile among `count` values (integers only:
    0.9 * 10 in floating point is 9.000000000000002, whose ceiling would be 10)."""
    if not 0 < percentile <= 100 or count <= 0:
        raise ValueError(f"percentile {percentile} of {count} values is not defined")
    return max(1, (percentile * count + 99) // 100)


def percentile(ordered: Sequence[float], p: int) -> float:
    """The exact nearest-rank percentile of values already sorted ascending."""
    return ordered[nearest_rank(p, len(ordered)) - 1]


# Stays are filed in log-spaced buckets of seconds (each 5 % wider than the one before, from
# 1 s to about ten years; bucket 0 holds stays under a second). A report counts stays per
# bucket, finds the bucket that holds a rank, and reads the exact value inside that bucket only.
BUCKET_RATIO = 1.05
_BOUNDS = tuple(BUCKET_RATIO**n for n in range(410))


def bucket_of(seconds: float) -> int:
    """The bucket of a stay: never smaller for a longer stay (a bisection of fixed bounds, so
    no floating-point logarithm can put two stays out of order)."""
    return bisect_right(_BOUNDS, seconds)


@dataclass(frozen=True)
class RankPlace:
    """Where a rank falls: its bucket, and its 1-based rank among that bucket's stays."""

    bucket: int
    rank: int
    in_bucket: int


def place(counts: Sequence[tuple[int, int]], rank: int) -> RankPlace:
    """The bucket holding the `rank`-th smallest stay, given (bucket, count) ascending."""
    before = 0
    for bucket, count in counts:
        if before + count >= rank:
            return RankPlace(bucket, rank - before, count)
        before += count
    raise ValueError(f"rank {rank} is past the {before} stays counted")


@dataclass(frozen=True)
class StepFigures:
    """Count and exact percentiles of the seconds spent in one step (for one segment value)."""

    kind: StepKind
    step: str
    count: int
    p50: float
    p90: float
    p99: float
    max: float
    # The segment value these figures are for; None: all orders.
    segment: str | None = None

    @classmethod
    def of(
        cls, kind: StepKind, step: str, seconds: Iterable[float], segment: str | None = None
    ) -> StepFigures | None:
        """Figures from the measured values themselves (for small sets and tests)."""
        ordered = sorted(seconds)
        if not ordered:
            return None
        p50, p90, p99 = (percentile(ordered, p) for p in PERCENTILES)
        return cls(kind, step, len(ordered), p50, p90, p99, ordered[-1], segment)


def slowest(figures: Iterable[StepFigures], kind: StepKind) -> StepFigures | None:
    """The step that makes orders late: the highest p90 (nine orders in ten are through it by
    then), ties broken by p99, then by how many orders it held. Among states, only those the
    merchant's chain holds the order in (CHAIN_STATES) are named."""
    candidates = [
        f
        for f in figures
        if f.kind is kind and f.segment is None and (kind is StepKind.HOP or f.step in CHAIN_STATES)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda f: (f.p90, f.p99, f.count))


def step_sort_key(step: str) -> int:
    return STEP_ORDER.index(step) if step in STEP_ORDER else len(STEP_ORDER)


@dataclass(frozen=True)
class SlowStay:
    """One order's stay (or hop): the slowest finished ones, or the longest waiting now."""

    order_id: int
    kind: StepKind
    step: str
    seconds: float
    entered_at: datetime
    # None while the order is still there.
    left_at: datetime | None
    # Where the order is now.
    status: str
    channel_order_no: str
    shop: str


@dataclass(frozen=True)
class Window:
    """Stays that ended at or after `since` and before `until`."""

    since: datetime
    until: datetime


@dataclass(frozen=True)
class BottleneckReport:
    window: Window
    # When it was made: open stays are measured up to here.
    now: datetime
    by: Segment | None
    # Finished stays and hops of all orders, one figure per step, in flow order.
    steps: list[StepFigures]
    # The same per value of `by` (empty without it).
    segments: list[StepFigures]
    # Orders in each state right now, and how long they have been there.
    waiting: list[StepFigures]
    slowest_orders: list[SlowStay]
    longest_waiting: list[SlowStay]
    slowest_step: StepFigures | None
    slowest_hop: StepFigures | None


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_WINDOW_HINT = "give a duration back from now such as 30m, 12h, 1d or 2w, or an ISO time"


def _when(value: str, name: str, *, now: datetime) -> datetime:
    text = value.strip()
    unit = _UNITS.get(text[-1:].lower())
    if unit is not None and text[:-1].isdigit():
        return now - timedelta(seconds=int(text[:-1]) * unit)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{name} '{value}' is not a time; {_WINDOW_HINT}", field=name
        ) from None
    if when.tzinfo is None:
        raise ValidationFailed(
            f"{name} '{value}' needs a time zone, e.g. 2026-11-11T00:00:00+08:00", field=name
        )
    return when.astimezone(UTC)


def window(since: str, until: str | None, *, now: datetime) -> Window:
    """The report's window from what a person typed (`1d`, `2026-11-11T00:00+08:00`)."""
    start = _when(since, "since", now=now)
    end = _when(until, "until", now=now) if until else now
    if start >= end:
        raise ValidationFailed(
            f"since ({start.isoformat()}) must be before until ({end.isoformat()})", field="since"
        )
    return Window(start, end)


def short_duration(seconds: float) -> str:
    """45s, 12m 30s, 3h 05m, 2d 04h: two units at most, for tables."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s" if seconds >= 1 or seconds == 0 else f"{seconds:.2f}s"
