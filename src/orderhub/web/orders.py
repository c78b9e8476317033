"""The order status board (/orders) and the order page (/orders/{id})."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from orderhub.access import Requires, hub_of, read_connection
from orderhub.domain.actors import Actor
from orderhub.domain.transitions import Action, ExceptionReason, OrderStatus, allowed_actions
from orderhub.errors import OrderHubError
from orderhub.permissions import Permission, can, can_apply
from orderhub.services import alerts, orders
from orderhub.services.fulfilment import parcels
from orderhub.storage import order_queries
from orderhub.web import i18n, labels
from orderhub.web.order_forms import PAGE_SIZE, BoardQuery, Input, inputs_for
from orderhub.web.render import is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.ORDER_READ))]


def batch_actions(actor: Actor) -> list[Action]:
    return [a for a in Action if can_apply(actor, a) and a not in labels.NOT_A_BUTTON]


def _batch_inputs(actions: list[Action]) -> list[Input]:
    """Every input any of these actions asks for, once (the batch bar offers them all)."""
    found: dict[str, Input] = {}
    for action in actions:
        for field in inputs_for(action):
            found.setdefault(field.name, field)
    return list(found.values())


@router.get("/orders")
def board(
    request: Request,
    conn: Annotated[Connection, Depends(read_connection)],
    actor: Reader,
    status: str | None = None,
    exception_reason: str | None = None,
    channel: str | None = None,
    shop: str | None = None,
    tag: str | None = None,
    created_from: str | None = None,
    created_to: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
) -> Response:
    query = BoardQuery.parse(
        {
            "status": status,
            "exception_reason": exception_reason,
            "channel": channel,
            "shop": shop,
            "tag": tag,
            "created_from": created_from,
            "created_to": created_to,
            "q": q,
            "cursor": cursor,
        }
    )
    order_filter = query.to_filter()
    found = order_queries.list_orders(
        conn, order_filter, limit=PAGE_SIZE, cursor=query.cursor or None
    )
    counts = order_queries.count_orders(conn, order_filter)
    return page(
        request,
        "board.html",
        {
            "query": query,
            "items": found.items,
            "next_url": query.url(cursor=found.next_cursor) if found.next_cursor else None,
            "counts": counts,
            "status_counts": [
                (s.value, counts.by_status[s.value]) for s in OrderStatus if s in counts.by_status
            ],
            "reason_counts": [
                (r.value, counts.by_exception_reason[r.value])
                for r in ExceptionReason
                if r in counts.by_exception_reason
            ],
            "statuses": [s.value for s in OrderStatus],
            "reasons": [r.value for r in ExceptionReason],
            "facets": order_queries.facet_values(conn),
            "batch_actions": [a.value for a in batch_actions(actor)],
            "batch_inputs": _batch_inputs(batch_actions(actor)),
        },
    )


def order_page(
    request: Request,
    actor: Actor,
    order_id: int,
    *,
    error: OrderHubError | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    """The order page, or only its main part for htmx, with an optional outcome message."""
    hub = hub_of(request)
    timeline = orders.get_timeline(hub.uow.read_only(), order_id, actor=actor)
    order = timeline.order
    shipped_in = parcels.order_parcels(hub.uow.read_only(), order_id, actor=actor)
    waiting = (
        alerts.open_alerts_of(hub.uow.read_only(), order_id, actor=actor)
        if can(actor, Permission.ALERT_READ)
        else []
    )
    # Shown buttons = allowed from this state AND permitted to this user; the service checks both
    # again on submit, so a hidden button is a convenience, not the protection.
    actions = [
        a
        for a in allowed_actions(order.status, order.resume_status)
        if can_apply(actor, a) and a not in labels.NOT_A_BUTTON
    ]
    seen: dict[str, float] = {}
    for stay in timeline.stays:
        seen.setdefault(stay.status.value, timeline.seconds_in_state[stay.status.value])
    error_title = None
    if error is not None:
        known = labels.ERROR_TITLE.get(error.code) or labels.ERROR_BY_STATUS.get(error.status)
        error_title = i18n.translate(request, known) if known else error.title
    return page(
        request,
        "_order_main.html" if is_htmx(request) else "order.html",
        {
            "order": order,
            "events": timeline.events,
            "parcels": shipped_in,
            "alerts": waiting,
            "stays": timeline.stays,
            "time_in_states": list(seen.items()),
            "actions": [(a.value, inputs_for(a)) for a in actions],
            "reasons": [r.value for r in ExceptionReason],
            "error": error,
            "error_title": error_title,
            "notice": notice,
        },
        status=status,
    )


@router.get("/orders/{order_id:int}")
def show_order(order_id: int, request: Request, actor: Reader) -> Response:
    return order_page(request, actor, order_id)
