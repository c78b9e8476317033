"""The orders API over HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ApiUser
from tests.factories import order_payload

Users = Callable[[str], ApiUser]


def _create(api: TestClient, who: ApiUser, **changes: Any) -> dict[str, Any]:
    response = api.post("/api/v1/orders", json=order_payload(**changes), headers=who.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _count(api: TestClient, who: ApiUser) -> int:
    total: int = api.get("/api/v1/orders/counts", headers=who.headers).json()["total"]
    return total


def test_creating_an_order_returns_it_with_its_location(api: TestClient, user_for: Users) -> None:
    op = user_for("operator")
    response = api.post("/api/v1/orders", json=order_payload(), headers=op.headers)
    assert response.status_code == 201
    order = response.json()
    assert response.headers["location"] == f"/api/v1/orders/{order['id']}"
    assert order["status"] == "pending_payment"
    assert order["amounts"]["paid_total"] == 15800
    assert order["channel_order_no"].startswith("M")
    assert order["allowed_actions"] == ["pay", "cancel", "void", "raise_exception"]


def test_same_idempotency_key_and_body_returns_the_first_result(
    api: TestClient, user_for: Users
) -> None:
    op = user_for("operator")
    headers = {**op.headers, "Idempotency-Key": "order-42"}
    first = api.post("/api/v1/orders", json=order_payload(), headers=headers)
    again = api.post("/api/v1/orders", json=order_payload(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(api, op) == 1


def test_same_idempotency_key_with_another_body_is_409(api: TestClient, user_for: Users) -> None:
    op = user_for("operator")
    headers = {**op.headers, "Idempotency-Key": "order-42"}
    api.post("/api/v1/orders", json=order_payload(), headers=headers)
    response = api.post("/api/v1/orders", json=order_payload(shop="other"), headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert "different body" in response.json()["detail"]
    assert _count(api, op) == 1


def _bad_payloads() -> dict[str, tuple[dict[str, Any], str]]:
    good = order_payload()
    float_amount = {**good, "amounts": {**good["amounts"], "goods_total": 153.0}}
    wrong_total = {**good, "amounts": {**good["amounts"], "paid_total": 15000}}
    no_phone = {**good, "receiver": {k: v for k, v in good["receiver"].items() if k != "phone"}}
    empty_phone = {**good, "receiver": {**good["receiver"], "phone": ""}}
    return {
        "float amount": (float_amount, "never decimals"),
        "totals that do not add up": (wrong_total, "(difference -800)"),
        "unknown status": ({**good, "status": "teleported"}, "status: Input should be"),
        "status a new order cannot start in": (
            {**good, "status": "shipped"},
            "starts as pending_payment or paid",
        ),
        "missing receiver phone": (no_phone, "receiver.phone is missing"),
        "empty receiver phone": (empty_phone, "receiver.phone is missing"),
        "unknown field": ({**good, "colour": "red"}, "colour is not a known field"),
    }


def test_bad_payloads_get_a_clear_422_and_create_nothing(api: TestClient, user_for: Users) -> None:
    op = user_for("operator")
    for case, (payload, expected) in _bad_payloads().items():
        response = api.post("/api/v1/orders", json=payload, headers=op.headers)
        assert response.status_code == 422, case
        assert response.headers["content-type"] == "application/problem+json", case
        problem = response.json()
        assert expected in problem["detail"], (case, problem["detail"])
        assert "Traceback" not in response.text
    assert _count(api, op) == 0


def test_malformed_json_is_a_422_problem(api: TestClient, user_for: Users) -> None:
    op = user_for("operator")
    response = api.post(
        "/api/v1/orders",
        content=b"{not json",
        headers={**op.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


def test_an_illegal_transition_is_409_naming_state_and_allowed_actions(
    api: TestClient, user_for: Users
) -> None:
    op = user_for("operator")
    order = _create(api, op)
    response = api.post(f"/api/v1/orders/{order['id']}/actions/approve", headers=op.headers)
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "illegal_transition"
    assert "is pending_payment; 'approve' is not allowed" in problem["detail"]
    assert problem["allowed"] == ["pay", "cancel", "void", "raise_exception"]
    after = api.get(f"/api/v1/orders/{order['id']}", headers=op.headers).json()
    assert (after["status"], after["version"]) == ("pending_payment", 1)


def test_a_missing_permission_is_403_naming_it_and_changes_nothing(
    api: TestClient, user_for: Users
) -> None:
    op = user_for("operator")
    order = _create(api, op)
    response = api.post(
        f"/api/v1/orders/{order['id']}/actions/void", json={"reason": "dup"}, headers=op.headers
    )
    assert response.status_code == 403
    assert response.json()["permission"] == "order.void"
    assert "lacks the permission 'order.void'" in response.json()["detail"]
    timeline = api.get(f"/api/v1/orders/{order['id']}/timeline", headers=op.headers).json()
    assert [e["action"] for e in timeline["events"]] == ["create"]
    warehouse = user_for("warehouse")
    refused = api.post("/api/v1/orders", json=order_payload(), headers=warehouse.headers)
    assert refused.status_code == 403 and refused.json()["permission"] == "order.create"
    assert _count(api, op) == 1


def test_no_credentials_is_401_and_a_revoked_token_too(api: TestClient, user_for: Users) -> None:
    assert api.get("/api/v1/orders").status_code == 401
    op = user_for("operator")
    tokens = api.get("/api/v1/tokens", headers=op.headers).json()
    assert api.delete(f"/api/v1/tokens/{tokens[0]['id']}", headers=op.headers).status_code == 204
    response = api.get("/api/v1/orders", headers=op.headers)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_paying_then_approving_moves_the_order_and_grows_the_timeline(
    api: TestClient, user_for: Users
) -> None:
    op = user_for("operator")
    order = _create(api, op)
    paid = api.post(
        f"/api/v1/orders/{order['id']}/actions/pay",
        json={"params": {"payment_method": "alipay", "transaction_no": "T1"}},
        headers={**op.headers, "X-Correlation-Id": "corr-1"},
    ).json()
    assert (paid["status"], paid["payment_status"], paid["transaction_no"]) == (
        "pending_review",
        "paid",
        "T1",
    )
    api.post(f"/api/v1/orders/{order['id']}/actions/approve", headers=op.headers)
    timeline = api.get(f"/api/v1/orders/{order['id']}/timeline", headers=op.headers).json()
    assert [
        (e["action"], e["from_status"], e["to_status"], e["actor"]) for e in timeline["events"]
    ] == [
        ("create", None, "pending_payment", "operator-user"),
        ("pay", "pending_payment", "paid", "operator-user"),
        ("submit_review", "paid", "pending_review", "system"),
        ("approve", "pending_review", "approved", "operator-user"),
    ]
    assert timeline["events"][1]["correlation_id"] == "corr-1"
    assert set(timeline["seconds_in_state"]) == {
        "pending_payment",
        "paid",
        "pending_review",
        "approved",
    }
    assert timeline["stays"][-1]["left_at"] is None


def test_hold_needs_a_reason_code_and_counts_show_it(api: TestClient, user_for: Users) -> None:
    op = user_for("operator")
    order = _create(api, op, status="paid")
    url = f"/api/v1/orders/{order['id']}/actions/hold"
    assert api.post(url, headers=op.headers).status_code == 422
    held = api.post(
        url, json={"reason_code": "address_changed", "reason": "买家改地址"}, headers=op.headers
    ).json()
    assert (held["status"], held["exception_reason"], held["resume_status"]) == (
        "on_hold",
        "address_changed",
        "pending_review",
    )
    counts = api.get("/api/v1/orders/counts", headers=op.headers).json()
    assert counts["by_exception_reason"] == {"address_changed": 1}
    released = api.post(f"/api/v1/orders/{order['id']}/actions/release", headers=op.headers).json()
    assert released["status"] == "pending_review"


def test_a_batch_reports_per_order_and_one_failure_does_not_undo_others(
    api: TestClient, user_for: Users
) -> None:
    op = user_for("operator")
    a, b = _create(api, op), _create(api, op, status="paid")
    response = api.post(
        "/api/v1/orders/actions/pay",
        json={"order_ids": [a["id"], b["id"], 999]},
        headers=op.headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["succeeded"], body["failed"]) == (1, 2)
    assert [(r["order_id"], r["ok"], r["error_code"]) for r in body["results"]] == [
        (a["id"], True, None),
        (b["id"], False, "illegal_transition"),
        (999, False, "not_found"),
    ]
    assert (
        api.get(f"/api/v1/orders/{a['id']}", headers=op.headers).json()["status"]
        == "pending_review"
    )


def test_a_batch_of_an_action_the_role_lacks_is_refused_whole(
    api: TestClient, user_for: Users
) -> None:
    op = user_for("operator")
    a = _create(api, op)
    response = api.post(
        "/api/v1/orders/actions/void",
        json={"order_ids": [a["id"]], "reason": "dup"},
        headers=op.headers,
    )
    assert response.status_code == 403


def test_receiver_edits_are_allowed_before_the_warehouse_and_refused_after(
    api: TestClient, user_for: Users
) -> None:
    op, sup = user_for("operator"), user_for("supervisor")
    order = _create(api, op, status="paid")
    new_receiver = {**order_payload()["receiver"], "name": "李四", "phone": "13900009999"}
    edited = api.patch(
        f"/api/v1/orders/{order['id']}",
        json={"receiver": new_receiver, "seller_note": "改地址"},
        headers=op.headers,
    )
    assert edited.status_code == 200
    assert (edited.json()["receiver"]["name"], edited.json()["seller_note"]) == ("李四", "改地址")
    for action, body in (
        ("approve", None),
        ("allocate", {"params": {"warehouse": "WH-HZ"}}),
        ("send_to_warehouse", None),
    ):
        assert (
            api.post(
                f"/api/v1/orders/{order['id']}/actions/{action}", json=body, headers=sup.headers
            ).status_code
            == 200
        )
    refused = api.patch(
        f"/api/v1/orders/{order['id']}", json={"seller_note": "too late"}, headers=op.headers
    )
    assert refused.status_code == 409
    assert "before the order reaches the warehouse" in refused.json()["detail"]
    assert (
        api.get(f"/api/v1/orders/{order['id']}", headers=op.headers).json()["seller_note"]
        == "改地址"
    )


def test_list_filters_by_status_tag_channel_and_text(api: TestClient, user_for: Users) -> None:
    op = user_for("operator")
    live = _create(api, op, tags=["#LIVE2026"], channel="taobao", channel_order_no="3300001")
    plain = _create(
        api, op, tags=[], receiver={**order_payload()["receiver"], "phone": "13911112222"}
    )
    _create(api, op, status="paid", tags=["VIP"])

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/v1/orders?{query}", headers=op.headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids("tag=%23LIVE2026") == [live["id"]]
    assert ids("channel=taobao") == [live["id"]]
    assert len(ids("status=pending_payment")) == 2
    assert len(ids("status=pending_payment&status=pending_review")) == 3
    assert ids("q=3300") == [live["id"]]
    assert ids("q=13911112222") == [plain["id"]]
    assert ids(f"q={plain['id']}") == [plain["id"]]
    assert ids("created_from=2000-01-01T00:00:00Z&created_to=2000-01-02T00:00:00Z") == []
    bad = api.get("/api/v1/orders?status=teleported", headers=op.headers)
    assert bad.status_code == 422 and "status" in bad.json()["detail"]


def test_cursor_pagination_visits_every_order_once(api: TestClient, user_for: Users) -> None:
    op = user_for("operator")
    created = {_create(api, op)["id"] for _ in range(7)}
    seen: list[int] = []
    cursor = None
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(f"/api/v1/orders?{query}", headers=op.headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created, reverse=True)
    bad = api.get("/api/v1/orders?cursor=garbage!", headers=op.headers)
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]


def test_csv_export_streams_the_filtered_orders(api: TestClient, user_for: Users) -> None:
    op = user_for("operator")
    _create(api, op, buyer_nick='=HYPERLINK("x")')
    _create(api, op, status="paid")
    with api.stream(
        "GET", "/api/v1/orders/export.csv?status=pending_payment", headers=op.headers
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        text = "".join(response.iter_text()).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert rows[0]["paid_total"] == "158.00"
    assert rows[0]["buyer_nick"].startswith("'=")  # no formula injection into spreadsheets
    assert (
        user_for("warehouse")
        and api.get("/api/v1/orders/export.csv", headers=user_for("warehouse").headers).status_code
        == 403
    )


def test_custom_fields_are_declared_then_validated_on_orders(
    api: TestClient, user_for: Users
) -> None:
    admin, op = user_for("admin"), user_for("operator")
    declared = api.post(
        "/api/v1/custom-fields",
        json={"name": "gift_wrap", "type": "boolean"},
        headers=admin.headers,
    )
    assert declared.status_code == 201
    assert (
        api.post(
            "/api/v1/custom-fields", json={"name": "x", "type": "text"}, headers=op.headers
        ).status_code
        == 403
    )
    ok = _create(api, op, custom_fields={"gift_wrap": True})
    assert ok["custom_fields"] == {"gift_wrap": True}
    bad = api.post(
        "/api/v1/orders", json=order_payload(custom_fields={"gift_wrap": "yes"}), headers=op.headers
    )
    assert bad.status_code == 422 and "expected a boolean" in bad.json()["detail"]


def test_duplicate_channel_order_is_409(api: TestClient, user_for: Users) -> None:
    op = user_for("operator")
    _create(api, op, channel="jd", channel_order_no="JD-1")
    again = api.post(
        "/api/v1/orders",
        json=order_payload(channel="jd", channel_order_no="JD-1"),
        headers=op.headers,
    )
    assert again.status_code == 409 and again.json()["code"] == "duplicate_order"


def test_unknown_order_is_404_problem(api: TestClient, user_for: Users) -> None:
    response = api.get("/api/v1/orders/424242", headers=user_for("operator").headers)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:orderhub:problem:not_found"


def test_tokens_act_with_their_users_role(api: TestClient, user_for: Users) -> None:
    me = api.get("/api/v1/me", headers=user_for("supervisor").headers).json()
    assert me["role"] == "supervisor" and me["kind"] == "token"
    assert "order.void" in me["permissions"]


def test_csv_export_arrives_in_chunks_not_one_body(
    api: TestClient, user_for: Users, hub: Any
) -> None:
    from orderhub.domain.actors import Actor
    from orderhub.permissions import permissions_of
    from orderhub.services import orders
    from tests.factories import an_order

    actor = Actor(id="seed", name="seed", permissions=permissions_of("admin"))
    for n in range(1200):
        orders.create_order(
            hub.uow(), an_order(channel_order_no=f"BULK-{n}"), actor=actor, review_required=True
        )
    with api.stream(
        "GET", "/api/v1/orders/export.csv", headers=user_for("operator").headers
    ) as response:
        chunks = [chunk for chunk in response.iter_raw() if chunk]
    assert len(chunks) >= 3  # a batch of rows per chunk: memory stays flat however many rows
    assert b"".join(chunks).count(b"BULK-") == 1200
