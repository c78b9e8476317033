"""The verdict on a load test's result: PASS when OrderHub carried the merchant's target rate of
orders through the chain, with OrderHub's answers fast enough and few enough errors.

Pure functions over the result dict the load process writes (see docs/loadtest.md for its
fields), so they are tested without Locust or a server.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SHIPPED_STATES = frozenset({"shipped", "delivered", "completed"})
DONE_STATES = SHIPPED_STATES | {"cancelled", "voided"}
# Where an order of the run waits for something the chain does by itself (the buyer paying,
# the worker, the review desk, the warehouse); on_hold and exception wait for a person.
MOVING_STATES = frozenset(
    {
        "pending_payment",
        "paid",
        "pending_review",
        "approved",
        "allocated",
        "sent_to_warehouse",
        "picking",
    }
)

DEFAULT_P99_MS = 1000.0
DEFAULT_MAX_ERROR_RATE = 0.001


@dataclass(frozen=True)
class Check:
    name: str
    measured: float | None  # None: nothing to measure (e.g. no request reached OrderHub)
    target: float
    passed: bool
    unit: str
    rule: str  # how measured compares with target, in words
    detail: str = ""  # e.g. which request the figure is of

    def said(self) -> str:
        mark = "ok" if self.passed else "FAIL"
        measured = "none" if self.measured is None else f"{self.measured:g}"
        detail = f", {self.detail}" if self.detail else ""
        said = f"{self.name}: {measured} {self.unit} ({self.rule} {self.target:g}{detail}) {mark}"
        return said.replace("  ", " ")


def throughput(result: dict[str, Any]) -> float:
    """Orders a second OrderHub carried through the chain: the run's orders that OrderHub shows
    shipped once the run has drained, over the load phase's length."""
    load_s = float(result["load_s"])
    shipped = int(result["orders"]["shipped_in_orderhub"])
    return shipped / load_s if load_s > 0 else 0.0


def error_rate(result: dict[str, Any]) -> float:
    everything = result["all_requests"]
    return everything["failures"] / everything["requests"] if everything["requests"] else 0.0


def slowest(result: dict[str, Any]) -> tuple[str, float] | None:
    """OrderHub's request with the highest p99, and that p99: the latency target holds for every
    kind of request, so a slow batch action is not hidden among many quick callbacks."""
    timed = [
        (r["name"], float(r["p99_ms"]))
        for r in result["requests"]
        if r["target"] == "orderhub" and r["p99_ms"] is not None
    ]
    return max(timed, key=lambda named: named[1]) if timed else None


def checks(result: dict[str, Any], targets: dict[str, float]) -> list[Check]:
    """Each target against what was measured; `targets` has orders_per_s, p99_ms and
    max_error_rate."""
    carried = throughput(result)
    worst = slowest(result)
    p99 = worst[1] if worst else None
    errors = error_rate(result)
    return [
        Check(
            "throughput",
            round(carried, 3),
            targets["orders_per_s"],
            carried >= targets["orders_per_s"],
            "orders/s",
            ">=",
        ),
        Check(
            "OrderHub p99",
            p99,
            targets["p99_ms"],
            p99 is not None and p99 <= targets["p99_ms"],
            "ms",
            "<=",
            f"slowest: {worst[0]}" if worst else "no request reached OrderHub",
        ),
        Check(
            "error rate",
            round(errors, 5),
            targets["max_error_rate"],
            errors <= targets["max_error_rate"],
            "",
            "<=",
        ),
    ]


def verdict(result: dict[str, Any], targets: dict[str, float]) -> dict[str, Any]:
    found = checks(result, targets)
    return {
        "passed": all(c.passed for c in found),
        "targets": targets,
        "checks": [asdict(c) for c in found],
    }
