"""orders.state_since is written with every status change and shown on the order (SQLite, PG)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from orderhub.bootstrap import Hub
from tests.conftest import ApiUser
from tests.factories import T0, order_payload
from tests.unit.fakes import FakeClock

Users = Callable[[str], ApiUser]


def _since(body: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(body["state_since"]))


def test_state_since_follows_each_status_change_through_hold_and_release(
    hub: Hub, api: TestClient, user_for: Users
) -> None:
    clock = FakeClock(T0)
    hub.uow.clock = clock
    op = user_for("operator")
    created = api.post("/api/v1/orders", json=order_payload(), headers=op.headers).json()
    url = f"/api/v1/orders/{created['id']}"
    assert _since(created) == T0
    clock.advance(minutes=20)
    paid = api.post(f"{url}/actions/pay", headers=op.headers).json()
    assert (paid["status"], _since(paid)) == ("pending_review", T0 + timedelta(minutes=20))
    clock.advance(minutes=5)
    api.post(f"{url}/actions/hold", json={"reason_code": "risk"}, headers=op.headers)
    clock.advance(hours=2)
    api.post(f"{url}/actions/release", headers=op.headers)
    clock.advance(minutes=1)
    again = api.get(url, headers=op.headers).json()
    assert (again["status"], _since(again)) == (
        "pending_review",
        T0 + timedelta(minutes=20 + 5 + 120),
    )
