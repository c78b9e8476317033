"""The outbox (/outbox): how many messages wait or failed per target, the failed ones with their
last error, one message with its payload and attempt log, and Retry.

The list opens on what needs a person (dead and refused messages); a count links to its
messages. Retry is offered only with outbox.replay and only for a message that can be replayed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.errors import NotAuthenticated, NotFound, OrderHubError, ValidationFailed
from orderhub.permissions import Permission
from orderhub.services import outbox
from orderhub.web import i18n
from orderhub.web.channel_labels import error_title
from orderhub.web.labels import OUTBOX_STATUS
from orderhub.web.render import flash, is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.OUTBOX_READ))]
Replayer = Annotated[Actor, Depends(Requires(Permission.OUTBOX_REPLAY))]
PAGE_SIZE = 100
# The columns of the counts: the way a message goes; superseded and kept ones need nobody.
COUNTED = ("pending", "sending", "delivered", "refused", "dead")
FAILED = "failed"  # the list's default: dead and refused together
# Kept change events are a record, not a backlog: the API lists them, this page does not.
LISTED = (FAILED, *(s for s in outbox.STATUSES if s != "kept"))


def _count_table(rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, int]]]:
    per_target: dict[str, dict[str, int]] = {}
    for row in rows:
        per_target.setdefault(row["target"], {})[row["status"]] = row["count"]
    return sorted(per_target.items())


def _failed(
    request: Request, actor: Actor, target: str | None, before_id: int | None
) -> list[dict[str, Any]]:
    """Dead and refused messages together, newest first (one page of each, merged)."""
    found = [
        m
        for status in outbox.REPLAYABLE
        for m in outbox.messages(
            hub_of(request).uow.read_only(),
            actor=actor,
            status=status,
            target=target,
            before_id=before_id,
            limit=PAGE_SIZE,
        )
    ]
    return sorted(found, key=lambda m: -int(m["id"]))[:PAGE_SIZE]


@router.get("/outbox")
def outbox_page(
    request: Request,
    actor: Reader,
    status: str = FAILED,
    target: str | None = None,
    before_id: int | None = None,
) -> Response:
    if status not in LISTED:
        raise ValidationFailed(
            f"status '{status}' is not listed here; choose one of {', '.join(LISTED)}",
            field="status",
        )
    target = target or None
    if status == FAILED:
        items = _failed(request, actor, target, before_id)
    else:
        items = outbox.messages(
            hub_of(request).uow.read_only(),
            actor=actor,
            status=status,
            target=target,
            before_id=before_id,
            limit=PAGE_SIZE,
        )
    counts = _count_table(outbox.counts(hub_of(request).uow.read_only(), actor=actor))
    return page(
        request,
        "outbox.html",
        {
            "counts": counts,
            "counted": COUNTED,
            "items": items,
            "status": status,
            "target": target,
            "statuses": [(s, OUTBOX_STATUS.get(s)) for s in LISTED],
            "status_labels": OUTBOX_STATUS,
            "older": items[-1]["id"] if len(items) == PAGE_SIZE else None,
        },
    )


def message_page(
    request: Request,
    message_id: int,
    actor: Actor,
    *,
    error: OrderHubError | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    message = outbox.message(hub_of(request).uow.read_only(), message_id, actor=actor)
    context: dict[str, Any] = {
        "m": message,
        "payload_json": _pretty(message["payload"]),
        "answer_json": None if message["answer"] is None else _pretty(message["answer"]),
        "replayable": message["status"] in outbox.REPLAYABLE,
        "status_labels": OUTBOX_STATUS,
        "error": error,
        "error_title": error_title(request, error) if error else None,
        "notice": notice,
    }
    template = "_outbox_message_main.html" if is_htmx(request) else "outbox_message.html"
    return page(request, template, context, status=status)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@router.get("/outbox/{message_id:int}")
def show_message(message_id: int, request: Request, actor: Reader) -> Response:
    return message_page(request, message_id, actor)


@router.post("/outbox/{message_id:int}/retry")
def retry(message_id: int, request: Request, actor: Replayer) -> Response:
    try:
        outbox.retry(hub_of(request).uow(), message_id, actor=actor)
    except (NotFound, NotAuthenticated):
        raise
    except OrderHubError as error:
        return message_page(request, message_id, actor, error=error, status=error.status)
    done = i18n.translate(request, "Message %(id)s is pending again; the relay sends it next.")
    done %= {"id": message_id}
    if is_htmx(request):
        return message_page(request, message_id, actor, notice=done)
    flash(request, "notice", done)
    return RedirectResponse(f"/outbox/{message_id}", status_code=303)
