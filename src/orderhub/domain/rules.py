"""The rule language: conditions on an order's fields, written as data (JSON), not code.

A condition is one of
    {"field": "tags", "op": "contains", "value": "#LIVE2026"}
    {"all": [condition, ...]}      every one holds
    {"any": [condition, ...]}      at least one holds
    {"not": condition}
Review and routing rules are lists of (name, condition, outcome) tried in order, with a default.
`check_condition` refuses, on save, a field or operator that does not exist or a value of the
wrong type, naming what is wrong and what would be right; `matches` evaluates; `explain` says
which leaf conditions held, for the order's timeline. docs/rules.md documents the language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from orderhub.domain.orders import Order
from orderhub.errors import ValidationFailed


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"  # integers: money in minor units, quantities
    LIST = "list"  # of text


@dataclass(frozen=True)
class Field:
    kind: Kind
    read: Callable[[Order], Any]
    meaning: str


FIELDS: dict[str, Field] = {
    "channel": Field(Kind.TEXT, lambda o: o.channel, "the sales channel (taobao, jd, ...)"),
    "shop": Field(Kind.TEXT, lambda o: o.shop, "the shop code"),
    "order_type": Field(Kind.TEXT, lambda o: o.order_type.value, "normal, presale, ..."),
    "tags": Field(Kind.LIST, lambda o: list(o.tags), "the order's tags"),
    "skus": Field(Kind.LIST, lambda o: [line.sku for line in o.lines], "the lines' SKUs"),
    "quantity": Field(Kind.NUMBER, lambda o: sum(x.quantity for x in o.lines), "units in all"),
    "paid_total": Field(Kind.NUMBER, lambda o: o.amounts.paid_total, "paid, in minor units"),
    "goods_total": Field(Kind.NUMBER, lambda o: o.amounts.goods_total, "goods, minor units"),
    "buyer_note": Field(Kind.TEXT, lambda o: o.buyer_note or "", "the buyer's note"),
    "seller_note": Field(Kind.TEXT, lambda o: o.seller_note or "", "the seller's note"),
    "province": Field(Kind.TEXT, lambda o: o.receiver.province, "the receiver's province"),
    "city": Field(Kind.TEXT, lambda o: o.receiver.city, "the receiver's city"),
    "district": Field(Kind.TEXT, lambda o: o.receiver.district, "the receiver's district"),
    "address": Field(Kind.TEXT, lambda o: o.receiver.address, "the street address"),
    "priority": Field(Kind.NUMBER, lambda o: o.priority, "the order's priority"),
    "warehouse": Field(
        Kind.TEXT, lambda o: o.warehouse or "", "the warehouse it ships from (empty until routed)"
    ),
    "buyer_nick": Field(Kind.TEXT, lambda o: o.buyer_nick or "", "the buyer's nickname"),
    "buyer_id": Field(Kind.TEXT, lambda o: o.buyer_id or "", "the buyer's id in the channel"),
}

# Which operators each kind of field takes, and what each needs as its value.
OPERATORS: dict[Kind, dict[str, str]] = {
    Kind.TEXT: {
        "eq": "text",
        "ne": "text",
        "in": "list",
        "not_in": "list",
        "contains": "text",
        "starts_with": "text",
        "matches": "regex",
        "empty": "none",
        "not_empty": "none",
    },
    Kind.NUMBER: {
        "eq": "number",
        "ne": "number",
        "gt": "number",
        "gte": "number",
        "lt": "number",
        "lte": "number",
        "between": "range",
        "in": "numbers",
    },
    Kind.LIST: {
        "contains": "text",
        "contains_any": "list",
        "contains_all": "list",
        "empty": "none",
        "not_empty": "none",
    },
}


def _where(path: str) -> str:
    return f" at {path}" if path else ""


def check_condition(condition: Any, path: str = "") -> None:
    """Refuse a condition that is not well formed, naming where and how to fix it."""
    if not isinstance(condition, Mapping):
        raise ValidationFailed(
            f"a condition must be an object{_where(path)}: "
            '{"field": ..., "op": ..., "value": ...}, {"all": [...]}, {"any": [...]} or '
            '{"not": ...}',
            field=path or "condition",
        )
    groups = [key for key in ("all", "any", "not") if key in condition]
    if groups:
        if len(condition) != 1:
            raise ValidationFailed(
                f"'{groups[0]}'{_where(path)} stands alone in its object; found also "
                f"{sorted(set(condition) - {groups[0]})}",
                field=path or "condition",
            )
        key = groups[0]
        if key == "not":
            check_condition(condition["not"], f"{path}.not".lstrip("."))
            return
        parts = condition[key]
        if not isinstance(parts, list) or not parts:
            raise ValidationFailed(
                f"'{key}'{_where(path)} needs a non-empty list of conditions",
                field=path or "condition",
            )
        for n, part in enumerate(parts):
            check_condition(part, f"{path}.{key}[{n}]".lstrip("."))
        return
    _check_leaf(condition, path)


def _check_leaf(leaf: Mapping[str, Any], path: str) -> None:
    name, op = leaf.get("field"), leaf.get("op")
    where = path or "condition"
    if name not in FIELDS:
        raise ValidationFailed(
            f"unknown field '{name}'{_where(path)}; fields: {', '.join(sorted(FIELDS))}",
            field=where,
        )
    kind = FIELDS[name].kind
    allowed = OPERATORS[kind]
    if op not in allowed:
        raise ValidationFailed(
            f"'{name}' is {kind.value}; its operators are {', '.join(allowed)} (got '{op}')"
            f"{_where(path)}",
            field=where,
        )
    problem = _value_problem(allowed[op], leaf.get("value"))
    if problem:
        raise ValidationFailed(f"'{name} {op}'{_where(path)} needs {problem}", field=where)


def _value_problem(needs: str, value: Any) -> str | None:
    def is_number(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if needs == "none":
        return None if value is None else "no value"
    if needs == "text":
        return None if isinstance(value, str) and value != "" else "a non-empty text value"
    if needs == "number":
        return None if is_number(value) else "a whole number (money in minor units: 9900)"
    if needs == "list":
        ok = isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        return None if ok else "a non-empty list of texts"
    if needs == "numbers":
        ok = isinstance(value, list) and value and all(is_number(v) for v in value)
        return None if ok else "a non-empty list of whole numbers"
    if needs == "range":
        ok = isinstance(value, list) and len(value) == 2 and all(is_number(v) for v in value)
        return None if ok and value[0] <= value[1] else "[low, high] whole numbers, low <= high"
    if not isinstance(value, str):
        return "a regular expression as text"
    try:
        re.compile(value)
    except re.error as error:
        return f"a valid regular expression ({error})"
    return None


def matches(condition: Mapping[str, Any], order: Order) -> bool:
    """Whether the (checked) condition holds for the order."""
    if "all" in condition:
        return all(matches(part, order) for part in condition["all"])
    if "any" in condition:
        return any(matches(part, order) for part in condition["any"])
    if "not" in condition:
        return not matches(condition["not"], order)
    return _leaf(condition, FIELDS[condition["field"]].read(order))


def _leaf(leaf: Mapping[str, Any], actual: Any) -> bool:
    op = leaf["op"]
    value: Any = leaf.get("value")  # checked on save: the right shape for `op`
    tests: dict[str, Callable[[], bool]] = {
        "eq": lambda: actual == value,
        "ne": lambda: actual != value,
        "in": lambda: actual in value,
        "not_in": lambda: actual not in value,
        "gt": lambda: actual > value,
        "gte": lambda: actual >= value,
        "lt": lambda: actual < value,
        "lte": lambda: actual <= value,
        "between": lambda: value[0] <= actual <= value[1],
        "contains": lambda: value in actual,
        "contains_any": lambda: any(v in actual for v in value),
        "contains_all": lambda: all(v in actual for v in value),
        "starts_with": lambda: str(actual).startswith(value),
        "matches": lambda: re.search(value, str(actual)) is not None,
        "empty": lambda: not actual,
        "not_empty": lambda: bool(actual),
    }
    return tests[op]()


def explain(condition: Mapping[str, Any], order: Order) -> list[str]:
    """The leaf conditions that held, in words, e.g. "tags contains #LIVE2026"."""
    if "all" in condition or "any" in condition:
        parts = condition.get("all") or condition.get("any") or []
        return [said for part in parts for said in explain(part, order)]
    if "not" in condition:
        return [] if matches(condition["not"], order) else ["not (" + _say(condition["not"]) + ")"]
    return [_say(condition)] if matches(condition, order) else []


def _say(condition: Mapping[str, Any]) -> str:
    if "field" not in condition:
        return "…"
    value = condition.get("value")
    return f"{condition['field']} {condition['op']}" + ("" if value is None else f" {value}")
