"""Recipients (/recipients): who alerts go to; adding one, changing one, and sending it a test
notice (/recipients/{code}/test) that answers at once with what its channel said.

The signing secret is write-only, like a warehouse's: the forms take it, no page shows it back;
an empty secret field on the edit form keeps the stored one. A robot's address carries its
credential, so pages show it masked and the edit form asks for the whole address again only
when it changes (an empty address field keeps the stored one).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.domain.notifications import (
    SIGNED_KINDS,
    RecipientKind,
    alert_target,
    masked_address,
)
from orderhub.errors import NotAuthenticated, NotFound, OrderHubError
from orderhub.permissions import Permission
from orderhub.services import notifications
from orderhub.services.ports import DeliveryResult
from orderhub.web import i18n
from orderhub.web.channel_labels import error_title
from orderhub.web.labels import N_
from orderhub.web.order_actions import Fields, Form
from orderhub.web.render import flash, is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.RECIPIENT_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.RECIPIENT_MANAGE))]

KIND_LABELS: dict[str, str] = {
    RecipientKind.EMAIL: N_("Email"),
    RecipientKind.WECOM: N_("WeCom group robot"),
    RecipientKind.DINGTALK: N_("DingTalk robot"),
    RecipientKind.FEISHU: N_("Feishu/Lark custom bot"),
    RecipientKind.WEBHOOK: N_("Webhook"),
}
# Echoed back into the form after a refusal; the secret never is.
SHOWN_FIELDS = ("code", "name", "kind", "address")


def _value(form: Fields, name: str) -> str:
    values = form.get(name) or [""]
    return values[-1].strip()


def _context(request: Request, error: OrderHubError | None, notice: str | None) -> dict[str, Any]:
    return {
        "kinds": [k.value for k in RecipientKind],
        "signed_kinds": sorted(k.value for k in SIGNED_KINDS),
        "error": error,
        "error_title": error_title(request, error) if error else None,
        "notice": notice,
        "masked": masked_address,
        "kind_labels": {k: i18n.translate(request, v) for k, v in KIND_LABELS.items()},
    }


def recipients_page(
    request: Request,
    actor: Actor,
    *,
    error: OrderHubError | None = None,
    notice: str | None = None,
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    found = notifications.list_recipients(hub_of(request).uow.read_only(), actor=actor)
    return page(
        request,
        "_recipients_main.html" if is_htmx(request) else "recipients.html",
        {**_context(request, error, notice), "recipients": found, "entered": entered or {}},
        status=status,
    )


def recipient_page(
    request: Request,
    code: str,
    actor: Actor,
    *,
    error: OrderHubError | None = None,
    notice: str | None = None,
    entered: dict[str, str] | None = None,
    tried: DeliveryResult | None = None,
    status: int = 200,
) -> Response:
    recipient = notifications.get_recipient(hub_of(request).uow.read_only(), code, actor=actor)
    shown = {"name": recipient.name, "kind": recipient.kind.value}
    return page(
        request,
        "_recipient_main.html" if is_htmx(request) else "recipient.html",
        {
            **_context(request, error, notice),
            "r": recipient,
            "target": alert_target(recipient.code),
            "entered": {**shown, **(entered or {})},
            "tried": tried,
        },
        status=status,
    )


@router.get("/recipients")
def list_recipients(request: Request, actor: Reader) -> Response:
    return recipients_page(request, actor)


@router.post("/recipients")
def add_recipient(request: Request, actor: Manager, form: Form) -> Response:
    entered = {name: _value(form, name) for name in SHOWN_FIELDS}
    try:
        recipient = notifications.add_recipient(
            hub_of(request).uow(),
            actor=actor,
            code=entered["code"],
            name=entered["name"] or entered["code"],
            kind=entered["kind"],
            address=entered["address"],
            secret=_value(form, "secret"),
        )
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return recipients_page(request, actor, error=error, entered=entered, status=error.status)
    message = i18n.translate(request, "Recipient %(code)s added.") % {"code": recipient.code}
    if is_htmx(request):
        return recipients_page(request, actor, notice=message)
    flash(request, "notice", message)
    return RedirectResponse("/recipients", status_code=303)


@router.get("/recipients/{code}")
def show_recipient(code: str, request: Request, actor: Reader) -> Response:
    return recipient_page(request, code, actor)


@router.post("/recipients/{code}")
def change_recipient(code: str, request: Request, actor: Manager, form: Form) -> Response:
    entered = {name: _value(form, name) for name in ("name", "kind", "address")}
    changes: dict[str, Any] = {
        "name": entered["name"] or code,
        "kind": entered["kind"],
        # The checkbox sends "true"; a hidden "false" before it stands for unticked.
        "enabled": _value(form, "enabled") == "true",
    }
    if entered["address"]:
        changes["address"] = entered["address"]
    if _value(form, "secret"):
        changes["secret"] = _value(form, "secret")
    elif _value(form, "remove_secret") == "true":
        changes["secret"] = ""
    try:
        notifications.update_recipient(hub_of(request).uow(), code, actor=actor, changes=changes)
    except (NotFound, NotAuthenticated):
        raise
    except OrderHubError as error:
        return recipient_page(
            request, code, actor, error=error, entered=entered, status=error.status
        )
    message = i18n.translate(request, "Recipient %(code)s saved.") % {"code": code}
    if is_htmx(request):
        return recipient_page(request, code, actor, notice=message)
    flash(request, "notice", message)
    return RedirectResponse(f"/recipients/{code}", status_code=303)


@router.post("/recipients/{code}/test")
def test_recipient(code: str, request: Request, actor: Manager) -> Response:
    """Send a test notice now; the page shows what the channel answered."""
    hub = hub_of(request)
    result = notifications.send_test_notice(hub.uow.read_only(), hub.notifiers, code, actor=actor)
    return recipient_page(request, code, actor, tried=result)
