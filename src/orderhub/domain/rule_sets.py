"""Review and routing rule sets: rules tried in order, the first that matches decides, else the
default. Each decision says which rule made it and why, for the order's timeline.

Review outcomes:  {"decision": "approve"}
                  {"decision": "exception", "reason_code": "risk", "reason": "amount above 5,000"}
Routing outcomes: {"warehouse": "WH-LIVE", "queue": "live"}   (queue optional: "default")
                  {"warehouse": "WH-MAIN", "split": "by_stock"}   (short here: split by stock)
Priority rules add up instead (domain/priority.py): every matching rule's {"weight": 50} counts,
on top of the default's {"base": 0}; their decision is {"priority": score}.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from orderhub.domain import priority
from orderhub.domain.orders import Order
from orderhub.domain.rules import check_condition, explain, matches
from orderhub.domain.transitions import ExceptionReason
from orderhub.errors import ValidationFailed


class RuleSetKind(StrEnum):
    REVIEW = "review"
    ROUTING = "routing"
    PRIORITY = "priority"
    # SLA alert rules: stored and versioned here, but every rule applies on its own (no first
    # match, no default); domain/sla.py checks and reads them.
    SLA = "sla"


@dataclass(frozen=True)
class Rule:
    name: str
    condition: Mapping[str, Any]
    outcome: Mapping[str, Any]


@dataclass(frozen=True)
class RuleSet:
    kind: RuleSetKind
    rules: tuple[Rule, ...]
    default: Mapping[str, Any]
    version: int = 1
    notes: str = ""
    # Who saved this version and when (None and "": not saved yet).
    saved_at: datetime | None = None
    saved_by: str = ""


@dataclass(frozen=True)
class Decision:
    outcome: Mapping[str, Any]
    rule: str | None  # None: the default decided
    because: list[str] = field(default_factory=list)
    # Set for rules that add up (priority): the decision in words, e.g. "priority 80 = ...".
    summary: str | None = None

    def said(self) -> str:
        if self.summary is not None:
            return self.summary
        if self.rule is None:
            return "no rule matched: the default"
        return f"rule '{self.rule}': " + ("; ".join(self.because) or "matched")


def named_rules(rule_set: RuleSet, why_unique: str) -> Iterator[tuple[int, Rule, str]]:
    """Each rule with its position and how a refusal names it, once its name (present and
    unique: `why_unique` says why it must be) and its condition are checked."""
    names: set[str] = set()
    for n, rule in enumerate(rule_set.rules):
        where = f"rules[{n}] '{rule.name}'"
        if not rule.name.strip():
            raise ValidationFailed(f"rules[{n}] needs a name", field=f"rules[{n}].name")
        if rule.name in names:
            raise ValidationFailed(
                f"{where}: another rule has this name; {why_unique}", field=f"rules[{n}].name"
            )
        names.add(rule.name)
        try:
            check_condition(rule.condition)
        except ValidationFailed as bad:
            raise ValidationFailed(
                f"{where}: {bad.detail}", field=f"rules[{n}].condition"
            ) from None
        yield n, rule, where


def check_rule_set(rule_set: RuleSet, *, warehouses: Iterable[str]) -> RuleSet:
    """Refuse a rule set with a bad condition or outcome, naming the rule and what to fix."""
    known = frozenset(warehouses)
    for n, rule, where in named_rules(rule_set, "names tell the timeline which rule decided"):
        _check_outcome(rule_set.kind, rule.outcome, known, where, f"rules[{n}].outcome")
    if rule_set.kind is RuleSetKind.PRIORITY:
        priority.check_base(rule_set.default)
        return rule_set
    _check_outcome(rule_set.kind, rule_set.default, known, "the default", "default")
    return rule_set


def _check_outcome(
    kind: RuleSetKind, outcome: Mapping[str, Any], warehouses: frozenset[str], where: str, at: str
) -> None:
    if kind is RuleSetKind.PRIORITY:
        priority.check_weight(outcome, where, at)
        return
    if kind is RuleSetKind.ROUTING:
        warehouse = outcome.get("warehouse")
        if warehouse not in warehouses:
            raise ValidationFailed(
                f"{where} sends orders to warehouse '{warehouse}', which does not exist; "
                f"warehouses: {', '.join(sorted(warehouses)) or 'none yet (add one first)'}",
                field=at,
            )
        queue = outcome.get("queue", "default")
        if not isinstance(queue, str) or not queue.strip():
            raise ValidationFailed(f"{where}: 'queue' must be a non-empty name", field=at)
        split = outcome.get("split")
        if split is not None and split != "by_stock":
            raise ValidationFailed(
                f"{where}: 'split' can only be 'by_stock' (an order short here ships from the "
                f"warehouses that hold it, one parcel each); got {split!r}. Leave it out to "
                "keep orders whole",
                field=at,
            )
        return
    decision = outcome.get("decision")
    if decision == "approve":
        return
    if decision != "exception":
        raise ValidationFailed(
            f"{where}: 'decision' must be 'approve' or 'exception' (got {decision!r})", field=at
        )
    codes = [r.value for r in ExceptionReason]
    if outcome.get("reason_code") not in codes:
        raise ValidationFailed(
            f"{where}: an exception needs 'reason_code', one of: {', '.join(codes)}", field=at
        )
    if not str(outcome.get("reason") or "").strip():
        raise ValidationFailed(f"{where}: an exception needs a 'reason' in words", field=at)


def decide(rule_set: RuleSet, order: Order) -> Decision:
    """The first matching rule's outcome, or the default (priority rules: the score, every
    matching rule counted)."""
    if rule_set.kind is RuleSetKind.PRIORITY:
        scored = priority.score(rule_set, order)
        names = [c.rule for c in scored.contributions]
        return Decision(
            {"priority": scored.score},
            ", ".join(names) or None,
            [c.said() for c in scored.contributions],
            summary=scored.said(),
        )
    for rule in rule_set.rules:
        if matches(rule.condition, order):
            return Decision(rule.outcome, rule.name, explain(rule.condition, order))
    return Decision(rule_set.default, None)


@dataclass(frozen=True)
class DryRunRow:
    order_id: int | None
    before: Decision
    after: Decision

    @property
    def changes(self) -> bool:
        return dict(self.before.outcome) != dict(self.after.outcome)


def dry_run(current: RuleSet, proposed: RuleSet, orders: Sequence[Order]) -> list[DryRunRow]:
    """What the proposed rules would decide for these orders, beside what the current ones do."""
    return [DryRunRow(o.id, decide(current, o), decide(proposed, o)) for o in orders]
