"""SKUs (/skus): the merchant's products with their combo components, and channel SKU mappings.

Adding a mapping releases the orders that waited for it in the exception queue (unmapped SKU);
the page says how many and links them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.domain.channels import Component
from orderhub.errors import NotAuthenticated, OrderHubError, ValidationFailed
from orderhub.permissions import Permission, can
from orderhub.services import catalogue, shops
from orderhub.web import i18n
from orderhub.web.channel_labels import error_title
from orderhub.web.order_actions import Fields, Form
from orderhub.web.render import flash, is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.SKU_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.SKU_MANAGE))]
# Component rows the add-product form offers (plain HTML, no script to add more).
COMPONENT_ROWS = 4


def _value(form: Fields, name: str) -> str:
    values = form.get(name) or [""]
    return values[-1].strip()


def skus_page(
    request: Request,
    actor: Actor,
    *,
    error: OrderHubError | None = None,
    notice: str | None = None,
    released: list[int] | None = None,
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    hub = hub_of(request)
    shop_codes = (
        [s.code for s in shops.list_shops(hub.uow.read_only(), actor=actor)]
        if can(actor, Permission.SHOP_READ)
        else []
    )
    return page(
        request,
        "_skus_main.html" if is_htmx(request) else "skus.html",
        {
            "products": catalogue.list_products(hub.uow.read_only(), actor=actor),
            "mappings": catalogue.list_mappings(hub.uow.read_only(), actor=actor),
            "channels": sorted(hub.channels.channels()),
            "shop_codes": shop_codes,
            "component_rows": range(COMPONENT_ROWS),
            "error": error,
            "error_title": error_title(request, error) if error else None,
            "notice": notice,
            "released": released or [],
            "entered": entered or {},
        },
        status=status,
    )


def _done(
    request: Request, actor: Actor, message: str, released: list[int] | None = None
) -> Response:
    if is_htmx(request) or released:
        # The released orders are linked on the page itself, so it is rendered here.
        return skus_page(request, actor, notice=message, released=released)
    flash(request, "notice", message)
    return RedirectResponse("/skus", status_code=303)


@router.get("/skus")
def list_skus(request: Request, actor: Reader) -> Response:
    return skus_page(request, actor)


def _number(text: str, name: str, default: int) -> int:
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(f"{name} '{text}' is not a whole number", field=name) from None


def parse_components(form: Fields) -> list[Component]:
    """The filled component rows (a row without a SKU is left out)."""
    skus = form.get("component_sku", [])
    quantities = form.get("component_quantity", [])
    weights = form.get("component_weight", [])
    found: list[Component] = []
    for n, sku in enumerate(skus):
        if not sku.strip():
            continue
        quantity = quantities[n].strip() if n < len(quantities) else ""
        weight = weights[n].strip() if n < len(weights) else ""
        found.append(
            Component(
                sku.strip(),
                _number(quantity, "quantity", 1),
                _number(weight, "weight", 1),
            )
        )
    return found


@router.post("/skus")
def add_product(request: Request, actor: Manager, form: Form) -> Response:
    entered = {"sku": _value(form, "sku"), "title": _value(form, "title")}
    try:
        components = parse_components(form)
        catalogue.add_product(
            hub_of(request).uow(),
            actor=actor,
            sku=entered["sku"],
            title=entered["title"] or entered["sku"],
            components=components,
        )
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return skus_page(request, actor, error=error, entered=entered, status=error.status)
    message = i18n.translate(request, "Product %(sku)s added.") % {"sku": entered["sku"]}
    return _done(request, actor, message)


@router.post("/sku-mappings")
def add_mapping(request: Request, actor: Manager, form: Form) -> Response:
    entered = {
        name: _value(form, name) for name in ("channel", "shop", "channel_sku", "merchant_sku")
    }
    try:
        if not entered["channel_sku"]:
            raise ValidationFailed("give the channel SKU", field="channel_sku")
        released = catalogue.map_sku(
            hub_of(request).uow,
            actor=actor,
            channel=entered["channel"],
            channel_sku=entered["channel_sku"],
            sku=entered["merchant_sku"],
            shop=entered["shop"],
        )
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return skus_page(request, actor, error=error, entered=entered, status=error.status)
    message = i18n.translate(
        request, "Mapping added: %(channel_sku)s → %(sku)s. Waiting orders released: %(n)s."
    ) % {"channel_sku": entered["channel_sku"], "sku": entered["merchant_sku"], "n": len(released)}
    return _done(request, actor, message, released)
