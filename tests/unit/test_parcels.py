"""The parcel decisions without a database: a split plan checked, stock planned, merges grouped."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from orderhub.domain.channels import steps_for
from orderhub.domain.mapping import ChannelState, MappedOrder
from orderhub.domain.orders import Order, OrderLine, PaymentStatus, Receiver
from orderhub.domain.parcel_messages import parcel_outbound_payload, shipped_lines
from orderhub.domain.parcels import (
    Parcel,
    ParcelKind,
    ParcelStatus,
    PlannedParcel,
    allot,
    check_split_plan,
    merge_differences,
    merge_key,
    mergeable_groups,
    parcel_of,
    plan_by_stock,
    split_parcel_no,
    whole_lines,
    why_not_mergeable,
)
from orderhub.domain.rule_sets import RuleSet, RuleSetKind, check_rule_set
from orderhub.domain.transitions import OrderStatus
from orderhub.domain.warehouses import WmsCredentials
from orderhub.errors import ValidationFailed
from orderhub.integrations.wms.qimen.mapping import delivery_order
from tests.factories import T0, an_order

WAREHOUSES = ("WH-A", "WH-B")


def _order(*lines: tuple[str, int], order_id: int = 12) -> Order:
    order = an_order(
        lines=tuple(
            OrderLine(
                sku=sku, title=f"{sku} title", quantity=q, unit_price=100, channel_sku=f"c-{sku}"
            )
            for sku, q in lines
        )
    )
    order.id = order_id
    return order


def test_a_split_that_carries_the_order_exactly_is_accepted() -> None:
    order = _order(("A", 2), ("B", 1))
    plan = [PlannedParcel("WH-A", (("A", 1),)), PlannedParcel("WH-B", (("A", 1), ("B", 1)))]
    assert check_split_plan(order, plan, warehouses=WAREHOUSES) == plan


def test_a_split_names_each_sku_missing_or_in_excess() -> None:
    order = _order(("A", 2), ("B", 1))
    plan = [PlannedParcel("WH-A", (("A", 1),)), PlannedParcel("WH-B", (("A", 2), ("C", 1)))]
    with pytest.raises(ValidationFailed) as refused:
        check_split_plan(order, plan, warehouses=WAREHOUSES)
    detail = refused.value.detail
    assert "A: the parcels carry 3, the order has 2 (1 too many)" in detail
    assert "B: the parcels carry 0, the order has 1 (1 missing)" in detail
    assert "C: the parcels carry 1, the order has none (1 too many)" in detail


def test_a_split_into_one_parcel_is_refused_with_what_to_do_instead() -> None:
    order = _order(("A", 2))
    with pytest.raises(ValidationFailed) as refused:
        check_split_plan(order, [PlannedParcel("WH-A", (("A", 2),))], warehouses=WAREHOUSES)
    assert "at least two parcels" in refused.value.detail


def test_a_split_to_an_unknown_warehouse_names_the_ones_there_are() -> None:
    order = _order(("A", 2))
    plan = [PlannedParcel("WH-A", (("A", 1),)), PlannedParcel("WH-X", (("A", 1),))]
    with pytest.raises(ValidationFailed) as refused:
        check_split_plan(order, plan, warehouses=WAREHOUSES)
    assert refused.value.field == "parcels[1].warehouse"
    assert "use one of: WH-A, WH-B" in refused.value.detail


def test_allotting_takes_a_sku_from_its_order_lines_in_turn_keeping_their_channel_skus() -> None:
    order = _order(("A", 1), ("B", 1), ("A", 2))
    plan = [PlannedParcel("WH-A", (("A", 2),)), PlannedParcel("WH-B", (("A", 1), ("B", 1)))]
    first, second = allot(order, plan)
    assert [(p.line_no, p.sku, p.quantity) for p in first] == [(1, "A", 1), (3, "A", 1)]
    assert [(p.line_no, p.sku, p.quantity) for p in second] == [(3, "A", 1), (2, "B", 1)]
    assert {p.channel_sku for p in first} == {"c-A"}


def test_stock_planning_keeps_the_order_whole_where_one_warehouse_holds_it() -> None:
    plan = plan_by_stock([("A", 2), ("B", 1)], "WH-A", {"WH-A": {"A": 1}, "WH-B": {"A": 5, "B": 5}})
    assert plan == [PlannedParcel("WH-B", (("A", 2), ("B", 1)))]


def test_stock_planning_splits_across_warehouses_home_first_on_a_tie() -> None:
    plan = plan_by_stock([("A", 2), ("B", 2)], "WH-B", {"WH-A": {"A": 2}, "WH-B": {"B": 2}})
    assert plan == [PlannedParcel("WH-B", (("B", 2),)), PlannedParcel("WH-A", (("A", 2),))]


def test_stock_planning_leaves_what_no_warehouse_holds_as_a_backorder_at_home() -> None:
    plan = plan_by_stock([("A", 3), ("B", 1)], "WH-A", {"WH-A": {"A": 1}, "WH-B": {"A": 1}})
    assert plan == [
        PlannedParcel("WH-A", (("A", 1),)),
        PlannedParcel("WH-B", (("A", 1),)),
        PlannedParcel("WH-A", (("A", 1), ("B", 1)), backorder=True),
    ]


def test_stock_planning_gives_nothing_when_no_warehouse_holds_any_of_it() -> None:
    assert plan_by_stock([("A", 1)], "WH-A", {"WH-A": {"A": 0}, "WH-B": {}}) == []


def test_parcel_numbers_are_recognised_and_whole_order_numbers_are_not() -> None:
    assert parcel_of(split_parcel_no(12, 2)) == "OH0000000012-2"
    assert parcel_of("OM0000000005") == "OM0000000005"
    assert parcel_of("OH0000000012") is None
    assert parcel_of("OH12-2") is None


def _waiting(order_id: int, **changes: object) -> Order:
    order = replace(
        _order(("A", 1), order_id=order_id),
        status=OrderStatus.ALLOCATED,
        payment_status=PaymentStatus.PAID,
        buyer_id="buyer-1",
        warehouse="WH-A",
        stock_state="reserved",
    )
    for name, value in changes.items():
        setattr(order, name, value)
    return order


def test_orders_of_one_buyer_to_one_receiver_in_one_warehouse_group_together() -> None:
    a, b = _waiting(1), _waiting(2)
    elsewhere = _waiting(3, warehouse="WH-B")
    other_buyer = _waiting(4, buyer_id="buyer-2")
    alone = _waiting(5, never_merge=True)
    groups = mergeable_groups([b, elsewhere, a, other_buyer, alone], stock_needed=True)
    assert [[o.id for o in g] for g in groups] == [[1, 2]]


def test_a_different_receiver_is_named_as_the_reason_orders_cannot_merge() -> None:
    a = _waiting(1)
    moved = _waiting(2, receiver=replace(a.receiver, address="another street 9"))
    assert merge_key(a) != merge_key(moved)
    assert merge_differences([a, moved]) == [
        f"order 2 has address 'another street 9', order 1 has {a.receiver.address!r}"
    ]


def test_why_an_order_cannot_merge_is_said_for_each_case() -> None:
    assert why_not_mergeable(_waiting(1), stock_needed=True) is None
    assert "never_merge" in str(why_not_mergeable(_waiting(1, never_merge=True), stock_needed=True))
    assert "sent_to_warehouse" in str(
        why_not_mergeable(_waiting(1, status=OrderStatus.SENT_TO_WAREHOUSE), stock_needed=True)
    )
    assert "no buyer id" in str(why_not_mergeable(_waiting(1, buyer_id=None), stock_needed=True))
    assert "split" in str(why_not_mergeable(_waiting(1, parcel_mode="split"), stock_needed=True))
    assert "no stock" in str(why_not_mergeable(_waiting(1, stock_state=None), stock_needed=True))


def test_receiver_whitespace_does_not_keep_orders_apart() -> None:
    a = _waiting(1)
    b = _waiting(2, receiver=Receiver(**{**a.receiver.__dict__, "name": f" {a.receiver.name} "}))
    assert merge_key(a) == merge_key(b)


def test_a_parcel_tells_the_channel_its_lines_by_channel_sku_counting_combos_whole() -> None:
    order = an_order(
        lines=(
            OrderLine(sku="TEA", title="set / TEA", quantity=2, unit_price=100, channel_sku="SET"),
            OrderLine(sku="MUG", title="set / MUG", quantity=4, unit_price=100, channel_sku="SET"),
            OrderLine(sku="SOCKS", title="socks", quantity=3, unit_price=100),
        )
    )
    order.id = 7
    plan = [
        PlannedParcel("WH-A", (("TEA", 1), ("MUG", 2), ("SOCKS", 1))),
        PlannedParcel("WH-B", (("TEA", 1), ("MUG", 2), ("SOCKS", 2))),
    ]
    first = Parcel(
        "OH0000000007-1",
        ParcelKind.SPLIT,
        "WH-A",
        ParcelStatus.SHIPPED,
        allot(order, plan)[0],
        T0,
        "test",
    )
    combos = {"SET": {"TEA": 1, "MUG": 2}}
    assert sorted(shipped_lines(order, first, combos)) == [("SET", 1), ("SOCKS", 1)]
    assert sorted(shipped_lines(order, first)) == [("SET", 3), ("SOCKS", 1)]


def test_a_routing_rule_may_split_by_stock_and_nothing_else() -> None:
    def routing(outcome: dict[str, object]) -> RuleSet:
        return RuleSet(RuleSetKind.ROUTING, (), outcome)

    check_rule_set(routing({"warehouse": "WH-A", "split": "by_stock"}), warehouses=WAREHOUSES)
    with pytest.raises(ValidationFailed) as refused:
        check_rule_set(routing({"warehouse": "WH-A", "split": "by_line"}), warehouses=WAREHOUSES)
    assert "'split' can only be 'by_stock'" in refused.value.detail


def test_a_merged_parcels_push_names_each_lines_own_channel_order_at_the_wms() -> None:
    first, second = _waiting(1), _waiting(2)
    first.channel_order_no, second.channel_order_no = "T-1", "T-2"
    lines = (*whole_lines(first), *whole_lines(second))
    parcel = Parcel("OM0000000009", ParcelKind.MERGE, "WH-A", ParcelStatus.PLANNED, lines, T0, "t")
    payload = parcel_outbound_payload(parcel, [second, first])
    assert (payload["outbound_no"], payload["order_ids"], payload["order_id"]) == (
        "OM0000000009",
        [1, 2],
        1,
    )
    request = delivery_order(payload, "message-1", WmsCredentials("k", "s", "OWNER"))
    sources = [line["sourceOrderCode"] for line in request["orderLines"]["orderLine"]]
    assert sources == ["T-1", "T-2"]


def test_a_channel_showing_a_split_order_partly_shipped_is_our_own_word_not_a_problem() -> None:
    at_warehouse = _waiting(1, status=OrderStatus.SENT_TO_WAREHOUSE, parcel_mode="split")
    whole = _waiting(2, status=OrderStatus.SENT_TO_WAREHOUSE)

    def said(order: Order, state: ChannelState) -> list[str]:
        mapped = MappedOrder(order, state, state.value, T0 + timedelta(hours=1))
        return [step.action.value for step in steps_for(order, mapped)]

    assert said(at_warehouse, ChannelState.PARTLY_SHIPPED) == []
    assert said(at_warehouse, ChannelState.SHIPPED) == []
    assert said(whole, ChannelState.PARTLY_SHIPPED) == ["raise_exception"]
