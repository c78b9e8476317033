"""Live progress of a load test on stderr: a Rich panel redrawn every second on a terminal, a
plain line every ten seconds otherwise (CI logs, a test's pipe)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gevent
from rich.console import Console
from rich.live import Live
from rich.table import Table

from orderhub.loadtest.report import DONE_STATES
from orderhub.loadtest.users import ORDERHUB, Load, request_target

if TYPE_CHECKING:
    from locust.stats import RequestStats

    from orderhub.loadtest.runner import Monitor

LINE_EVERY_S = 10.0


class Progress:
    def __init__(self, load: Load, stats: RequestStats, monitor: Monitor, *, live: bool) -> None:
        self.load, self.stats, self.monitor = load, stats, monitor
        self.console = Console(stderr=True)
        self.live = Live(console=self.console, auto_refresh=False) if live else None
        self._history: list[tuple[float, int, int, int]] = []

    def snapshot(self) -> dict[str, Any]:
        load, now = self.load, self.load.now()
        self._history.append((now, load.created, load.paid, load.shipped))
        while len(self._history) > 2 and now - self._history[0][0] > 10.0:
            self._history.pop(0)
        then, created, paid, shipped = self._history[0]
        span = max(now - then, 1e-9)
        entries = list(self.stats.entries.values())
        ours = [e for e in entries if request_target(e.name) == ORDERHUB]
        requests = sum(e.num_requests for e in entries)
        percentiles = _percentiles(ours)
        return {
            "phase": "draining" if load.draining else "load",
            "elapsed_s": now,
            "created": load.created,
            "paid": load.paid,
            "shipped": load.shipped,
            "created_per_s": (load.created - created) / span,
            "paid_per_s": (load.paid - paid) / span,
            "shipped_per_s": (load.shipped - shipped) / span,
            "requests": requests,
            "failures": sum(e.num_failures for e in entries),
            "p50_ms": percentiles[0],
            "p99_ms": percentiles[1],
            "in_orderhub": self.monitor.total,
            "backlog": {
                s: n for s, n in sorted(self.monitor.by_status.items()) if s not in DONE_STATES
            },
            "late": sum(load.late_slots.values()),
        }

    def render(self, view: dict[str, Any]) -> Table:
        plan = self.load.plan
        total = plan.load_s if view["phase"] == "load" else plan.load_s + plan.drain_s
        table = Table(
            title=f"orderhub loadtest --profile {plan.profile}: {view['phase']} "
            f"{view['elapsed_s']:.0f}/{total:.0f} s, offered {plan.offered_per_s:.2f} orders/s",
            show_header=False,
            title_justify="left",
        )
        table.add_column(style="bold")
        table.add_column()
        rate = "{:,} ({:.1f}/s)".format
        table.add_row("orders placed", rate(view["created"], view["created_per_s"]))
        table.add_row("payments", rate(view["paid"], view["paid_per_s"]))
        table.add_row("shipments told", rate(view["shipped"], view["shipped_per_s"]))
        table.add_row(
            "requests",
            f"{view['requests']:,}, failures {view['failures']:,}"
            + (f", generator late {view['late']:,}" if view["late"] else ""),
        )
        table.add_row("OrderHub p50 / p99", f"{_ms(view['p50_ms'])} / {_ms(view['p99_ms'])}")
        backlog = ", ".join(f"{s} {n:,}" for s, n in view["backlog"].items()) or "none"
        table.add_row("in OrderHub", f"{view['in_orderhub']:,}; waiting: {backlog}")
        if self.monitor.error:
            table.add_row("[red]backlog[/red]", self.monitor.error)
        return table

    def line(self, view: dict[str, Any]) -> str:
        backlog = " ".join(f"{s}={n}" for s, n in view["backlog"].items()) or "none"
        return (
            f"[loadtest] {view['phase']} {view['elapsed_s']:.0f}s placed={view['created']} "
            f"paid={view['paid']} shipped={view['shipped']} requests={view['requests']} "
            f"failures={view['failures']} p50={_ms(view['p50_ms'])} p99={_ms(view['p99_ms'])} "
            f"in_orderhub={view['in_orderhub']} waiting: {backlog}"
        )

    def run(self) -> None:
        if self.live is not None:
            self.live.start()
        last_line = 0.0
        while not self.load.stopping:
            view = self.snapshot()
            if self.live is not None:
                self.live.update(self.render(view), refresh=True)
            elif view["elapsed_s"] - last_line >= LINE_EVERY_S:
                last_line = view["elapsed_s"]
                self.console.print(self.line(view), soft_wrap=True, highlight=False)
            gevent.sleep(1.0)

    def close(self) -> None:
        if self.live is not None:
            self.live.update(self.render(self.snapshot()), refresh=True)
            self.live.stop()


def _percentiles(entries: list[Any]) -> tuple[int | None, int | None]:
    if not entries or not any(e.num_requests for e in entries):
        return None, None
    from locust.stats import StatsEntry

    total = StatsEntry(entries[0].stats, "orderhub", "", use_response_times_cache=False)
    for entry in entries:
        total.extend(entry)
    return total.get_response_time_percentile(0.5), total.get_response_time_percentile(0.99)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"
