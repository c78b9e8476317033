"""Stock on real SQLite and PostgreSQL: the ledger, and many writers racing for the last units."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.inventory import InsufficientStock
from orderhub.errors import PermissionDenied, ValidationFailed
from orderhub.permissions import permissions_of
from orderhub.services import catalogue, inventory
from orderhub.storage.tables import stock_movements

ADMIN = Actor(
    id="t", name="t", kind=ActorKind.SYSTEM, role="admin", permissions=permissions_of("admin")
)
# Size of the race: CI runs a small one, the full one runs outside CI.
WRITERS = int(os.environ.get("ORDERHUB_STOCK_RACE_WRITERS", "40"))


@pytest.fixture(autouse=True)
def _skus(hub: Hub) -> None:
    for sku in ("MUG-350", "TEE-M"):
        catalogue.add_product(hub.uow(), actor=ADMIN, sku=sku, title=sku)


def _ledger_sum(hub: Hub, sku: str) -> tuple[int, int]:
    with hub.engine.connect() as conn:
        row = conn.execute(
            select(
                func.sum(stock_movements.c.on_hand_delta),
                func.sum(stock_movements.c.reserved_delta),
            ).where(stock_movements.c.sku == sku)
        ).one()
    return int(row[0] or 0), int(row[1] or 0)


def test_goods_in_and_counts_move_the_level_and_the_ledger_says_why(hub: Hub) -> None:
    inventory.receive(
        hub.uow(),
        actor=ADMIN,
        sku="MUG-350",
        warehouse="WH-HZ",
        quantity=12,
        reason="delivery note 88",
    )
    level = inventory.adjust(
        hub.uow(),
        actor=ADMIN,
        sku="MUG-350",
        warehouse="WH-HZ",
        delta=-2,
        reason="two broken in the count",
    )
    assert (level.on_hand, level.reserved, level.available) == (10, 0, 10)
    history = inventory.history(hub.uow.read_only(), actor=ADMIN, sku="MUG-350")
    assert [(m["kind"], m["on_hand_delta"], m["on_hand_after"], m["reason"]) for m in history] == [
        ("adjust", -2, 10, "two broken in the count"),
        ("receive", 12, 12, "delivery note 88"),
    ]
    assert _ledger_sum(hub, "MUG-350") == (10, 0)


def test_a_count_cannot_take_stock_below_what_is_reserved(hub: Hub) -> None:
    inventory.receive(
        hub.uow(), actor=ADMIN, sku="MUG-350", warehouse="WH-HZ", quantity=3, reason="in"
    )
    inventory.reserve_for_order(
        hub.uow(), order_id=1, warehouse="WH-HZ", lines=[("MUG-350", 2)], source="test"
    )
    with pytest.raises(ValidationFailed, match="below what is reserved"):
        inventory.adjust(
            hub.uow(), actor=ADMIN, sku="MUG-350", warehouse="WH-HZ", delta=-2, reason="recount"
        )
    assert inventory.stock(hub.uow.read_only(), actor=ADMIN, sku="MUG-350")[0].available == 1


def test_an_order_is_reserved_whole_or_not_at_all(hub: Hub) -> None:
    inventory.receive(
        hub.uow(), actor=ADMIN, sku="MUG-350", warehouse="WH-HZ", quantity=5, reason="in"
    )
    inventory.receive(
        hub.uow(), actor=ADMIN, sku="TEE-M", warehouse="WH-HZ", quantity=1, reason="in"
    )
    with pytest.raises(InsufficientStock, match=r"TEE-M \(asked 2, available 1\)"):
        inventory.reserve_for_order(
            hub.uow(),
            order_id=7,
            warehouse="WH-HZ",
            lines=[("MUG-350", 2), ("TEE-M", 2)],
            source="test",
        )
    levels = {lv.sku: lv for lv in inventory.stock(hub.uow.read_only(), actor=ADMIN)}
    assert levels["MUG-350"].reserved == 0 and levels["TEE-M"].reserved == 0
    assert _ledger_sum(hub, "MUG-350") == (5, 0)


def test_many_writers_racing_for_the_last_units_never_oversell(hub: Hub) -> None:
    units = WRITERS // 4
    inventory.receive(
        hub.uow(),
        actor=ADMIN,
        sku="MUG-350",
        warehouse="WH-HZ",
        quantity=units,
        reason="the last units",
    )

    def buy(order_id: int) -> bool:
        try:
            inventory.reserve_for_order(
                hub.uow(),
                order_id=order_id,
                warehouse="WH-HZ",
                lines=[("MUG-350", 1)],
                source="race",
            )
        except InsufficientStock:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        won = sum(pool.map(buy, range(1, WRITERS + 1)))
    level = inventory.stock(hub.uow.read_only(), actor=ADMIN, sku="MUG-350")[0]
    assert won == units
    assert (level.on_hand, level.reserved, level.available) == (units, units, 0)
    assert _ledger_sum(hub, "MUG-350") == (units, units)  # the level is the sum of its ledger


def test_stock_changes_need_their_permission(hub: Hub) -> None:
    clerk = Actor(
        id="c", name="c", role="customer_service", permissions=permissions_of("customer_service")
    )
    with pytest.raises(PermissionDenied, match="stock.adjust"):
        inventory.receive(
            hub.uow(), actor=clerk, sku="MUG-350", warehouse="WH-HZ", quantity=1, reason="in"
        )
    assert inventory.stock(hub.uow.read_only(), actor=clerk) == []


def test_an_unknown_sku_is_refused(hub: Hub) -> None:
    with pytest.raises(ValidationFailed, match="not a merchant SKU"):
        inventory.receive(
            hub.uow(), actor=ADMIN, sku="NOPE", warehouse="WH-HZ", quantity=1, reason="in"
        )


def test_stock_over_the_api_needs_its_permissions_and_answers_levels(
    api: Any, user_for: Any
) -> None:
    warehouse, service = user_for("warehouse"), user_for("customer_service")
    body = {"sku": "MUG-350", "warehouse": "WH-HZ", "quantity": 6, "reason": "delivery 12"}
    refused = api.post("/api/v1/stock/receive", json=body, headers=service.headers)
    assert refused.status_code == 403 and refused.json()["permission"] == "stock.adjust"
    received = api.post("/api/v1/stock/receive", json=body, headers=warehouse.headers)
    assert received.status_code == 200 and received.json()["available"] == 6
    too_far = api.post(
        "/api/v1/stock/adjust",
        headers=warehouse.headers,
        json={"sku": "MUG-350", "warehouse": "WH-HZ", "delta": -7, "reason": "count"},
    )
    assert too_far.status_code == 422 and "below what is reserved" in too_far.json()["detail"]
    levels = api.get("/api/v1/stock?sku=MUG-350", headers=service.headers).json()
    assert levels == [
        {"sku": "MUG-350", "warehouse": "WH-HZ", "on_hand": 6, "reserved": 0, "available": 6}
    ]
    ledger = api.get("/api/v1/stock/MUG-350/movements", headers=service.headers).json()
    assert [m["reason"] for m in ledger] == ["delivery 12"]
