"""Splitting an order by hand: each parcel its own outbound order at its own simulated WMS, its
own tracking no and its own channel.shipment; the order ships with its last parcel."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from orderhub.bootstrap import Hub
from orderhub.domain.fulfilment import MessageKind
from orderhub.domain.orders import Order
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.integrations.wms.qimen.simulator import WmsSimOptions, start_wms_simulator
from orderhub.services import orders as order_service
from orderhub.services.channel_sync import pull_shop
from orderhub.services.fulfilment import parcels
from orderhub.services.fulfilment.parcels import ParcelAsked
from orderhub.storage.warehouse_queues import warehouse_queues
from tests.conftest import ApiUser
from tests.integration.fulfilment_kit import (
    ADMIN,
    SKUS,
    WAREHOUSE,
    WMS_CREDENTIALS,
    add_shops,
    sim,
    start_wms,
)
from tests.integration.fulfilment_kit import stock_balances as ledger_problems
from tests.integration.parcels.conftest import (
    OTHER_WAREHOUSE,
    commands,
    level,
    make_relay,
    outbound,
    paid_order,
    reload,
    timeline,
    two_warehouses,
    until,
)

A, B = SKUS[0], SKUS[1]


def test_a_split_order_ships_in_two_parcels_and_is_shipped_only_after_the_second(
    flow_hub: Hub,
    orderhub: RunningServer,
    wms: RunningServer,
    wms_u: RunningServer,
    channel_sims: dict[str, RunningServer],
    user_for: Callable[[str], ApiUser],
) -> None:
    every_sku = {sku: 50 for sku in SKUS}
    two_warehouses(flow_hub, wms, wms_u, stock_t=every_sku, stock_u=every_sku)
    taobao = {"taobao": channel_sims["taobao"]}
    code = add_shops(flow_hub, taobao)["taobao"]
    sim(taobao["taobao"], "POST", "orders", {"count": 12})
    pull_shop(flow_hub.uow, flow_hub.channels, code, review_required=False)
    order = _an_order_with_two_lines(flow_hub)
    assert order.status is OrderStatus.ALLOCATED  # its whole-order push waits in the outbox
    first, rest = _halves(order)

    answer = httpx.post(
        f"{orderhub.url}/api/v1/orders/{order.id}/split",
        json={
            "parcels": [
                {"lines": [{"sku": s, "quantity": q} for s, q in first]},
                {
                    "warehouse": OTHER_WAREHOUSE,
                    "lines": [{"sku": s, "quantity": q} for s, q in rest],
                },
            ],
            "reason": "ship what is in WH-T now",
        },
        headers=user_for("operator").headers,
    )
    assert answer.status_code == 200, answer.text
    numbers = [p["parcel_no"] for p in answer.json()["parcels"]]
    assert numbers == [f"OH{order.id:010d}-1", f"OH{order.id:010d}-2"]
    whole = commands(flow_hub, order.id, MessageKind.WMS_OUTBOUND_CREATE)
    assert [c["status"] for c in whole] == ["superseded", "pending", "pending"]

    relay = make_relay(flow_hub)
    until(
        flow_hub,
        relay,
        "the order to ship",
        lambda: reload(flow_hub, order).status is OrderStatus.SHIPPED,
    )
    at_t, at_u = outbound(wms)[numbers[0]], outbound(wms_u)[numbers[1]]
    assert f"OH{order.id:010d}" not in outbound(wms)  # the whole-order push never went
    assert at_t["tracking_no"] != at_u["tracking_no"]
    shipped = reload(flow_hub, order)
    assert shipped.stock_state == "shipped"

    actions = [e.action for e in timeline(flow_hub, order.id or 0)]
    assert actions.count("send_to_warehouse") == actions.count("ship") == 1
    assert actions.index("ship") > max(i for i, a in enumerate(actions) if a == "parcel_shipped")
    notes = [e for e in timeline(flow_hub, order.id or 0) if e.action == "parcel_shipped"]
    assert [n.reason.endswith(f"({i} of 2)") for i, n in enumerate(notes, start=1)] == [True, True]
    assert notes[0].to_status is not OrderStatus.SHIPPED  # the first parcel did not ship the order
    sent = commands(flow_hub, order.id, MessageKind.CHANNEL_SHIPMENT)
    told = {c["payload"]["tracking_no"]: c["payload"]["lines"] for c in sent}
    assert set(told) == {at_t["tracking_no"], at_u["tracking_no"]}
    by_channel_sku = {line.channel_sku or line.sku: line.quantity for line in order.lines}
    carried: dict[str, int] = {}
    for lines in told.values():
        for line in lines:
            carried[line["channel_sku"]] = carried.get(line["channel_sku"], 0) + line["quantity"]
    assert carried == by_channel_sku
    until(
        flow_hub,
        relay,
        "both shipments delivered to Taobao",
        lambda: all(
            c["status"] == "delivered"
            for c in commands(flow_hub, order.id, MessageKind.CHANNEL_SHIPMENT)
        ),
    )
    truth = sim(taobao["taobao"], "GET", "orders")["orders"][order.channel_order_no]
    assert {p["tracking_no"] for p in truth["parcels"]} == set(told)
    headers = user_for("operator").headers
    shown = httpx.get(f"{orderhub.url}/api/v1/orders/{order.id}", headers=headers).json()
    assert (shown["parcel_mode"], shown["tracking_no"]) == ("split", shipped.tracking_no)
    listed = httpx.get(f"{orderhub.url}/api/v1/orders/{order.id}/parcels", headers=headers).json()
    assert [(p["parcel_no"], p["status"], p["other_orders"]) for p in listed] == [
        (numbers[0], "shipped", []),
        (numbers[1], "shipped", []),
    ]
    assert {p["tracking_no"] for p in listed} == set(told)
    assert ledger_problems(flow_hub) == []
    relay.close()


def _an_order_with_two_lines(hub: Hub) -> Order:
    """A pulled order of two or more lines of plain SKUs, no combo (Taobao splits by whole line)."""
    with hub.uow.read_only() as uow:
        found = [uow.orders.get(i) for i in uow.orders.recent(50)]
    for order in found:
        skus = [line.sku for line in order.lines]
        plain = all(line.channel_sku in (None, line.sku) for line in order.lines)
        plain = plain and all(sku in SKUS for sku in skus) and len(set(skus)) == len(skus)
        if len(skus) >= 2 and plain and order.status is OrderStatus.ALLOCATED:
            return order
    raise AssertionError("no pulled order has two lines of plain SKUs; make more")


def _halves(order: Order) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The order's lines in two non-empty parts, whole lines each."""
    lines = [(line.sku, line.quantity) for line in order.lines]
    return lines[:1], lines[1:]


