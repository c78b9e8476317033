"""What an import did with every row: per order its rows, outcome and reason; totals that add up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orderhub.services.channel_ingest import CREATED, IGNORED, QUARANTINED, UPDATED

OUTCOMES = (CREATED, UPDATED, IGNORED, QUARANTINED)


@dataclass(frozen=True)
class OrderResult:
    order_no: str | None
    rows: tuple[int, ...]
    outcome: str
    order_id: int | None = None
    reason: str | None = None


@dataclass
class ImportReport:
    filename: str
    shop: str
    described: str
    rows_read: int
    orders: list[OrderResult] = field(default_factory=list)

    def rows_with(self, outcome: str) -> int:
        return sum(len(o.rows) for o in self.orders if o.outcome == outcome)

    def orders_with(self, outcome: str) -> int:
        return sum(1 for o in self.orders if o.outcome == outcome)

    @property
    def rows_quarantined(self) -> int:
        return self.rows_with(QUARANTINED)

    @property
    def rows_imported(self) -> int:
        return sum(self.rows_with(o) for o in (CREATED, UPDATED, IGNORED))

    @property
    def balanced(self) -> bool:
        """Every row read went somewhere: into an order outcome or into quarantine."""
        return self.rows_read == self.rows_imported + self.rows_quarantined

    def totals(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "rows_imported": self.rows_imported,
            "rows_quarantined": self.rows_quarantined,
            "balanced": self.balanced,
            "orders": {o: self.orders_with(o) for o in OUTCOMES},
        }


def rows_text(rows: Sequence[int]) -> str:
    """(4,) -> "row 4"; (4, 5, 7) -> "rows 4-5, 7"."""
    spans: list[list[int]] = []
    for row in sorted(set(rows)):
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
    return f"row {text}" if len(rows) == 1 else f"rows {text}"
