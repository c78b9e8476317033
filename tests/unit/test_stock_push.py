"""What a listing shows: the shop's share, buffer and minimum; combos from their parts."""

from __future__ import annotations

import pytest

from orderhub.domain.channels import Component
from orderhub.domain.stock_push import (
    StockRule,
    available_for,
    check_stock_rule,
    parts_of,
    shown,
    skus_affected,
)
from orderhub.errors import ValidationFailed

SET = {"SET-TEA-MUG": (Component("TEA", 1, 1), Component("MUG", 2, 1))}


def test_the_whole_stock_is_shown_by_default() -> None:
    assert shown(37, StockRule("tb")) == 37


def test_the_buffer_is_held_back_before_the_share_is_taken() -> None:
    assert shown(100, StockRule("tb", percent=50, buffer=10)) == 45


def test_a_share_rounds_down_so_a_shop_never_shows_a_unit_that_is_not_there() -> None:
    assert shown(3, StockRule("tb", percent=50)) == 1


def test_the_minimum_lifts_a_small_share_but_never_above_what_is_available() -> None:
    rule = StockRule("tb", percent=10, minimum=5)
    assert shown(20, rule) == 5  # 10% of 20 is 2, lifted to 5
    assert shown(3, rule) == 3  # only 3 there: 3, not 5
    assert shown(0, rule) == 0


def test_stock_below_the_buffer_shows_zero() -> None:
    assert shown(4, StockRule("tb", buffer=5, minimum=2)) == 0


def test_available_stock_is_summed_over_the_rules_warehouses() -> None:
    available = {"MUG": {"WH-A": 4, "WH-B": 6, "WH-C": 100}}
    assert available_for("MUG", StockRule("tb"), available, {}) == 110
    assert available_for("MUG", StockRule("tb", warehouses=("WH-A", "WH-B")), available, {}) == 10


def test_a_combo_shows_the_complete_sets_its_components_make() -> None:
    available = {"TEA": {"WH-A": 7}, "MUG": {"WH-A": 9}}
    assert available_for("SET-TEA-MUG", StockRule("tb"), available, SET) == 4  # 9 mugs = 4 sets
    assert available_for("SET-TEA-MUG", StockRule("tb"), {"TEA": {"WH-A": 7}}, SET) == 0


def test_a_changed_component_affects_its_combos_and_a_combo_needs_its_parts() -> None:
    assert skus_affected(["MUG"], SET) == {"MUG", "SET-TEA-MUG"}
    assert skus_affected(["SOCKS"], SET) == {"SOCKS"}
    assert parts_of(["SET-TEA-MUG", "SOCKS"], SET) == {"TEA", "MUG", "SOCKS"}


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        (StockRule("tb", percent=120), "percent"),
        (StockRule("tb", buffer=-1), "buffer"),
        (StockRule("tb", minimum=-2), "minimum"),
        (StockRule("tb", warehouses=("WH-NOWHERE",)), "warehouses"),
    ],
)
def test_a_rule_that_could_oversell_or_names_an_unknown_warehouse_is_refused(
    rule: StockRule, named: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_stock_rule(rule, warehouses=["WH-MAIN"])
    assert refused.value.field == named
