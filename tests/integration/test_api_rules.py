"""The rules API: save a version (checked), list versions, dry run; each behind a permission."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import ApiUser
from tests.factories import order_payload

LIVE = {
    "name": "live stream",
    "condition": {"field": "tags", "op": "contains", "value": "#LIVE2026"},
    "outcome": {"warehouse": "WH-LIVE", "queue": "live"},
}


def _warehouse(api: TestClient, admin: ApiUser, code: str) -> None:
    made = api.post("/api/v1/warehouses", json={"code": code, "name": code}, headers=admin.headers)
    assert made.status_code == 201, made.text


def test_saving_checks_the_rules_and_keeps_every_version(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    admin = user_for("admin")
    _warehouse(api, admin, "WH-MAIN")
    body = {"rules": [LIVE], "default": {"warehouse": "WH-MAIN"}}
    refused = api.post("/api/v1/rules/routing", json=body, headers=admin.headers)
    assert refused.status_code == 422
    assert "warehouse 'WH-LIVE', which does not exist" in refused.json()["detail"]
    _warehouse(api, admin, "WH-LIVE")
    for _ in range(2):
        saved = api.post("/api/v1/rules/routing", json=body, headers=admin.headers)
        assert saved.status_code == 201, saved.text
    versions = api.get("/api/v1/rules/routing", headers=admin.headers).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["rules"][0]["name"] == "live stream"


def test_a_dry_run_marks_the_orders_a_rule_would_move(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    admin, operator = user_for("admin"), user_for("operator")
    for code in ("WH-MAIN", "WH-LIVE"):
        _warehouse(api, admin, code)
    for no, tags in (("D-1", ["#LIVE2026"]), ("D-2", [])):
        made = api.post(
            "/api/v1/orders",
            json=order_payload(channel_order_no=no, tags=tags),
            headers=operator.headers,
        )
        assert made.status_code == 201, made.text
    rows = api.post(
        "/api/v1/rules/routing/dry-run",
        json={"rules": [LIVE], "default": {"warehouse": "WH-MAIN"}, "last": 10},
        headers=operator.headers,
    ).json()
    moving = [r for r in rows if r["changes"]]
    assert len(rows) == 2 and len(moving) == 1
    assert moving[0]["after"]["said"] == "rule 'live stream': tags contains #LIVE2026"


def test_saving_rules_needs_rule_manage(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    operator = user_for("operator")
    refused = api.post(
        "/api/v1/rules/review",
        json={"rules": [], "default": {"decision": "approve"}},
        headers=operator.headers,
    )
    assert refused.status_code == 403 and refused.json()["permission"] == "rule.manage"
