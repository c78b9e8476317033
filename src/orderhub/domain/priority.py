"""Priority: a score per order from weighted rules, and the aging that keeps low scores moving.

Priority rules are a rule set (domain/rule_sets.py, kind `priority`) whose rules each add a
weight when their condition holds; every matching rule counts, not only the first:

    rule  {"name": "VIP buyer", "condition": {"field": "tags", "op": "contains", "value": "VIP"},
           "outcome": {"weight": 50}}
    default  {"base": 0}          the score every order starts from

    score = clamp(base + sum of the matching rules' weights, SCORE_MIN, SCORE_MAX)

Work queues serve the highest *effective* priority first, and it grows while the work waits:

    effective = score + minutes waited x aging_per_min

Ordering by it is the same as ordering by a "ranked at" time, `since - score x 60/aging_per_min
seconds` (earliest first): a point of priority is a head start of 60/aging_per_min seconds. Work
ranked that way is never overtaken by work that started waiting more than
(SCORE_MAX - score) / aging_per_min minutes after it (`longest_overtaking`), however much of it
arrives: that is the bound that keeps a low score from starving. docs/priority.md has the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orderhub.domain.orders import Order
from orderhub.domain.rules import matches
from orderhub.errors import ValidationFailed

if TYPE_CHECKING:
    from orderhub.domain.rule_sets import RuleSet

SCORE_MIN, SCORE_MAX = -100, 100
WEIGHT_MIN, WEIGHT_MAX = -100, 100
DEFAULT_BASE = 0
# Points a minute of waiting adds (ORDERHUB_PRIORITY_AGING_PER_MIN's default).
DEFAULT_AGING_PER_MIN = 2.0


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_weight(outcome: Mapping[str, Any], where: str, at: str) -> None:
    """A priority rule's outcome is {"weight": n}, n a whole number in range and not 0."""
    extra = sorted(set(outcome) - {"weight"})
    if extra:
        raise ValidationFailed(
            f'{where}: a priority rule\'s outcome is only {{"weight": n}}; remove {extra}',
            field=at,
        )
    weight = outcome.get("weight")
    if not _whole(weight):
        raise ValidationFailed(
            f"{where}: 'weight' must be a whole number from {WEIGHT_MIN} to {WEIGHT_MAX} "
            f'(got {weight!r}), e.g. {{"weight": 50}}',
            field=at,
        )
    assert isinstance(weight, int)
    if not WEIGHT_MIN <= weight <= WEIGHT_MAX:
        raise ValidationFailed(
            f"{where}: weight {weight} is out of range; use {WEIGHT_MIN} to {WEIGHT_MAX} "
            f"(scores are kept within {SCORE_MIN} to {SCORE_MAX})",
            field=at,
        )
    if weight == 0:
        raise ValidationFailed(
            f"{where}: a weight of 0 changes no score; give it a weight or remove the rule",
            field=at,
        )


def check_base(default: Mapping[str, Any], at: str = "default") -> None:
    """The default of priority rules is {"base": n} ({} means base 0)."""
    extra = sorted(set(default) - {"base"})
    if extra:
        raise ValidationFailed(
            f'the default of priority rules is only {{"base": n}}; remove {extra}', field=at
        )
    base = default.get("base", DEFAULT_BASE)
    if not _whole(base) or not SCORE_MIN <= base <= SCORE_MAX:
        raise ValidationFailed(
            f"'base' must be a whole number from {SCORE_MIN} to {SCORE_MAX} (got {base!r})",
            field=at,
        )


@dataclass(frozen=True)
class Contribution:
    """One matching rule: its name and its weight."""

    rule: str
    weight: int

    def said(self) -> str:
        return f"{self.rule} {self.weight:+d}"


@dataclass(frozen=True)
class PriorityScore:
    score: int
    base: int
    contributions: tuple[Contribution, ...]
    # The sum before it was kept within SCORE_MIN..SCORE_MAX (equal to score when it fitted).
    unclamped: int

    def said(self) -> str:
        """E.g. "priority 80 = VIP buyer +50, expedited +30" for the timeline."""
        parts = [c.said() for c in self.contributions]
        if self.base or not parts:
            parts.insert(0, f"base {self.base}")
        text = f"priority {self.score} = " + ", ".join(parts)
        if not self.contributions:
            text += " (no priority rule matched)"
        if self.unclamped != self.score:
            text += f" (the sum {self.unclamped} is kept within {SCORE_MIN} to {SCORE_MAX})"
        return text

    def weights(self) -> dict[str, int]:
        return {c.rule: c.weight for c in self.contributions}


def score(rule_set: RuleSet, order: Order) -> PriorityScore:
    """Base plus the weight of every rule whose condition holds, kept within the range."""
    base = int(rule_set.default.get("base", DEFAULT_BASE))
    found = tuple(
        Contribution(rule.name, int(rule.outcome["weight"]))
        for rule in rule_set.rules
        if matches(rule.condition, order)
    )
    total = base + sum(c.weight for c in found)
    return PriorityScore(clamp(total), base, found, total)


def clamp(value: int) -> int:
    return max(SCORE_MIN, min(SCORE_MAX, value))


# --- aging -------------------------------------------------------------------------------------


def head_start(priority: int, aging_per_min: float) -> timedelta:
    """How much earlier than it started waiting a piece of work counts: the waiting its
    priority is worth (negative for a negative priority)."""
    return timedelta(seconds=priority * 60.0 / aging_per_min)


def ranked_at(since: datetime, priority: int, aging_per_min: float) -> datetime:
    """The time work counts as waiting from, for serving the earliest first: serving by it is
    serving by effective priority, highest first."""
    return since - head_start(priority, aging_per_min)


def effective_priority(priority: int, waited: timedelta, aging_per_min: float) -> float:
    """The score plus what waiting has added."""
    return priority + max(waited.total_seconds(), 0.0) / 60.0 * aging_per_min


def longest_overtaking(priority: int, aging_per_min: float) -> timedelta:
    """Work with this score is never overtaken by work that started waiting more than this
    after it (the highest score's head start minus its own)."""
    return timedelta(minutes=(SCORE_MAX - priority) / aging_per_min)


def waiting_since(order: Order) -> datetime:
    """When the order's wait counts from: its payment (its creation, before it is paid)."""
    return order.paid_at or order.created_at
