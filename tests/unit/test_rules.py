from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orderhub.domain.orders import Amounts, OrderLine
from orderhub.domain.rules import FIELDS, OPERATORS, check_condition, explain, matches
from orderhub.errors import ValidationFailed
from tests.factories import an_order

LIVE = {"field": "tags", "op": "contains", "value": "#LIVE2026"}


def test_a_tag_rule_picks_the_live_stream_orders_out() -> None:
    check_condition(LIVE)
    assert matches(LIVE, an_order(tags=("#LIVE2026", "vip")))
    assert not matches(LIVE, an_order(tags=("vip",)))


def test_groups_combine_conditions_and_explain_names_what_held() -> None:
    rule = {
        "all": [
            LIVE,
            {"any": [{"field": "province", "op": "in", "value": ["浙江省", "上海市"]},
                     {"field": "paid_total", "op": "gte", "value": 100000}]},
            {"not": {"field": "buyer_note", "op": "not_empty"}},
        ]
    }  # fmt: skip
    check_condition(rule)
    order = an_order(tags=("#LIVE2026",))
    assert matches(rule, order)
    assert explain(rule, order) == [
        "tags contains #LIVE2026",
        "province in ['浙江省', '上海市']",
        "not (buyer_note not_empty)",
    ]
    assert not matches(rule, an_order(tags=("#LIVE2026",), buyer_note="请尽快发货"))


def test_money_and_quantities_compare_as_whole_numbers() -> None:
    line = OrderLine(sku="MUG-350", title="杯", quantity=3, unit_price=50000)
    order = an_order(lines=(line,), amounts=Amounts(goods_total=150000, paid_total=150000))
    assert matches({"field": "paid_total", "op": "between", "value": [100000, 200000]}, order)
    assert matches({"field": "quantity", "op": "gt", "value": 2}, order)
    assert matches({"field": "skus", "op": "contains_any", "value": ["MUG-350", "X"]}, order)


@pytest.mark.parametrize(
    ("condition", "said"),
    [
        ({"field": "colour", "op": "eq", "value": "red"}, "unknown field 'colour'"),
        ({"field": "tags", "op": "gt", "value": "x"}, "its operators are contains"),
        ({"field": "paid_total", "op": "gte", "value": 99.5}, "a whole number"),
        ({"field": "paid_total", "op": "between", "value": [5, 1]}, "low <= high"),
        ({"field": "address", "op": "matches", "value": "(unclosed"}, "valid regular expression"),
        ({"all": []}, "non-empty list"),
        ({"all": [LIVE], "any": [LIVE]}, "stands alone"),
        ({"any": [LIVE, {"field": "shop", "op": "eq"}]}, "at any[1]"),
        ("tags has #LIVE", "must be an object"),
    ],
)
def test_a_bad_condition_is_refused_saying_what_and_where(condition: Any, said: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_condition(condition)
    assert said in refused.value.detail


def test_every_field_reads_a_value_of_its_kind_from_an_order() -> None:
    order = an_order(tags=("a",))
    for name, field in FIELDS.items():
        value = field.read(order)
        expected = {"text": str, "number": int, "list": list}[field.kind.value]
        assert isinstance(value, expected), name


def test_the_rules_doc_lists_every_field_and_operator() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text("utf-8")
    assert all(f"| `{name}` |" in doc for name in FIELDS)
    assert all(f"`{op}` (" in doc for table in OPERATORS.values() for op in table)
