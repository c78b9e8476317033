"""What waits in each warehouse and queue (GET /api/v1/warehouses/{code}/queue): the orders
allocated, sent, picking and out of stock there, counted per queue and stage, the oldest wait, and
the orders in the order to work them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orderhub.api.order_models import OrderIn
from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor
from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind
from orderhub.domain.transitions import Action
from orderhub.permissions import permissions_of
from orderhub.services import orders, rules, warehouses
from tests.conftest import ApiUser
from tests.factories import order_payload

SETUP = Actor(id="setup", name="setup", role="admin", permissions=permissions_of("admin"))
LIVE_TO_LIVE_QUEUE = Rule(
    "live stream",
    {"field": "tags", "op": "contains", "value": "#LIVE2026"},
    {"warehouse": "WH-LIVE", "queue": "live"},
)
# Each waiting order: its number, tags, priority, hours since paid, and the actions after review.
TO_SHIP = [Action.APPROVE, Action.ALLOCATE]
WAITING = [
    ("Q-ALLOC", ["#LIVE2026"], 0, 3, TO_SHIP),
    ("Q-SENT", ["#LIVE2026"], 10, 3, [*TO_SHIP, Action.SEND_TO_WAREHOUSE]),
    ("Q-PICK", [], 0, 5, [*TO_SHIP, Action.SEND_TO_WAREHOUSE, Action.START_PICKING]),
    ("Q-SHORT", [], 0, 2, [Action.APPROVE, Action.RAISE_EXCEPTION]),
    (
        "Q-SHIPPED",
        [],
        0,
        9,
        [*TO_SHIP, Action.SEND_TO_WAREHOUSE, Action.START_PICKING, Action.SHIP],
    ),
    ("Q-REVIEW", [], 0, 8, []),
]
PARAMS: dict[Action, dict[str, Any]] = {
    Action.RAISE_EXCEPTION: {"reason_code": "out_of_stock", "reason": "short of MUG-350"},
    Action.SHIP: {"params": {"carrier": "SF", "tracking_no": "SF100"}},
}


def fill_queues(hub: Hub, now: datetime | None = None) -> dict[str, int]:
    """Two warehouses, routing live-stream orders to WH-LIVE's `live` queue, and one order at
    each stage (plus one shipped and one still in review, which wait nowhere). Order ids by
    number."""
    now = now or datetime.now(UTC)
    for code in ("WH-MAIN", "WH-LIVE"):
        warehouses.create_warehouse(hub.uow(), hub.wms, actor=SETUP, code=code, name=code)
    rules.save_rules(
        hub.uow(),
        RuleSet(RuleSetKind.ROUTING, (LIVE_TO_LIVE_QUEUE,), {"warehouse": "WH-MAIN"}),
        actor=SETUP,
    )
    ids: dict[str, int] = {}
    for no, tags, priority, hours, steps in WAITING:
        paid_at = (now - timedelta(hours=hours)).isoformat()
        body = order_payload(
            channel_order_no=no, tags=tags, priority=priority, status="paid", paid_at=paid_at
        )
        made = orders.create_order(
            hub.uow(),
            OrderIn(**body).to_domain(default_currency="CNY"),
            actor=SETUP,
            review_required=True,
        )
        order_id = made.order.id
        assert order_id is not None
        for action in steps:
            orders.apply_action(
                hub.uow(),
                order_id,
                action,
                actor=SETUP,
                review_required=True,
                **PARAMS.get(action, {}),
            )
        ids[no] = order_id
    return ids


def test_the_queue_counts_each_stage_per_queue_and_lists_orders_by_priority_then_wait(
    hub: Hub, api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    ids = fill_queues(hub)
    reader = user_for("warehouse")
    live = api.get("/api/v1/warehouses/WH-LIVE/queue", headers=reader.headers)
    assert live.status_code == 200, live.text
    body = live.json()
    assert [q["queue"] for q in body["queues"]] == ["live"]
    assert body["overall"]["by_stage"] == {
        "out_of_stock": 0,
        "allocated": 1,
        "sent_to_warehouse": 1,
        "picking": 0,
    }
    # Both paid three hours ago: the urgent one first (the next test: waiting counts too).
    assert [o["id"] for o in body["orders"]] == [ids["Q-SENT"], ids["Q-ALLOC"]]
    # The priority plus 3 hours' waiting at ORDERHUB_PRIORITY_AGING_PER_MIN's 2 points a minute.
    effective = [o["effective_priority"] for o in body["orders"]]
    assert effective == [pytest.approx(370, abs=1), pytest.approx(360, abs=1)]
    assert body["overall"]["top_priority"] == 10
    assert 3 * 3600 - 60 < body["overall"]["oldest_waiting_s"] < 3 * 3600 + 600

    main = api.get("/api/v1/warehouses/WH-MAIN/queue", headers=reader.headers).json()
    assert [(o["channel_order_no"], o["stage"]) for o in main["orders"]] == [
        ("Q-PICK", "picking"),
        ("Q-SHORT", "out_of_stock"),
    ]
    assert main["overall"]["total"] == 2 and main["queues"][0]["queue"] == "default"


def test_one_queue_can_be_asked_for_and_an_unknown_one_is_empty(
    hub: Hub, api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    fill_queues(hub)
    reader = user_for("operator")
    url = "/api/v1/warehouses/WH-LIVE/queue"
    live = api.get(url, params={"queue": "live", "limit": 1}, headers=reader.headers).json()
    assert live["queue"] == "live" and live["overall"]["total"] == 2
    assert [o["channel_order_no"] for o in live["orders"]] == ["Q-SENT"]
    empty = api.get(url, params={"queue": "slow"}, headers=reader.headers).json()
    assert empty["overall"]["total"] == 0 and empty["orders"] == []
    assert empty["overall"]["oldest_waiting_s"] is None


def test_the_queue_of_an_unknown_warehouse_is_404_and_needs_warehouse_read(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    missing = api.get("/api/v1/warehouses/WH-NOPE/queue", headers=user_for("operator").headers)
    assert missing.status_code == 404 and "WH-NOPE" in missing.json()["detail"]
    refused = api.get("/api/v1/warehouses/WH-NOPE/queue", headers=user_for("agent").headers)
    assert refused.status_code == 403 and refused.json()["permission"] == "warehouse.read"
