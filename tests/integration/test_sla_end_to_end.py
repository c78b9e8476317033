"""Issue 6's SLA case end to end, with a clock the test moves: cross-border orders paid and not
shipped after 4 hours raise exactly one alert per order, told through the worker's scheduler, the
outbox and the real relay to a local SMTP server and a local WeCom group robot (one message per
alert when few fire, one digest when many fire at once), escalate after 8 hours to a second list,
and resolve by themselves when the orders ship."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from orderhub.bootstrap import Hub
from orderhub.domain.alerts import AlertStatus, Resolution
from orderhub.domain.notifications import RecipientKind
from orderhub.domain.orders import OrderType, PaymentStatus
from orderhub.domain.transitions import Action
from orderhub.services import orders as order_service
from orderhub.services import warehouses
from orderhub.services.alerts import list_alerts
from orderhub.services.rules import proposed, save_rules
from orderhub.worker.relay import Relay
from orderhub.worker.scheduler import Scheduler
from tests.conftest import SETUP_ADMIN
from tests.factories import T0, an_order
from tests.integration.notifications_kit import (
    PUBLIC_URL,
    add_recipient,
    arrived,
    notify_hub,
    outbox_rows,
    relay,
    start_receivers,
)
from tests.unit.fakes import FakeClock

NOT_SHIPPED = {
    "name": "cross-border not shipped 4h",
    "condition": {"field": "order_type", "op": "eq", "value": "cross_border"},
    "outcome": {
        # Paid and not shipped: OrderHub moves a paid order on to review at once, so the clock
        # counts from payment across the statuses before shipping.
        "state": ["paid", "pending_review", "approved", "allocated", "sent_to_warehouse"],
        "since": "paid",
        "after": "4h",
        "severity": "warning",
        "recipients": ["ops-lead", "wecom-ops"],
        "escalate_after": "8h",
        "escalate_to": ["ops-director"],
    },
}
TO_SHIP: list[tuple[Action, dict[str, Any]]] = [
    (Action.APPROVE, {}),
    (Action.ALLOCATE, {"params": {"warehouse": "WH-MAIN"}}),
    (Action.SEND_TO_WAREHOUSE, {}),
    (Action.SHIP, {"params": {"carrier": "SF", "tracking_no": "SF1"}}),
]


def _paid_order(hub: Hub, no: str, order_type: OrderType = OrderType.CROSS_BORDER) -> int:
    draft = an_order(channel_order_no=no, order_type=order_type, payment_status=PaymentStatus.PAID)
    made = order_service.create_order(hub.uow(), draft, actor=SETUP_ADMIN, review_required=True)
    assert made.order.id is not None
    return made.order.id


class Worker:
    """The worker as it runs in `orderhub serve`, one tick at a time: the scheduler (the SLA
    checker and the notice planner among its jobs), then the relay delivering the outbox."""

    def __init__(self, hub: Hub, clock: FakeClock) -> None:
        self.clock, self.scheduler, self.relay = clock, Scheduler(hub), relay(hub)

    def at(self, when: timedelta) -> None:
        self.clock.at = T0 + when
        self.scheduler.run_due()
        deliver(self.relay)

    def after_the_window(self) -> None:
        self.at(self.clock.at - T0 + timedelta(seconds=61))


def deliver(sender: Relay) -> None:
    for _ in range(5):  # the relay takes one message per target and key a round
        if not sender.run_once():
            return


def test_late_cross_border_orders_alert_once_each_digest_escalate_and_resolve_when_shipped(
    database_url: str,
) -> None:
    clock = FakeClock(T0)
    with (
        start_receivers() as local,
        notify_hub(
            database_url,
            local,
            clock=clock,
            sla_check_interval_s=60,
            alert_digest_window_s=60,
            alert_digest_threshold=3,
        ) as hub,
    ):
        lead = add_recipient(hub, local, RecipientKind.EMAIL, code="ops-lead")
        group = add_recipient(hub, local, RecipientKind.WECOM, code="wecom-ops")
        director = add_recipient(hub, local, RecipientKind.EMAIL, code="ops-director")
        warehouses.create_warehouse(
            hub.uow(), hub.wms, actor=SETUP_ADMIN, code="WH-MAIN", name="Main"
        )
        save_rules(hub.uow(), proposed("sla", [NOT_SHIPPED], {}), actor=SETUP_ADMIN)
        worker = Worker(hub, clock)

        first = {_paid_order(hub, f"CB-A{n}"): f"CB-A{n}" for n in (1, 2)}
        _paid_order(hub, "N-1", OrderType.NORMAL)  # not cross-border: never alerted
        clock.at = T0 + timedelta(minutes=30)
        spike = {_paid_order(hub, f"CB-B{n:02}"): f"CB-B{n:02}" for n in range(1, 11)}
        # Approved meanwhile: a new status, but the clock counts from payment.
        order_service.apply_action(
            hub.uow(), next(iter(spike)), Action.APPROVE, actor=SETUP_ADMIN, review_required=True
        )

        # 4 h after the first two were paid: two alerts, told one by one after the window.
        worker.at(timedelta(hours=4, minutes=1))
        assert (arrived(local, lead), arrived(local, group)) == ([], [])
        worker.after_the_window()
        mails, robots = arrived(local, lead), arrived(local, group)
        assert sorted(m.subject.strip() for m in mails) == [
            f"[WARNING] Order {no} (wholesale) paid for 4h2m: cross-border not shipped 4h"
            for no in sorted(first.values())
        ]
        assert sorted(no for no in first.values() for r in robots if no in _content(r)) == sorted(
            first.values()
        )

        # Ten more due at once: one digest each, with the count and the link to the inbox.
        worker.at(timedelta(hours=4, minutes=31))
        worker.after_the_window()
        mails, robots = arrived(local, lead), arrived(local, group)
        assert (len(mails), len(robots)) == (3, 3)
        digest_link = f"{PUBLIC_URL}/alerts?status=open&rule=cross-border+not+shipped+4h"
        assert mails[-1].subject.strip() == (
            "[WARNING] 10 orders late: cross-border not shipped 4h (10 alerts)"
        )
        assert digest_link in mails[-1].part("plain")
        assert "10 orders late" in _content(robots[-1]) and digest_link in _content(robots[-1])

        # Exactly one alert per late order, and each reached each recipient once.
        alerts = list_alerts(hub.uow.read_only(), actor=SETUP_ADMIN, limit=500)
        assert sorted(a.order_id for a in alerts) == sorted([*first, *spike])
        for code in ("ops-lead", "wecom-ops"):
            delivered = [r for r in outbox_rows(hub, code) if r["status"] == "delivered"]
            told = Counter(i for r in delivered for i in r["payload"]["alert_ids"])
            assert told == Counter({a.id: 1 for a in alerts}), code

        # 8 h after payment: escalated to the second list, the first one not told again.
        worker.at(timedelta(hours=8, minutes=2))
        worker.after_the_window()
        worker.at(timedelta(hours=8, minutes=32))
        worker.after_the_window()
        escalated = arrived(local, director)
        assert [m.subject.strip().split("]")[0] for m in escalated] == ["[WARNING ESCALATED"] * 3
        assert escalated[-1].subject.endswith(
            "10 orders late: cross-border not shipped 4h (10 alerts)"
        )
        assert (len(arrived(local, lead)), len(arrived(local, group))) == (3, 3)

        # The orders ship: every alert resolves by itself, and nobody is told anything more.
        clock.at = T0 + timedelta(hours=9)
        for order_id in [*first, *spike]:
            for action, extra in TO_SHIP:
                if order_id == next(iter(spike)) and action is Action.APPROVE:
                    continue
                order_service.apply_action(
                    hub.uow(), order_id, action, actor=SETUP_ADMIN, review_required=True, **extra
                )
        worker.at(timedelta(hours=9, minutes=1))
        worker.after_the_window()
        closed = list_alerts(hub.uow.read_only(), actor=SETUP_ADMIN, limit=500)
        assert {(a.status, a.resolution) for a in closed} == {
            (AlertStatus.RESOLVED, Resolution.MOVED_ON)
        }
        assert [len(arrived(local, r)) for r in (lead, group, director)] == [3, 3, 3]


def _content(received: Any) -> str:
    return str(received.body["markdown"]["content"])
