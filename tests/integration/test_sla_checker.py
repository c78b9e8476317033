"""The SLA checker on SQLite and PostgreSQL, with a clock the test moves: alerts raised once per
order, rule and stay, escalated once past the second threshold, resolved when the order moves
on, and told to each recipient once (one by one, or as a digest)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from orderhub.bootstrap import Hub
from orderhub.domain.alerts import AlertPolicy, AlertStatus, Resolution
from orderhub.domain.orders import OrderType, PaymentStatus
from orderhub.domain.transitions import Action
from orderhub.services import notifications
from orderhub.services import orders as order_service
from orderhub.services.alerts import acknowledge_alert, list_alerts
from orderhub.services.rules import proposed, save_rules
from orderhub.services.sla import CheckReport, check_sla, send_notices
from tests.conftest import SETUP_ADMIN
from tests.factories import T0, an_order
from tests.unit.fakes import FakeClock

POLICY = AlertPolicy(digest_window_s=0, digest_threshold=3)
CROSS_BORDER = {"field": "order_type", "op": "eq", "value": "cross_border"}
LATE_REVIEW = {
    "name": "cross-border review 4h",
    "condition": CROSS_BORDER,
    "outcome": {
        "state": "pending_review",
        "after": "4h",
        "severity": "warning",
        "recipients": ["ops-lead", "wecom-ops"],
        "escalate_after": "8h",
        "escalate_to": ["boss"],
    },
}


@pytest.fixture
def clock(hub: Hub) -> FakeClock:
    moved = FakeClock(T0)
    hub.uow.clock = moved
    for code, kind, address in (
        ("ops-lead", "email", "lead@example.com"),
        ("wecom-ops", "webhook", "https://hooks.example.com/ops"),
        ("boss", "email", "boss@example.com"),
    ):
        notifications.add_recipient(
            hub.uow(),
            actor=SETUP_ADMIN,
            code=code,
            name=code,
            kind=kind,
            address=address,
            secret="s3cret" if kind == "webhook" else "",
        )
    return moved


def _rules(hub: Hub, *rules: dict[str, Any]) -> None:
    save_rules(hub.uow(), proposed("sla", list(rules), {}), actor=SETUP_ADMIN)


def _order(hub: Hub, no: str, **changes: Any) -> int:
    draft = an_order(
        channel_order_no=no,
        order_type=changes.pop("order_type", OrderType.CROSS_BORDER),
        payment_status=PaymentStatus.PAID,
        **changes,
    )
    order = order_service.create_order(hub.uow(), draft, actor=SETUP_ADMIN, review_required=True)
    assert order.order.id is not None
    return order.order.id


def _act(hub: Hub, order_id: int, action: Action, **extra: Any) -> None:
    order_service.apply_action(
        hub.uow(), order_id, action, actor=SETUP_ADMIN, review_required=True, **extra
    )


def _check(hub: Hub, policy: AlertPolicy = POLICY) -> CheckReport:
    return check_sla(hub.uow, policy=policy)


def _alerts(hub: Hub, **filters: Any) -> list[Any]:
    return list_alerts(hub.uow.read_only(), actor=SETUP_ADMIN, **filters)


def _notices(hub: Hub, recipient: str) -> list[dict[str, Any]]:
    with hub.uow.read_only() as uow:
        rows = uow.outbox.list(target=f"alert:{recipient}", limit=500)
    return [r["payload"] for r in sorted(rows, key=lambda r: r["id"])]


def test_an_order_past_the_threshold_raises_one_alert_once_and_only_for_matching_orders(
    hub: Hub, clock: FakeClock
) -> None:
    _rules(hub, LATE_REVIEW)
    late = [_order(hub, f"CB-{n}") for n in range(2)]
    _order(hub, "N-1", order_type=OrderType.NORMAL)
    clock.advance(hours=3, minutes=59)
    assert _check(hub).raised == 0
    clock.advance(minutes=2)
    assert _check(hub).raised == 2
    clock.advance(minutes=30)
    assert _check(hub).raised == 0
    raised = _alerts(hub)
    assert sorted(a.order_id for a in raised) == late
    assert {(a.status, a.rule, a.rule_version, a.state, a.since_at) for a in raised} == {
        (AlertStatus.OPEN, "cross-border review 4h", 1, "pending_review", T0)
    }
    # One notice per alert and recipient (two alerts: below the digest threshold).
    for recipient in ("ops-lead", "wecom-ops"):
        told = _notices(hub, recipient)
        assert sorted(n["alert_ids"][0] for n in told) == sorted(a.id for a in raised)
        assert all(not n["digest"] and n["count"] == 1 for n in told)
        assert told[0]["link"].startswith("/orders/")


def test_an_alert_resolves_by_itself_when_the_order_moves_on(hub: Hub, clock: FakeClock) -> None:
    _rules(hub, LATE_REVIEW)
    moving, staying = _order(hub, "CB-1"), _order(hub, "CB-2")
    clock.advance(hours=5)
    _check(hub)
    _act(hub, moving, Action.APPROVE)
    assert _check(hub).resolved == 1
    by_order = {a.order_id: a for a in _alerts(hub)}
    assert by_order[moving].status is AlertStatus.RESOLVED
    assert by_order[moving].resolution is Resolution.MOVED_ON
    assert by_order[staying].status is AlertStatus.OPEN


def test_a_new_stay_in_the_state_is_a_new_alert(hub: Hub, clock: FakeClock) -> None:
    _rules(hub, LATE_REVIEW)
    order_id = _order(hub, "CB-1")
    clock.advance(hours=5)
    _check(hub)
    _act(hub, order_id, Action.HOLD, reason_code="risk")
    _act(hub, order_id, Action.RELEASE)  # back to pending_review: its clock starts again
    assert _check(hub).resolved == 1
    clock.advance(hours=4, minutes=1)
    assert _check(hub).raised == 1
    assert [a.status for a in _alerts(hub, order_id=order_id)] == [
        AlertStatus.OPEN,
        AlertStatus.RESOLVED,
    ]


def test_an_alert_escalates_once_past_the_second_threshold_to_the_second_list(
    hub: Hub, clock: FakeClock
) -> None:
    _rules(hub, LATE_REVIEW)
    _order(hub, "CB-1")
    clock.advance(hours=4, minutes=1)
    _check(hub)
    assert _notices(hub, "boss") == []
    clock.advance(hours=4)
    assert _check(hub).escalated == 1
    assert _check(hub).escalated == 0
    told = _notices(hub, "boss")
    assert [(n["escalation"], n["title"].startswith("Escalated: ")) for n in told] == [(True, True)]
    assert len(_notices(hub, "ops-lead")) == 1  # the first list is not told again
    assert _alerts(hub)[0].escalated_at == T0 + timedelta(hours=8, minutes=1)


def test_an_acknowledged_alert_does_not_escalate(hub: Hub, clock: FakeClock) -> None:
    _rules(hub, LATE_REVIEW)
    _order(hub, "CB-1")
    clock.advance(hours=4, minutes=1)
    _check(hub)
    acknowledge_alert(hub.uow(), _alerts(hub)[0].id, actor=SETUP_ADMIN)
    clock.advance(hours=5)
    assert _check(hub).escalated == 0
    assert _notices(hub, "boss") == []


def test_many_alerts_at_once_reach_each_recipient_as_one_digest_with_counts_and_a_link(
    hub: Hub, clock: FakeClock
) -> None:
    _rules(hub, LATE_REVIEW)
    for n in range(5):
        _order(hub, f"CB-{n}", shop="tb-main" if n < 3 else "jd-one")
    clock.advance(hours=4, minutes=1)
    report = _check(hub)
    assert (report.raised, report.notices) == (5, 2)
    for recipient in ("ops-lead", "wecom-ops"):
        [digest] = _notices(hub, recipient)
        assert (digest["digest"], digest["count"], len(digest["alert_ids"])) == (True, 5, 5)
        assert digest["title"] == "5 orders late: cross-border review 4h"
        assert "By shop: tb-main 3, jd-one 2" in digest["lines"]
        assert digest["link"] == "/alerts?status=open&rule=cross-border+review+4h"


def test_alerts_wait_for_the_digest_window_and_go_out_together(hub: Hub, clock: FakeClock) -> None:
    windowed = AlertPolicy(digest_window_s=60, digest_threshold=1)
    _rules(hub, LATE_REVIEW)
    _order(hub, "CB-1")
    clock.advance(seconds=30)
    _order(hub, "CB-2")
    clock.advance(hours=4, seconds=-20)  # CB-1 is due, CB-2 not yet
    assert (_check(hub, windowed).raised, _notices(hub, "ops-lead")) == (1, [])
    clock.advance(seconds=30)
    assert (_check(hub, windowed).raised, _notices(hub, "ops-lead")) == (1, [])
    clock.advance(seconds=30)  # the first alert has waited the window: both go, as one digest
    assert send_notices(hub.uow, policy=windowed).notices == 2  # one per recipient
    [digest] = _notices(hub, "ops-lead")
    assert (digest["digest"], digest["count"], digest["link"]) == (
        True,
        2,
        "/alerts?status=open&rule=cross-border+review+4h",
    )


def test_a_rule_counting_from_payment_keeps_its_alert_across_the_states_before_shipping(
    hub: Hub, clock: FakeClock
) -> None:
    not_shipped = {
        "name": "not shipped 4h after payment",
        "condition": CROSS_BORDER,
        "outcome": {
            "state": ["paid", "pending_review", "approved", "allocated", "sent_to_warehouse"],
            "since": "paid",
            "after": "4h",
            "recipients": ["ops-lead"],
        },
    }
    _rules(hub, not_shipped)
    order_id = _order(hub, "CB-1")
    clock.advance(hours=3)
    _act(hub, order_id, Action.APPROVE)  # a new status: a state clock would start again
    clock.advance(hours=1, minutes=1)
    assert _check(hub).raised == 1
    _act(hub, order_id, Action.ALLOCATE)
    assert (_check(hub).raised, _check(hub).resolved) == (0, 0)
    _act(hub, order_id, Action.CANCEL, reason="buyer asked")
    assert _check(hub).resolved == 1


def test_a_condition_sql_cannot_check_is_checked_on_the_loaded_orders(
    hub: Hub, clock: FakeClock
) -> None:
    noted = {
        "name": "urgent note",
        "condition": {"field": "buyer_note", "op": "matches", "value": "(?i)urgent"},
        "outcome": {"state": "pending_review", "after": "1h", "recipients": ["ops-lead"]},
    }
    _rules(hub, noted)
    wanted = _order(hub, "CB-1", buyer_note="URGENT please")
    _order(hub, "CB-2", buyer_note="no rush")
    clock.advance(hours=2)
    report = _check(hub)
    assert (report.raised, report.loaded) == (1, 2)
    assert [a.order_id for a in _alerts(hub)] == [wanted]


def test_alerts_of_a_removed_rule_are_resolved(hub: Hub, clock: FakeClock) -> None:
    _rules(hub, LATE_REVIEW)
    _order(hub, "CB-1")
    clock.advance(hours=5)
    _check(hub)
    _rules(hub)
    assert _check(hub).resolved == 1
    assert _alerts(hub)[0].resolution is Resolution.RULE_REMOVED


def test_two_checkers_at_once_raise_and_tell_each_alert_once(hub: Hub, clock: FakeClock) -> None:
    _rules(hub, LATE_REVIEW)
    for n in range(30):
        _order(hub, f"CB-{n}")
    clock.advance(hours=9)  # due and past escalation in one go
    start = threading.Barrier(2)
    reports: list[CheckReport] = []

    def checker() -> None:
        start.wait()
        reports.append(_check(hub))

    threads = [threading.Thread(target=checker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check(hub)  # anything one left for the next pass
    assert sum(r.raised for r in reports) == 30
    alerts = _alerts(hub)
    assert len(alerts) == 30
    for recipient in ("ops-lead", "wecom-ops", "boss"):
        told = Counter(i for n in _notices(hub, recipient) for i in n["alert_ids"])
        assert told == Counter({a.id: 1 for a in alerts}), recipient


def test_orders_sql_cannot_rule_out_do_not_hide_a_later_matching_order(
    hub: Hub, clock: FakeClock
) -> None:
    noted = {
        "name": "urgent note",
        "condition": {"field": "buyer_note", "op": "matches", "value": "(?i)urgent"},
        "outcome": {"state": "pending_review", "after": "1h", "recipients": ["ops-lead"]},
    }
    _rules(hub, noted)
    for n in range(5):  # older than the matching one, and more than a batch of them
        _order(hub, f"CB-{n}", buyer_note="no rush")
    clock.advance(minutes=5)
    wanted = _order(hub, "CB-late", buyer_note="URGENT")
    clock.advance(hours=2)
    report = check_sla(hub.uow, policy=POLICY, batch=2)
    assert (report.raised, report.loaded) == (1, 6)
    assert [a.order_id for a in _alerts(hub)] == [wanted]
