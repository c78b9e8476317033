from __future__ import annotations

import pytest

from orderhub.domain.orders import Amounts
from orderhub.domain.rule_sets import (
    Rule,
    RuleSet,
    RuleSetKind,
    check_rule_set,
    decide,
    dry_run,
)
from orderhub.errors import ValidationFailed
from tests.factories import an_order

LIVE = Rule(
    "live stream",
    {"field": "tags", "op": "contains", "value": "#LIVE2026"},
    {"warehouse": "WH-LIVE", "queue": "live"},
)
MAIN = RuleSet(RuleSetKind.ROUTING, (), {"warehouse": "WH-MAIN"})
WAREHOUSES = ["WH-MAIN", "WH-LIVE"]


def test_the_first_matching_rule_routes_and_says_why() -> None:
    rules = check_rule_set(
        RuleSet(RuleSetKind.ROUTING, (LIVE,), {"warehouse": "WH-MAIN"}), warehouses=WAREHOUSES
    )
    live = decide(rules, an_order(tags=("#LIVE2026",)))
    assert (live.outcome["warehouse"], live.rule) == ("WH-LIVE", "live stream")
    assert live.said() == "rule 'live stream': tags contains #LIVE2026"
    plain = decide(rules, an_order())
    assert (plain.outcome["warehouse"], plain.rule) == ("WH-MAIN", None)


def test_a_rule_naming_an_unknown_warehouse_is_refused_with_its_reason() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_rule_set(
            RuleSet(RuleSetKind.ROUTING, (LIVE,), {"warehouse": "WH-MAIN"}), warehouses=["WH-MAIN"]
        )
    assert "rules[0] 'live stream' sends orders to warehouse 'WH-LIVE', which does not exist" in (
        refused.value.detail
    )


def test_a_bad_condition_is_refused_naming_the_rule() -> None:
    bad = Rule("typo", {"field": "tag", "op": "contains", "value": "x"}, {"warehouse": "WH-MAIN"})
    with pytest.raises(ValidationFailed) as refused:
        check_rule_set(
            RuleSet(RuleSetKind.ROUTING, (bad,), {"warehouse": "WH-MAIN"}), warehouses=WAREHOUSES
        )
    assert refused.value.detail.startswith("rules[0] 'typo': unknown field 'tag'")


def test_review_rules_stop_big_orders_and_approve_the_rest() -> None:
    big = Rule(
        "big amount",
        {"field": "paid_total", "op": "gt", "value": 500000},
        {"decision": "exception", "reason_code": "risk", "reason": "above ¥5,000: check the buyer"},
    )
    rules = check_rule_set(
        RuleSet(RuleSetKind.REVIEW, (big,), {"decision": "approve"}), warehouses=[]
    )
    large = an_order(amounts=Amounts(goods_total=600000, paid_total=600000))
    assert decide(rules, large).outcome["reason_code"] == "risk"
    assert decide(rules, an_order()).outcome == {"decision": "approve"}
    with pytest.raises(ValidationFailed, match="needs 'reason_code'"):
        check_rule_set(
            RuleSet(RuleSetKind.REVIEW, (), {"decision": "exception", "reason": "x"}), warehouses=[]
        )


def test_a_dry_run_shows_which_orders_a_new_rule_would_move() -> None:
    proposed = RuleSet(RuleSetKind.ROUTING, (LIVE,), {"warehouse": "WH-MAIN"}, version=2)
    orders = [an_order(id=1, tags=("#LIVE2026",)), an_order(id=2)]
    rows = dry_run(MAIN, proposed, orders)
    assert [(r.order_id, r.changes) for r in rows] == [(1, True), (2, False)]
    assert rows[0].after.outcome["warehouse"] == "WH-LIVE"
