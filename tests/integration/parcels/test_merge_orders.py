"""Merging orders of one buyer to one receiver: one outbound order at the simulated WMS, one
tracking no for all, each order's channel told; undone before the hand-off; refused with reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from orderhub.bootstrap import Hub, bootstrap
from orderhub.domain.fulfilment import MessageKind
from orderhub.domain.mapping import ChannelState
from orderhub.domain.orders import Order
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.errors import EditRefused
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.services import orders as order_service
from orderhub.services.channel_sync import pull_shop
from orderhub.services.fulfilment import parcels
from orderhub.worker.scheduler import Scheduler
from tests.conftest import ApiUser
from tests.integration.fulfilment_kit import ADMIN, SKUS, WAREHOUSE, add_shops, sim, start_wms
from tests.integration.fulfilment_kit import stock_balances as ledger_problems
from tests.integration.parcels.conftest import (
    RECEIVER,
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


def _both_shipped(hub: Hub, *orders: Order) -> Callable[[], bool]:
    return lambda: all(reload(hub, o).status is OrderStatus.SHIPPED for o in orders)


def test_two_orders_of_one_buyer_merge_into_one_outbound_and_ship_with_one_tracking_no(
    flow_hub: Hub,
    orderhub: RunningServer,
    wms: RunningServer,
    wms_u: RunningServer,
    channel_sims: dict[str, RunningServer],
    user_for: Callable[[str], ApiUser],
) -> None:
    every_sku = {sku: 100 for sku in SKUS}
    two_warehouses(flow_hub, wms, wms_u, stock_t=every_sku, stock_u={})
    taobao = channel_sims["taobao"]
    code = add_shops(flow_hub, {"taobao": taobao})["taobao"]
    first_no, second_no = _same_buyer_orders(taobao)
    pull_shop(flow_hub.uow, flow_hub.channels, code, review_required=False)
    first, second = (_by_no(flow_hub, no) for no in (first_no, second_no))
    assert first.status is second.status is OrderStatus.ALLOCATED

    answer = httpx.post(
        f"{orderhub.url}/api/v1/orders/merge",
        json={"order_ids": [first.id, second.id]},
        headers=user_for("operator").headers,
    )
    assert answer.status_code == 201, answer.text
    parcel_no = answer.json()["parcel_no"]
    assert parcel_no.startswith("OM") and answer.json()["orders"] == [first.id, second.id]
    assert [c["status"] for c in commands(flow_hub, first.id, MessageKind.WMS_OUTBOUND_CREATE)] == [
        "superseded",
        "pending",
    ]

    relay = make_relay(flow_hub)
    until(flow_hub, relay, "both orders shipped", _both_shipped(flow_hub, first, second))
    assert list(outbound(wms)) == [parcel_no]
    merged = outbound(wms)[parcel_no]
    carried = sorted((line["sku"], line["quantity"]) for line in merged["lines"])
    ordered = sorted((line.sku, line.quantity) for o in (first, second) for line in o.lines)
    assert carried == ordered
    a, b = reload(flow_hub, first), reload(flow_hub, second)
    assert a.tracking_no == b.tracking_no == merged["tracking_no"]
    for order in (a, b):
        told = commands(flow_hub, order.id, MessageKind.CHANNEL_SHIPMENT)
        assert [(c["payload"]["tracking_no"], c["payload"].get("lines")) for c in told] == [
            (merged["tracking_no"], None)
        ]
    until(
        flow_hub,
        relay,
        "Taobao told of both",
        lambda: all(
            c["status"] == "delivered"
            for c in commands(flow_hub, kind=MessageKind.CHANNEL_SHIPMENT)
        ),
    )
    truth = sim(taobao, "GET", "orders")["orders"]
    assert truth[first_no]["tracking_no"] == truth[second_no]["tracking_no"] == a.tracking_no
    note = next(e for e in timeline(flow_hub, a.id or 0) if e.action == "parcel_shipped")
    assert note.reason is not None and f"with orders {b.id}" in note.reason
    assert ledger_problems(flow_hub) == []
    relay.close()


def _same_buyer_orders(taobao: RunningServer) -> tuple[str, str]:
    """Two paid orders at the Taobao simulator from one buyer to one receiver (the second one
    changed at the channel to match the first, as a buyer ordering twice would)."""
    store = taobao.app.state.store
    # A minute ago, so the changes (each a second after the last) are inside the next pull.
    store.now = lambda: datetime.now(UTC) - timedelta(minutes=1)
    first, second = store.create(2)
    paid = {"state": ChannelState.PAID, "paid_at": first.created_at}
    store.change(first.no, **paid)
    store.change(
        second.no,
        buyer_id=first.buyer_id,
        buyer_nick=first.buyer_nick,
        receiver=dict(first.receiver),
        **paid,
    )
    return first.no, second.no


def _by_no(hub: Hub, no: str) -> Order:
    with hub.uow.read_only() as uow:
        found = [uow.orders.get(i) for i in uow.orders.recent(10)]
    return next(o for o in found if o.channel_order_no == no)


def test_undoing_a_merge_before_the_hand_off_gives_each_order_its_own_hand_off_again(
    flow_hub: Hub,
    orderhub: RunningServer,
    wms: RunningServer,
    wms_u: RunningServer,
    user_for: Callable[[str], ApiUser],
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 5, B: 5}, stock_u={})
    first, second = paid_order(flow_hub, [(A, 1)]), paid_order(flow_hub, [(B, 2)])
    parcel = parcels.merge_orders(flow_hub.uow(), [first.id or 0, second.id or 0], actor=ADMIN)

    answer = httpx.post(
        f"{orderhub.url}/api/v1/parcels/{parcel.parcel_no}/unmerge",
        json={"reason": "the buyer wants them apart"},
        headers=user_for("operator").headers,
    )
    assert answer.status_code == 200, answer.text
    assert [o["never_merge"] for o in answer.json()["orders"]] == [True, True]
    for order in (first, second):
        pushes = commands(flow_hub, order.id, MessageKind.WMS_OUTBOUND_CREATE)
        assert [(c["payload"]["outbound_no"], c["status"]) for c in pushes][-1] == (
            f"OH{order.id:010d}",
            "pending",
        )
        back = reload(flow_hub, order)
        assert (back.parcel_mode, back.never_merge) == (None, True)
        assert [e.action for e in timeline(flow_hub, order.id or 0)][-2:] == ["merged", "unmerged"]
    merged_push = commands(flow_hub, first.id, MessageKind.WMS_OUTBOUND_CREATE)[1]
    assert (merged_push["payload"]["outbound_no"], merged_push["status"]) == (
        parcel.parcel_no,
        "superseded",
    )
    assert parcels.get_parcel(flow_hub.uow(), parcel.parcel_no, actor=ADMIN).status.value == (
        "cancelled"
    )

    relay = make_relay(flow_hub)
    until(flow_hub, relay, "both orders shipped", _both_shipped(flow_hub, first, second))
    shipped = outbound(wms)
    assert set(shipped) == {f"OH{first.id:010d}", f"OH{second.id:010d}"}
    assert len({o["tracking_no"] for o in shipped.values()}) == 2
    assert level(flow_hub, A) == (4, 0) and level(flow_hub, B) == (3, 0)
    assert ledger_problems(flow_hub) == []
    relay.close()


def test_a_merge_is_refused_for_a_different_receiver_a_never_merge_order_and_a_handed_off_one(
    flow_hub: Hub,
    orderhub: RunningServer,
    wms_u: RunningServer,
    user_for: Callable[[str], ApiUser],
) -> None:
    slow = start_wms(f"{orderhub.url}/api/v1/wms/{WAREHOUSE}/callbacks", ship_after_s=600)
    try:
        two_warehouses(flow_hub, slow, wms_u, stock_t={A: 10}, stock_u={})
        headers = user_for("operator").headers

        def merge(*orders: Order) -> httpx.Response:
            return httpx.post(
                f"{orderhub.url}/api/v1/orders/merge",
                json={"order_ids": [o.id for o in orders]},
                headers=headers,
            )

        taken = paid_order(flow_hub, [(A, 1)])
        make_relay(flow_hub).run_once()
        assert reload(flow_hub, taken).status is OrderStatus.SENT_TO_WAREHOUSE
        home = paid_order(flow_hub, [(A, 1)])
        elsewhere = paid_order(
            flow_hub, [(A, 1)], receiver=replace(RECEIVER, address="文二路 1 号")
        )
        alone = paid_order(flow_hub, [(A, 1)])
        answer = httpx.post(
            f"{orderhub.url}/api/v1/orders/{alone.id}/never-merge",
            json={"never_merge": True},
            headers=headers,
        )
        assert answer.json() == {"order_id": alone.id, "never_merge": True}

        refused = merge(home, elsewhere)
        assert refused.status_code == 409 and refused.json()["code"] == "merge_refused"
        assert f"order {elsewhere.id} has address '文二路 1 号'" in refused.json()["detail"]
        refused = merge(home, alone)
        assert f"order {alone.id} is marked never_merge" in refused.json()["detail"]
        refused = merge(home, taken)
        assert f"order {taken.id} is sent_to_warehouse" in refused.json()["detail"]
        assert refused.json()["reasons"] == [
            f"order {taken.id} is sent_to_warehouse; only approved or allocated orders not yet "
            "at the warehouse can be merged"
        ]
        assert {reload(flow_hub, o).parcel_mode for o in (home, elsewhere, alone, taken)} == {None}
    finally:
        slow.stop()


def test_unmerging_once_the_wms_has_the_parcel_is_refused_saying_to_intercept_first(
    flow_hub: Hub,
    orderhub: RunningServer,
    wms_u: RunningServer,
    user_for: Callable[[str], ApiUser],
) -> None:
    slow = start_wms(f"{orderhub.url}/api/v1/wms/{WAREHOUSE}/callbacks", ship_after_s=600)
    try:
        two_warehouses(flow_hub, slow, wms_u, stock_t={A: 10}, stock_u={})
        first, second = paid_order(flow_hub, [(A, 1)]), paid_order(flow_hub, [(A, 2)])
        parcel = parcels.merge_orders(flow_hub.uow(), [first.id or 0, second.id or 0], actor=ADMIN)
        make_relay(flow_hub).run_once()
        assert reload(flow_hub, first).status is OrderStatus.SENT_TO_WAREHOUSE
        assert reload(flow_hub, second).status is OrderStatus.SENT_TO_WAREHOUSE
        answer = httpx.post(
            f"{orderhub.url}/api/v1/parcels/{parcel.parcel_no}/unmerge",
            headers=user_for("operator").headers,
        )
        assert answer.status_code == 409
        assert f"the WMS already has parcel {parcel.parcel_no} (sent)" in answer.json()["detail"]
        assert "intercept its orders first" in answer.json()["detail"]
    finally:
        slow.stop()


@pytest.mark.parametrize("flags", [{"auto_merge": True}])
def test_an_order_allocated_while_its_buyers_other_order_waits_goes_out_with_it(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 5, B: 5}, stock_u={})
    first = paid_order(flow_hub, [(A, 1)])
    assert reload(flow_hub, first).parcel_mode is None  # nobody to merge with yet
    second = paid_order(flow_hub, [(B, 1)])
    third = paid_order(flow_hub, [(A, 2)])
    together = parcels.order_parcels(flow_hub.uow(), first.id or 0, actor=ADMIN)
    assert [p.order_ids for p in together] == [(first.id, second.id, third.id)]
    pending = [c for c in commands(flow_hub) if c["status"] == "pending"]
    assert [c["payload"]["outbound_no"] for c in pending] == [together[0].parcel_no]

    relay = make_relay(flow_hub)
    until(flow_hub, relay, "all three shipped", _both_shipped(flow_hub, first, second, third))
    assert len({reload(flow_hub, o).tracking_no for o in (first, second, third)}) == 1
    assert ledger_problems(flow_hub) == []
    relay.close()


def test_the_merge_round_puts_waiting_orders_of_one_buyer_together(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 5}, stock_u={})
    first, second = paid_order(flow_hub, [(A, 1)]), paid_order(flow_hub, [(A, 1)])
    other_buyer = paid_order(flow_hub, [(A, 1)], buyer_id="buyer-2")
    made = parcels.merge_waiting(flow_hub.uow)
    assert len(made) == 1
    merged = parcels.get_parcel(flow_hub.uow(), made[0], actor=ADMIN)
    assert merged.order_ids == (first.id, second.id)
    assert reload(flow_hub, other_buyer).parcel_mode is None
    system_note = next(e for e in timeline(flow_hub, first.id or 0) if e.action == "merged")
    assert system_note.actor_name == "system"


def test_cancelling_a_merged_order_before_the_hand_off_sends_the_other_on_its_own(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 5}, stock_u={})
    first, second = paid_order(flow_hub, [(A, 1)]), paid_order(flow_hub, [(A, 2)])
    parcel = parcels.merge_orders(flow_hub.uow(), [first.id or 0, second.id or 0], actor=ADMIN)
    order_service.apply_action(
        flow_hub.uow(), first.id or 0, Action.CANCEL, actor=ADMIN, review_required=False, reason="x"
    )
    assert level(flow_hub, A) == (5, 2)
    assert parcels.get_parcel(flow_hub.uow(), parcel.parcel_no, actor=ADMIN).status.value == (
        "cancelled"
    )
    rest = reload(flow_hub, second)
    assert (rest.status, rest.parcel_mode) == (OrderStatus.ALLOCATED, None)
    pushes = commands(flow_hub, second.id, MessageKind.WMS_OUTBOUND_CREATE)
    assert [(c["payload"]["outbound_no"], c["status"]) for c in pushes][-1] == (
        f"OH{second.id:010d}",
        "pending",
    )
    reason = next(e for e in timeline(flow_hub, second.id or 0) if e.action == "unmerged").reason
    assert reason is not None and f"order {first.id} left it" in reason
    relay = make_relay(flow_hub)
    until(flow_hub, relay, "the other shipped", _both_shipped(flow_hub, second))
    assert ledger_problems(flow_hub) == []
    relay.close()


def test_a_merged_orders_receiver_cannot_change_under_the_others(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 5}, stock_u={})
    first, second = paid_order(flow_hub, [(A, 1)]), paid_order(flow_hub, [(A, 1)])
    parcels.merge_orders(flow_hub.uow(), [first.id or 0, second.id or 0], actor=ADMIN)
    with pytest.raises(EditRefused) as refused:
        order_service.edit_order(
            flow_hub.uow(),
            first.id or 0,
            actor=ADMIN,
            receiver=replace(RECEIVER, address="文二路 1 号"),
        )
    assert "unmerge it first" in refused.value.detail
    assert reload(flow_hub, first).receiver == RECEIVER


def test_the_workers_merge_round_merges_orders_left_waiting_when_auto_merge_is_on(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 5}, stock_u={})
    # Allocated while auto-merge was off: each waits with its own hand-off.
    alone = paid_order(flow_hub, [(A, 1)])
    second = paid_order(flow_hub, [(A, 1)], buyer_id="b-9")
    third = paid_order(flow_hub, [(A, 1)], buyer_id="b-9")
    merging = bootstrap(flow_hub.settings.model_copy(update={"auto_merge": True}))
    try:
        assert Scheduler(merging).run_due() >= 1
    finally:
        merging.close()
    assert reload(flow_hub, alone).parcel_mode is None
    assert reload(flow_hub, second).parcel_mode == reload(flow_hub, third).parcel_mode == "merged"
