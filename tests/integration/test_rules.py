"""Rule sets stored as versions, checked against the warehouses that exist, tried on recent
orders before they are saved (the live-stream case of issue 5, its first half)."""

from __future__ import annotations

import pytest

from orderhub.bootstrap import Hub, bootstrap
from orderhub.domain.orders import Amounts, OrderLine, PaymentStatus
from orderhub.domain.rule_sets import RuleSetKind
from orderhub.domain.transitions import OrderStatus
from orderhub.errors import ValidationFailed
from orderhub.integrations.channels.simkit import CATALOGUE, COMBOS
from orderhub.services import inventory, warehouses
from orderhub.services import orders as order_service
from orderhub.services.demo import load_catalogue
from orderhub.services.rules import proposed, rule_versions, save_rules, try_rules
from tests.conftest import CHEAP_HASHER
from tests.factories import an_order
from tests.integration.fulfilment_kit import ADMIN, stock_balances

LIVE_RULE = {
    "name": "live stream",
    "condition": {"field": "tags", "op": "contains", "value": "#LIVE2026"},
    "outcome": {"warehouse": "WH-LIVE", "queue": "live"},
}


def _warehouse(hub: Hub, code: str) -> None:
    warehouses.create_warehouse(hub.uow(), hub.wms, actor=ADMIN, code=code, name=code)


def test_a_rule_naming_an_unknown_warehouse_is_refused_and_nothing_is_saved(hub: Hub) -> None:
    _warehouse(hub, "WH-MAIN")
    rules = proposed("routing", [LIVE_RULE], {"warehouse": "WH-MAIN"})
    with pytest.raises(ValidationFailed) as refused:
        save_rules(hub.uow(), rules, actor=ADMIN)
    assert "warehouse 'WH-LIVE', which does not exist; warehouses: WH-MAIN" in refused.value.detail
    assert rule_versions(hub.uow(), RuleSetKind.ROUTING, actor=ADMIN) == []


def test_a_dry_run_shows_which_recent_orders_the_live_rule_would_move(hub: Hub) -> None:
    for code in ("WH-MAIN", "WH-LIVE"):
        _warehouse(hub, code)
    save_rules(hub.uow(), proposed("routing", [], {"warehouse": "WH-MAIN"}), actor=ADMIN)
    created = {}
    for n, tags in enumerate([(), ("#LIVE2026",), ("vip",), ("#LIVE2026", "vip")]):
        draft = an_order(channel_order_no=f"L-{n}", tags=tags)
        created[n] = order_service.create_order(
            hub.uow(), draft, actor=ADMIN, review_required=True
        ).order.id
    rows = try_rules(
        hub.uow(),
        proposed("routing", [LIVE_RULE], {"warehouse": "WH-MAIN"}),
        actor=ADMIN,
        last=10,
    )
    moving = {r.order_id for r in rows if r.changes}
    assert moving == {created[1], created[3]}
    assert all(r.after.said().startswith("rule 'live stream'") for r in rows if r.changes)
    saved = save_rules(
        hub.uow(), proposed("routing", [LIVE_RULE], {"warehouse": "WH-MAIN"}), actor=ADMIN
    )
    versions = rule_versions(hub.uow(), RuleSetKind.ROUTING, actor=ADMIN)
    assert saved.version == 2 and [v.version for v in versions] == [2, 1]
    assert versions[0].rules[0].name == "live stream"


