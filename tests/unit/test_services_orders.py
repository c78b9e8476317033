"""Order use cases against in-memory fakes: what is saved, recorded and refused."""

from __future__ import annotations

import pytest

from orderhub.domain.actors import Actor
from orderhub.domain.orders import PaymentStatus
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.errors import IdempotencyConflict, IllegalTransition, PermissionDenied
from orderhub.permissions import permissions_of
from orderhub.services import orders
from orderhub.services.ports import IdempotencyKeyTaken
from tests.factories import an_order
from tests.unit.fakes import FakeUnitOfWork


def _actor(role: str = "operator") -> Actor:
    return Actor(id=f"user:{role}", name=role, role=role, permissions=permissions_of(role))


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


def test_creating_an_order_writes_it_and_its_first_event_together(uow: FakeUnitOfWork) -> None:
    created = orders.create_order(uow, an_order(), actor=_actor(), review_required=True)
    assert created.order.id == 1
    assert [e.action for e in uow.orders.timeline] == ["create"]
    assert uow.commits == 1 and len(uow.published) == 1


def test_a_paid_order_enters_review_in_the_same_transaction(uow: FakeUnitOfWork) -> None:
    created = orders.create_order(
        uow, an_order(payment_status=PaymentStatus.PAID), actor=_actor(), review_required=True
    )
    assert created.order.status is OrderStatus.PENDING_REVIEW
    assert [(e.action, e.actor_name) for e in uow.orders.timeline] == [
        ("create", "operator"),
        ("submit_review", "system"),
    ]
    assert uow.commits == 1


def test_a_manual_order_without_number_gets_one(uow: FakeUnitOfWork) -> None:
    created = orders.create_order(
        uow, an_order(channel_order_no=""), actor=_actor(), review_required=True
    )
    assert created.order.channel_order_no.startswith("M20261111")


def test_same_idempotency_key_and_body_returns_the_first_order(uow: FakeUnitOfWork) -> None:
    first = orders.create_order(
        uow,
        an_order(),
        actor=_actor(),
        review_required=True,
        idempotency_key="k",
        request_hash="h1",
    )
    again = orders.create_order(
        uow,
        an_order(),
        actor=_actor(),
        review_required=True,
        idempotency_key="k",
        request_hash="h1",
    )
    assert again.replayed and again.order.id == first.order.id
    assert len(uow.orders.rows) == 1


def test_same_idempotency_key_with_another_body_is_a_conflict(uow: FakeUnitOfWork) -> None:
    orders.create_order(
        uow,
        an_order(),
        actor=_actor(),
        review_required=True,
        idempotency_key="k",
        request_hash="h1",
    )
    with pytest.raises(IdempotencyConflict, match="different body"):
        orders.create_order(
            uow,
            an_order(channel_order_no="M-2"),
            actor=_actor(),
            review_required=True,
            idempotency_key="k",
            request_hash="h2",
        )
    assert len(uow.orders.rows) == 1


def test_a_missing_permission_changes_nothing(uow: FakeUnitOfWork) -> None:
    order_id = orders.create_order(uow, an_order(), actor=_actor(), review_required=True).order.id
    assert order_id is not None
    with pytest.raises(PermissionDenied, match="'order.void'"):
        orders.apply_action(
            uow, order_id, Action.VOID, actor=_actor(), review_required=True, reason="dup"
        )
    assert uow.orders.rows[order_id].status is OrderStatus.PENDING_PAYMENT
    assert len(uow.orders.timeline) == 1


def test_an_illegal_transition_changes_nothing(uow: FakeUnitOfWork) -> None:
    order_id = orders.create_order(uow, an_order(), actor=_actor(), review_required=True).order.id
    assert order_id is not None
    with pytest.raises(IllegalTransition):
        orders.apply_action(uow, order_id, Action.APPROVE, actor=_actor(), review_required=True)
    assert uow.orders.rows[order_id].version == 1
    assert len(uow.orders.timeline) == 1


def test_a_batch_applies_to_each_order_and_reports_each_failure(uow: FakeUnitOfWork) -> None:
    a = orders.create_order(
        uow, an_order(channel_order_no="A"), actor=_actor(), review_required=True
    ).order
    b = orders.create_order(
        uow,
        an_order(channel_order_no="B", payment_status=PaymentStatus.PAID),
        actor=_actor(),
        review_required=True,
    ).order
    assert a.id is not None and b.id is not None
    results = orders.apply_batch(
        uow, [a.id, b.id, 99], Action.PAY, actor=_actor(), review_required=True
    )
    assert [(r.order_id, r.ok, r.error_code) for r in results] == [
        (a.id, True, None),
        (b.id, False, "illegal_transition"),
        (99, False, "not_found"),
    ]
    assert uow.orders.rows[a.id].status is OrderStatus.PENDING_REVIEW


def test_the_timeline_gives_seconds_in_each_state(uow: FakeUnitOfWork) -> None:
    order_id = orders.create_order(uow, an_order(), actor=_actor(), review_required=True).order.id
    assert order_id is not None
    uow.clock.advance(minutes=30)
    orders.apply_action(uow, order_id, Action.PAY, actor=_actor(), review_required=True)
    uow.clock.advance(minutes=5)
    timeline = orders.get_timeline(uow, order_id, actor=_actor())
    assert timeline.seconds_in_state == {
        "pending_payment": 1800.0,
        "paid": 0.0,
        "pending_review": 300.0,
    }


def test_losing_an_idempotency_race_answers_with_the_winners_order(uow: FakeUnitOfWork) -> None:
    winner = orders.create_order(
        uow, an_order(channel_order_no="W"), actor=_actor(), review_required=True
    ).order
    assert winner.id is not None
    winner_id = winner.id

    class RacingKeys(type(uow.idempotency)):  # type: ignore[misc]
        """The key is not there when we look, and is there when we write: the other one won."""

        def find(self, principal: str, key: str) -> tuple[str, int] | None:
            found = self.keys.get((principal, key))
            self.keys[(principal, key)] = ("h", winner_id)
            return found

        def add(self, principal: str, key: str, request_hash: str, order_id: int) -> None:
            raise IdempotencyKeyTaken(key)

    uow.idempotency = RacingKeys()
    result = orders.create_order(
        uow,
        an_order(channel_order_no="L"),
        actor=_actor(),
        review_required=True,
        idempotency_key="k",
        request_hash="h",
    )
    assert result.replayed and result.order.id == winner_id
    assert len(uow.orders.rows) == 1
