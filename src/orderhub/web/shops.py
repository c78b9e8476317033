"""Shops (/shops): the list, adding one, switching it on or off, and pulling or reconciling it.

The app secret and the access token are write-only: the form takes them, no page shows them
back (not even after a refused form). A pull or a reconcile shows its outcome on the page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.domain.shops import Credentials
from orderhub.errors import NotAuthenticated, OrderHubError, ValidationFailed
from orderhub.permissions import Permission
from orderhub.services import shops
from orderhub.services.channel_sync import pull_shop, reconcile_shop
from orderhub.web import i18n
from orderhub.web.channel_labels import DEFAULT_WINDOW, OUTCOME, RECONCILE_WINDOWS, error_title
from orderhub.web.order_actions import Fields, Form
from orderhub.web.render import flash, is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.SHOP_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.SHOP_MANAGE))]
Syncer = Annotated[Actor, Depends(Requires(Permission.CHANNEL_SYNC))]

# Echoed back into the form after a refusal; the secret and the token never are.
SHOWN_FIELDS = ("code", "channel", "name", "base_url", "app_key")


def _value(form: Fields, name: str) -> str:
    values = form.get(name) or [""]
    return values[-1].strip()


def shops_page(
    request: Request,
    actor: Actor,
    *,
    result: dict[str, Any] | None = None,
    error: OrderHubError | None = None,
    notice: str | None = None,
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    hub = hub_of(request)
    return page(
        request,
        "_shops_main.html" if is_htmx(request) else "shops.html",
        {
            "shops": shops.list_shops(hub.uow.read_only(), actor=actor),
            "channels": sorted(hub.channels.channels()),
            "windows": [(key, label) for key, (_, label) in RECONCILE_WINDOWS.items()],
            "default_window": DEFAULT_WINDOW,
            "outcome_labels": OUTCOME,
            "result": result,
            "error": error,
            "error_title": error_title(request, error) if error else None,
            "notice": notice,
            "entered": entered or {},
        },
        status=status,
    )


def _done(request: Request, actor: Actor, message: str) -> Response:
    """After a change: the page again under htmx, else a redirect (reload-safe) with a flash."""
    if is_htmx(request):
        return shops_page(request, actor, notice=message)
    flash(request, "notice", message)
    return RedirectResponse("/shops", status_code=303)


@router.get("/shops")
def list_shops(request: Request, actor: Reader) -> Response:
    return shops_page(request, actor)


@router.post("/shops")
def add_shop(request: Request, actor: Manager, form: Form) -> Response:
    entered = {name: _value(form, name) for name in SHOWN_FIELDS}
    hub = hub_of(request)
    try:
        shop = shops.create_shop(
            hub.uow(),
            hub.channels,
            actor=actor,
            code=entered["code"],
            channel=entered["channel"],
            name=entered["name"] or entered["code"],
            base_url=entered["base_url"],
            credentials=Credentials(
                app_key=entered["app_key"],
                app_secret=_value(form, "app_secret"),
                access_token=_value(form, "access_token"),
            ),
        )
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return shops_page(request, actor, error=error, entered=entered, status=error.status)
    message = i18n.translate(request, "Shop %(code)s added.") % {"code": shop.code}
    return _done(request, actor, message)


@router.post("/shops/{code}/enabled")
def switch_shop(code: str, request: Request, actor: Manager, form: Form) -> Response:
    wanted = _value(form, "enabled")
    if wanted not in ("true", "false"):
        raise ValidationFailed("enabled must be 'true' or 'false'", field="enabled")
    hub = hub_of(request)
    shop = shops.update_shop(
        hub.uow(), hub.channels, code, actor=actor, changes={"enabled": wanted == "true"}
    )
    if shop.enabled:
        message = i18n.translate(request, "Shop %(code)s enabled.")
    else:
        message = i18n.translate(request, "Shop %(code)s disabled.")
    message %= {"code": shop.code}
    return _done(request, actor, message)


@router.post("/shops/{code}/pull")
def pull(code: str, request: Request, actor: Syncer) -> Response:
    hub = hub_of(request)
    report = pull_shop(
        hub.uow, hub.channels, code, review_required=hub.settings.review_required, actor=actor
    )
    outcomes = [(name, report.outcomes[name]) for name in OUTCOME if report.outcomes[name]]
    result = {"kind": "pull", "report": report, "outcomes": outcomes}
    return shops_page(request, actor, result=result)


@router.post("/shops/{code}/reconcile")
def reconcile(code: str, request: Request, actor: Syncer, form: Form) -> Response:
    window = _value(form, "window") or DEFAULT_WINDOW
    if window not in RECONCILE_WINDOWS:
        raise ValidationFailed(
            f"window '{window}' is not offered; choose one of {', '.join(RECONCILE_WINDOWS)}",
            field="window",
        )
    hub = hub_of(request)
    with hub.uow.read_only() as uow:
        now = uow.clock.now()
    report = reconcile_shop(
        hub.uow,
        hub.channels,
        code,
        since=now - RECONCILE_WINDOWS[window][0],
        until=now,
        review_required=hub.settings.review_required,
        actor=actor,
    )
    result = {"kind": "reconcile", "report": report, "window": RECONCILE_WINDOWS[window][1]}
    return shops_page(request, actor, result=result)
