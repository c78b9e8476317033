"""The bottleneck report: where orders' time goes, per state, hop and segment, and the slowest step.

Stays and hops are written as they end to a pending table (cheap for the write path) and
settled into the report tables in batches: by the worker every tick (`settle`) and by the
report itself before it reads, so it counts every stay that had ended when it was asked.

Then one read-only unit of work (one snapshot): finished stays and hops in the window, the same
per segment when asked, orders waiting now, the slowest orders of each step, and the steps the
domain names as the bottleneck (domain/bottlenecks.py: highest p90).
"""

from __future__ import annotations

from collections.abc import Sequence

from orderhub.domain.actors import Actor
from orderhub.domain.bottlenecks import (
    STEP_ORDER,
    BottleneckReport,
    Segment,
    StepKind,
    slowest,
    step_sort_key,
    window,
)
from orderhub.errors import ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services.ports import UnitOfWorkFactory

DEFAULT_SINCE = "1d"
# The slowest orders listed per step (and the longest waiting per state).
DEFAULT_LIMIT = 5
MAX_LIMIT = 100
# Pending stays moved per transaction when settling.
SETTLE_BATCH = 5000


def segment_of(by: str | None) -> Segment | None:
    if not by:
        return None
    try:
        return Segment(by)
    except ValueError:
        choices = ", ".join(s.value for s in Segment)
        raise ValidationFailed(
            f"by '{by}' is not a segment; use one of: {choices}", field="by"
        ) from None


def _steps(steps: Sequence[str]) -> tuple[str, ...]:
    unknown = [s for s in steps if s not in STEP_ORDER]
    if unknown:
        raise ValidationFailed(
            f"state '{unknown[0]}' is neither a state nor a hop; use one of: "
            f"{', '.join(STEP_ORDER)}",
            field="state",
        )
    return tuple(dict.fromkeys(steps))


def settle(uows: UnitOfWorkFactory, *, batch: int = SETTLE_BATCH) -> int:
    """Move the stays ended so far into the report tables, a batch per transaction; returns
    how many moved. A cheap read when there are none (the worker calls it every tick)."""
    with uows.read_only() as reader:
        if not reader.bottlenecks.has_pending():
            return 0
    moved = 0
    while True:
        with uows() as uow:
            count = uow.bottlenecks.settle(limit=batch)
            uow.commit()
        moved += count
        if count < batch:
            return moved


def report(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    since: str = DEFAULT_SINCE,
    until: str | None = None,
    by: str | None = None,
    steps: Sequence[str] = (),
    limit: int = DEFAULT_LIMIT,
) -> BottleneckReport:
    """The report for stays that ended between `since` and `until` (default: now)."""
    require(actor, Permission.REPORT_READ)
    segment = segment_of(by)
    chosen = _steps(steps)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit {limit} must be between 1 and {MAX_LIMIT}", field="limit")
    settle(uows)
    with uows.read_only() as uow:
        now = uow.clock.now()
        span = window(since, until, now=now)
        reader = uow.bottlenecks
        overall, per_segment = reader.step_figures(span, by=segment, steps=chosen)
        figures = sorted(overall, key=lambda f: step_sort_key(f.step))
        segments = sorted(per_segment, key=lambda f: (step_sort_key(f.step), f.segment or ""))
        waiting = sorted(
            reader.waiting_figures(now, steps=chosen), key=lambda f: step_sort_key(f.step)
        )
        slowest_orders = reader.slowest_stays(span, [f.step for f in figures], limit=limit)
        longest_waiting = reader.longest_waiting(now, [f.step for f in waiting], limit=limit)
    return BottleneckReport(
        window=span,
        now=now,
        by=segment,
        steps=figures,
        segments=segments,
        waiting=waiting,
        slowest_orders=slowest_orders,
        longest_waiting=longest_waiting,
        slowest_step=slowest(figures, StepKind.STATE),
        slowest_hop=slowest(figures, StepKind.HOP),
    )
