"""Stock to shops (/stock-push): each shop's stock rule and what its listings show.

Saving a rule or reading a shop's listings goes through services/stock_push.py, so the listings
are worked out again and pushed at once, as from the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.domain.stock_push import StockRule
from orderhub.errors import NotAuthenticated, OrderHubError, ValidationFailed
from orderhub.permissions import Permission
from orderhub.services import stock_push
from orderhub.services.ports import ChannelUnavailable
from orderhub.web import i18n
from orderhub.web.channel_labels import error_title
from orderhub.web.order_actions import Fields, Form
from orderhub.web.render import flash, is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.LISTING_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.LISTING_MANAGE))]


def _value(form: Fields, name: str) -> str:
    values = form.get(name) or [""]
    return values[-1].strip()


def _whole(form: Fields, name: str) -> int:
    text = _value(form, name) or "0"
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(f"{name} '{text}' is not a whole number", field=name) from None


def stock_push_page(
    request: Request,
    actor: Actor,
    *,
    shop: str = "",
    error: OrderHubError | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    uow = hub_of(request).uow
    rules = stock_push.stock_rules(uow.read_only(), actor=actor)
    listings = stock_push.list_listings(uow.read_only(), actor=actor, shop=shop or None)
    return page(
        request,
        "_stock_push_main.html" if is_htmx(request) else "stock_push.html",
        {
            "rules": rules,
            "listings": listings,
            "shop": shop,
            "error": error,
            "error_title": error_title(request, error) if error else None,
            "notice": notice,
        },
        status=status,
    )


@router.get("/stock-push")
def show(request: Request, actor: Reader, shop: str = "") -> Response:
    return stock_push_page(request, actor, shop=shop.strip())


def _done(request: Request, actor: Actor, shop: str, message: str) -> Response:
    if is_htmx(request):
        return stock_push_page(request, actor, shop=shop, notice=message)
    flash(request, "notice", message)
    return RedirectResponse(f"/stock-push?shop={shop}", status_code=303)


@router.post("/stock-push/{shop}/rule")
def save_rule(shop: str, request: Request, actor: Manager, form: Form) -> Response:
    try:
        rule = StockRule(
            shop=shop,
            percent=_whole(form, "percent"),
            buffer=_whole(form, "buffer"),
            minimum=_whole(form, "minimum"),
            warehouses=tuple(w.strip() for w in _value(form, "warehouses").split(",") if w.strip()),
            enabled=_value(form, "enabled") == "on",
        )
        stock_push.save_stock_rule(hub_of(request).uow(), rule, actor=actor)
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return stock_push_page(request, actor, shop=shop, error=error, status=error.status)
    message = i18n.translate(request, "Stock rule of %(shop)s saved; its listings are updated.")
    return _done(request, actor, shop, message % {"shop": shop})


@router.post("/stock-push/{shop}/sync")
def sync(shop: str, request: Request, actor: Manager) -> Response:
    hub = hub_of(request)
    try:
        report = stock_push.sync_listings(hub.uow, hub.channels, actor=actor, shop=shop)
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return stock_push_page(request, actor, shop=shop, error=error, status=error.status)
    except ChannelUnavailable as error:
        failed = OrderHubError(str(error))
        return stock_push_page(request, actor, shop=shop, error=failed, status=502)
    message = i18n.translate(
        request, "%(shop)s: %(listings)s listings read, %(mapped)s mapped."
    ) % {"shop": shop, "listings": report.listings, "mapped": report.mapped}
    return _done(request, actor, shop, message)
