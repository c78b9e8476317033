"""Priority scores from weighted rules, and the aging that keeps a low score moving."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from orderhub.domain.orders import Amounts, OrderType
from orderhub.domain.priority import (
    SCORE_MAX,
    SCORE_MIN,
    effective_priority,
    head_start,
    longest_overtaking,
    ranked_at,
    score,
)
from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind, check_rule_set, decide, dry_run
from orderhub.errors import ValidationFailed
from tests.factories import T0, an_order

VIP = Rule("VIP buyer", {"field": "tags", "op": "contains", "value": "VIP"}, {"weight": 50})
EXPEDITED = Rule(
    "expedited",
    {"field": "tags", "op": "contains_any", "value": ["加急", "expedited"]},
    {"weight": 30},
)
PRESALE = Rule("presale", {"field": "order_type", "op": "eq", "value": "presale"}, {"weight": -10})
BIG = Rule("above ¥1,000", {"field": "paid_total", "op": "gt", "value": 100000}, {"weight": 10})
RULES = RuleSet(RuleSetKind.PRIORITY, (VIP, EXPEDITED, PRESALE, BIG), {"base": 0}, version=3)


def _checked(*rules: Rule, default: dict[str, Any] | None = None) -> RuleSet:
    proposed = RuleSet(RuleSetKind.PRIORITY, rules, {"base": 0} if default is None else default)
    return check_rule_set(proposed, warehouses=[])


def test_every_matching_rule_adds_its_weight_and_the_score_says_which() -> None:
    found = score(RULES, an_order(tags=("VIP", "加急")))
    assert found.score == 80
    assert found.said() == "priority 80 = VIP buyer +50, expedited +30"
    assert found.weights() == {"VIP buyer": 50, "expedited": 30}


def test_a_negative_weight_lowers_the_score_and_the_base_counts_for_every_order() -> None:
    rules = RuleSet(RuleSetKind.PRIORITY, (PRESALE,), {"base": 20})
    presale = score(rules, an_order(order_type=OrderType.PRESALE))
    assert (presale.score, presale.said()) == (10, "priority 10 = base 20, presale -10")
    plain = score(rules, an_order())
    assert (plain.score, plain.said()) == (20, "priority 20 = base 20 (no priority rule matched)")


def test_no_matching_rule_gives_the_base_and_says_so() -> None:
    assert score(RULES, an_order()).said() == "priority 0 = base 0 (no priority rule matched)"


def test_the_score_is_kept_within_the_documented_range() -> None:
    heavy = tuple(
        Rule(f"tag {n}", {"field": "tags", "op": "contains", "value": "VIP"}, {"weight": 60})
        for n in range(3)
    )
    found = score(RuleSet(RuleSetKind.PRIORITY, heavy, {"base": 0}), an_order(tags=("VIP",)))
    assert found.score == SCORE_MAX
    assert "(the sum 180 is kept within -100 to 100)" in found.said()
    low = RuleSet(RuleSetKind.PRIORITY, (PRESALE,), {"base": SCORE_MIN})
    assert score(low, an_order(order_type=OrderType.PRESALE)).score == SCORE_MIN


def test_the_amount_rule_reads_minor_units() -> None:
    rich = an_order(amounts=Amounts(goods_total=150000, paid_total=150000))
    assert score(RuleSet(RuleSetKind.PRIORITY, (BIG,), {}), rich).score == 10
    assert score(RuleSet(RuleSetKind.PRIORITY, (BIG,), {}), an_order()).score == 0


def test_a_vip_buyer_can_be_named_by_nickname() -> None:
    by_name = Rule(
        "known VIPs", {"field": "buyer_nick", "op": "in", "value": ["tb_vip_01"]}, {"weight": 50}
    )
    rules = _checked(by_name)
    assert score(rules, an_order(buyer_nick="tb_vip_01")).score == 50
    assert score(rules, an_order()).score == 0


@pytest.mark.parametrize(
    ("outcome", "said"),
    [
        ({"weight": 150}, "weight 150 is out of range; use -100 to 100"),
        ({"weight": -101}, "weight -101 is out of range"),
        ({"weight": "50"}, "'weight' must be a whole number from -100 to 100 (got '50')"),
        ({"weight": True}, "'weight' must be a whole number"),
        ({}, "'weight' must be a whole number"),
        ({"weight": 0}, "a weight of 0 changes no score"),
        (
            {"weight": 5, "warehouse": "WH-MAIN"},
            "outcome is only {\"weight\": n}; remove ['warehouse']",
        ),
    ],
)
def test_a_bad_weight_is_refused_naming_the_rule(outcome: dict[str, Any], said: str) -> None:
    rule = Rule("VIP buyer", VIP.condition, outcome)
    with pytest.raises(ValidationFailed) as refused:
        _checked(rule)
    assert refused.value.detail.startswith("rules[0] 'VIP buyer': ")
    assert said in refused.value.detail
    assert refused.value.field == "rules[0].outcome"


def test_an_unknown_field_in_a_priority_rule_is_refused() -> None:
    typo = Rule("vip", {"field": "tag", "op": "contains", "value": "VIP"}, {"weight": 50})
    with pytest.raises(ValidationFailed) as refused:
        _checked(typo)
    assert refused.value.detail.startswith("rules[0] 'vip': unknown field 'tag'")


@pytest.mark.parametrize(
    ("default", "said"),
    [
        ({"base": 101}, "'base' must be a whole number from -100 to 100 (got 101)"),
        ({"base": 1.5}, "'base' must be a whole number"),
        ({"decision": "approve"}, "remove ['decision']"),
    ],
)
def test_a_bad_base_is_refused(default: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _checked(VIP, default=default)
    assert said in refused.value.detail


def test_an_empty_default_means_base_zero() -> None:
    assert score(_checked(VIP, default={}), an_order(tags=("VIP",))).score == 50


def test_priority_rules_decide_a_score_and_the_dry_run_marks_the_orders_it_moves() -> None:
    decision = decide(RULES, an_order(tags=("VIP",)))
    assert decision.outcome == {"priority": 50}
    assert decision.rule == "VIP buyer"
    assert decision.said() == "priority 50 = VIP buyer +50"
    fewer = RuleSet(RuleSetKind.PRIORITY, (EXPEDITED,), {"base": 0})
    orders = [an_order(id=1, tags=("VIP",)), an_order(id=2, tags=("加急",))]
    rows = dry_run(RULES, fewer, orders)
    assert [(r.order_id, r.changes) for r in rows] == [(1, True), (2, False)]
    assert rows[0].after.said() == "priority 0 = base 0 (no priority rule matched)"


# --- aging -------------------------------------------------------------------------------------


def test_a_point_of_priority_is_worth_its_share_of_a_minute_of_waiting() -> None:
    assert head_start(50, 2.0) == timedelta(minutes=25)
    assert ranked_at(T0, 50, 2.0) == T0 - timedelta(minutes=25)
    assert ranked_at(T0, -10, 2.0) == T0 + timedelta(minutes=5)
    assert effective_priority(0, timedelta(minutes=10), 2.0) == 20.0


def test_serving_by_ranked_at_is_serving_the_highest_effective_priority_first() -> None:
    rng = random.Random(6)
    now = T0 + timedelta(hours=3)
    work = [
        (rng.randint(SCORE_MIN, SCORE_MAX), T0 + timedelta(seconds=rng.randint(0, 10_000)))
        for _ in range(300)
    ]
    for aging in (0.5, 2.0, 7.0):
        by_rank = sorted(work, key=lambda w: ranked_at(w[1], w[0], aging))
        by_effective = sorted(work, key=lambda w: -effective_priority(w[0], now - w[1], aging))
        ranks = [ranked_at(s, p, aging) for p, s in by_rank]
        effective = [effective_priority(p, now - s, aging) for p, s in by_effective]
        # The same order (ties aside): effective priority falls as the rank grows.
        assert [round(effective_priority(p, now - s, aging), 6) for p, s in by_rank] == [
            round(e, 6) for e in effective
        ]
        assert ranks == sorted(ranks)


def test_work_is_never_overtaken_by_work_that_started_waiting_past_the_bound() -> None:
    aging = 2.0
    bound = longest_overtaking(0, aging)
    assert bound == timedelta(minutes=50)
    low = ranked_at(T0, 0, aging)
    assert ranked_at(T0 + bound + timedelta(seconds=1), SCORE_MAX, aging) > low
    assert ranked_at(T0 + bound - timedelta(seconds=1), SCORE_MAX, aging) < low
    assert longest_overtaking(SCORE_MAX, aging) == timedelta(0)
