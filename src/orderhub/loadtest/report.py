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

    def said(self) -> str:
        mark = "ok" if self.passed else "FAIL"
        measured = "none" if self.measured is None else f"{self.measured:g}"
        return f"{self.name}: {measured} {self.unit} ({self.rule} {self.target:g}) {mark}".replace(
            "  ", " "
        )


def throughput(result: dict[str, Any]) -> float:
    """Orders a second OrderHub carried through the chain: the run's orders that OrderHub shows
    shipped once the run has drained, over the load phase's length."""
    load_s = float(result["load_s"])
    shipped = int(result["orders"]["shipped_in_orderhub"])
    return shipped / load_s if load_s > 0 else 0.0


def error_rate(result: dict[str, Any]) -> float:
    everything = result["all_requests"]
    return everything["failures"] / everything["requests"] if everything["requests"] else 0.0


def checks(result: dict[str, Any], targets: dict[str, float]) -> list[Check]:
    """Each target against what was measured; `targets` has orders_per_s, p99_ms and
    max_error_rate."""
    carried = throughput(result)
    p99 = result["orderhub_requests"]["p99_ms"]
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
            float(p99) if p99 is not None else None,
            targets["p99_ms"],
            p99 is not None and p99 <= targets["p99_ms"],
            "ms",
            "<=",
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
