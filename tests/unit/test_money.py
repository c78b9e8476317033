from __future__ import annotations

import pytest

from orderhub.domain.money import format_amount, parse_amount
from orderhub.errors import ValidationFailed


def test_yuan_string_becomes_fen() -> None:
    assert parse_amount("12.30", "CNY", field="payment") == 1230
    assert parse_amount("0.01", "CNY", field="payment") == 1


def test_yen_has_no_minor_units() -> None:
    assert parse_amount("1200", "JPY", field="total") == 1200


@pytest.mark.parametrize("text", ["12.3x", "", "NaN", "1e400x"])
def test_text_that_is_not_a_decimal_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed, match="payment"):
        parse_amount(text, "CNY", field="payment")


def test_more_decimals_than_the_currency_has_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="more decimals than CNY allows"):
        parse_amount("12.345", "CNY", field="payment")


def test_formatting_round_trips() -> None:
    assert format_amount(1230, "CNY") == "12.30"
    assert format_amount(5, "CNY") == "0.05"
    assert format_amount(1200, "JPY") == "1200"
