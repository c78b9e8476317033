"""Applying actions from the console: one order from its page, or the orders ticked on the board.

Both routes declare `Requires(per_action=True)`: which permission applies depends on the action,
and the service checks `ACTION_PERMISSIONS[action]` before it changes anything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.errors import NotAuthenticated, NotFound, OrderHubError, ValidationFailed
from orderhub.services import orders
from orderhub.web import i18n, labels
from orderhub.web.order_forms import ActionInput, parse_action, parse_ids
from orderhub.web.orders import order_page
from orderhub.web.render import flash, is_htmx, page

router = APIRouter()
Acting = Annotated[Actor, Depends(Requires(per_action=True))]
Fields = dict[str, list[str]]


async def form_fields(request: Request) -> Fields:
    """The posted form as text values (files are not part of any console form)."""
    form = await request.form()
    fields: Fields = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return fields


Form = Annotated[Fields, Depends(form_fields)]


def _last(fields: Fields) -> dict[str, str | None]:
    return {name: values[-1] for name, values in fields.items()}


@router.post("/orders/{order_id:int}/actions/{action}")
def act(order_id: int, action: str, request: Request, actor: Acting, form: Form) -> Response:
    chosen = parse_action(action)
    given = ActionInput.of(_last(form))
    hub = hub_of(request)
    try:
        orders.apply_action(
            hub.uow(),
            order_id,
            chosen,
            actor=actor,
            review_required=hub.settings.review_required,
            reason=given.reason,
            reason_code=given.reason_code,
            params=given.params,
        )
    except (NotFound, NotAuthenticated):
        raise
    except OrderHubError as error:
        # Refused (not allowed from this state, permission missing, input missing): show why on
        # the order page itself, with the error's status.
        return order_page(request, actor, order_id, error=error, status=error.status)
    done = i18n.translate(request, "%(action)s: done.") % {
        "action": i18n.translate(request, labels.ACTION[chosen])
    }
    if is_htmx(request):
        return order_page(request, actor, order_id, notice=done)
    flash(request, "notice", done)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


@router.post("/orders/batch")
def act_on_many(request: Request, actor: Acting, form: Form) -> Response:
    name = _last(form).get("action") or ""
    if not name:
        raise ValidationFailed("choose an action to apply", field="action")
    chosen = parse_action(name)
    ids = parse_ids(form.get("order_ids", []))
    given = ActionInput.of(_last(form))
    hub = hub_of(request)
    # Each order in its own transaction: a refused order is listed, the others stay done.
    results = orders.apply_batch(
        hub.uow,
        ids,
        chosen,
        actor=actor,
        review_required=hub.settings.review_required,
        reason=given.reason,
        reason_code=given.reason_code,
        params=given.params,
    )
    context = {
        "action": chosen.value,
        "results": results,
        "succeeded": sum(1 for r in results if r.ok),
        "failed": sum(1 for r in results if not r.ok),
    }
    if is_htmx(request):
        # The board listens for this event and reloads its list and counts.
        return page(
            request, "_batch_results.html", context, headers={"HX-Trigger": "orders-changed"}
        )
    return page(request, "batch_results.html", context)
