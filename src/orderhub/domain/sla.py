"""SLA alert rules: orders matching a condition that stay in a state longer than a duration raise
an alert of a severity to recipients, and escalate after a second duration to a second list.

SLA rules are a rule set of kind `sla` (stored, versioned and compared like review and routing
rules), but every rule applies on its own: there is no first match and no default. A rule's
condition is the rule language's (domain/rules.py); its outcome says what it watches and whom it
tells:

    {"state": "pending_review", "after": "4h", "severity": "warning",
     "recipients": ["ops-lead", "wecom-ops"], "escalate_after": "8h", "escalate_to": ["boss"]}

`state` is one status or a list of them. The clock (`since`) starts when the order entered its
current status (`"state"`, the default: "stuck in review for 4 hours") or when it was paid
(`"paid"`: "not shipped within 4 hours of payment", with `state` listing the statuses before
shipping). docs/alerts.md has the whole story.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from orderhub.domain.notifications import Severity
from orderhub.domain.orders import Order
from orderhub.domain.rule_sets import Decision, DryRunRow, RuleSet, named_rules
from orderhub.domain.rules import explain, matches
from orderhub.domain.transitions import TERMINAL, OrderStatus
from orderhub.errors import ValidationFailed


class SlaClock(StrEnum):
    STATE = "state"  # since the order entered its current status (orders.state_since)
    PAID = "paid"  # since it was paid (orders.paid_at)


OUTCOME_KEYS = (
    "state",
    "since",
    "after",
    "severity",
    "recipients",
    "escalate_after",
    "escalate_to",
)
WATCHABLE = tuple(s.value for s in OrderStatus if s not in TERMINAL)
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


@dataclass(frozen=True)
class SlaRule:
    name: str
    condition: Mapping[str, Any]
    states: tuple[OrderStatus, ...]
    after: timedelta
    severity: Severity
    recipients: tuple[str, ...]
    since: SlaClock = SlaClock.STATE
    escalate_after: timedelta | None = None
    escalate_to: tuple[str, ...] = ()
    version: int = 0  # of the rule set it came from

    def clock_start(self, order: Order) -> datetime | None:
        """When this rule's clock started for the order (None: it has not: never paid)."""
        return order.paid_at if self.since is SlaClock.PAID else order.state_since

    def watches(self, order: Order) -> bool:
        """The order is in one of the rule's states and its condition holds."""
        return order.status in self.states and matches(self.condition, order)


def parse_duration(text: Any) -> timedelta:
    """ "4h", "30m", "1d12h", "90s" -> a timedelta; ValueError saying the form otherwise."""
    found = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not found or not any(found.groups()):
        raise ValueError(
            f"{text!r} is not a duration; write days, hours, minutes and seconds in that order, "
            'e.g. "4h", "30m", "1d12h", "90s"'
        )
    seconds = sum(int(n or 0) * size for n, (_, size) in zip(found.groups(), _UNITS, strict=True))
    return timedelta(seconds=seconds)


def say_duration(duration: timedelta) -> str:
    """The inverse of parse_duration: 5400 s -> "1h30m"."""
    remaining, parts = int(duration.total_seconds()), []
    for unit, size in _UNITS:
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


def sla_rules(rule_set: RuleSet) -> list[SlaRule]:
    """The rules of a checked SLA rule set, parsed."""
    return [
        _parse(rule.name, rule.condition, rule.outcome, rule_set.version) for rule in rule_set.rules
    ]


def _parse(name: str, condition: Mapping[str, Any], o: Mapping[str, Any], version: int) -> SlaRule:
    state = o["state"]
    states = (state,) if isinstance(state, str) else tuple(state)
    escalate = o.get("escalate_after")
    return SlaRule(
        name=name,
        condition=condition,
        states=tuple(OrderStatus(s) for s in states),
        after=parse_duration(o["after"]),
        severity=Severity(o.get("severity", Severity.WARNING.value)),
        recipients=tuple(o["recipients"]),
        since=SlaClock(o.get("since", SlaClock.STATE.value)),
        escalate_after=parse_duration(escalate) if escalate is not None else None,
        escalate_to=tuple(o.get("escalate_to") or ()),
        version=version,
    )


