"""Orders in real SQLite and PostgreSQL: round trips, conflicts, races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor
from orderhub.domain.orders import (
    CustomFieldDef,
    CustomFieldType,
    Invoice,
    OrderType,
    PaymentStatus,
    Receiver,
)
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.errors import ConcurrentUpdate, DuplicateOrder
from orderhub.permissions import permissions_of
from orderhub.services import orders
from orderhub.storage.tables import order_events, outbox
from orderhub.storage.tables import orders as orders_table
from tests.factories import an_order

OPERATOR = Actor(id="user:op", name="op", role="operator", permissions=permissions_of("operator"))


def test_every_field_survives_a_round_trip(hub: Hub) -> None:
    with hub.uow() as uow:
        uow.custom_fields.add(CustomFieldDef("gift_wrap", CustomFieldType.BOOLEAN))
        uow.commit()
    beijing = timezone(timedelta(hours=8))
    draft = an_order(
        channel="taobao",
        channel_order_no="4012345678901234",
        shop="tmall-flagship",
        order_type=OrderType.LIVE_STREAM,
        payment_status=PaymentStatus.PAID,
        payment_method="alipay",
        transaction_no="2026111122001",
        buyer_id="b1",
        buyer_nick="tb_nick",
        buyer_note="请尽快",
        seller_note="VIP",
        invoice=Invoice("某某公司", "9133"),
        receiver=Receiver("张**", "138****1234", "浙江省", "杭州市", "西湖区", "文三***", "310000"),
        tags=("#LIVE2026", "VIP"),
        priority=5,
        custom_fields={"gift_wrap": True},
        created_at=datetime(2026, 11, 11, 0, 5, tzinfo=beijing),
    )
    created = orders.create_order(hub.uow(), draft, actor=OPERATOR, review_required=True).order
    assert created.id is not None
    with hub.uow() as uow:
        loaded = uow.orders.get(created.id)
    assert loaded.created_at == datetime(2026, 11, 10, 16, 5, tzinfo=UTC)
    assert loaded.created_at.tzinfo is not None and loaded.paid_at is not None
    assert (loaded.status, loaded.order_type, loaded.payment_status) == (
        OrderStatus.PENDING_REVIEW,
        OrderType.LIVE_STREAM,
        PaymentStatus.PAID,
    )
    assert loaded.receiver == draft.receiver and loaded.receiver.masked
    assert loaded.invoice == Invoice("某某公司", "9133")
    assert loaded.lines == draft.lines and loaded.amounts == draft.amounts
    assert loaded.tags == ("#LIVE2026", "VIP") and loaded.custom_fields == {"gift_wrap": True}
    assert (loaded.buyer_nick, loaded.transaction_no, loaded.priority) == (
        "tb_nick",
        "2026111122001",
        5,
    )


def test_timeline_and_outbox_are_written_with_the_change(hub: Hub) -> None:
    order = orders.create_order(hub.uow(), an_order(), actor=OPERATOR, review_required=True).order
    assert order.id is not None
    orders.apply_action(hub.uow(), order.id, Action.PAY, actor=OPERATOR, review_required=True)
    with hub.engine.connect() as conn:
        events = (
            conn.execute(
                select(order_events.c.action)
                .where(order_events.c.order_id == order.id)
                .order_by(order_events.c.id)
            )
            .scalars()
            .all()
        )
        types = (
            conn.execute(
                select(outbox.c.event_type)
                .where(outbox.c.aggregate_id == str(order.id))
                .order_by(outbox.c.id)
            )
            .scalars()
            .all()
        )
    assert events == ["create", "pay", "submit_review"]
    assert types == ["order.created", "order.status_changed", "order.status_changed"]


def test_a_failed_action_leaves_no_event_and_no_message(hub: Hub) -> None:
    order = orders.create_order(hub.uow(), an_order(), actor=OPERATOR, review_required=True).order
    assert order.id is not None
    with pytest.raises(Exception, match="not allowed"):
        orders.apply_action(
            hub.uow(),
            order.id,
            Action.SHIP,
            actor=Actor(id="x", name="x", permissions=permissions_of("admin")),
            review_required=True,
            params={"carrier": "SF", "tracking_no": "1"},
        )
    with hub.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(order_events)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(outbox)).scalar_one() == 1


def test_a_stale_copy_cannot_overwrite_a_newer_change(hub: Hub) -> None:
    order = orders.create_order(hub.uow(), an_order(), actor=OPERATOR, review_required=True).order
    assert order.id is not None
    with hub.uow() as first:
        stale = first.orders.get(order.id)
    orders.apply_action(hub.uow(), order.id, Action.PAY, actor=OPERATOR, review_required=True)
    with hub.uow() as second, pytest.raises(ConcurrentUpdate, match="reload it"):
        stale.seller_note = "overwrite?"
        second.orders.update(stale)
    with hub.engine.connect() as conn:
        status = conn.execute(select(orders_table.c.status)).scalar_one()
    assert status == "pending_review"


def test_the_same_channel_order_cannot_enter_twice(hub: Hub) -> None:
    orders.create_order(
        hub.uow(),
        an_order(channel="jd", channel_order_no="J1"),
        actor=OPERATOR,
        review_required=True,
    )
    with pytest.raises(DuplicateOrder, match="already in the pool"):
        orders.create_order(
            hub.uow(),
            an_order(channel="jd", channel_order_no="J1"),
            actor=OPERATOR,
            review_required=True,
        )


def test_concurrent_requests_with_one_idempotency_key_create_one_order(hub: Hub) -> None:
    def create(_: int) -> int | None:
        result = orders.create_order(
            hub.uow(),
            an_order(channel_order_no=""),
            actor=OPERATOR,
            review_required=True,
            idempotency_key="same",
            request_hash="h",
        )
        return result.order.id

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(create, range(12)))
    with hub.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(orders_table)).scalar_one()
    assert len(ids) == 1 and count == 1


def test_concurrent_actions_on_one_order_apply_once(hub: Hub) -> None:
    order = orders.create_order(hub.uow(), an_order(), actor=OPERATOR, review_required=True).order
    assert order.id is not None
    order_id = order.id

    def pay(_: int) -> str:
        try:
            orders.apply_action(
                hub.uow(), order_id, Action.PAY, actor=OPERATOR, review_required=True
            )
        except Exception as error:
            return type(error).__name__
        return "ok"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(pay, range(8)))
    assert outcomes.count("ok") == 1
    assert set(outcomes) <= {"ok", "IllegalTransition", "ConcurrentUpdate"}
    with hub.engine.connect() as conn:
        pays = conn.execute(
            select(func.count()).select_from(order_events).where(order_events.c.action == "pay")
        ).scalar_one()
    assert pays == 1


def test_a_read_only_unit_of_work_cannot_commit(hub: Hub) -> None:
    with hub.uow.read_only() as uow, pytest.raises(RuntimeError, match="read-only"):
        uow.commit()


def test_a_new_paid_order_costs_one_insert_per_table_and_no_update(hub: Hub) -> None:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(sql.split()[0].upper())

    orders.create_order(
        hub.uow(),
        an_order(channel_order_no="warm", payment_status=PaymentStatus.PAID),
        actor=OPERATOR,
        review_required=True,
    )  # the custom-field definitions and the rules in force are read once, then shared
    event.listen(hub.engine, "before_cursor_execute", count)
    try:
        orders.create_order(
            hub.uow(),
            an_order(payment_status=PaymentStatus.PAID, tags=("VIP",)),
            actor=OPERATOR,
            review_required=True,
        )
    finally:
        event.remove(hub.engine, "before_cursor_execute", count)
    body = [s for s in statements if s not in ("BEGIN", "COMMIT")]
    # orders, order_lines, order_tags, order_events (create + submit_review), outbox, and
    # state_stays_pending (the 0 s stay in paid that submit_review ended, for the dwell report)
    assert body == ["INSERT"] * 6
    assert len(statements) <= 10
