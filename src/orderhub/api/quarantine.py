"""/api/v1/quarantine: payloads that did not fit, their reasons, replay and discard."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.channels import Quarantined
from orderhub.permissions import Permission
from orderhub.services import quarantine

router = APIRouter(prefix="/api/v1", tags=["quarantine"])


def _as(permission: Permission) -> Any:
    return Depends(Requires(permission))


class QuarantinedOut(BaseModel):
    id: int
    channel: str
    shop: str
    channel_order_no: str | None
    field: str | None
    reason: str
    source: str
    received_at: datetime
    status: str
    attempts: int
    resolution: str | None
    order_id: int | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, q: Quarantined) -> QuarantinedOut:
        assert q.id is not None
        return cls(
            id=q.id,
            channel=q.channel,
            shop=q.shop,
            channel_order_no=q.channel_order_no,
            field=q.field,
            reason=q.reason,
            source=q.source,
            received_at=q.received_at,
            status=q.status,
            attempts=q.attempts,
            resolution=q.resolution,
            order_id=q.order_id,
            payload=q.payload,
        )


@router.get("/quarantine", response_model=list[QuarantinedOut])
def list_quarantine(
    request: Request,
    actor: Actor = _as(Permission.QUARANTINE_READ),
    status: str | None = "open",
    shop: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[QuarantinedOut]:
    items = quarantine.list_quarantine(
        hub_of(request).uow.read_only(), actor=actor, status=status or None, shop=shop, limit=limit
    )
    return [QuarantinedOut.of(q) for q in items]


class IngestedOut(BaseModel):
    channel_order_no: str | None
    outcome: str
    order_id: int | None
    detail: str | None


@router.post("/quarantine/{item_id}/replay", response_model=IngestedOut)
def replay(
    item_id: int, request: Request, actor: Actor = _as(Permission.QUARANTINE_MANAGE)
) -> IngestedOut:
    hub = hub_of(request)
    result = quarantine.replay(
        hub.uow, hub.channels, item_id, actor=actor, review_required=hub.settings.review_required
    )
    return IngestedOut(**vars(result))


class DiscardIn(Strict):
    reason: str


@router.post("/quarantine/{item_id}/discard", status_code=204)
def discard(
    item_id: int,
    body: DiscardIn,
    request: Request,
    actor: Actor = _as(Permission.QUARANTINE_MANAGE),
) -> None:
    quarantine.discard(hub_of(request).uow(), item_id, actor=actor, reason=body.reason)