def test_a_manual_split_keeps_each_parcels_stock_in_its_own_warehouse(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 5, B: 5}, stock_u={A: 5, B: 5})
    order = paid_order(flow_hub, [(A, 2), (B, 1)])
    assert level(flow_hub, A) == (5, 2)
    parcels.split_order(
        flow_hub.uow(),
        order.id or 0,
        [ParcelAsked(((A, 1),)), ParcelAsked(((A, 1), (B, 1)), OTHER_WAREHOUSE)],
        actor=ADMIN,
    )
    assert level(flow_hub, A) == (5, 1) and level(flow_hub, B) == (5, 0)
    assert level(flow_hub, A, OTHER_WAREHOUSE) == (5, 1)
    assert level(flow_hub, B, OTHER_WAREHOUSE) == (5, 1)
    split = reload(flow_hub, order)
    assert (split.status, split.parcel_mode, split.stock_state) == (
        OrderStatus.ALLOCATED,
        "split",
        "parcels",
    )
    events = [e.action for e in timeline(flow_hub, order.id or 0)]
    assert events[-2:] == ["split", "parcels_handed_off"]
    assert ledger_problems(flow_hub) == []
    # Each warehouse's queue shows the order: one of its parcels waits there.
    with flow_hub.engine.connect() as conn:
        for code in (WAREHOUSE, OTHER_WAREHOUSE):
            waiting = warehouse_queues(conn, code)
            assert [o["id"] for o in waiting.orders] == [order.id], code
            assert waiting.overall.by_stage["allocated"] == 1


def test_a_split_that_does_not_add_up_is_refused_naming_the_difference(
    flow_hub: Hub,
    orderhub: RunningServer,
    wms: RunningServer,
    wms_u: RunningServer,
    user_for: Callable[[str], ApiUser],
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 5}, stock_u={A: 5})
    order = paid_order(flow_hub, [(A, 3)])
    answer = httpx.post(
        f"{orderhub.url}/api/v1/orders/{order.id}/split",
        json={
            "parcels": [
                {"lines": [{"sku": A, "quantity": 1}]},
                {"warehouse": OTHER_WAREHOUSE, "lines": [{"sku": A, "quantity": 1}]},
            ]
        },
        headers=user_for("operator").headers,
    )
    assert answer.status_code == 422
    assert f"{A}: the parcels carry 2, the order has 3 (1 missing)" in answer.json()["detail"]
    assert reload(flow_hub, order).parcel_mode is None


