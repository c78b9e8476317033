"""/api/v1/outbox: what waits to leave OrderHub, what failed and why, and replaying it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.permissions import Permission
from orderhub.services import outbox

router = APIRouter(prefix="/api/v1", tags=["outbox"])
Reader = Annotated[Actor, Depends(Requires(Permission.OUTBOX_READ))]
Replayer = Annotated[Actor, Depends(Requires(Permission.OUTBOX_REPLAY))]


class CountOut(BaseModel):
    target: str = Field(description="who receives it: a WMS, a shop, the event broker...")
    status: str
    count: int


class MessageOut(BaseModel):
    id: int
    message_id: str = Field(description="the receiver dedupes by it")
    kind: str = Field(description="the event or command type, e.g. wms.outbound.create")
    target: str
    status: str = Field(description=f"one of {', '.join(outbox.STATUSES)}")
    order_id: int | None
    priority: int
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> MessageOut:
        return cls(kind=row["event_type"], **{k: row[k] for k in _MESSAGE_FIELDS})


_MESSAGE_FIELDS = [name for name in MessageOut.model_fields if name != "kind"]


class AttemptOut(BaseModel):
    at: datetime
    outcome: str
    detail: str | None
    worker: str


class MessageDetailOut(MessageOut):
    payload: Any
    answer: Any = Field(description="what the receiver said, when it said something")
    attempt_log: list[AttemptOut] = Field(description="every delivery attempt, oldest first")

    @classmethod
    def of(cls, row: dict[str, Any]) -> MessageDetailOut:
        return cls(
            **MessageOut.of(row).model_dump(),
            payload=row["payload"],
            answer=row["answer"],
            attempt_log=[AttemptOut.model_validate(a) for a in row["attempt_log"]],
        )


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_before_id: int | None = Field(
        description="pass it as before_id for the next (older) page; null on the last page"
    )


@router.get("/outbox/counts", response_model=list[CountOut])
def counts(request: Request, actor: Reader) -> list[CountOut]:
    """Messages per target and status (change events kept without a broker are left out)."""
    return [
        CountOut.model_validate(c)
        for c in outbox.counts(hub_of(request).uow.read_only(), actor=actor)
    ]


@router.get("/outbox", response_model=MessagePage)
def list_messages(
    request: Request,
    actor: Reader,
    status: Annotated[
        str | None, Query(description="e.g. dead; unset: every status but kept")
    ] = None,
    target: str | None = None,
    order_id: int | None = None,
    before_id: Annotated[int | None, Query(description="next_before_id of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> MessagePage:
    """Messages, newest first, a page at a time (keyset: a deep page costs what page 1 does)."""
    rows = outbox.messages(
        hub_of(request).uow.read_only(),
        actor=actor,
        status=status,
        target=target,
        order_id=order_id,
        before_id=before_id,
        limit=limit,
    )
    return MessagePage(
        items=[MessageOut.of(r) for r in rows],
        next_before_id=rows[-1]["id"] if len(rows) == limit else None,
    )


@router.get("/outbox/{message_id}", response_model=MessageDetailOut)
def get_message(message_id: int, request: Request, actor: Reader) -> MessageDetailOut:
    """One message with its payload, the receiver's answer and every delivery attempt."""
    return MessageDetailOut.of(
        outbox.message(hub_of(request).uow.read_only(), message_id, actor=actor)
    )


@router.post("/outbox/{message_id}/retry", response_model=MessageOut)
def retry(message_id: int, request: Request, actor: Replayer) -> MessageOut:
    """Send a dead or refused message again (its attempts start over); other statuses: 422."""
    return MessageOut.of(outbox.retry(hub_of(request).uow(), message_id, actor=actor))
