"""/api/v1/alerts: the SLA alerts inbox: list (filters, keyset pages), one alert with the
notices it went into, acknowledge and resolve (one, or many at once). The SLA rules themselves
are /api/v1/rules/sla (api/rules.py); docs/alerts.md has the whole story."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.alerts import Alert
from orderhub.permissions import Permission
from orderhub.services import alerts

router = APIRouter(prefix="/api/v1", tags=["alerts"])
Reader = Annotated[Actor, Depends(Requires(Permission.ALERT_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.ALERT_MANAGE))]


class AlertOut(BaseModel):
    id: int
    order_id: int
    channel_order_no: str
    shop: str
    channel: str
    rule: str = Field(description="the SLA rule that raised it")
    rule_version: int = Field(description="the version of the SLA rules in force then")
    state: str = Field(description="the order's status when it was raised")
    since: str = Field(description="the rule's clock: state (time in the status) or paid")
    since_at: datetime = Field(description="when that clock started: the stay it is about")
    severity: str
    status: str = Field(description="open, acknowledged or resolved")
    raised_at: datetime
    escalated_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None = Field(
        description="moved_on (the order left the stay), by_hand or rule_removed"
    )
    note: str | None

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        return cls(
            id=alert.id,
            order_id=alert.order_id,
            channel_order_no=alert.channel_order_no,
            shop=alert.shop,
            channel=alert.channel,
            rule=alert.rule,
            rule_version=alert.rule_version,
            state=alert.state,
            since=alert.since,
            since_at=alert.since_at,
            severity=alert.severity.value,
            status=alert.status.value,
            raised_at=alert.raised_at,
            escalated_at=alert.escalated_at,
            acknowledged_at=alert.acknowledged_at,
            acknowledged_by=alert.acknowledged_by,
            resolved_at=alert.resolved_at,
            resolved_by=alert.resolved_by,
            resolution=alert.resolution.value if alert.resolution else None,
            note=alert.note,
        )


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_before_id: int | None = Field(
        description="pass it as before_id for the next (older) page; null on the last page"
    )


class NoticeOut(BaseModel):
    recipient: str
    escalation: bool
    noted_at: datetime = Field(description="when the alert was queued for this recipient")
    notice_id: int | None = Field(description="null: waiting for its digest window")
    digest: bool | None
    count: int | None = Field(description="alerts in that notice")
    title: str | None
    sent_at: datetime | None = Field(description="when the notice went to the outbox")


class AlertDetailOut(AlertOut):
    notices: list[NoticeOut] = Field(
        description="each recipient it was told to, once when raised and once when escalated"
    )


class ResolveIn(Strict):
    note: Annotated[str, Field(max_length=2000)] = ""


class BulkIn(Strict):
    alert_ids: Annotated[list[int], Field(min_length=1, max_length=alerts.MAX_BULK)]


class BulkResolveIn(BulkIn):
    note: Annotated[str, Field(max_length=2000)] = ""


class SkippedOut(BaseModel):
    id: int
    reason: str


class BulkOut(BaseModel):
    done: list[AlertOut]
    skipped: list[SkippedOut] = Field(description="unknown ids and alerts resolved already")

    @classmethod
    def of(cls, result: alerts.BulkResult) -> BulkOut:
        return cls(
            done=[AlertOut.of(a) for a in result.done],
            skipped=[SkippedOut(id=i, reason=why) for i, why in result.skipped],
        )


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    request: Request,
    actor: Reader,
    status: Annotated[str | None, Query(description="open, acknowledged or resolved")] = None,
    rule: Annotated[str | None, Query(description="the rule's name")] = None,
    severity: Annotated[str | None, Query(description="info, warning or critical")] = None,
    order_id: int | None = None,
    shop: str | None = None,
    before_id: Annotated[int | None, Query(description="next_before_id of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AlertPage:
    """Alerts, newest first, a page at a time (keyset: a deep page costs what page 1 does)."""
    found = alerts.list_alerts(
        hub_of(request).uow.read_only(),
        actor=actor,
        status=alerts.status_of(status),
        rule=rule or None,
        severity=alerts.severity_of(severity),
        order_id=order_id,
        shop=shop or None,
        before_id=before_id,
        limit=limit,
    )
    return AlertPage(
        items=[AlertOut.of(a) for a in found],
        next_before_id=found[-1].id if len(found) == limit else None,
    )


@router.get("/alerts/counts", response_model=dict[str, int])
def counts(request: Request, actor: Reader) -> dict[str, int]:
    """Alerts per status."""
    return alerts.alert_counts(hub_of(request).uow.read_only(), actor=actor)


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut)
def get_alert(alert_id: int, request: Request, actor: Reader) -> AlertDetailOut:
    """One alert, with each notice it went into."""
    detail = alerts.get_alert(hub_of(request).uow.read_only(), alert_id, actor=actor)
    notices: list[dict[str, Any]] = detail.notices
    return AlertDetailOut(
        **AlertOut.of(detail.alert).model_dump(),
        notices=[NoticeOut.model_validate(n) for n in notices],
    )


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: int, request: Request, actor: Manager) -> AlertOut:
    """Someone is on it: it stays in the inbox but no longer escalates. 409 when resolved."""
    return AlertOut.of(alerts.acknowledge_alert(hub_of(request).uow(), alert_id, actor=actor))


@router.post("/alerts/{alert_id}/resolve", response_model=AlertOut)
def resolve(
    alert_id: int, request: Request, actor: Manager, body: ResolveIn | None = None
) -> AlertOut:
    """Close it by hand, with a note; 409 when resolved already (by hand or by itself)."""
    note = body.note if body else ""
    return AlertOut.of(
        alerts.resolve_alert(hub_of(request).uow(), alert_id, actor=actor, note=note)
    )


@router.post("/alerts/acknowledge", response_model=BulkOut)
def acknowledge_many(body: BulkIn, request: Request, actor: Manager) -> BulkOut:
    """Acknowledge many at once; the ones that cannot be are listed with the reason."""
    return BulkOut.of(alerts.acknowledge_alerts(hub_of(request).uow(), body.alert_ids, actor=actor))


@router.post("/alerts/resolve", response_model=BulkOut)
def resolve_many(body: BulkResolveIn, request: Request, actor: Manager) -> BulkOut:
    """Resolve many at once, with one note; the ones that cannot be are listed with the reason."""
    result = alerts.resolve_alerts(
        hub_of(request).uow(), body.alert_ids, actor=actor, note=body.note
    )
    return BulkOut.of(result)
