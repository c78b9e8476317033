"""Rule sets stored as versions, checked against the warehouses that exist, tried on recent
orders before they are saved (the live-stream case of issue 5, its first half)."""

from __future__ import annotations

import pytest

from orderhub.bootstrap import Hub
from orderhub.domain.rule_sets import RuleSetKind
from orderhub.errors import ValidationFailed
from orderhub.services import orders as order_service
from orderhub.services import warehouses
from orderhub.services.rules import proposed, rule_versions, save_rules, try_rules
from tests.factories import an_order
from tests.integration.fulfilment_kit import ADMIN

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
