"""SLA rules through /api/v1/rules/sla (checked on save) and the alerts inbox through
/api/v1/alerts: filters, pages, acknowledge, resolve, one or many, and who may."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orderhub.bootstrap import Hub
from orderhub.domain.alerts import AlertPolicy
from orderhub.services import notifications
from orderhub.services import rules as rule_sets
from orderhub.services.rules import save_rules
from orderhub.services.sla import check_sla
from tests.conftest import SETUP_ADMIN, ApiUser
from tests.factories import T0, order_payload
from tests.unit.fakes import FakeClock

Users = Callable[[str], ApiUser]
RULE = {
    "name": "cross-border review 4h",
    "condition": {"field": "order_type", "op": "eq", "value": "cross_border"},
    "outcome": {
        "state": "pending_review",
        "after": "4h",
        "severity": "critical",
        "recipients": ["ops-lead"],
        "escalate_after": "8h",
        "escalate_to": ["boss"],
    },
}


@pytest.fixture
def clock(hub: Hub) -> FakeClock:
    moved = FakeClock(T0)
    hub.uow.clock = moved
    for code in ("ops-lead", "boss"):
        notifications.add_recipient(
            hub.uow(),
            actor=SETUP_ADMIN,
            code=code,
            name=code,
            kind="email",
            address=f"{code}@example.com",
        )
    return moved


def _late_orders(
    hub: Hub, api: TestClient, user: ApiUser, clock: FakeClock, count: int
) -> list[int]:
    rules = rule_sets.proposed("sla", [RULE], {})
    save_rules(hub.uow(), rules, actor=SETUP_ADMIN)
    ids = []
    for n in range(count):
        body = order_payload(channel_order_no=f"CB-{n}", order_type="cross_border")
        created = api.post("/api/v1/orders", json=body, headers=user.headers)
        assert created.status_code == 201, created.text
        api.post(f"/api/v1/orders/{created.json()['id']}/actions/pay", headers=user.headers)
        ids.append(created.json()["id"])
    clock.advance(hours=5)
    check_sla(hub.uow, policy=AlertPolicy(digest_window_s=0))
    return ids


def test_an_sla_rule_naming_an_unknown_recipient_is_refused_naming_the_rule(
    api: TestClient, user_for: Users, clock: FakeClock
) -> None:
    bad = {**RULE, "outcome": {**RULE["outcome"], "escalate_to": ["nobody"]}}  # type: ignore[dict-item]
    answer = api.post("/api/v1/rules/sla", json={"rules": [bad]}, headers=user_for("admin").headers)
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert "rules[0] 'cross-border review 4h'" in detail
    assert "'escalate_to' names nobody, which is not a recipient" in detail
    assert api.get("/api/v1/rules/sla", headers=user_for("admin").headers).json() == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"state": "shipping"}, "'shipping' is not a status an order can wait in"),
        ({"state": "completed"}, "'completed' is not a status an order can wait in"),
        ({"after": "4 hours"}, "'after': '4 hours' is not a duration"),
        ({"escalate_after": "3h"}, "'escalate_after' (3h) must be longer than 'after' (4h)"),
        ({"severity": "urgent"}, "'severity' is one of info, warning, critical"),
        ({"recipient": ["ops-lead"]}, "unknown key recipient"),
        ({"since": "created"}, "'since' is 'state'"),
    ],
)
def test_a_bad_sla_rule_is_refused_saying_what_to_fix(
    api: TestClient, user_for: Users, clock: FakeClock, change: dict[str, Any], said: str
) -> None:
    bad = {**RULE, "outcome": {**RULE["outcome"], **change}}  # type: ignore[dict-item]
    answer = api.post("/api/v1/rules/sla", json={"rules": [bad]}, headers=user_for("admin").headers)
    assert answer.status_code == 422
    assert said in answer.json()["detail"]


def test_sla_rules_are_versioned_and_compared_like_the_other_rule_sets(
    api: TestClient, user_for: Users, clock: FakeClock
) -> None:
    admin = user_for("admin").headers
    assert api.post("/api/v1/rules/sla", json={"rules": [RULE]}, headers=admin).status_code == 201
    longer = {**RULE, "outcome": {**RULE["outcome"], "after": "6h"}}  # type: ignore[dict-item]
    assert api.post("/api/v1/rules/sla", json={"rules": [longer]}, headers=admin).status_code == 201
    diff = api.get("/api/v1/rules/sla/diff", headers=admin).json()
    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    [changed] = diff["rules"]
    assert changed["outcome_changes"] == [{"key": "after", "before": "4h", "after": "6h"}]


def test_the_inbox_lists_acknowledges_and_resolves_alerts(
    hub: Hub, api: TestClient, user_for: Users, clock: FakeClock
) -> None:
    op = user_for("operator")
    orders = _late_orders(hub, api, op, clock, 3)
    page = api.get("/api/v1/alerts?status=open&limit=2", headers=op.headers).json()
    assert [a["order_id"] for a in page["items"]] == [orders[2], orders[1]]
    rest = api.get(
        f"/api/v1/alerts?status=open&before_id={page['next_before_id']}", headers=op.headers
    ).json()
    assert [a["order_id"] for a in rest["items"]] == [orders[0]]
    first = rest["items"][0]
    assert (first["rule"], first["severity"], first["state"]) == (
        "cross-border review 4h",
        "critical",
        "pending_review",
    )
    acked = api.post(f"/api/v1/alerts/{first['id']}/acknowledge", headers=op.headers).json()
    assert (acked["status"], acked["acknowledged_by"]) == ("acknowledged", "token:operator-user")
    resolved = api.post(
        f"/api/v1/alerts/{first['id']}/resolve",
        json={"note": "customs cleared by phone"},
        headers=op.headers,
    ).json()
    assert (resolved["status"], resolved["resolution"], resolved["note"]) == (
        "resolved",
        "by_hand",
        "customs cleared by phone",
    )
    again = api.post(f"/api/v1/alerts/{first['id']}/resolve", headers=op.headers)
    assert again.status_code == 409
    assert "was resolved" in again.json()["detail"]
    counts = api.get("/api/v1/alerts/counts", headers=op.headers).json()
    assert counts == {"open": 2, "acknowledged": 0, "resolved": 1}
    detail = api.get(f"/api/v1/alerts/{first['id']}", headers=op.headers).json()
    assert [(n["recipient"], n["escalation"], n["count"]) for n in detail["notices"]] == [
        ("ops-lead", False, 1)
    ]


def test_many_alerts_are_acknowledged_at_once_and_the_rest_named_with_why(
    hub: Hub, api: TestClient, user_for: Users, clock: FakeClock
) -> None:
    op = user_for("operator")
    _late_orders(hub, api, op, clock, 2)
    ids = [a["id"] for a in api.get("/api/v1/alerts", headers=op.headers).json()["items"]]
    api.post(f"/api/v1/alerts/{ids[0]}/resolve", headers=op.headers)
    answer = api.post(
        "/api/v1/alerts/acknowledge", json={"alert_ids": [*ids, 999999]}, headers=op.headers
    ).json()
    assert [a["id"] for a in answer["done"]] == [ids[1]]
    assert [s["id"] for s in answer["skipped"]] == [ids[0], 999999]
    assert "alert 999999 does not exist" in answer["skipped"][1]["reason"]
    resolved = api.post(
        "/api/v1/alerts/resolve", json={"alert_ids": ids, "note": "all shipped"}, headers=op.headers
    ).json()
    assert [a["id"] for a in resolved["done"]] == [ids[1]]


def test_warehouse_staff_read_alerts_but_cannot_close_them_and_agents_cannot_see_them(
    hub: Hub, api: TestClient, user_for: Users, clock: FakeClock
) -> None:
    _late_orders(hub, api, user_for("operator"), clock, 1)
    warehouse, agent = user_for("warehouse").headers, user_for("agent").headers
    [alert] = api.get("/api/v1/alerts", headers=warehouse).json()["items"]
    refused = api.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=warehouse)
    assert refused.status_code == 403
    assert "alert.manage" in refused.json()["detail"]
    assert api.get("/api/v1/alerts", headers=agent).status_code == 403


def test_an_unknown_status_filter_is_refused_listing_the_statuses(
    api: TestClient, user_for: Users
) -> None:
    answer = api.get("/api/v1/alerts?status=late", headers=user_for("operator").headers)
    assert answer.status_code == 422
    assert "use one of open, acknowledged, resolved" in answer.json()["detail"]
