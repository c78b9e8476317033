"""Priority rules through the API: saved as checked versions, tried on recent orders, scoring each
order as it is created or paid (explained on its timeline), and rescoring the orders not yet at
their warehouse when new rules are saved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from orderhub.bootstrap import Hub
from orderhub.domain.orders import PaymentStatus
from orderhub.domain.priority import ranked_at
from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind
from orderhub.services import orders, rules
from orderhub.storage.tables import outbox
from tests.conftest import SETUP_ADMIN as SETUP
from tests.conftest import ApiUser
from tests.factories import an_order, order_payload

VIP = {
    "name": "VIP buyer",
    "condition": {"field": "tags", "op": "contains", "value": "VIP"},
    "outcome": {"weight": 50},
}
EXPEDITED = {
    "name": "expedited",
    "condition": {"field": "tags", "op": "contains_any", "value": ["加急", "expedited"]},
    "outcome": {"weight": 30},
}
PRESALE = {
    "name": "presale",
    "condition": {"field": "order_type", "op": "eq", "value": "presale"},
    "outcome": {"weight": -10},
}
RULES = {"rules": [VIP, EXPEDITED, PRESALE], "default": {"base": 0}, "notes": "Double 11"}


def _save(api: TestClient, who: ApiUser, body: dict[str, Any]) -> dict[str, Any]:
    saved = api.post("/api/v1/rules/priority", json=body, headers=who.headers)
    assert saved.status_code == 201, saved.text
    result: dict[str, Any] = saved.json()
    return result


def _order(api: TestClient, who: ApiUser, no: str, **changes: Any) -> dict[str, Any]:
    made = api.post(
        "/api/v1/orders", json=order_payload(channel_order_no=no, **changes), headers=who.headers
    )
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def _timeline(api: TestClient, who: ApiUser, order_id: int) -> list[dict[str, Any]]:
    found = api.get(f"/api/v1/orders/{order_id}/timeline", headers=who.headers)
    assert found.status_code == 200, found.text
    events: list[dict[str, Any]] = found.json()["events"]
    return events


def test_priority_rules_are_checked_on_save_and_kept_as_versions(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    admin = user_for("admin")
    too_heavy = {**VIP, "outcome": {"weight": 500}}
    refused = api.post(
        "/api/v1/rules/priority",
        json={"rules": [too_heavy], "default": {"base": 0}},
        headers=admin.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "rules[0] 'VIP buyer': weight 500 is out of range; use -100 to 100 (scores are kept "
        "within -100 to 100)"
    )
    typo = {**VIP, "condition": {"field": "vip", "op": "eq", "value": "yes"}}
    unknown = api.post(
        "/api/v1/rules/priority", json={"rules": [typo], "default": {}}, headers=admin.headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith("rules[0] 'VIP buyer': unknown field 'vip'")
    assert _save(api, admin, RULES)["version"] == 1
    assert _save(api, admin, {**RULES, "rules": [VIP]})["version"] == 2
    versions = api.get("/api/v1/rules/priority", headers=admin.headers).json()
    assert [(v["version"], len(v["rules"])) for v in versions] == [(2, 1), (1, 3)]
    diff = api.get("/api/v1/rules/priority/diff", headers=admin.headers).json()
    assert [(r["name"], r["change"]) for r in diff["rules"]] == [
        ("VIP buyer", "unchanged"),
        ("expedited", "removed"),
        ("presale", "removed"),
    ]


def test_an_order_is_scored_when_created_and_its_timeline_says_why(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    admin, operator = user_for("admin"), user_for("operator")
    _save(api, admin, RULES)
    urgent = _order(api, operator, "P-1", tags=["VIP", "加急"], status="paid")
    assert urgent["priority"] == 80
    scored = [e for e in _timeline(api, operator, urgent["id"]) if e["action"] == "prioritised"]
    assert len(scored) == 1
    assert scored[0]["reason"] == ("priority 80 = VIP buyer +50, expedited +30 (priority rules v1)")
    assert scored[0]["detail"] == {
        "priority": 80,
        "was": 0,
        "rules": {"VIP buyer": 50, "expedited": 30},
        "rules_version": 1,
    }
    presale = _order(api, operator, "P-2", order_type="presale")
    assert (
        api.get(f"/api/v1/orders/{presale['id']}", headers=operator.headers).json()["priority"]
        == -10
    )
    # A score that stays what the order had needs no explaining.
    plain = _order(api, operator, "P-3")
    assert plain["priority"] == 0
    assert "prioritised" not in [e["action"] for e in _timeline(api, operator, plain["id"])]


def test_with_no_priority_rules_an_order_keeps_the_priority_it_was_created_with(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    operator = user_for("operator")
    made = _order(api, operator, "P-9", priority=7, status="paid")
    assert made["priority"] == 7


def test_paying_scores_the_order_again(api: TestClient, user_for: Callable[[str], ApiUser]) -> None:
    admin, operator = user_for("admin"), user_for("operator")
    unpaid = _order(api, operator, "P-4", tags=["VIP"])
    assert unpaid["priority"] == 0  # no rules yet
    _save(api, admin, RULES)
    paid = api.post(
        f"/api/v1/orders/{unpaid['id']}/actions/pay",
        json={},
        headers=operator.headers,
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["priority"] == 50


def test_saving_priority_rules_rescores_orders_not_yet_at_their_warehouse(
    hub: Hub, api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    admin, operator = user_for("admin"), user_for("operator")
    waiting = _order(api, operator, "R-1", tags=["expedited"], status="paid")
    unpaid = _order(api, operator, "R-2", tags=["VIP"])
    gone = _order(api, operator, "R-3", tags=["VIP"], status="paid")
    for action, body in (
        ("approve", {}),
        ("allocate", {"params": {"warehouse": "WH-X"}}),
        ("send_to_warehouse", {}),
    ):
        moved = api.post(
            f"/api/v1/orders/{gone['id']}/actions/{action}", json=body, headers=admin.headers
        )
        assert moved.status_code == 200, moved.text
    _save(api, admin, RULES)

    def priority(order_id: int) -> int:
        found: int = api.get(f"/api/v1/orders/{order_id}", headers=operator.headers).json()[
            "priority"
        ]
        return found

    assert (priority(waiting["id"]), priority(unpaid["id"]), priority(gone["id"])) == (30, 50, 0)
    said = [
        e["reason"] for e in _timeline(api, operator, waiting["id"]) if e["action"] == "prioritised"
    ]
    assert said == ["priority 30 = expedited +30 (priority rules v1)"]
    _save(api, admin, {**RULES, "rules": [{**EXPEDITED, "outcome": {"weight": 60}}]})
    assert priority(waiting["id"]) == 60


def test_a_dry_run_shows_the_scores_a_change_would_give_recent_orders(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    admin, operator = user_for("admin"), user_for("operator")
    _save(api, admin, RULES)
    _order(api, operator, "D-1", tags=["VIP"])
    _order(api, operator, "D-2")
    rows = api.post(
        "/api/v1/rules/priority/dry-run",
        json={"rules": [{**VIP, "outcome": {"weight": 70}}], "default": {"base": 5}, "last": 10},
        headers=operator.headers,
    ).json()
    by_change = sorted((r["changes"], r["before"]["said"], r["after"]["said"]) for r in rows)
    assert by_change == [
        (
            True,
            "priority 0 = base 0 (no priority rule matched)",
            "priority 5 = base 5 (no priority rule matched)",
        ),
        (True, "priority 50 = VIP buyer +50", "priority 75 = base 5, VIP buyer +70"),
    ]


def test_rescoring_moves_a_hand_off_still_waiting_in_the_outbox(
    hub: Hub, api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    admin, operator = user_for("admin"), user_for("operator")
    made = api.post(
        "/api/v1/warehouses",
        json={
            "code": "WH-Q",
            "name": "WH-Q",
            "wms": "qimen",
            "base_url": "http://127.0.0.1:9",
            "credentials": {"app_key": "k", "secret": "s", "customer_id": "c"},
        },
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    order = _order(api, operator, "H-1", tags=["VIP"], status="paid")
    for action, body in (("approve", {}), ("allocate", {"params": {"warehouse": "WH-Q"}})):
        moved = api.post(
            f"/api/v1/orders/{order['id']}/actions/{action}", json=body, headers=admin.headers
        )
        assert moved.status_code == 200, moved.text
    _save(api, admin, RULES)
    with hub.engine.connect() as conn:
        row = conn.execute(
            select(outbox).where(
                outbox.c.order_id == order["id"], outbox.c.event_type == "wms.outbound.create"
            )
        ).one()
    paid_at = api.get(f"/api/v1/orders/{order['id']}", headers=operator.headers).json()["paid_at"]
    assert (row.status, row.priority, row.payload["priority"]) == ("pending", 50, 50)
    expected = ranked_at(datetime.fromisoformat(paid_at), 50, hub.settings.priority_aging_per_min)
    assert abs(row.ranked_at - expected) < timedelta(seconds=1)


def test_scoring_a_new_paid_order_adds_no_statement_to_its_insert(hub: Hub) -> None:
    rules.save_rules(
        hub.uow(),
        RuleSet(RuleSetKind.PRIORITY, (Rule("VIP buyer", VIP["condition"], {"weight": 50}),), {}),
        actor=SETUP,
    )

    def create(no: str) -> orders.Created:
        return orders.create_order(
            hub.uow(),
            an_order(channel_order_no=no, payment_status=PaymentStatus.PAID, tags=("VIP",)),
            actor=SETUP,
            review_required=True,
        )

    create("warm")  # reads the rules in force into the cache
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(sql.split()[0].upper())

    event.listen(hub.engine, "before_cursor_execute", count)
    try:
        made = create("counted")
    finally:
        event.remove(hub.engine, "before_cursor_execute", count)
    assert made.order.priority == 50
    # The priority goes in with the order's INSERT, its note with the other timeline rows.
    assert "UPDATE" not in statements and "SELECT" not in statements
