"""The SLA checker: raises alerts for orders that waited too long, escalates them, resolves them
when the order moves on, and turns them into notices for their recipients.

The worker runs `check_sla` every ORDERHUB_SLA_CHECK_INTERVAL_S and `send_notices` every tick.
Each looks first in a read-only transaction (no write lock: a pass with nothing due costs a few
indexed reads), then writes what it found in one transaction. The writes are guarded, so two
checkers at once (two workers) do no harm: an alert is raised once per order, rule and stay
(the unique key), escalated once (only a row not yet escalated is updated), and each alert is
told to each recipient once (one row per alert and recipient, planned under a row lock).

Notices per recipient: alerts wait until the oldest of them waited the digest window; then more
than the threshold go out as one digest (counts by rule, severity and shop, and a link to the
filtered inbox), fewer one notice each. They leave through the outbox as `alert.notify`
commands to `alert:<recipient>`; the notification senders deliver them (retries, dead letters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog

from orderhub.domain.alerts import AlertPolicy, Resolution, due_groups, plan_notices
from orderhub.domain.notifications import ALERT_NOTIFY, alert_target, notice_payload
from orderhub.domain.rule_sets import RuleSetKind
from orderhub.domain.sla import SlaRule, sla_rules
from orderhub.services.ports import Command, DueOrder, UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger()

# Orders alerted per rule in one transaction; a bigger spike takes a few (check_sla loops).
BATCH = 5000
MAX_ROUNDS = 50


@dataclass(frozen=True)
class CheckReport:
    raised: int = 0
    escalated: int = 0
    resolved: int = 0
    notices: int = 0
    # Orders whose condition SQL could not check in full and were loaded to check it.
    loaded: int = 0

    def __add__(self, other: CheckReport) -> CheckReport:
        return CheckReport(
            self.raised + other.raised,
            self.escalated + other.escalated,
            self.resolved + other.resolved,
            self.notices + other.notices,
            self.loaded + other.loaded,
        )


@dataclass
class _Work:
    """What one look found, for the write that follows."""

    raise_: list[tuple[SlaRule, list[DueOrder]]] = field(default_factory=list)
    escalate: list[tuple[SlaRule, list[int]]] = field(default_factory=list)
    moved_on: list[int] = field(default_factory=list)
    orphaned: list[int] = field(default_factory=list)
    loaded: int = 0
    full: bool = False  # a batch was full: look again

    def __bool__(self) -> bool:
        return bool(self.raise_ or self.escalate or self.moved_on or self.orphaned)


def check_sla(uows: UnitOfWorkFactory, *, policy: AlertPolicy, batch: int = BATCH) -> CheckReport:
    """One pass of every SLA rule in force; returns what it did."""
    report = CheckReport()
    for _ in range(MAX_ROUNDS):
        with uows.read_only() as uow:
            now = uow.clock.now()
            rule_set = uow.rules.current(RuleSetKind.SLA)
            rules = sla_rules(rule_set) if rule_set is not None else []
            work = _look(uow, rules, now, batch)
        if work:
            report += _apply(uows, work)
        if not work.full:
            break
    return report + send_notices(uows, policy=policy)


def _look(uow: UnitOfWork, rules: Sequence[SlaRule], now: datetime, batch: int) -> _Work:
    work = _Work()
    # Resolving first: an order that moved on is neither escalated nor told about again.
    work.orphaned = uow.alerts.orphaned([r.name for r in rules], limit=batch)
    for rule in rules:
        moved = uow.alerts.moved_on(rule, limit=batch)
        work.moved_on += moved
        due, full = _overdue(uow, rule, now, batch, work)
        work.full = work.full or full or len(moved) == batch
        if due:
            work.raise_.append((rule, due))
        gone = set(moved)
        escalate = [
            a for a in uow.alerts.escalation_due(rule, now=now, limit=batch) if a not in gone
        ]
        work.full = work.full or len(escalate) == batch
        if escalate:
            work.escalate.append((rule, escalate))
    work.full = work.full or len(work.orphaned) == batch
    return work


def _overdue(
    uow: UnitOfWork, rule: SlaRule, now: datetime, batch: int, work: _Work
) -> tuple[list[DueOrder], bool]:
    """The orders the rule is due to alert on (up to a batch), and whether there may be more.
    A condition SQL checked only in part pages through its candidates, loading each page to
    check the rest: candidates that do not match are older than the ones that do, and would
    otherwise fill every batch."""
    found, exact = uow.alerts.overdue(rule, now=now, limit=batch)
    if exact:
        return found, len(found) == batch
    due: list[DueOrder] = []
    while found:
        work.loaded += len(found)
        due += _matching(uow, rule, found)
        if len(found) < batch:
            return due, False
        if len(due) >= batch:
            return due, True
        last = found[-1]
        found, _ = uow.alerts.overdue(
            rule, now=now, limit=batch, after=(last.since_at, last.order_id)
        )
    return due, False


def _matching(uow: UnitOfWork, rule: SlaRule, due: list[DueOrder]) -> list[DueOrder]:
    """The orders whose condition holds, checked on the loaded order (SQL checked only part)."""
    uow.orders.prefetch([d.order_id for d in due])
    return [d for d in due if rule.watches(uow.orders.get(d.order_id))]


def _apply(uows: UnitOfWorkFactory, work: _Work) -> CheckReport:
    """Write what the look found; the notices are planned after, by send_notices."""
    with uows() as uow:
        now = uow.clock.now()
        resolved = uow.alerts.close(work.moved_on, at=now, resolution=Resolution.MOVED_ON)
        resolved += uow.alerts.close(work.orphaned, at=now, resolution=Resolution.RULE_REMOVED)
        raised = escalated = 0
        for rule, due in work.raise_:
            ids = uow.alerts.raise_alerts(rule, due, at=now)
            uow.alerts.add_notifications(ids, rule.recipients, escalation=False, at=now)
            raised += len(ids)
            if ids:
                log.info("sla alerts raised", rule=rule.name, alerts=len(ids))
        for rule, candidates in work.escalate:
            ids = uow.alerts.escalate(candidates, at=now)
            uow.alerts.add_notifications(ids, rule.escalate_to, escalation=True, at=now)
            escalated += len(ids)
            if ids:
                log.info("sla alerts escalated", rule=rule.name, alerts=len(ids))
        uow.commit()
    return CheckReport(raised, escalated, resolved, 0, work.loaded)


def send_notices(
    uows: UnitOfWorkFactory, *, policy: AlertPolicy, limit: int = 20000
) -> CheckReport:
    """Turn alerts whose digest window closed into notices in the outbox, per recipient."""
    with uows.read_only() as uow:
        now = uow.clock.now()
        if not due_groups(uow.alerts.waiting(), policy=policy, now=now):
            return CheckReport()
    with uows() as uow:
        now = uow.clock.now()
        sent = 0
        for waiting in due_groups(uow.alerts.waiting(), policy=policy, now=now):
            group = uow.alerts.pending(waiting.recipient, waiting.escalation, limit=limit)
            for planned in plan_notices(group, policy=policy, now=now):
                notice_id = uow.alerts.add_notice(planned.notice, planned.pending_ids, at=now)
                notice = replace(
                    planned.notice, extra={**planned.notice.extra, "notice_id": notice_id}
                )
                uow.send(
                    Command(
                        alert_target(notice.recipient),
                        ALERT_NOTIFY,
                        notice_payload(notice),
                        # A notice about one order shows among that order's messages.
                        order_id=None if notice.digest else notice.extra.get("order_id"),
                        key=f"alert-notice:{notice_id}",
                    )
                )
                sent += 1
        uow.commit()
    if sent:
        log.info("alert notices planned", notices=sent)
    return CheckReport(notices=sent)
