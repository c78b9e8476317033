"""/api/v1/reports/bottlenecks: where orders' time goes, and the slowest step named."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.domain.bottlenecks import BottleneckReport, SlowStay, StepFigures
from orderhub.permissions import Permission
from orderhub.services import bottlenecks

router = APIRouter(prefix="/api/v1", tags=["reports"])
Reader = Annotated[Actor, Depends(Requires(Permission.REPORT_READ))]


class FiguresOut(BaseModel):
    kind: str = Field(description="state (time in one state) or hop (between two systems)")
    step: str = Field(description="the state, or the hop: payment_to_handoff, ...")
    segment: str | None = Field(
        None, description='the value of `by` ("" where the stay had none); null: all orders'
    )
    count: int
    p50_s: float = Field(description="seconds; exact (nearest rank), one of the measured stays")
    p90_s: float
    p99_s: float
    max_s: float

    @classmethod
    def of(cls, f: StepFigures) -> FiguresOut:
        return cls(
            kind=f.kind.value,
            step=f.step,
            segment=f.segment,
            count=f.count,
            p50_s=f.p50,
            p90_s=f.p90,
            p99_s=f.p99,
            max_s=f.max,
        )


class StayOut(BaseModel):
    order_id: int
    channel_order_no: str
    shop: str
    kind: str
    step: str
    seconds: float
    entered_at: datetime
    left_at: datetime | None = Field(description="null: the order is still there")
    status: str = Field(description="where the order is now")

    @classmethod
    def of(cls, s: SlowStay) -> StayOut:
        return cls(
            order_id=s.order_id,
            channel_order_no=s.channel_order_no,
            shop=s.shop,
            kind=s.kind.value,
            step=s.step,
            seconds=s.seconds,
            entered_at=s.entered_at,
            left_at=s.left_at,
            status=s.status,
        )


class BottleneckReportOut(BaseModel):
    since: datetime
    until: datetime
    now: datetime
    by: str | None
    slowest_step: FiguresOut | None = Field(
        description="the state with the highest p90 among those the merchant's chain holds "
        "the order in, from payment until the parcel leaves (not pending_payment or delivered, "
        "the buyer's time, nor shipped, the courier's); ties: the higher p99"
    )
    slowest_hop: FiguresOut | None = Field(description="the hop with the highest p90")
    steps: list[FiguresOut] = Field(description="stays and hops that ended in the window")
    segments: list[FiguresOut] = Field(description="the same per value of `by`")
    waiting: list[FiguresOut] = Field(description="orders in each state now, for how long")
    slowest_orders: list[StayOut] = Field(description="the longest stays of each step")
    longest_waiting: list[StayOut] = Field(description="the orders waiting longest per state")

    @classmethod
    def of(cls, r: BottleneckReport) -> BottleneckReportOut:
        return cls(
            since=r.window.since,
            until=r.window.until,
            now=r.now,
            by=r.by.value if r.by else None,
            slowest_step=FiguresOut.of(r.slowest_step) if r.slowest_step else None,
            slowest_hop=FiguresOut.of(r.slowest_hop) if r.slowest_hop else None,
            steps=[FiguresOut.of(f) for f in r.steps],
            segments=[FiguresOut.of(f) for f in r.segments],
            waiting=[FiguresOut.of(f) for f in r.waiting],
            slowest_orders=[StayOut.of(s) for s in r.slowest_orders],
            longest_waiting=[StayOut.of(s) for s in r.longest_waiting],
        )


@router.get("/reports/bottlenecks", response_model=BottleneckReportOut)
def bottleneck_report(
    request: Request,
    actor: Reader,
    since: Annotated[
        str, Query(description="a duration back from now (30m, 12h, 1d, 2w) or an ISO time")
    ] = bottlenecks.DEFAULT_SINCE,
    until: Annotated[str | None, Query(description="as since; unset: now")] = None,
    by: Annotated[
        str | None, Query(description="channel, shop, warehouse, order_type or tag")
    ] = None,
    state: Annotated[
        list[str] | None,
        Query(description="only these states or hops (repeat it, or separate with commas)"),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=bottlenecks.MAX_LIMIT, description="slowest orders per step")
    ] = bottlenecks.DEFAULT_LIMIT,
) -> BottleneckReportOut:
    """Time spent per state and hop, per segment: count, exact p50/p90/p99, max, the slowest
    orders, the orders waiting now, and the slowest step named."""
    steps = [s.strip() for value in state or [] for s in value.split(",") if s.strip()]
    report = bottlenecks.report(
        hub_of(request).uow,
        actor=actor,
        since=since,
        until=until,
        by=by,
        steps=steps,
        limit=limit,
    )
    return BottleneckReportOut.of(report)
