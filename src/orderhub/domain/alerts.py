"""Alerts raised by SLA rules, what people do with them, and the notices they become.

An alert is raised once per order, rule and stay (the order's clock start for the rule: when it
entered the state, or was paid), is open until someone acknowledges it, and is resolved by
itself when the order moves on, or by hand. Raised and escalated alerts become notices per
recipient: a few one by one, more than the digest threshold within the digest window as one
digest that names the counts and links to the filtered inbox.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode

from orderhub.domain.notifications import Notice, Severity
from orderhub.domain.sla import say_duration
from orderhub.errors import AlreadyClosed


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # someone is on it: it no longer escalates
    RESOLVED = "resolved"


class Resolution(StrEnum):
    MOVED_ON = "moved_on"  # the order left the state the rule watches (by itself)
    BY_HAND = "by_hand"
    RULE_REMOVED = "rule_removed"  # the rule that raised it is no longer in force


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


@dataclass(frozen=True)
class Alert:
    id: int
    order_id: int
    rule: str
    rule_version: int
    state: str  # the order's status when the alert was raised
    since: str  # the rule's clock: "state" or "paid"
    since_at: datetime  # when that clock started: the stay this alert is about
    severity: Severity
    status: AlertStatus
    raised_at: datetime
    shop: str
    channel: str
    channel_order_no: str
    escalated_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: Resolution | None = None
    note: str | None = None

    def waited(self, now: datetime) -> timedelta:
        return now - self.since_at


def acknowledge(alert: Alert, *, by: str, at: datetime) -> Alert:
    """Someone is on it; acknowledging twice keeps the first. A resolved alert is refused."""
    if alert.status is AlertStatus.RESOLVED:
        raise AlreadyClosed(_closed(alert), alert_id=alert.id)
    if alert.status is AlertStatus.ACKNOWLEDGED:
        return alert
    return replace(alert, status=AlertStatus.ACKNOWLEDGED, acknowledged_at=at, acknowledged_by=by)


def resolve(alert: Alert, *, by: str, at: datetime, note: str | None) -> Alert:
    """Closed by hand (the order is dealt with some other way); a resolved alert is refused."""
    if alert.status is AlertStatus.RESOLVED:
        raise AlreadyClosed(_closed(alert), alert_id=alert.id)
    return replace(
        alert,
        status=AlertStatus.RESOLVED,
        resolved_at=at,
        resolved_by=by,
        resolution=Resolution.BY_HAND,
        note=(note or "").strip() or None,
    )


def _closed(alert: Alert) -> str:
    how = {
        Resolution.MOVED_ON: "by itself when the order moved on",
        Resolution.RULE_REMOVED: "when its rule was removed",
    }.get(alert.resolution or Resolution.BY_HAND, f"by {alert.resolved_by}")
    when = f"{alert.resolved_at:%Y-%m-%d %H:%M} UTC " if alert.resolved_at else ""
    return f"alert {alert.id} was resolved {when}{how}; there is nothing left to do with it"


# --- notices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertPolicy:
    """How alerts are told (ORDERHUB_ALERT_* settings)."""

    # Alerts for one recipient are held this long from the first, so a spike becomes a digest.
    digest_window_s: float = 60.0
    # More alerts than this for one recipient in one window: one digest instead of one each.
    digest_threshold: int = 3


@dataclass(frozen=True)
class Pending:
    """One alert waiting to be told to one recipient (raised, or escalated)."""

    id: int
    alert: Alert
    recipient: str
    escalation: bool
    created_at: datetime


@dataclass(frozen=True)
class PlannedNotice:
    notice: Notice
    pending_ids: tuple[int, ...]  # what it tells: each alert reaches each recipient once


@dataclass(frozen=True)
class Waiting:
    """Alerts waiting to be told to one recipient, raised or escalated: how many, since when."""

    recipient: str
    escalation: bool
    oldest: datetime
    count: int


def due_groups(waiting: Sequence[Waiting], *, policy: AlertPolicy, now: datetime) -> list[Waiting]:
    """The groups whose window has closed: their oldest alert waited digest_window_s."""
    window = timedelta(seconds=policy.digest_window_s)
    ordered = sorted(waiting, key=lambda w: (w.recipient, w.escalation))
    return [w for w in ordered if now - w.oldest >= window]


def plan_notices(
    group: Sequence[Pending], *, policy: AlertPolicy, now: datetime
) -> list[PlannedNotice]:
    """One notice per alert, or one digest when the group is above the threshold."""
    group = sorted(group, key=lambda p: p.alert.id)
    if len(group) > policy.digest_threshold:
        return [PlannedNotice(_digest(group, now), tuple(p.id for p in group))]
    return [PlannedNotice(_single(p, now), (p.id,)) for p in group]


def _single(p: Pending, now: datetime) -> Notice:
    a = p.alert
    paid = a.since == "paid"
    waited = say_duration(_minutes(a.waited(now)))
    title = f"Order {a.channel_order_no} ({a.shop}) {'paid' if paid else 'in ' + a.state} for "
    title += f"{waited}: {a.rule}"
    return Notice(
        recipient=p.recipient,
        severity=a.severity,
        title=("Escalated: " if p.escalation else "") + title,
        lines=(
            f"Rule: {a.rule} (version {a.rule_version}), severity {a.severity.value}",
            f"Order: {a.channel_order_no}, shop {a.shop} ({a.channel}), now {a.state}",
            f"Since {a.since_at:%Y-%m-%d %H:%M} UTC ({'paid' if paid else 'entered ' + a.state})",
            f"Alert raised {a.raised_at:%Y-%m-%d %H:%M} UTC",
        ),
        count=1,
        link=f"/orders/{a.order_id}",
        alert_ids=(a.id,),
        escalation=p.escalation,
        at=now,
        extra={"rule": a.rule, "order_id": a.order_id, "shop": a.shop, "state": a.state},
    )


def _digest(group: Sequence[Pending], now: datetime) -> Notice:
    alerts = [p.alert for p in group]
    by_rule = Counter(a.rule for a in alerts)
    by_severity = Counter(a.severity.value for a in alerts)
    by_shop = Counter(a.shop for a in alerts)
    severity = max((a.severity for a in alerts), key=SEVERITY_RANK.__getitem__)
    escalation = group[0].escalation
    late = f"{len(alerts)} orders late"
    title = (
        f"{late}: {next(iter(by_rule))}" if len(by_rule) == 1 else f"{late} ({len(by_rule)} rules)"
    )
    query = (
        {"status": "open"} if len(by_rule) > 1 else {"status": "open", "rule": next(iter(by_rule))}
    )
    return Notice(
        recipient=group[0].recipient,
        severity=severity,
        title=("Escalated: " if escalation else "") + title,
        lines=(
            "By rule: " + _counted(by_rule),
            "By severity: " + _counted(by_severity),
            "By shop: " + _counted(by_shop, top=5),
        ),
        count=len(alerts),
        link=f"/alerts?{urlencode(query)}",
        alert_ids=tuple(a.id for a in alerts),
        digest=True,
        escalation=escalation,
        at=now,
        extra={
            "by_rule": dict(by_rule),
            "by_severity": dict(by_severity),
            "by_shop": dict(by_shop.most_common(20)),
        },
    )


def _counted(counts: Counter[str], top: int | None = None) -> str:
    shown = counts.most_common(top)
    said = ", ".join(f"{name} {n}" for name, n in shown)
    rest = sum(counts.values()) - sum(n for _, n in shown)
    return said + (f", {rest} more in {len(counts) - len(shown)} others" if rest else "")


def _minutes(duration: timedelta) -> timedelta:
    return timedelta(minutes=int(duration.total_seconds() // 60))
