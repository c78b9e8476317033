"""The fulfilment pipeline's operator API: warehouses (/api/v1/warehouses) and the outbox
(/api/v1/outbox), each behind its permission."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from orderhub.bootstrap import Hub
from orderhub.services.ports import Command
from orderhub.storage.outbox import INSERT_MESSAGES, command_row
from orderhub.storage.tables import outbox, outbox_attempts
from tests.conftest import ApiUser

UserFor = Callable[[str], ApiUser]
QIMEN = {
    "code": "WH-EAST",
    "name": "East warehouse",
    "wms": "qimen",
    "base_url": "http://127.0.0.1:9/router",
    "credentials": {"app_key": "east-key", "secret": "east-secret", "customer_id": "C001"},
    "rate_per_s": 20,
}


def put_messages(hub: Hub, statuses: Sequence[tuple[str, str]]) -> list[int]:
    """Outbox rows (target, status) as the unit of work writes them; failed ones carry an
    attempt and its error, the way the relay leaves them."""
    with hub.uow() as uow:
        now = uow.clock.now()
        rows = [
            command_row(
                Command(
                    target=target,
                    kind="wms.outbound.create",
                    payload={"order_no": f"SO-{n}", "items": [{"sku": "MUG-350", "qty": 1}]},
                    order_id=1000 + n,
                ),
                now,
            )
            for n, (target, _) in enumerate(statuses)
        ]
        uow.connection.execute(INSERT_MESSAGES, rows)
        ids = list(
            uow.connection.execute(select(outbox.c.id).order_by(outbox.c.id.desc())).scalars().all()
        )[: len(statuses)][::-1]
        for message_id, (_, status) in zip(ids, statuses, strict=True):
            if status == "pending":
                continue
            failed = status in ("dead", "refused")
            error = f"connection refused by {status} test receiver" if failed else None
            uow.connection.execute(
                update(outbox)
                .where(outbox.c.id == message_id)
                .values(
                    status=status,
                    attempts=1,
                    last_error=error,
                    delivered_at=None if failed else now,
                )
            )
            uow.connection.execute(
                outbox_attempts.insert(),
                {
                    "outbox_id": message_id,
                    "at": now + timedelta(seconds=1),
                    "outcome": "failed" if failed else "delivered",
                    "detail": error,
                    "worker": "test-worker",
                },
            )
        uow.commit()
    return ids


def test_a_warehouse_is_added_read_and_changed_without_its_secret_ever_shown(
    api: TestClient, user_for: UserFor
) -> None:
    admin = user_for("admin").headers
    created = api.post("/api/v1/warehouses", json=QIMEN, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["has_secret"] is True and body["app_key"] == "east-key"
    assert body["customer_id"] == "C001" and body["rate_per_s"] == 20
    assert "east-secret" not in created.text and "secret" not in body

    listed = api.get("/api/v1/warehouses", headers=admin)
    assert [w["code"] for w in listed.json()] == ["WH-EAST"]
    assert "east-secret" not in listed.text

    changed = api.patch(
        "/api/v1/warehouses/WH-EAST",
        json={"enabled": False, "credentials": {"app_key": "east-key-2"}},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    one = api.get("/api/v1/warehouses/WH-EAST", headers=admin).json()
    # Changing the app key alone keeps the stored secret and customer id.
    assert one["enabled"] is False and one["app_key"] == "east-key-2"
    assert one["has_secret"] is True and one["customer_id"] == "C001"


def test_a_warehouse_that_cannot_work_is_refused_naming_the_field(
    api: TestClient, user_for: UserFor
) -> None:
    admin = user_for("admin").headers
    bad_url = api.post("/api/v1/warehouses", json={**QIMEN, "base_url": "ftp://x"}, headers=admin)
    assert bad_url.status_code == 422
    assert bad_url.headers["content-type"].startswith("application/problem+json")
    assert bad_url.json()["field"] == "base_url" and "ftp://x" in bad_url.json()["detail"]

    unknown = api.post("/api/v1/warehouses", json={**QIMEN, "wms": "sap"}, headers=admin)
    assert unknown.status_code == 422 and "qimen" in unknown.json()["detail"]

    bad_code = api.post("/api/v1/warehouses", json={**QIMEN, "code": "east wh"}, headers=admin)
    assert bad_code.status_code == 422 and bad_code.json()["field"] == "code"

    no_rate = api.post("/api/v1/warehouses", json={**QIMEN, "rate_per_s": 0}, headers=admin)
    assert no_rate.status_code == 422

    extra = api.post("/api/v1/warehouses", json={**QIMEN, "colour": "red"}, headers=admin)
    assert extra.status_code == 422 and "colour" in extra.json()["detail"]

    assert api.post("/api/v1/warehouses", json=QIMEN, headers=admin).status_code == 201
    again = api.post("/api/v1/warehouses", json=QIMEN, headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "already_exists"

    missing = api.get("/api/v1/warehouses/WH-NOWHERE", headers=admin)
    assert missing.status_code == 404 and "orderhub warehouses add" in missing.json()["detail"]
    patch_missing = api.patch("/api/v1/warehouses/WH-NOWHERE", json={"name": "x"}, headers=admin)
    assert patch_missing.status_code == 404


def test_a_role_without_warehouse_manage_reads_warehouses_but_cannot_add_them(
    api: TestClient, user_for: UserFor
) -> None:
    supervisor = user_for("supervisor").headers
    assert api.get("/api/v1/warehouses", headers=supervisor).status_code == 200
    refused = api.post("/api/v1/warehouses", json=QIMEN, headers=supervisor)
    assert refused.status_code == 403 and refused.json()["permission"] == "warehouse.manage"
    patch = api.patch("/api/v1/warehouses/WH-EAST", json={"name": "x"}, headers=supervisor)
    assert patch.status_code == 403

    agent = api.get("/api/v1/warehouses", headers=user_for("agent").headers)
    assert agent.status_code == 403 and agent.json()["permission"] == "warehouse.read"


def test_outbox_counts_are_per_target_and_status(
    hub: Hub, api: TestClient, user_for: UserFor
) -> None:
    put_messages(
        hub,
        [
            ("wms:WH-EAST", "pending"),
            ("wms:WH-EAST", "dead"),
            ("wms:WH-EAST", "dead"),
            ("wms:WH-EAST", "delivered"),
            ("channel:tb-1", "refused"),
        ],
    )
    response = api.get("/api/v1/outbox/counts", headers=user_for("warehouse").headers)
    assert response.status_code == 200
    assert sorted((c["target"], c["status"], c["count"]) for c in response.json()) == [
        ("channel:tb-1", "refused", 1),
        ("wms:WH-EAST", "dead", 2),
        ("wms:WH-EAST", "delivered", 1),
        ("wms:WH-EAST", "pending", 1),
    ]


def test_the_outbox_list_filters_and_pages_back_by_id(
    hub: Hub, api: TestClient, user_for: UserFor
) -> None:
    ids = put_messages(hub, [("wms:WH-EAST", "dead")] * 3 + [("channel:tb-1", "delivered")])
    headers = user_for("operator").headers
    first = api.get("/api/v1/outbox?status=dead&limit=2", headers=headers).json()
    assert [m["id"] for m in first["items"]] == [ids[2], ids[1]]
    assert first["items"][0]["last_error"] == "connection refused by dead test receiver"
    assert first["items"][0]["kind"] == "wms.outbound.create"
    assert first["next_before_id"] == ids[1]
    rest = api.get(
        f"/api/v1/outbox?status=dead&limit=2&before_id={first['next_before_id']}", headers=headers
    ).json()
    assert [m["id"] for m in rest["items"]] == [ids[0]] and rest["next_before_id"] is None

    by_target = api.get("/api/v1/outbox?target=channel:tb-1", headers=headers).json()
    assert [m["id"] for m in by_target["items"]] == [ids[3]]
    by_order = api.get("/api/v1/outbox?order_id=1001", headers=headers).json()
    assert [m["id"] for m in by_order["items"]] == [ids[1]]

    unknown = api.get("/api/v1/outbox?status=lost", headers=headers)
    assert unknown.status_code == 422 and "dead" in unknown.json()["detail"]


def test_an_outbox_message_shows_its_payload_and_every_attempt(
    hub: Hub, api: TestClient, user_for: UserFor
) -> None:
    (dead,) = put_messages(hub, [("wms:WH-EAST", "dead")])
    response = api.get(f"/api/v1/outbox/{dead}", headers=user_for("operator").headers)
    assert response.status_code == 200
    body = response.json()
    assert body["payload"]["order_no"] == "SO-0" and body["status"] == "dead"
    assert [(a["outcome"], a["worker"]) for a in body["attempt_log"]] == [("failed", "test-worker")]
    missing = api.get("/api/v1/outbox/999999", headers=user_for("operator").headers)
    assert missing.status_code == 404 and "orderhub outbox list" in missing.json()["detail"]


def test_retrying_a_dead_message_makes_it_pending_and_a_delivered_one_is_refused(
    hub: Hub, api: TestClient, user_for: UserFor
) -> None:
    dead, delivered = put_messages(hub, [("wms:WH-EAST", "dead"), ("wms:WH-EAST", "delivered")])
    headers = user_for("operator").headers
    retried = api.post(f"/api/v1/outbox/{dead}/retry", headers=headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending" and retried.json()["attempts"] == 0
    shown = api.get(f"/api/v1/outbox/{dead}", headers=headers).json()
    assert shown["status"] == "pending" and shown["attempts"] == 0
    # The history of the failed tries stays: the attempt log is not wiped by a replay.
    assert len(shown["attempt_log"]) == 1

    refused = api.post(f"/api/v1/outbox/{delivered}/retry", headers=headers)
    assert refused.status_code == 422
    assert f"outbox message {delivered} is delivered" in refused.json()["detail"]
    assert api.get(f"/api/v1/outbox/{delivered}", headers=headers).json()["status"] == "delivered"


def test_the_outbox_needs_outbox_read_and_a_retry_needs_outbox_replay(
    hub: Hub, api: TestClient, user_for: UserFor
) -> None:
    (dead,) = put_messages(hub, [("wms:WH-EAST", "dead")])
    service = user_for("customer_service").headers
    for path in ("/api/v1/outbox/counts", "/api/v1/outbox", f"/api/v1/outbox/{dead}"):
        refused = api.get(path, headers=service)
        assert refused.status_code == 403 and refused.json()["permission"] == "outbox.read"
    warehouse = user_for("warehouse").headers
    assert api.get(f"/api/v1/outbox/{dead}", headers=warehouse).status_code == 200
    retry = api.post(f"/api/v1/outbox/{dead}/retry", headers=warehouse)
    assert retry.status_code == 403 and retry.json()["permission"] == "outbox.replay"
    assert api.get(f"/api/v1/outbox/{dead}", headers=warehouse).json()["status"] == "dead"
