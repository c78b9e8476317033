"""The order timeline: one event per change, and the time an order spent in each state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from orderhub.domain.transitions import OrderStatus


@dataclass(frozen=True)
class OrderEvent:
    """Something that happened to an order, in the past tense: written in the same transaction."""

    action: str
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    actor_id: str
    actor_name: str
    source: str = "orderhub"
    reason: str | None = None
    reason_code: str | None = None
    correlation_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    order_id: int | None = None
    # False for events only the timeline needs (an ignored repeat): no change event goes out.
    published: bool = True
    # When the order entered `from_status`: the start of the stay this event ends (the order's
    # state_since before the change); None for a creation.
    from_since: datetime | None = None

    @property
    def changes_status(self) -> bool:
        return self.from_status != self.to_status


@dataclass(frozen=True)
class Stay:
    status: OrderStatus
    entered_at: datetime
    left_at: datetime | None
    duration: timedelta


def stays(events: Iterable[OrderEvent], now: datetime) -> list[Stay]:
    """Each stay in a state, in order; the last one is still open (left_at None) until `now`."""
    moves = [e for e in events if e.changes_status]
    moves.sort(key=lambda e: e.at)
    result: list[Stay] = []
    for current, following in zip(moves, [*moves[1:], None], strict=True):
        left = following.at if following is not None else None
        result.append(Stay(current.to_status, current.at, left, (left or now) - current.at))
    return result


def time_in_states(events: Iterable[OrderEvent], now: datetime) -> dict[OrderStatus, timedelta]:
    """Total time spent in each state (a state visited twice counts both stays)."""
    totals: dict[OrderStatus, timedelta] = {}
    for stay in stays(events, now):
        totals[stay.status] = totals.get(stay.status, timedelta()) + stay.duration
    return totals
