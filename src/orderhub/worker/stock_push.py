"""Works changed SKUs out into listing updates a few times a second (services/stock_push.py).

The interval is the coalescing window: changes to a SKU within it become one update per
listing. The relay then delivers the updates like any other outbox message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from orderhub.services.ports import UnitOfWorkFactory
from orderhub.services.stock_push import plan

log = structlog.get_logger()


class StockPusher:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        *,
        interval_s: float = 0.2,
        planned: Callable[[], None] = lambda: None,
    ) -> None:
        self._uows, self.interval_s = uows, interval_s
        # Called after updates were written, so the relay sends them now, not at its next poll.
        self._planned = planned

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                report = plan(self._uows)
            except Exception:
                log.exception("stock push planning failed; trying again")
                stop.wait(max(self.interval_s, 1.0))
                continue
            if report.commands:
                self._planned()
                log.debug("stock push planned", skus=report.changes, updates=report.commands)
            stop.wait(self.interval_s)
