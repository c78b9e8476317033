"""Splitting by stock: an order short in its warehouse ships from the warehouses that hold it,
one parcel each; what none holds is a backorder that ships when stock arrives."""

from __future__ import annotations

import pytest

from orderhub.bootstrap import Hub
from orderhub.domain.fulfilment import MessageKind
from orderhub.domain.transitions import OrderStatus
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.services import rules
from orderhub.services.fulfilment import parcels
from tests.integration.fulfilment_kit import ADMIN, SKUS, WAREHOUSE
from tests.integration.fulfilment_kit import stock_balances as ledger_problems
from tests.integration.parcels.conftest import (
    OTHER_WAREHOUSE,
    commands,
    level,
    make_relay,
    outbound,
    paid_order,
    receive,
    reload,
    timeline,
    two_warehouses,
    until,
)

A, B = SKUS[0], SKUS[1]
SPLIT_BY_STOCK = {"split_by_stock": True}


@pytest.mark.parametrize("flags", [SPLIT_BY_STOCK])
def test_an_order_short_in_its_warehouse_ships_from_the_two_that_hold_it(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 1}, stock_u={A: 1, B: 1})
    order = paid_order(flow_hub, [(A, 2), (B, 1)])
    split = reload(flow_hub, order)
    assert (split.status, split.parcel_mode) == (OrderStatus.ALLOCATED, "split")
    found = parcels.order_parcels(flow_hub.uow(), order.id or 0, actor=ADMIN)
    assert [(p.warehouse, p.needs(), p.status.value) for p in found] == [
        (OTHER_WAREHOUSE, sorted([(A, 1), (B, 1)]), "planned"),
        (WAREHOUSE, [(A, 1)], "planned"),
    ]
    assert level(flow_hub, A) == (1, 1) and level(flow_hub, A, OTHER_WAREHOUSE) == (1, 1)
    split_note = next(e for e in timeline(flow_hub, order.id or 0) if e.action == "split")
    assert (
        split_note.reason is not None and "by stock (ORDERHUB_SPLIT_BY_STOCK)" in split_note.reason
    )

    relay = make_relay(flow_hub)
    until(
        flow_hub,
        relay,
        "the order to ship",
        lambda: reload(flow_hub, order).status is OrderStatus.SHIPPED,
    )
    assert set(outbound(wms)) == {found[1].parcel_no}
    assert set(outbound(wms_u)) == {found[0].parcel_no}
    assert level(flow_hub, A) == (0, 0) and level(flow_hub, A, OTHER_WAREHOUSE) == (0, 0)
    assert level(flow_hub, B, OTHER_WAREHOUSE) == (0, 0)
    assert ledger_problems(flow_hub) == []
    relay.close()


def test_with_split_by_stock_off_a_short_order_waits_whole_in_out_of_stock(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 1}, stock_u={A: 1, B: 1})
    order = paid_order(flow_hub, [(A, 2), (B, 1)])
    waiting = reload(flow_hub, order)
    assert (waiting.status, waiting.exception_reason, waiting.parcel_mode) == (
        OrderStatus.EXCEPTION,
        "out_of_stock",
        None,
    )


@pytest.mark.parametrize("flags", [SPLIT_BY_STOCK])
def test_an_order_another_warehouse_holds_whole_ships_whole_from_there(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 1}, stock_u={A: 5, B: 5})
    order = paid_order(flow_hub, [(A, 2), (B, 1)])
    moved = reload(flow_hub, order)
    assert (moved.status, moved.warehouse, moved.parcel_mode) == (
        OrderStatus.ALLOCATED,
        OTHER_WAREHOUSE,
        None,
    )
    assert "moved_by_stock" in [e.action for e in timeline(flow_hub, order.id or 0)]
    assert level(flow_hub, A, OTHER_WAREHOUSE) == (5, 2)


