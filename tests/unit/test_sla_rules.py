"""SLA rules as data: durations, what is refused on save (naming the rule and the fix), what a
parsed rule watches, and the dry run's answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from orderhub.domain.notifications import Severity
from orderhub.domain.orders import OrderType
from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind
from orderhub.domain.sla import (
    SlaClock,
    check_sla_rules,
    dry_run_sla,
    parse_duration,
    say_duration,
    sla_rules,
)
from orderhub.domain.transitions import OrderStatus
from orderhub.errors import ValidationFailed
from tests.factories import T0, an_order

KNOWN = {"ops-lead", "wecom-ops", "boss"}
CROSS_BORDER = {"field": "order_type", "op": "eq", "value": "cross_border"}
OUTCOME: dict[str, Any] = {
    "state": "pending_review",
    "after": "4h",
    "severity": "critical",
    "recipients": ["ops-lead", "wecom-ops"],
    "escalate_after": "8h",
    "escalate_to": ["boss"],
}


def _set(*rules: Rule, default: dict[str, Any] | None = None) -> RuleSet:
    return RuleSet(RuleSetKind.SLA, rules, default or {}, version=3)


def _check(outcome: dict[str, Any], condition: dict[str, Any] = CROSS_BORDER) -> RuleSet:
    return check_sla_rules(
        _set(Rule("late review", condition, outcome)), recipient_known=KNOWN.__contains__
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("4h", 14400), ("30m", 1800), ("1d12h", 129600), ("90s", 90), ("1h30m", 5400)],
)
def test_durations_read_and_say_days_hours_minutes_seconds(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_duration(say_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "4", "4 hours", "h", "30m4h", 4, None])
def test_a_duration_that_is_not_one_says_how_to_write_it(text: Any) -> None:
    with pytest.raises(ValueError, match='e.g. "4h", "30m", "1d12h", "90s"'):
        parse_duration(text)


def test_a_checked_rule_parses_into_what_it_watches_and_whom_it_tells() -> None:
    [rule] = sla_rules(_check(OUTCOME))
    assert rule.states == (OrderStatus.PENDING_REVIEW,)
    assert (rule.after, rule.escalate_after) == (timedelta(hours=4), timedelta(hours=8))
    assert (rule.severity, rule.since, rule.version) == (Severity.CRITICAL, SlaClock.STATE, 3)
    assert (rule.recipients, rule.escalate_to) == (("ops-lead", "wecom-ops"), ("boss",))


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"state": "shipping"}, "'shipping' is not a status an order can wait in"),
        ({"state": ["paid", "voided"]}, "'voided' is not a status an order can wait in"),
        ({"state": []}, "'state' must name a status"),
        ({"after": "0s"}, "'after' must be longer than 0s"),
        ({"after": "soon"}, "'after': 'soon' is not a duration"),
        ({"escalate_after": "4h"}, "'escalate_after' (4h) must be longer than 'after' (4h)"),
        ({"escalate_to": ["nobody"]}, "'escalate_to' names nobody, which is not a recipient"),
        ({"recipients": []}, "'recipients' must be a non-empty list of recipient codes"),
        ({"recipients": ["a", "b"]}, "'recipients' names a, b, which are not a recipient"),
        ({"severity": "high"}, "'severity' is one of info, warning, critical"),
        ({"since": "created"}, "'since' is 'state'"),
        ({"when": "now"}, "unknown key when; an SLA rule has state, since, after"),
    ],
)
def test_a_bad_outcome_is_refused_naming_the_rule_and_the_fix(
    change: dict[str, Any], said: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _check({**OUTCOME, **change})
    assert refused.value.detail.startswith("rules[0] 'late review': ")
    assert said in refused.value.detail
    assert refused.value.field == "rules[0].outcome"


def test_escalating_needs_both_when_and_to_whom() -> None:
    without_when = {k: v for k, v in OUTCOME.items() if k != "escalate_after"}
    with pytest.raises(ValidationFailed, match="'escalate_to' needs 'escalate_after'"):
        _check(without_when)
    without_whom = {k: v for k, v in OUTCOME.items() if k != "escalate_to"}
    with pytest.raises(ValidationFailed, match="'escalate_to' must be a non-empty list"):
        _check(without_whom)


def test_a_bad_condition_is_refused_naming_the_rule_and_the_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        _check(OUTCOME, {"field": "country", "op": "eq", "value": "JP"})
    assert refused.value.detail.startswith("rules[0] 'late review': unknown field 'country'")


def test_sla_rules_have_no_default_and_unique_names() -> None:
    with pytest.raises(ValidationFailed, match="SLA rules have no default"):
        check_sla_rules(_set(default={"decision": "approve"}), recipient_known=KNOWN.__contains__)
    twice = _set(Rule("a", CROSS_BORDER, OUTCOME), Rule("a", CROSS_BORDER, OUTCOME))
    with pytest.raises(ValidationFailed, match="rules\\[1\\] 'a': another rule has this name"):
        check_sla_rules(twice, recipient_known=KNOWN.__contains__)


def test_a_rule_counting_from_payment_watches_every_listed_state_from_the_payment() -> None:
    outcome = {**OUTCOME, "state": ["pending_review", "approved"], "since": "paid"}
    [rule] = sla_rules(_check(outcome))
    order = an_order(order_type=OrderType.CROSS_BORDER, status=OrderStatus.APPROVED)
    order.paid_at, order.state_since = T0, T0 + timedelta(hours=3)
    assert rule.watches(order) and rule.clock_start(order) == T0
    order.status = OrderStatus.SHIPPED
    assert not rule.watches(order)


def test_the_dry_run_says_which_rules_would_alert_now_and_which_only_watch() -> None:
    current = _set()
    proposed = _check(OUTCOME)
    late = an_order(id=1, order_type=OrderType.CROSS_BORDER, status=OrderStatus.PENDING_REVIEW)
    fresh = an_order(id=2, order_type=OrderType.CROSS_BORDER, status=OrderStatus.PENDING_REVIEW)
    other = an_order(id=3, order_type=OrderType.NORMAL, status=OrderStatus.PENDING_REVIEW)
    late.state_since, fresh.state_since, other.state_since = T0, T0 + timedelta(hours=3), T0
    rows = dry_run_sla(current, proposed, [late, fresh, other], T0 + timedelta(hours=5))
    assert [dict(r.after.outcome) for r in rows] == [
        {"alerts": ["late review"], "watching": []},
        {"alerts": [], "watching": ["late review"]},
        {"alerts": [], "watching": []},
    ]
    assert [r.changes for r in rows] == [True, True, False]
    assert rows[0].after.because == ["'late review': order_type eq cross_border, 5h > 4h"]
