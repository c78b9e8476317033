from __future__ import annotations

import pytest

from orderhub.domain.inventory import Need, StockLevel, check_change, needs, shortage
from orderhub.errors import ValidationFailed


def test_lines_of_one_sku_are_summed_in_a_stable_order() -> None:
    assert needs([("MUG", 1), ("TEE", 2), ("MUG", 3)]) == [Need("MUG", 4), Need("TEE", 2)]


def test_a_quantity_below_one_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="at least 1"):
        needs([("MUG", 0)])


def test_available_is_on_hand_less_reserved() -> None:
    assert StockLevel("MUG", "WH", on_hand=10, reserved=4).available == 6


def test_a_shortage_names_every_short_sku_with_what_was_asked_and_what_is_there() -> None:
    levels = {"MUG": StockLevel("MUG", "WH-HZ", 5, 4)}
    refusal = shortage("WH-HZ", [Need("MUG", 2), Need("TEE", 1)], levels)
    assert refusal is not None and refusal.status == 409
    assert "MUG (asked 2, available 1)" in refusal.detail
    assert "TEE (asked 1, available 0)" in refusal.detail
    assert shortage("WH-HZ", [Need("MUG", 1)], levels) is None


def test_stock_never_goes_below_what_is_reserved() -> None:
    level = StockLevel("MUG", "WH", on_hand=5, reserved=3)
    assert check_change(level, -2, 0).available == 0
    with pytest.raises(ValidationFailed, match="never goes below what is reserved"):
        check_change(level, -3, 0)
    with pytest.raises(ValidationFailed):
        check_change(level, 0, -4)