def test_a_routing_rule_splits_by_stock_while_the_setting_is_off(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 1}, stock_u={A: 1})
    rules.save_rules(
        flow_hub.uow(),
        rules.proposed(
            "routing",
            [
                {
                    "name": "big orders split",
                    "condition": {"field": "goods_total", "op": "gte", "value": 2000},
                    "outcome": {"warehouse": WAREHOUSE, "split": "by_stock"},
                }
            ],
            {"warehouse": WAREHOUSE},
        ),
        actor=ADMIN,
    )
    order = paid_order(flow_hub, [(A, 2)])
    assert reload(flow_hub, order).parcel_mode == "split"
    note = next(e for e in timeline(flow_hub, order.id or 0) if e.action == "split")
    assert note.reason is not None and "rule 'big orders split'" in note.reason


@pytest.mark.parametrize("flags", [SPLIT_BY_STOCK])
def test_a_backorder_ships_later_when_its_stock_arrives(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={A: 1}, stock_u={})
    order = paid_order(flow_hub, [(A, 2), (B, 1)])
    first, later = parcels.order_parcels(flow_hub.uow(), order.id or 0, actor=ADMIN)
    assert (first.status.value, first.needs()) == ("planned", [(A, 1)])
    assert (later.status.value, later.warehouse, later.needs()) == (
        "backorder",
        WAREHOUSE,
        sorted([(A, 1), (B, 1)]),
    )
    assert level(flow_hub, A) == (1, 1)  # the backorder holds nothing

    relay = make_relay(flow_hub)
    until(
        flow_hub,
        relay,
        "the first parcel to ship",
        lambda: first.parcel_no in _shipped(flow_hub, order.id or 0),
    )
    part = reload(flow_hub, order)
    assert part.status in (OrderStatus.SENT_TO_WAREHOUSE, OrderStatus.PICKING)
    assert [
        c["payload"]["parcel_no"]
        for c in commands(flow_hub, order.id, MessageKind.WMS_OUTBOUND_CREATE)
    ] == [first.parcel_no]

    receive(flow_hub, A, 3)
    assert reload(flow_hub, order).status is not OrderStatus.SHIPPED  # B still missing
    assert _status(flow_hub, order.id or 0, later.parcel_no) == "backorder"
    receive(flow_hub, B, 2)
    assert _status(flow_hub, order.id or 0, later.parcel_no) == "planned"
    until(
        flow_hub,
        relay,
        "the order to ship",
        lambda: reload(flow_hub, order).status is OrderStatus.SHIPPED,
    )

    actions = [e.action for e in timeline(flow_hub, order.id or 0)]
    assert actions.index("backorder_reserved") < actions.index("ship")
    assert [
        n.reason[-8:] for n in timeline(flow_hub, order.id or 0) if n.action == "parcel_shipped"
    ] == ["(1 of 2)", "(2 of 2)"]
    assert level(flow_hub, A) == (2, 0) and level(flow_hub, B) == (1, 0)
    assert ledger_problems(flow_hub) == []
    relay.close()


def _shipped(hub: Hub, order_id: int) -> set[str]:
    return {
        p.parcel_no
        for p in parcels.order_parcels(hub.uow(), order_id, actor=ADMIN)
        if p.status.value == "shipped"
    }


def _status(hub: Hub, order_id: int, parcel_no: str) -> str:
    found = parcels.order_parcels(hub.uow(), order_id, actor=ADMIN)
    return next(p.status.value for p in found if p.parcel_no == parcel_no)


@pytest.mark.parametrize("flags", [SPLIT_BY_STOCK])
def test_an_order_waiting_for_stock_ships_what_arrives_and_backorders_the_rest(
    flow_hub: Hub, wms: RunningServer, wms_u: RunningServer
) -> None:
    two_warehouses(flow_hub, wms, wms_u, stock_t={}, stock_u={})
    order = paid_order(flow_hub, [(A, 3)])
    assert reload(flow_hub, order).exception_reason == "out_of_stock"  # nowhere: no split
    receive(flow_hub, A, 2)
    moved = reload(flow_hub, order)
    assert (moved.status, moved.parcel_mode) == (OrderStatus.ALLOCATED, "split")
    found = parcels.order_parcels(flow_hub.uow(), order.id or 0, actor=ADMIN)
    assert [(p.status.value, p.needs()) for p in found] == [
        ("planned", [(A, 2)]),
        ("backorder", [(A, 1)]),
    ]
    assert level(flow_hub, A) == (2, 2)
    assert ledger_problems(flow_hub) == []