def check_sla_rules(rule_set: RuleSet, *, recipient_known: Callable[[str], bool]) -> RuleSet:
    """Refuse an SLA rule set with a bad rule, naming the rule and what to fix."""
    if dict(rule_set.default):
        raise ValidationFailed(
            "SLA rules have no default: every rule applies on its own; send an empty default "
            "({}) or leave it out",
            field="default",
        )
    for n, rule, where in named_rules(rule_set, "alerts name the rule that raised them"):
        _check_outcome(rule.outcome, recipient_known, where, f"rules[{n}].outcome")
    return rule_set


def _check_outcome(
    o: Mapping[str, Any], recipient_known: Callable[[str], bool], where: str, at: str
) -> None:
    def refuse(problem: str) -> ValidationFailed:
        return ValidationFailed(f"{where}: {problem}", field=at)

    unknown = sorted(set(o) - set(OUTCOME_KEYS))
    if unknown:
        raise refuse(f"unknown key {', '.join(unknown)}; an SLA rule has {', '.join(OUTCOME_KEYS)}")
    state = o.get("state")
    states = [state] if isinstance(state, str) else state
    if not isinstance(states, list) or not states:
        raise refuse(f"'state' must name a status (or a list of them): {', '.join(WATCHABLE)}")
    for s in states:
        if s not in WATCHABLE:
            raise refuse(
                f"'{s}' is not a status an order can wait in; use one of {', '.join(WATCHABLE)}"
            )
    since = o.get("since", SlaClock.STATE.value)
    if since not in [c.value for c in SlaClock]:
        raise refuse(
            f"'since' is 'state' (the clock starts when the order entered its status) or 'paid' "
            f"(when it was paid); got {since!r}"
        )
    after = _duration(o.get("after"), "after", refuse)
    if after <= timedelta(0):
        raise refuse("'after' must be longer than 0s")
    severity = o.get("severity", Severity.WARNING.value)
    if severity not in [s.value for s in Severity]:
        raise refuse(
            f"'severity' is one of {', '.join(s.value for s in Severity)} (got {severity!r})"
        )
    _check_recipients(o.get("recipients"), "recipients", recipient_known, refuse)
    if o.get("escalate_after") is None:
        if o.get("escalate_to"):
            raise refuse("'escalate_to' needs 'escalate_after': when to tell them")
        return
    escalate = _duration(o["escalate_after"], "escalate_after", refuse)
    if escalate <= after:
        raise refuse(
            f"'escalate_after' ({o['escalate_after']}) must be longer than 'after' "
            f"({o.get('after')}): it is the second threshold, counted on the same clock"
        )
    _check_recipients(o.get("escalate_to"), "escalate_to", recipient_known, refuse)


def _duration(value: Any, key: str, refuse: Callable[[str], ValidationFailed]) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as bad:
        raise refuse(f"'{key}': {bad}") from None


def _check_recipients(
    codes: Any,
    key: str,
    recipient_known: Callable[[str], bool],
    refuse: Callable[[str], ValidationFailed],
) -> None:
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise refuse(f"'{key}' must be a non-empty list of recipient codes, e.g. [\"ops-lead\"]")
    missing = [c for c in codes if not recipient_known(c)]
    if missing:
        raise refuse(
            f"'{key}' names {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
            "not a recipient; add it first (POST /api/v1/recipients or `orderhub recipients "
            "add`) or correct the code"
        )


def watching(rules: Sequence[SlaRule], order: Order, now: datetime) -> Decision:
    """For the dry run: which rules would alert on the order now, and which watch it but are not
    due yet. The outcome is {"alerts": [...], "watching": [...]} (rule names)."""
    due: list[str] = []
    waiting: list[str] = []
    because: list[str] = []
    for rule in rules:
        if not rule.watches(order):
            continue
        start = rule.clock_start(order)
        if start is not None and now - start > rule.after:
            due.append(rule.name)
            said = "; ".join(explain(rule.condition, order)) or "every order"
            because.append(
                f"'{rule.name}': {said}, {say_duration(now - start)} > {say_duration(rule.after)}"
            )
        else:
            waiting.append(rule.name)
    return Decision({"alerts": due, "watching": waiting}, ", ".join(due) or None, because)


def dry_run_sla(
    current: RuleSet, proposed: RuleSet, orders: Sequence[Order], now: datetime
) -> list[DryRunRow]:
    """What the proposed SLA rules would alert on among these orders now, beside the current."""
    before, after = sla_rules(current), sla_rules(proposed)
    return [DryRunRow(o.id, watching(before, o, now), watching(after, o, now)) for o in orders]
