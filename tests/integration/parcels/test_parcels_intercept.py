"""Intercepting an order that ships in parcels: the WMS is asked to drop each parcel it has; the
order is cancelled when nothing of it left, and a merged parcel's other orders go on alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderhub.bootstrap import Hub
from orderhub.domain.fulfilment import MessageKind
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.integrations.wms.qimen.simulator import WmsSimOptions, start_wms_simulator
from orderhub.services import orders as order_service
from orderhub.services.fulfilment import parcels
from orderhub.services.fulfilment.parcels import ParcelAsked
from tests.integration.fulfilment_kit import ADMIN, SKUS, WAREHOUSE, WMS_CREDENTIALS
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

A = SKUS[0]


def _slow(orderhub: RunningServer, code: str) -> RunningServer:
    """A WMS that takes orders and never gets round to shipping them during a test."""
    return start_wms_simulator(
        callback_url=f"{orderhub.url}/api/v1/wms/{code}/callbacks",
        credentials=WMS_CREDENTIALS,
        options=WmsSimOptions(warehouse_code=code, ship_after_s=600),
    )


@pytest.fixture
def slow_wms(orderhub: RunningServer) -> Iterator[tuple[RunningServer, RunningServer]]:
    t, u = _slow(orderhub, WAREHOUSE), _slow(orderhub, OTHER_WAREHOUSE)
    yield t, u
    t.stop()
    u.stop()


def _intercept(hub: Hub, order_id: int) -> None:
    order_service.apply_action(
        hub.uow(), order_id, Action.INTERCEPT, actor=ADMIN, review_required=False, reason="buyer"
    )


def test_intercepting_a_split_order_stops_both_parcels_and_cancels_it(
    flow_hub: Hub, slow_wms: tuple[RunningServer, RunningServer]
) -> None:
    wms_t, wms_u = slow_wms
    two_warehouses(flow_hub, wms_t, wms_u, stock_t={A: 5}, stock_u={A: 5})
    order = paid_order(flow_hub, [(A, 3)])
    made = parcels.split_order(
        flow_hub.uow(),
        order.id or 0,
        [ParcelAsked(((A, 1),)), ParcelAsked(((A, 2),), OTHER_WAREHOUSE)],
        actor=ADMIN,
    )
    relay = make_relay(flow_hub)
    until(
        flow_hub,
        relay,
        "both parcels at their warehouses",
        lambda: (
            {
                p.status.value
                for p in parcels.order_parcels(flow_hub.uow(), order.id or 0, actor=ADMIN)
            }
            == {"sent"}
        ),
    )
    assert reload(flow_hub, order).status is OrderStatus.SENT_TO_WAREHOUSE

    _intercept(flow_hub, order.id or 0)
    cancels = commands(flow_hub, order.id, MessageKind.WMS_OUTBOUND_CANCEL)
    assert sorted(c["payload"]["outbound_no"] for c in cancels) == [p.parcel_no for p in made]
    until(
        flow_hub,
        relay,
        "the order cancelled",
        lambda: reload(flow_hub, order).status is OrderStatus.CANCELLED,
    )
    assert outbound(wms_t)[made[0].parcel_no]["status"] == "CANCELED"
    assert outbound(wms_u)[made[1].parcel_no]["status"] == "CANCELED"
    found = parcels.order_parcels(flow_hub.uow(), order.id or 0, actor=ADMIN)
    assert [p.status.value for p in found] == ["cancelled", "cancelled"]
    assert level(flow_hub, A) == (5, 0) and level(flow_hub, A, OTHER_WAREHOUSE) == (5, 0)
    last = timeline(flow_hub, order.id or 0)[-1]
    assert last.action == "intercepted"
    assert ledger_problems(flow_hub) == []
    relay.close()


def test_intercepting_one_order_of_a_merged_parcel_sends_the_other_on_its_own(
    flow_hub: Hub, slow_wms: tuple[RunningServer, RunningServer]
) -> None:
    wms_t, wms_u = slow_wms
    two_warehouses(flow_hub, wms_t, wms_u, stock_t={A: 5}, stock_u={})
    first, second = paid_order(flow_hub, [(A, 1)]), paid_order(flow_hub, [(A, 2)])
    parcel = parcels.merge_orders(flow_hub.uow(), [first.id or 0, second.id or 0], actor=ADMIN)
    relay = make_relay(flow_hub)
    until(
        flow_hub,
        relay,
        "the merged parcel at the warehouse",
        lambda: reload(flow_hub, second).status is OrderStatus.SENT_TO_WAREHOUSE,
    )

    _intercept(flow_hub, first.id or 0)
    until(
        flow_hub,
        relay,
        "the first cancelled",
        lambda: reload(flow_hub, first).status is OrderStatus.CANCELLED,
    )
    until(
        flow_hub,
        relay,
        "the second handed off alone",
        lambda: f"OH{second.id:010d}" in outbound(wms_t),
    )
    assert outbound(wms_t)[parcel.parcel_no]["status"] == "CANCELED"
    rest = reload(flow_hub, second)
    assert (rest.status, rest.parcel_mode) == (OrderStatus.SENT_TO_WAREHOUSE, None)
    assert level(flow_hub, A) == (5, 2)  # the first's unit back, the second's still held
    actions = [e.action for e in timeline(flow_hub, second.id or 0)]
    assert actions[-1] == "unmerged"
    assert ledger_problems(flow_hub) == []
    relay.close()
