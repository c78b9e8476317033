"""/api/v1/orders: create, read, list, edit, act, timeline, export."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime
from sqlalchemy.engine import Connection

from orderhub.access import Requires, hub_of, read_connection
from orderhub.api.order_models import (
    ActionIn,
    BatchActionIn,
    BatchItemOut,
    BatchOut,
    CountsOut,
    EventOut,
    OrderEditIn,
    OrderIn,
    OrderOut,
    OrderPageOut,
    StayOut,
    TimelineOut,
)
from orderhub.domain.actors import Actor
from orderhub.domain.money import format_amount
from orderhub.domain.transitions import Action, ExceptionReason, OrderStatus
from orderhub.permissions import Permission
from orderhub.services import orders
from orderhub.storage import order_queries
from orderhub.storage.order_queries import OrderFilter

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
ActionActor = Annotated[Actor, Depends(Requires(per_action=True))]


def order_filter(
    status: Annotated[list[OrderStatus] | None, Query()] = None,
    exception_reason: ExceptionReason | None = None,
    channel: str | None = None,
    shop: str | None = None,
    tag: str | None = None,
    created_from: AwareDatetime | None = None,
    created_to: AwareDatetime | None = None,
    q: Annotated[
        str | None, Query(description="order id, channel order no or receiver phone")
    ] = None,
) -> OrderFilter:
    return OrderFilter(
        statuses=tuple(s.value for s in status or ()),
        exception_reason=exception_reason.value if exception_reason else None,
        channel=channel,
        shop=shop,
        tag=tag,
        created_from=created_from,
        created_to=created_to,
        q=q,
    )


Filter = Annotated[OrderFilter, Depends(order_filter)]
Reads = Annotated[Connection, Depends(read_connection)]


@router.post("", status_code=201, response_model=OrderOut)
def create_order(
    body: OrderIn,
    request: Request,
    actor: Annotated[Actor, Depends(Requires(Permission.ORDER_CREATE))],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    hub = hub_of(request)
    # The hash only matters to compare a repeat with the request that first used the key.
    request_hash = (
        hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        if idempotency_key is not None
        else None
    )
    result = orders.create_order(
        hub.uow(),
        body.to_domain(default_currency=hub.settings.default_currency),
        actor=actor,
        review_required=hub.settings.review_required,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        correlation_id=request.headers.get("x-correlation-id"),
    )
    # Serialized here, once: `response_model` still documents the shape, and FastAPI would only
    # validate again the OrderOut just built.
    response = Response(
        OrderOut.of(result.order).model_dump_json(),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/api/v1/orders/{result.order.id}"},
    )
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get("", response_model=OrderPageOut)
def list_orders(
    f: Filter,
    conn: Reads,
    _: Annotated[Actor, Depends(Requires(Permission.ORDER_READ))],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> OrderPageOut:
    page = order_queries.list_orders(conn, f, limit=limit, cursor=cursor)
    return OrderPageOut(items=page.items, next_cursor=page.next_cursor)


@router.get("/counts", response_model=CountsOut)
def count_orders(
    f: Filter,
    conn: Reads,
    _: Annotated[Actor, Depends(Requires(Permission.ORDER_READ))],
) -> CountsOut:
    counts = order_queries.count_orders(conn, f)
    return CountsOut(
        total=counts.total,
        by_status=counts.by_status,
        by_exception_reason=counts.by_exception_reason,
    )


CSV_FIELDS = [c.name for c in order_queries.EXPORT_COLUMNS]
_MONEY = {"goods_total", "shipping_fee", "discount", "tax", "paid_total"}


def _cell(value: object) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    # A buyer-typed name like "=HYPERLINK(...)" must not become a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _csv_value(name: str, row: dict[str, Any]) -> str:
    if name in _MONEY:
        return format_amount(int(row[name]), str(row["currency"]))
    if name == "tags":
        return " ".join(row[name])
    return _cell(row[name])


def csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_value(name, row) for name in CSV_FIELDS])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get(
    "/export.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}}
)
def export_orders(
    f: Filter,
    request: Request,
    _: Annotated[Actor, Depends(Requires(Permission.ORDER_EXPORT))],
) -> StreamingResponse:
    engine = hub_of(request).engine

    def stream() -> Iterator[str]:
        # The connection lives as long as the stream, not the request handler.
        with engine.connect() as conn:
            yield "\ufeff"  # so Excel opens the Chinese text as UTF-8
            yield from csv_lines(order_queries.export_rows(conn, f))

    return StreamingResponse(
        stream(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


@router.post("/actions/{action}", response_model=BatchOut)
def apply_batch(
    action: Action, body: BatchActionIn, request: Request, actor: ActionActor
) -> BatchOut:
    hub = hub_of(request)
    results = orders.apply_batch(
        hub.uow,
        body.order_ids,
        action,
        actor=actor,
        review_required=hub.settings.review_required,
        reason=body.reason,
        reason_code=body.reason_code.value if body.reason_code else None,
        params=body.params.model_dump(exclude_none=True),
        correlation_id=request.headers.get("x-correlation-id"),
    )
    items = [
        BatchItemOut(
            order_id=r.order_id,
            ok=r.ok,
            status=r.status.value if r.status else None,
            error_code=r.error_code,
            detail=r.detail,
        )
        for r in results
    ]
    ok = sum(1 for r in results if r.ok)
    return BatchOut(action=action, succeeded=ok, failed=len(results) - ok, results=items)


@router.get("/{order_id}", response_model=OrderOut)
def get_order(
    order_id: int,
    request: Request,
    actor: Annotated[Actor, Depends(Requires(Permission.ORDER_READ))],
) -> OrderOut:
    return OrderOut.of(orders.get_order(hub_of(request).uow.read_only(), order_id, actor=actor))


@router.patch("/{order_id}", response_model=OrderOut)
def edit_order(
    order_id: int,
    body: OrderEditIn,
    request: Request,
    actor: Annotated[Actor, Depends(Requires(Permission.ORDER_EDIT))],
) -> OrderOut:
    order = orders.edit_order(
        hub_of(request).uow(),
        order_id,
        actor=actor,
        receiver=body.receiver.to_domain() if body.receiver else None,
        lines=tuple(x.to_domain() for x in body.lines) if body.lines else None,
        buyer_note=body.buyer_note,
        seller_note=body.seller_note,
        correlation_id=request.headers.get("x-correlation-id"),
    )
    return OrderOut.of(order)


@router.post("/{order_id}/actions/{action}", response_model=OrderOut)
def apply_action(
    order_id: int,
    action: Action,
    request: Request,
    actor: ActionActor,
    body: ActionIn | None = None,
) -> OrderOut:
    hub = hub_of(request)
    body = body or ActionIn()
    order = orders.apply_action(
        hub.uow(),
        order_id,
        action,
        actor=actor,
        review_required=hub.settings.review_required,
        reason=body.reason,
        reason_code=body.reason_code.value if body.reason_code else None,
        params=body.params.model_dump(exclude_none=True),
        correlation_id=request.headers.get("x-correlation-id"),
    )
    return OrderOut.of(order)


@router.get("/{order_id}/timeline", response_model=TimelineOut)
def get_timeline(
    order_id: int,
    request: Request,
    actor: Annotated[Actor, Depends(Requires(Permission.ORDER_READ))],
) -> TimelineOut:
    t = orders.get_timeline(hub_of(request).uow.read_only(), order_id, actor=actor)
    return TimelineOut(
        order_id=order_id,
        status=t.order.status.value,
        events=[
            EventOut(
                action=e.action,
                from_status=e.from_status.value if e.from_status else None,
                to_status=e.to_status.value,
                at=e.at,
                actor=e.actor_name,
                source=e.source,
                reason=e.reason,
                reason_code=e.reason_code,
                correlation_id=e.correlation_id,
                detail=e.detail,
            )
            for e in t.events
        ],
        stays=[
            StayOut(
                status=s.status.value,
                entered_at=s.entered_at,
                left_at=s.left_at,
                seconds=s.duration.total_seconds(),
            )
            for s in t.stays
        ],
        seconds_in_state=t.seconds_in_state,
    )