def test_saved_rules_route_live_orders_and_review_the_rest_saying_why(hub: Hub) -> None:
    for code in ("WH-MAIN", "WH-LIVE"):
        _warehouse(hub, code)
    save_rules(hub.uow(), proposed("routing", [LIVE_RULE], {"warehouse": "WH-MAIN"}), actor=ADMIN)
    big = {
        "name": "big amount",
        "condition": {"field": "paid_total", "op": "gt", "value": 500000},
        "outcome": {"decision": "exception", "reason_code": "risk", "reason": "check the buyer"},
    }
    save_rules(hub.uow(), proposed("review", [big], {"decision": "approve"}), actor=ADMIN)

    def paid(no: str, **changes: object) -> int:
        draft = an_order(channel_order_no=no, payment_status=PaymentStatus.PAID, **changes)
        order = order_service.create_order(hub.uow(), draft, actor=ADMIN, review_required=True)
        return order.order.id or 0

    live = paid("L-1", tags=("#LIVE2026",))
    plain = paid("P-1")
    costly = paid(
        "B-1",
        lines=(OrderLine(sku="MUG-350", title="杯", quantity=1, unit_price=600000),),
        amounts=Amounts(goods_total=600000, paid_total=600000),
    )
    read = {i: order_service.get_order(hub.uow(), i, actor=ADMIN) for i in (live, plain, costly)}
    assert (read[live].warehouse, read[live].status) == ("WH-LIVE", OrderStatus.APPROVED)
    assert (read[plain].warehouse, read[plain].status) == ("WH-MAIN", OrderStatus.APPROVED)
    assert (read[costly].status, read[costly].exception_reason) == (OrderStatus.EXCEPTION, "risk")
    said = {
        e.action: e.reason for e in order_service.get_timeline(hub.uow(), live, actor=ADMIN).events
    }
    assert said["routed"] == "to WH-LIVE (live) by rule 'live stream': tags contains #LIVE2026"
    assert said["approve"] == "no rule matched: the default (review rules v1)"
    stopped = order_service.get_timeline(hub.uow(), costly, actor=ADMIN).events[-1]
    assert stopped.reason == (
        "check the buyer: rule 'big amount': paid_total gt 500000 (review rules v1)"
    )


def test_live_orders_already_waiting_move_to_the_live_warehouse_when_the_rule_is_saved(
    hub: Hub,
) -> None:
    settings = hub.settings.model_copy(
        update={"reserve_stock": True, "default_warehouse": "WH-MAIN"}
    )
    stocked = bootstrap(settings, hasher=CHEAP_HASHER)
    try:
        load_catalogue(
            stocked.uow, actor=ADMIN, combos=COMBOS, products=[(s, t) for s, t, _, _ in CATALOGUE]
        )
        for code in ("WH-MAIN", "WH-LIVE"):
            _warehouse(stocked, code)
            for sku in ("TS-WHITE-L", "MUG-350"):
                inventory.receive(
                    stocked.uow(), actor=ADMIN, sku=sku, warehouse=code, quantity=50, reason="in"
                )
        waiting = {}
        for n in range(6):
            tags = ("#LIVE2026",) if n % 2 else ()
            draft = an_order(
                channel_order_no=f"W-{n}", payment_status=PaymentStatus.PAID, tags=tags
            )
            waiting[n] = (
                order_service.create_order(
                    stocked.uow(), draft, actor=ADMIN, review_required=True
                ).order.id
                or 0
            )
        rule = proposed("routing", [LIVE_RULE], {"warehouse": "WH-MAIN"})
        would_move = {r.order_id for r in try_rules(stocked.uow(), rule, actor=ADMIN) if r.changes}
        assert would_move == {waiting[1], waiting[3], waiting[5]}

        save_rules(stocked.uow(), rule, actor=ADMIN)

        for n, order_id in waiting.items():
            order = order_service.get_order(stocked.uow(), order_id, actor=ADMIN)
            expected = "WH-LIVE" if n % 2 else "WH-MAIN"
            assert (order.warehouse, order.stock_state) == (expected, "reserved"), n
            assert order.queue == ("live" if n % 2 else None)
            assert order.status is OrderStatus.PENDING_REVIEW
        moved = order_service.get_timeline(stocked.uow(), waiting[1], actor=ADMIN).events[-1]
        assert moved.action == "rerouted" and moved.reason is not None
        assert moved.reason.startswith("from WH-MAIN to WH-LIVE (live) by rule 'live stream'")
        with stocked.uow.read_only() as uow:
            main = uow.inventory.level("TS-WHITE-L", "WH-MAIN")
            live = uow.inventory.level("TS-WHITE-L", "WH-LIVE")
        assert main is not None and live is not None
        assert (main.reserved, live.reserved) == (6, 6)  # 3 orders x 2 shirts each side
        assert stock_balances(stocked) == []
    finally:
        stocked.close()
