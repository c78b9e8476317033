"""Alerts as people handle them (acknowledge, resolve) and as recipients are told: one notice
each, or a digest with the counts and a link once the window closes with more than the
threshold waiting."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from orderhub.domain.alerts import (
    Alert,
    AlertPolicy,
    AlertStatus,
    Pending,
    Resolution,
    Waiting,
    acknowledge,
    due_groups,
    plan_notices,
    resolve,
)
from orderhub.domain.notifications import Severity
from orderhub.errors import AlreadyClosed
from tests.factories import T0

NOW = T0 + timedelta(hours=5)
POLICY = AlertPolicy(digest_window_s=60, digest_threshold=3)


def _alert(n: int, **changes: object) -> Alert:
    values: dict[str, object] = dict(
        id=n,
        order_id=100 + n,
        rule="late review",
        rule_version=2,
        state="pending_review",
        since="state",
        since_at=T0,
        severity=Severity.WARNING,
        status=AlertStatus.OPEN,
        raised_at=T0 + timedelta(hours=4),
        shop="tb-main",
        channel="taobao",
        channel_order_no=f"TB-{n}",
    )
    values.update(changes)
    return Alert(**values)  # type: ignore[arg-type]


def _pending(
    n: int, recipient: str = "ops-lead", escalation: bool = False, **changes: object
) -> Pending:
    return Pending(n, _alert(n, **changes), recipient, escalation, NOW - timedelta(minutes=2))


def test_a_few_alerts_are_told_one_notice_each_with_a_link_to_the_order() -> None:
    planned = plan_notices([_pending(1), _pending(2)], policy=POLICY, now=NOW)
    assert [p.pending_ids for p in planned] == [(1,), (2,)]
    notice = planned[0].notice
    assert notice.title == "Order TB-1 (tb-main) in pending_review for 5h: late review"
    assert (notice.count, notice.digest, notice.link, notice.alert_ids) == (
        1,
        False,
        "/orders/101",
        (1,),
    )


def test_more_than_the_threshold_become_one_digest_with_counts_and_the_filtered_inbox() -> None:
    group = [
        _pending(1),
        _pending(2, shop="jd-one"),
        _pending(3, severity=Severity.CRITICAL),
        _pending(4, rule="stuck picking"),
    ]
    [planned] = plan_notices(group, policy=POLICY, now=NOW)
    notice = planned.notice
    assert planned.pending_ids == (1, 2, 3, 4)
    assert (notice.digest, notice.count, notice.severity) == (True, 4, Severity.CRITICAL)
    assert notice.title == "4 orders late (2 rules)"
    assert notice.lines == (
        "By rule: late review 3, stuck picking 1",
        "By severity: warning 3, critical 1",
        "By shop: tb-main 3, jd-one 1",
    )
    assert notice.link == "/alerts?status=open"  # two rules: every open alert


def test_a_digest_names_only_the_biggest_shops_and_counts_the_rest() -> None:
    group = [_pending(n, shop=f"shop-{n:02}") for n in range(8)]
    [planned] = plan_notices(group, policy=POLICY, now=NOW)
    assert planned.notice.lines[2].endswith(", 3 more in 3 others")
    assert planned.notice.link == "/alerts?status=open&rule=late+review"


def test_alerts_wait_until_the_oldest_of_their_recipient_waited_the_window() -> None:
    waiting = [
        Waiting("ops-lead", False, NOW - timedelta(minutes=2), 2),
        Waiting("boss", False, NOW - timedelta(seconds=10), 1),
    ]
    assert due_groups(waiting, policy=POLICY, now=NOW) == [waiting[0]]
    assert due_groups(waiting, policy=AlertPolicy(digest_window_s=0), now=NOW) == [
        waiting[1],
        waiting[0],
    ]


def test_escalations_are_told_as_escalations() -> None:
    [escalated] = plan_notices([_pending(2, escalation=True)], policy=POLICY, now=NOW)
    assert escalated.notice.escalation and escalated.notice.title.startswith("Escalated: ")


def test_acknowledging_keeps_the_first_and_a_resolved_alert_cannot_be_closed_again() -> None:
    acked = acknowledge(_alert(1), by="user:lin", at=NOW)
    assert (acked.status, acked.acknowledged_by) == (AlertStatus.ACKNOWLEDGED, "user:lin")
    assert acknowledge(acked, by="user:wang", at=NOW) is acked
    done = resolve(acked, by="user:wang", at=NOW, note="  shipped by hand ")
    assert (done.status, done.resolution, done.note) == (
        AlertStatus.RESOLVED,
        Resolution.BY_HAND,
        "shipped by hand",
    )
    with pytest.raises(AlreadyClosed, match="alert 1 was resolved .* by user:wang"):
        acknowledge(done, by="user:lin", at=NOW)
    moved = replace(done, resolution=Resolution.MOVED_ON)
    with pytest.raises(AlreadyClosed, match="by itself when the order moved on"):
        resolve(moved, by="user:lin", at=NOW, note=None)
