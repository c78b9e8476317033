from __future__ import annotations

import pytest

from orderhub.domain.rule_diff import RuleChange, RulePart, ValueChange, diff_rule_sets
from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind

LIVE = Rule(
    "live stream",
    {"field": "tags", "op": "contains", "value": "#LIVE2026"},
    {"warehouse": "WH-LIVE", "queue": "live"},
)
NORTH = Rule(
    "north",
    {"field": "province", "op": "in", "value": ["北京市", "天津市"]},
    {"warehouse": "WH-NORTH"},
)
BULKY = Rule("bulky", {"field": "quantity", "op": "gte", "value": 20}, {"warehouse": "WH-MAIN"})
DEFAULT = {"warehouse": "WH-MAIN"}


def routing(*rules: Rule, version: int, default: dict[str, str] | None = None) -> RuleSet:
    return RuleSet(RuleSetKind.ROUTING, rules, default or DEFAULT, version=version)


def test_the_same_rules_in_two_versions_are_identical() -> None:
    diff = diff_rule_sets(routing(LIVE, NORTH, version=1), routing(LIVE, NORTH, version=2))
    assert diff.identical and not diff.default_changed
    assert [(r.name, r.change) for r in diff.rules] == [
        ("live stream", RuleChange.UNCHANGED),
        ("north", RuleChange.UNCHANGED),
    ]
    assert (diff.from_version, diff.to_version) == (1, 2)


def test_an_added_rule_and_a_removed_one_are_named_with_their_positions() -> None:
    diff = diff_rule_sets(routing(LIVE, NORTH, version=1), routing(LIVE, BULKY, version=2))
    assert [r.name for r in diff.having(RuleChange.ADDED)] == ["bulky"]
    (removed,) = diff.having(RuleChange.REMOVED)
    assert (removed.name, removed.position_before, removed.after) == ("north", 2, None)
    (added,) = diff.having(RuleChange.ADDED)
    assert (added.position_after, added.before) == (2, None)
    assert not diff.identical


def test_a_changed_condition_is_told_apart_from_a_changed_outcome() -> None:
    wider = Rule("north", {"field": "province", "op": "in", "value": ["北京市"]}, NORTH.outcome)
    elsewhere = Rule("live stream", LIVE.condition, {"warehouse": "WH-MAIN", "queue": "live"})
    diff = diff_rule_sets(routing(LIVE, NORTH, version=3), routing(elsewhere, wider, version=4))
    by_name = {r.name: r for r in diff.rules}
    assert by_name["north"].parts == (RulePart.CONDITION,)
    assert by_name["north"].outcome_changes == ()
    assert by_name["live stream"].parts == (RulePart.OUTCOME,)
    assert by_name["live stream"].outcome_changes == (
        ValueChange("warehouse", "WH-LIVE", "WH-MAIN"),
    )


def test_swapping_two_rules_moves_one_of_them_and_inserting_at_the_top_moves_none() -> None:
    swapped = diff_rule_sets(routing(LIVE, NORTH, version=1), routing(NORTH, LIVE, version=2))
    moved = [r.name for r in swapped.rules if RulePart.POSITION in r.parts]
    assert len(moved) == 1
    # A new first rule shifts the others down but changes no order between them.
    inserted = diff_rule_sets(
        routing(LIVE, NORTH, version=1), routing(BULKY, LIVE, NORTH, version=2)
    )
    assert [(r.name, r.change) for r in inserted.rules] == [
        ("bulky", RuleChange.ADDED),
        ("live stream", RuleChange.UNCHANGED),
        ("north", RuleChange.UNCHANGED),
    ]
    assert inserted.rules[1].position_before == 1 and inserted.rules[1].position_after == 2


def test_a_removed_rule_is_listed_where_it_used_to_be() -> None:
    diff = diff_rule_sets(routing(LIVE, NORTH, BULKY, version=1), routing(LIVE, BULKY, version=2))
    assert [(r.name, r.change.value) for r in diff.rules] == [
        ("live stream", "unchanged"),
        ("north", "removed"),
        ("bulky", "unchanged"),
    ]
    first_removed = diff_rule_sets(routing(NORTH, LIVE, version=1), routing(LIVE, version=2))
    assert [r.name for r in first_removed.rules] == ["north", "live stream"]


def test_a_changed_default_says_which_keys_changed() -> None:
    diff = diff_rule_sets(
        routing(LIVE, version=1),
        routing(LIVE, version=2, default={"warehouse": "WH-MAIN", "queue": "slow"}),
    )
    assert diff.default_changed and not diff.identical
    assert diff.default_changes == (ValueChange("queue", None, "slow"),)


def test_the_first_version_compares_with_nothing_every_rule_added() -> None:
    diff = diff_rule_sets(None, routing(LIVE, NORTH, version=1))
    assert diff.from_version == 0 and diff.default_before is None
    assert [r.change for r in diff.rules] == [RuleChange.ADDED, RuleChange.ADDED]
    assert diff.default_changed


def test_rules_of_different_kinds_cannot_be_compared() -> None:
    review = RuleSet(RuleSetKind.REVIEW, (), {"decision": "approve"})
    with pytest.raises(ValueError, match="cannot compare review rules with routing rules"):
        diff_rule_sets(review, routing(LIVE, version=1))
