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


def test_one_version_is_read_back_and_a_missing_one_names_those_saved(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    admin, operator = user_for("admin"), user_for("operator")
    _warehouse(api, admin, "WH-MAIN")
    body = {"rules": [], "default": {"warehouse": "WH-MAIN"}, "notes": "first"}
    assert api.post("/api/v1/rules/routing", json=body, headers=admin.headers).status_code == 201
    one = api.get("/api/v1/rules/routing/versions/1", headers=operator.headers)
    assert one.status_code == 200, one.text
    assert (one.json()["version"], one.json()["notes"]) == (1, "first")
    assert one.json()["saved_by"] and one.json()["saved_at"].endswith(("Z", "+00:00"))
    missing = api.get("/api/v1/rules/routing/versions/7", headers=operator.headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "routing rules have no version 7; saved versions: 1"
    none_yet = api.get("/api/v1/rules/review/versions/1", headers=operator.headers)
    assert none_yet.status_code == 404 and "none is saved yet" in none_yet.json()["detail"]


def test_the_diff_compares_the_version_in_force_with_the_one_before_unless_told(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    admin, reader = user_for("admin"), user_for("customer_service")
    for code in ("WH-MAIN", "WH-LIVE"):
        _warehouse(api, admin, code)
    moved = {**LIVE, "outcome": {"warehouse": "WH-MAIN", "queue": "live"}}
    bulky = {
        "name": "bulky",
        "condition": {"field": "quantity", "op": "gte", "value": 20},
        "outcome": {"warehouse": "WH-MAIN"},
    }
    for rules, default in (
        ([LIVE], {"warehouse": "WH-MAIN"}),
        ([moved, bulky], {"warehouse": "WH-MAIN"}),
        ([bulky], {"warehouse": "WH-LIVE"}),
    ):
        saved = api.post(
            "/api/v1/rules/routing",
            json={"rules": rules, "default": default},
            headers=admin.headers,
        )
        assert saved.status_code == 201, saved.text

    latest = api.get("/api/v1/rules/routing/diff", headers=reader.headers).json()
    assert (latest["from_version"], latest["to_version"]) == (2, 3)
    assert [(r["name"], r["change"]) for r in latest["rules"]] == [
        ("live stream", "removed"),
        ("bulky", "unchanged"),
    ]
    assert latest["default_changed"] and latest["default_changes"] == [
        {"key": "warehouse", "before": "WH-MAIN", "after": "WH-LIVE"}
    ]

    chosen = api.get(
        "/api/v1/rules/routing/diff", params={"from": 1, "to": 2}, headers=reader.headers
    ).json()
    live = chosen["rules"][0]
    assert (live["change"], live["parts"]) == ("changed", ["outcome"])
    assert live["outcome_changes"] == [
        {"key": "warehouse", "before": "WH-LIVE", "after": "WH-MAIN"}
    ]
    assert chosen["rules"][1]["change"] == "added" and not chosen["default_changed"]

    first = api.get("/api/v1/rules/routing/diff", params={"to": 1}, headers=reader.headers).json()
    assert first["from_version"] == 0 and first["rules"][0]["change"] == "added"
    unknown = api.get("/api/v1/rules/routing/diff", params={"from": 9}, headers=reader.headers)
    assert unknown.status_code == 404 and "saved versions: 1, 2, 3" in unknown.json()["detail"]
    nothing = api.get("/api/v1/rules/review/diff", headers=reader.headers)
    assert nothing.status_code == 404 and "no review rules are saved yet" in nothing.text


def test_versions_and_diffs_need_rule_read(
    api: TestClient, user_for: Callable[[str], ApiUser]
) -> None:
    agent = user_for("agent")
    for path in ("/api/v1/rules/routing/versions/1", "/api/v1/rules/routing/diff"):
        refused = api.get(path, headers=agent.headers)
        assert refused.status_code == 403 and refused.json()["permission"] == "rule.read"
