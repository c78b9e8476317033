"""The simulated warehouse's pick queue: accepted orders wait to be picked, the most urgent first.

A real WMS releases pick waves by urgency and pays attention to how long orders have waited; the
simulator models that with the rule OrderHub itself serves by (docs/priority.md): the order's
priority (`extendProps.priority`; without it 1 for `isUrgency=Y`, else 0) plus what waiting since
`payTime` adds (`pick_aging_per_min` points a minute), the highest first, then the earliest
accepted. A wave picks up to `pick_wave` orders, every `pick_wave_s` seconds or when asked
(POST /_sim/pick).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from datetime import datetime
from typing import Any

from orderhub.domain.priority import ranked_at
from orderhub.integrations.wms.qimen import protocol as qm


def urgency(request: dict[str, Any]) -> int:
    """The priority an outbound order came with: OrderHub's score in extendProps, else Qimen's
    isUrgency (Y: 1)."""
    extend = request.get("extendProps")
    raw = extend.get("priority") if isinstance(extend, dict) else None
    try:
        return int(str(raw)) if raw not in (None, "") else _flag(request)
    except ValueError:
        return _flag(request)


def _flag(request: dict[str, Any]) -> int:
    order = request.get("deliveryOrder")
    flag = order.get("isUrgency") if isinstance(order, dict) else None
    return 1 if str(flag or "").upper() == "Y" else 0


def paid_at(request: dict[str, Any]) -> datetime | None:
    order = request.get("deliveryOrder")
    text = order.get("payTime") if isinstance(order, dict) else None
    try:
        return qm.parse_time(str(text)) if text else None
    except ValueError:
        return None


class PickQueue:
    """Orders waiting to be picked, kept in the order a wave takes them."""

    def __init__(self, aging_per_min: float) -> None:
        self.aging_per_min = aging_per_min
        self._heap: list[tuple[datetime, int, str]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()

    def add(self, code: str, priority: int, since: datetime) -> None:
        # The earliest "ranked at" first is the highest priority with aging first.
        ranked = ranked_at(since, priority, self.aging_per_min)
        with self._lock:
            heapq.heappush(self._heap, (ranked, next(self._seq), code))

    def take(self, count: int) -> list[str]:
        with self._lock:
            return [heapq.heappop(self._heap)[2] for _ in range(min(count, len(self._heap)))]

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)
