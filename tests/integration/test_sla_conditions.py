"""The SLA checker compiles rule conditions into SQL where it can: on SQLite and PostgreSQL the
SQL picks exactly the orders `domain.rules.matches` picks, and a part it cannot compile only
widens the net (the rest is checked on the loaded orders)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from orderhub.bootstrap import Hub
from orderhub.domain.orders import OrderLine, OrderType, PaymentStatus
from orderhub.domain.rules import check_condition, matches
from orderhub.services import orders as order_service
from orderhub.storage.sla import compile_condition
from orderhub.storage.tables import orders
from tests.conftest import SETUP_ADMIN
from tests.factories import an_order

EXACT: list[dict[str, Any]] = [
    {"field": "order_type", "op": "eq", "value": "cross_border"},
    {"field": "shop", "op": "ne", "value": "tb-main"},
    {"field": "province", "op": "in", "value": ["上海市", "北京市"]},
    {"field": "channel", "op": "not_in", "value": ["manual"]},
    {"field": "paid_total", "op": "between", "value": [10000, 20000]},
    {"field": "priority", "op": "gte", "value": 1},
    {"field": "warehouse", "op": "ne", "value": "WH-X"},
    {"field": "buyer_note", "op": "eq", "value": "Fast"},
    {"field": "tags", "op": "contains", "value": "vip"},
    {"field": "tags", "op": "contains_all", "value": ["vip", "gift"]},
    {"field": "tags", "op": "empty"},
    {"field": "skus", "op": "contains_any", "value": ["MUG-350", "NOPE"]},
    {
        "any": [
            {"field": "tags", "op": "contains", "value": "gift"},
            {"not": {"field": "shop", "op": "eq", "value": "tb-main"}},
        ]
    },
]
PARTLY: list[dict[str, Any]] = [
    {"field": "buyer_note", "op": "matches", "value": "(?i)fast"},
    {
        "all": [
            {"field": "order_type", "op": "eq", "value": "cross_border"},
            {"field": "quantity", "op": "gt", "value": 2},
        ]
    },
    {"not": {"field": "buyer_note", "op": "contains", "value": "ast"}},
]


@pytest.fixture
def pool(hub: Hub) -> dict[int, Any]:
    shapes = [
        dict(order_type=OrderType.CROSS_BORDER, shop="tb-main", tags=("vip", "gift")),
        dict(shop="jd-one", buyer_note="Fast", tags=("vip",), priority=3),
        dict(order_type=OrderType.CROSS_BORDER, buyer_note="fast please", tags=()),
        dict(shop="tb-main", lines=(OrderLine("TS-1", "T恤", 3, 5000),), tags=("gift",)),
    ]
    made = {}
    for n, shape in enumerate(shapes):
        draft = an_order(channel_order_no=f"C-{n}", payment_status=PaymentStatus.PAID, **shape)
        order = order_service.create_order(
            hub.uow(), draft, actor=SETUP_ADMIN, review_required=True
        ).order
        made[order.id] = order
    return made


def _sql_picks(hub: Hub, condition: dict[str, Any]) -> tuple[set[int], bool]:
    where, exact = compile_condition(condition)
    query = select(orders.c.id)
    if where is not None:
        query = query.where(where)
    with hub.engine.connect() as conn:
        return set(conn.execute(query).scalars()), exact


@pytest.mark.parametrize("condition", EXACT)
def test_a_compiled_condition_picks_exactly_what_the_rule_language_picks(
    hub: Hub, pool: dict[int, Any], condition: dict[str, Any]
) -> None:
    check_condition(condition)
    picked, exact = _sql_picks(hub, condition)
    assert exact
    assert picked == {i for i, order in pool.items() if matches(condition, order)}


@pytest.mark.parametrize("condition", PARTLY)
def test_a_condition_sql_cannot_fully_check_keeps_every_matching_order(
    hub: Hub, pool: dict[int, Any], condition: dict[str, Any]
) -> None:
    check_condition(condition)
    picked, exact = _sql_picks(hub, condition)
    assert not exact
    wanted = {i for i, order in pool.items() if matches(condition, order)}
    assert wanted and wanted <= picked
