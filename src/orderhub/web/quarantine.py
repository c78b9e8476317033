"""The quarantine (/quarantine): payloads that did not fit, why, and replaying or discarding them.

The payload is shown exactly as the channel sent it (pretty-printed JSON, escaped like every
other value), so a reader sees what the mapping met.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.domain.channels import Quarantined
from orderhub.errors import NotAuthenticated, NotFound, OrderHubError, ValidationFailed
from orderhub.permissions import Permission
from orderhub.services import quarantine
from orderhub.services.channel_ingest import QUARANTINED, Ingested
from orderhub.web import i18n
from orderhub.web.channel_labels import OUTCOME, QUARANTINE_STATUS, error_title
from orderhub.web.order_actions import Form
from orderhub.web.render import flash, is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.QUARANTINE_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.QUARANTINE_MANAGE))]
LIST_LIMIT = 200


@router.get("/quarantine")
def list_entries(request: Request, actor: Reader, status: str = "open") -> Response:
    if status not in QUARANTINE_STATUS:
        raise ValidationFailed(
            f"status '{status}' does not exist; choose one of {', '.join(QUARANTINE_STATUS)}",
            field="status",
        )
    entries = quarantine.list_quarantine(
        hub_of(request).uow.read_only(), actor=actor, status=status, limit=LIST_LIMIT
    )
    return page(
        request,
        "quarantine.html",
        {
            "entries": entries,
            "status": status,
            "statuses": list(QUARANTINE_STATUS.items()),
            "limit": LIST_LIMIT,
        },
    )


def _entry(request: Request, item_id: int, actor: Actor) -> Quarantined:
    return quarantine.get_entry(hub_of(request).uow.read_only(), item_id, actor=actor)


def entry_page(
    request: Request,
    item_id: int,
    actor: Actor,
    *,
    outcome: Ingested | None = None,
    error: OrderHubError | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    entry = _entry(request, item_id, actor)
    context: dict[str, Any] = {
        "entry": entry,
        "payload_json": json.dumps(entry.payload, indent=2, ensure_ascii=False, sort_keys=True),
        "status_labels": QUARANTINE_STATUS,
        "outcome_labels": OUTCOME,
        "outcome": outcome,
        "still_quarantined": outcome is not None and outcome.outcome == QUARANTINED,
        "error": error,
        "error_title": error_title(request, error) if error else None,
        "notice": notice,
    }
    template = "_quarantine_entry_main.html" if is_htmx(request) else "quarantine_entry.html"
    return page(request, template, context, status=status)


@router.get("/quarantine/{item_id:int}")
def show_entry(item_id: int, request: Request, actor: Reader) -> Response:
    return entry_page(request, item_id, actor)


@router.post("/quarantine/{item_id:int}/replay")
def replay(item_id: int, request: Request, actor: Manager) -> Response:
    hub = hub_of(request)
    try:
        result = quarantine.replay(
            hub.uow,
            hub.channels,
            item_id,
            actor=actor,
            review_required=hub.settings.review_required,
        )
    except (NotFound, NotAuthenticated):
        raise
    except OrderHubError as error:
        return entry_page(request, item_id, actor, error=error, status=error.status)
    return entry_page(request, item_id, actor, outcome=result)


@router.post("/quarantine/{item_id:int}/discard")
def discard(item_id: int, request: Request, actor: Manager, form: Form) -> Response:
    reason = (form.get("reason") or [""])[-1]
    try:
        quarantine.discard(hub_of(request).uow(), item_id, actor=actor, reason=reason)
    except (NotFound, NotAuthenticated):
        raise
    except OrderHubError as error:
        return entry_page(request, item_id, actor, error=error, status=error.status)
    done = i18n.translate(request, "Entry %(id)s discarded.") % {"id": item_id}
    if is_htmx(request):
        return entry_page(request, item_id, actor, notice=done)
    flash(request, "notice", done)
    return RedirectResponse(f"/quarantine/{item_id}", status_code=303)
