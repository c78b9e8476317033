"""Bottlenecks (/bottlenecks): where orders' time goes, with the slowest step called out.

One page over services/bottlenecks.report: filters for the window, the segment and one state
or hop; a bar chart of p50/p90/p99 per state and per hop (inline SVG drawn here, no script);
the figures, the same per segment, the orders waiting now and the slowest orders, each linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.domain.bottlenecks import (
    HOP_NAMES,
    STEP_ORDER,
    BottleneckReport,
    Segment,
    StepFigures,
    StepKind,
)
from orderhub.errors import ValidationFailed
from orderhub.permissions import Permission
from orderhub.services import bottlenecks
from orderhub.web import i18n
from orderhub.web.channel_labels import error_title
from orderhub.web.labels import N_, STATUS
from orderhub.web.render import is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.REPORT_READ))]

HOP_LABEL = {
    "payment_to_handoff": N_("Payment → warehouse hand-off"),
    "handoff_to_shipped": N_("Hand-off → shipped"),
    "shipped_to_delivered": N_("Shipped → delivered"),
}
SEGMENT_LABEL = {
    Segment.CHANNEL: N_("Channel"),
    Segment.SHOP: N_("Shop"),
    Segment.WAREHOUSE: N_("Warehouse"),
    Segment.ORDER_TYPE: N_("Order type"),
    Segment.TAG: N_("Tag"),
}
# The windows offered in the filter; any other duration or ISO time can be typed in the URL.
WINDOWS = (
    ("1h", N_("Last hour")),
    ("6h", N_("Last 6 hours")),
    ("1d", N_("Last day")),
    ("7d", N_("Last 7 days")),
    ("30d", N_("Last 30 days")),
)

# The chart's geometry, in SVG user units (it scales to the page's width).
LABEL_W, BAR_W, ROW_H, BAR_H = 230, 420, 26, 16


@dataclass(frozen=True)
class Bar:
    """One row of the chart: a step's p99, p90 and p50 as nested bars, widths in user units."""

    step: str
    label: str
    y: int
    p50: float
    p90: float
    p99: float
    figures: StepFigures
    slowest: bool


def chart(figures: list[StepFigures], labels: dict[str, str], slowest: str | None) -> list[Bar]:
    """Bars on one linear scale, the longest p99 filling the width."""
    top = max((f.p99 for f in figures), default=0.0) or 1.0
    return [
        Bar(
            f.step,
            labels.get(f.step, f.step),
            n * ROW_H,
            BAR_W * f.p50 / top,
            BAR_W * f.p90 / top,
            BAR_W * f.p99 / top,
            f,
            f.step == slowest,
        )
        for n, f in enumerate(figures)
    ]


def step_labels(request: Request) -> dict[str, str]:
    return {
        step: i18n.translate(request, STATUS.get(step) or HOP_LABEL.get(step) or step)
        for step in STEP_ORDER
    }


def _context(request: Request, report: BottleneckReport) -> dict[str, Any]:
    labels = step_labels(request)
    states = [f for f in report.steps if f.kind is StepKind.STATE]
    hops = [f for f in report.steps if f.kind is StepKind.HOP]
    slowest_step = report.slowest_step.step if report.slowest_step else None
    slowest_hop = report.slowest_hop.step if report.slowest_hop else None
    return {
        "report": report,
        "state_bars": chart(states, labels, slowest_step),
        "hop_bars": chart(hops, labels, slowest_hop),
        "segment_rows": report.segments,
        "slowest_of": {
            step: [s for s in report.slowest_orders if s.step == step] for step in STEP_ORDER
        },
        "longest_of": {
            step: [s for s in report.longest_waiting if s.step == step] for step in STEP_ORDER
        },
    }


@router.get("/bottlenecks")
def bottlenecks_page(
    request: Request,
    actor: Reader,
    since: str = bottlenecks.DEFAULT_SINCE,
    until: str = "",
    by: str = "",
    state: str = "",
    limit: Annotated[int, Query(ge=1, le=bottlenecks.MAX_LIMIT)] = bottlenecks.DEFAULT_LIMIT,
) -> Response:
    context: dict[str, Any] = {
        "query": {"since": since, "until": until, "by": by, "state": state},
        "windows": [(value, i18n.translate(request, label)) for value, label in WINDOWS],
        "segments": [(s.value, i18n.translate(request, SEGMENT_LABEL[s])) for s in Segment],
        "steps": step_labels(request),
        "hops": HOP_NAMES,
        "report": None,
        "error": None,
        "label_w": LABEL_W,
        "bar_w": BAR_W,
        "row_h": ROW_H,
        "bar_h": BAR_H,
    }
    status = 200
    try:
        report = bottlenecks.report(
            hub_of(request).uow,
            actor=actor,
            since=since or bottlenecks.DEFAULT_SINCE,
            until=until or None,
            by=by or None,
            steps=[state] if state else [],
            limit=limit,
        )
        context.update(_context(request, report))
    except ValidationFailed as error:
        context.update(error=error, error_title=error_title(request, error))
        status = 422
    template = "_bottlenecks_main.html" if is_htmx(request) else "bottlenecks.html"
    return page(request, template, context, status=status)
