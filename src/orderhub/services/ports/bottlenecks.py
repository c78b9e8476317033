"""The dwell report's storage: pending stays settled, and figures read straight from SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from orderhub.domain.bottlenecks import Segment, SlowStay, StepFigures, Window


class BottleneckRepository(Protocol):
    def has_pending(self) -> bool:
        """Whether stays ended that the report tables do not hold yet."""
        ...

    def settle(self, *, limit: int) -> int:
        """Move up to `limit` pending stays into the report tables; how many moved."""
        ...

    def step_figures(
        self, window: Window, *, by: Segment | None = None, steps: Sequence[str] = ()
    ) -> tuple[list[StepFigures], list[StepFigures]]:
        """Stays and hops that ended in `window`: exact figures per step for all orders, and
        per step and value of `by` (empty without it)."""
        ...

    def slowest_stays(self, window: Window, steps: Sequence[str], *, limit: int) -> list[SlowStay]:
        """The longest stays of each step that ended in `window`."""
        ...

    def waiting_figures(self, now: datetime, *, steps: Sequence[str] = ()) -> list[StepFigures]:
        """Orders in each open state at `now`, and how long they have been there."""
        ...

    def longest_waiting(
        self, now: datetime, statuses: Sequence[str], *, limit: int
    ) -> list[SlowStay]:
        """The orders waiting longest in each of `statuses`."""
        ...