def test_a_split_after_the_warehouse_took_the_order_is_refused_with_what_to_do(
    flow_hub: Hub,
    orderhub: RunningServer,
    wms_u: RunningServer,
    user_for: Callable[[str], ApiUser],
) -> None:
    slow = start_wms(f"{orderhub.url}/api/v1/wms/{WAREHOUSE}/callbacks", ship_after_s=600)
    try:
        two_warehouses(flow_hub, slow, wms_u, stock_t={A: 5}, stock_u={A: 5})
        order = paid_order(flow_hub, [(A, 2)])
        make_relay(flow_hub).run_once()
        assert reload(flow_hub, order).status is OrderStatus.SENT_TO_WAREHOUSE
        answer = httpx.post(
            f"{orderhub.url}/api/v1/orders/{order.id}/split",
            json={
                "parcels": [
                    {"lines": [{"sku": A, "quantity": 1}]},
                    {"warehouse": OTHER_WAREHOUSE, "lines": [{"sku": A, "quantity": 1}]},
                ]
            },
            headers=user_for("operator").headers,
        )
        assert answer.status_code == 409
        problem = answer.json()
        assert problem["code"] == "split_refused"
        assert f"order {order.id} is sent_to_warehouse" in problem["detail"]
        assert "intercept it first" in problem["detail"]
    finally:
        slow.stop()


def test_a_split_needs_the_split_permission(
    flow_hub: Hub,
    orderhub: RunningServer,
    user_for: Callable[[str], ApiUser],
) -> None:
    answer = httpx.post(
        f"{orderhub.url}/api/v1/orders/1/split",
        json={"parcels": []},
        headers=user_for("customer_service").headers,
    )
    assert answer.status_code == 403
    assert "order.split" in answer.json()["detail"]


@pytest.mark.parametrize("action", [Action.CANCEL, Action.VOID])
def test_cancelling_a_split_order_releases_both_parcels_stock_and_withdraws_both_hand_offs(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer, action: Action
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 5}, stock_u={A: 5})
    order = paid_order(flow_hub, [(A, 3)])
    parcels.split_order(
        flow_hub.uow(),
        order.id or 0,
        [ParcelAsked(((A, 1),)), ParcelAsked(((A, 2),), OTHER_WAREHOUSE)],
        actor=ADMIN,
    )
    assert level(flow_hub, A) == (5, 1) and level(flow_hub, A, OTHER_WAREHOUSE) == (5, 2)
    order_service.apply_action(
        flow_hub.uow(), order.id or 0, action, actor=ADMIN, review_required=False, reason="test"
    )
    assert level(flow_hub, A) == (5, 0) and level(flow_hub, A, OTHER_WAREHOUSE) == (5, 0)
    pushes = commands(flow_hub, order.id, MessageKind.WMS_OUTBOUND_CREATE)
    assert [c["status"] for c in pushes] == ["superseded"] * 3
    found = parcels.order_parcels(flow_hub.uow(), order.id or 0, actor=ADMIN)
    assert [p.status.value for p in found] == ["cancelled", "cancelled"]
    assert reload(flow_hub, order).stock_state == "released"
    assert "parcels_cancelled" in [e.action for e in timeline(flow_hub, order.id or 0)]
    assert ledger_problems(flow_hub) == []


def test_a_channel_order_partly_shipped_by_its_first_parcel_waits_for_the_second_calmly(
    flow_hub: Hub,
    orderhub: RunningServer,
    wms: RunningServer,
    channel_sims: dict[str, RunningServer],
) -> None:
    slow_u = start_wms_simulator(
        callback_url=f"{orderhub.url}/api/v1/wms/{OTHER_WAREHOUSE}/callbacks",
        credentials=WMS_CREDENTIALS,
        options=WmsSimOptions(warehouse_code=OTHER_WAREHOUSE, ship_after_s=600),
    )
    try:
        every_sku = {sku: 50 for sku in SKUS}
        two_warehouses(flow_hub, wms, slow_u, stock_t=every_sku, stock_u=every_sku)
        taobao = channel_sims["taobao"]
        code = add_shops(flow_hub, {"taobao": taobao})["taobao"]
        sim(taobao, "POST", "orders", {"count": 12})
        pull_shop(flow_hub.uow, flow_hub.channels, code, review_required=False)
        order = _an_order_with_two_lines(flow_hub)
        first, rest = _halves(order)
        parcels.split_order(
            flow_hub.uow(),
            order.id or 0,
            [ParcelAsked(tuple(first)), ParcelAsked(tuple(rest), OTHER_WAREHOUSE)],
            actor=ADMIN,
        )
        relay = make_relay(flow_hub)
        until(
            flow_hub,
            relay,
            "Taobao told of the first parcel",
            lambda: (
                [c["status"] for c in commands(flow_hub, order.id, MessageKind.CHANNEL_SHIPMENT)]
                == ["delivered"]
            ),
        )
        truth = sim(taobao, "GET", "orders")["orders"][order.channel_order_no]
        assert truth["state"] == "partly_shipped"
        pull_shop(flow_hub.uow, flow_hub.channels, code, review_required=False)
        waiting = reload(flow_hub, order)
        assert waiting.status in (OrderStatus.SENT_TO_WAREHOUSE, OrderStatus.PICKING)
        assert waiting.exception_reason is None
        relay.close()
    finally:
        slow_u.stop()
