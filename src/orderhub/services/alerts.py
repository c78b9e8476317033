"""The alerts inbox: list alerts, acknowledge them (someone is on it: no escalation), resolve them
by hand, one or many at once. Raising, escalating and resolving by themselves is the checker's
(services/sla.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderhub.domain import alerts as domain
from orderhub.domain.actors import Actor
from orderhub.domain.alerts import UNRESOLVED, Alert, AlertStatus
from orderhub.domain.notifications import Severity
from orderhub.errors import AlreadyClosed, ConcurrentUpdate, OrderHubError, ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services.ports import UnitOfWork

MAX_BULK = 1000
# What acknowledging or resolving does to one alert (domain.alerts).
Change = Callable[[Alert], Alert]


def status_of(text: str | None) -> AlertStatus | None:
    """A status filter from its name; ValidationFailed listing the statuses otherwise."""
    if not text:
        return None
    try:
        return AlertStatus(text)
    except ValueError:
        raise ValidationFailed(
            f"unknown alert status '{text}'; use one of {', '.join(s.value for s in AlertStatus)}",
            field="status",
        ) from None


def severity_of(text: str | None) -> str | None:
    if not text:
        return None
    if text not in [s.value for s in Severity]:
        raise ValidationFailed(
            f"unknown severity '{text}'; use one of {', '.join(s.value for s in Severity)}",
            field="severity",
        )
    return text


def list_alerts(
    uow: UnitOfWork,
    *,
    actor: Actor,
    status: AlertStatus | None = None,
    rule: str | None = None,
    severity: str | None = None,
    order_id: int | None = None,
    shop: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Alert]:
    """Alerts, newest first, a page at a time."""
    require(actor, Permission.ALERT_READ)
    with uow:
        return uow.alerts.page(
            status=status,
            rule=rule,
            severity=severity,
            order_id=order_id,
            shop=shop,
            before_id=before_id,
            limit=max(1, min(limit, 500)),
        )


def alert_counts(uow: UnitOfWork, *, actor: Actor) -> dict[str, int]:
    require(actor, Permission.ALERT_READ)
    with uow:
        counts = uow.alerts.counts()
    return {s.value: counts.get(s.value, 0) for s in AlertStatus}


@dataclass(frozen=True)
class AlertDetail:
    alert: Alert
    notices: list[dict[str, Any]]  # which notice told which recipient, and when


def get_alert(uow: UnitOfWork, alert_id: int, *, actor: Actor) -> AlertDetail:
    require(actor, Permission.ALERT_READ)
    with uow:
        return AlertDetail(uow.alerts.get(alert_id), uow.alerts.notices_of(alert_id))


def open_alerts_of(uow: UnitOfWork, order_id: int, *, actor: Actor) -> list[Alert]:
    """The order's alerts not yet resolved (the order page shows them)."""
    require(actor, Permission.ALERT_READ)
    with uow:
        found = uow.alerts.page(order_id=order_id, limit=100)
    return [a for a in found if a.status in UNRESOLVED]


def acknowledge_alert(uow: UnitOfWork, alert_id: int, *, actor: Actor) -> Alert:
    """Someone is on it: it stays in the inbox but no longer escalates."""
    require(actor, Permission.ALERT_MANAGE)
    with uow:
        done = _change(uow, alert_id, lambda a: domain.acknowledge(a, by=actor.label, at=_now(uow)))
        uow.commit()
    return done


def resolve_alert(
    uow: UnitOfWork, alert_id: int, *, actor: Actor, note: str | None = None
) -> Alert:
    """Closed by hand, with a note saying how it was dealt with."""
    require(actor, Permission.ALERT_MANAGE)
    with uow:
        done = _change(
            uow, alert_id, lambda a: domain.resolve(a, by=actor.label, at=_now(uow), note=note)
        )
        uow.commit()
    return done


@dataclass(frozen=True)
class BulkResult:
    done: list[Alert]
    skipped: list[tuple[int, str]]  # (alert id, why): unknown, or resolved already


def acknowledge_alerts(uow: UnitOfWork, alert_ids: Sequence[int], *, actor: Actor) -> BulkResult:
    require(actor, Permission.ALERT_MANAGE)
    return _bulk(uow, alert_ids, lambda a: domain.acknowledge(a, by=actor.label, at=_now(uow)))


def resolve_alerts(
    uow: UnitOfWork, alert_ids: Sequence[int], *, actor: Actor, note: str | None = None
) -> BulkResult:
    require(actor, Permission.ALERT_MANAGE)
    return _bulk(
        uow, alert_ids, lambda a: domain.resolve(a, by=actor.label, at=_now(uow), note=note)
    )


def _bulk(uow: UnitOfWork, alert_ids: Sequence[int], change: Change) -> BulkResult:
    ids = list(dict.fromkeys(alert_ids))
    if not ids or len(ids) > MAX_BULK:
        raise ValidationFailed(
            f"name from 1 to {MAX_BULK} alert ids (got {len(ids)})", field="alert_ids"
        )
    done: list[Alert] = []
    skipped: list[tuple[int, str]] = []
    with uow:
        for alert_id in ids:
            try:
                done.append(_change(uow, alert_id, change))
            except OrderHubError as refused:
                skipped.append((alert_id, refused.detail))
        uow.commit()
    return BulkResult(done, skipped)


def _change(uow: UnitOfWork, alert_id: int, change: Change) -> Alert:
    alert = uow.alerts.get(alert_id)
    changed: Alert = change(alert)
    if changed is alert:
        return alert  # acknowledged already: nothing to write
    if not uow.alerts.save(changed, was=alert.status):
        now = uow.alerts.get(alert_id)
        if now.status is AlertStatus.RESOLVED:
            raise AlreadyClosed(
                f"alert {alert_id} was resolved meanwhile ({now.resolution}); nothing to do",
                alert_id=alert_id,
            )
        raise ConcurrentUpdate(f"alert {alert_id} changed meanwhile; reload it and try again")
    return changed


def _now(uow: UnitOfWork) -> datetime:
    return uow.clock.now()
