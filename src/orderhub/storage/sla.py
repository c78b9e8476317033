"""The SLA checker's reads: the orders a rule is due to alert on, found through an index.

A rule's candidates come from the index on (status, state_since) or (status, paid_at): only the
orders that waited past the threshold are read, never the whole table. Its condition is
compiled into the same statement where the rule language maps onto columns exactly (text and
number comparisons, tags and SKUs through their indexes); what does not compile (patterns,
`quantity`, ...) is left to `domain.rules.matches` on the orders found, which the caller loads.
An anti-join on the alerts' unique key leaves out the orders already alerted for this stay.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, not_, or_, select, true
from sqlalchemy.sql.elements import KeyedColumnElement

from orderhub.domain.sla import SlaClock, SlaRule
from orderhub.storage.tables import alerts, order_lines, order_tags, orders

# Text fields of the rule language that are columns, NULL read as "" as domain/rules.py does.
_TEXT: dict[str, Callable[[], ColumnElement[Any]]] = {
    "channel": lambda: orders.c.channel,
    "shop": lambda: orders.c.shop,
    "order_type": lambda: orders.c.order_type,
    "province": lambda: orders.c.receiver_province,
    "city": lambda: orders.c.receiver_city,
    "district": lambda: orders.c.receiver_district,
    "address": lambda: orders.c.receiver_address,
    "warehouse": lambda: func.coalesce(orders.c.warehouse, ""),
    "buyer_note": lambda: func.coalesce(orders.c.buyer_note, ""),
    "seller_note": lambda: func.coalesce(orders.c.seller_note, ""),
}
_NUMBER: dict[str, KeyedColumnElement[Any]] = {
    "paid_total": orders.c.paid_total,
    "goods_total": orders.c.goods_total,
    "priority": orders.c.priority,
}
# Case-sensitive, exact comparisons only: SQLite's LIKE folds ASCII case, the language does not.
_TEXT_OPS = ("eq", "ne", "in", "not_in")


def clock_of(rule: SlaRule) -> KeyedColumnElement[Any]:
    return orders.c.paid_at if rule.since is SlaClock.PAID else orders.c.state_since


def compile_condition(condition: Mapping[str, Any]) -> tuple[ColumnElement[bool] | None, bool]:
    """(a SQL filter every matching order passes, whether it is exactly the condition). None: no
    narrowing in SQL. A filter that is not exact is a superset: the caller checks the rest."""
    if "all" in condition:
        parts = [compile_condition(p) for p in condition["all"]]
        kept = [sql for sql, _ in parts if sql is not None]
        exact = all(sql is not None and ok for sql, ok in parts)
        return (and_(*kept) if kept else None), exact
    if "any" in condition:
        parts = [compile_condition(p) for p in condition["any"]]
        if any(sql is None for sql, _ in parts):
            return None, False  # one part that cannot narrow lets every order through
        return or_(*[sql for sql, _ in parts if sql is not None]), all(ok for _, ok in parts)
    if "not" in condition:
        inner, exact = compile_condition(condition["not"])
        # The negation of a superset is no superset: only an exact part can be negated.
        return (not_(inner), True) if inner is not None and exact else (None, False)
    leaf = _leaf(condition["field"], condition["op"], condition.get("value"))
    return leaf, leaf is not None


def _leaf(field: str, op: str, value: Any) -> ColumnElement[bool] | None:
    if field in _TEXT and op in _TEXT_OPS:
        return _compare(_TEXT[field](), op, value)
    if field in _NUMBER:
        return _compare(_NUMBER[field], op, value)
    if field == "tags":
        return _contains(op, value, _tagged, exists().where(_tag_of_order()))
    if field == "skus":
        return _contains(op, value, _has_sku, exists().where(_line_of_order()))
    return None


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "in": lambda column, value: column.in_(value),
    "not_in": lambda column, value: column.not_in(value),
    "between": lambda column, value: column.between(value[0], value[1]),
}


def _compare(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool] | None:
    compare = _COMPARE.get(op)
    return None if compare is None else cast(ColumnElement[bool], compare(column, value))


def _contains(
    op: str, value: Any, one: Callable[[str], ColumnElement[bool]], any_row: ColumnElement[bool]
) -> ColumnElement[bool] | None:
    if op == "contains":
        return one(value)
    if op == "contains_any":
        return or_(*[one(v) for v in value])
    if op == "contains_all":
        return and_(*[one(v) for v in value])
    if op == "empty":
        return not_(any_row)
    if op == "not_empty":
        return any_row
    return None


def _tag_of_order() -> ColumnElement[bool]:
    return order_tags.c.order_id == orders.c.id


def _tagged(tag: str) -> ColumnElement[bool]:
    # IN, not EXISTS: the planner may start from the tag's orders when they are the fewer.
    return orders.c.id.in_(select(order_tags.c.order_id).where(order_tags.c.tag == tag))


def _line_of_order() -> ColumnElement[bool]:
    return order_lines.c.order_id == orders.c.id


def _has_sku(sku: str) -> ColumnElement[bool]:
    return exists().where(_line_of_order(), order_lines.c.sku == sku)


def overdue_query(
    rule: SlaRule, *, now: datetime, limit: int, after: tuple[datetime, int] | None = None
) -> tuple[Select[Any], bool]:
    """The statement behind AlertRepository.overdue, and whether it checks the whole condition;
    `after` pages on (clock start, order id)."""
    clock = clock_of(rule)
    states = [s.value for s in rule.states]
    in_state = orders.c.status == states[0] if len(states) == 1 else orders.c.status.in_(states)
    alerted = exists().where(
        alerts.c.order_id == orders.c.id, alerts.c.rule == rule.name, alerts.c.since_at == clock
    )
    condition, exact = compile_condition(rule.condition)
    query = (
        select(
            orders.c.id,
            orders.c.status,
            clock.label("since_at"),
            orders.c.shop,
            orders.c.channel,
            orders.c.channel_order_no,
        )
        .where(in_state, clock < now - rule.after, ~alerted)
        .where(condition if condition is not None else true())
        .order_by(clock, orders.c.id)
        .limit(limit)
    )
    if after is not None:
        since, order_id = after
        query = query.where(or_(clock > since, and_(clock == since, orders.c.id > order_id)))
    return query, exact


def moved_on_query(rule: SlaRule, *, limit: int) -> Select[Any]:
    """Unresolved alerts of the rule whose order is no longer in the stay they are about."""
    clock = clock_of(rule)
    states = [s.value for s in rule.states]
    if rule.since is SlaClock.STATE:
        # The stay is one status from one moment: another status or a later start ends it.
        left = or_(orders.c.status != alerts.c.state, clock != alerts.c.since_at)
    else:
        left = or_(orders.c.status.not_in(states), clock.is_(None), clock != alerts.c.since_at)
    return (
        select(alerts.c.id)
        .join(orders, orders.c.id == alerts.c.order_id)
        .where(
            alerts.c.rule == rule.name,
            alerts.c.status.in_(["open", "acknowledged"]),
            left if states else false(),
        )
        .limit(limit)
    )
