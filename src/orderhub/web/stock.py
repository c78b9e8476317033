"""Stock (/stock): levels per SKU and warehouse, one SKU's ledger, goods in and count corrections.

Every change goes through services/inventory.py, so the ledger says who changed what and why,
and goods in release orders that waited for them (out of stock).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.domain.inventory import StockLevel
from orderhub.errors import NotAuthenticated, OrderHubError, ValidationFailed
from orderhub.permissions import Permission, can
from orderhub.services import inventory, warehouses
from orderhub.web import i18n
from orderhub.web.channel_labels import error_title
from orderhub.web.labels import MOVEMENT_KIND
from orderhub.web.order_actions import Fields, Form
from orderhub.web.render import flash, is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.STOCK_READ))]
Adjuster = Annotated[Actor, Depends(Requires(Permission.STOCK_ADJUST))]
SHOWN_FIELDS = ("sku", "warehouse", "quantity", "delta", "reason", "reference")


def _value(form: Fields, name: str) -> str:
    values = form.get(name) or [""]
    return values[-1].strip()


def _whole(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(f"{name} '{text}' is not a whole number", field=name) from None


def _warehouse_codes(request: Request, actor: Actor) -> list[str]:
    # The filter and forms offer the warehouses by name to who may read them; others type one.
    if not can(actor, Permission.WAREHOUSE_READ):
        return []
    found = warehouses.list_warehouses(hub_of(request).uow.read_only(), actor=actor)
    return [w.code for w in found]


def stock_page(
    request: Request,
    actor: Actor,
    *,
    sku: str = "",
    warehouse: str = "",
    error: OrderHubError | None = None,
    notice: str | None = None,
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    levels = inventory.stock(
        hub_of(request).uow.read_only(), actor=actor, sku=sku or None, warehouse=warehouse or None
    )
    return page(
        request,
        "_stock_main.html" if is_htmx(request) else "stock.html",
        {
            "levels": levels,
            "sku": sku,
            "warehouse": warehouse,
            "warehouse_codes": _warehouse_codes(request, actor),
            "error": error,
            "error_title": error_title(request, error) if error else None,
            "notice": notice,
            "entered": entered or {"sku": sku, "warehouse": warehouse},
        },
        status=status,
    )


@router.get("/stock")
def list_stock(request: Request, actor: Reader, sku: str = "", warehouse: str = "") -> Response:
    return stock_page(request, actor, sku=sku.strip(), warehouse=warehouse.strip())


@router.get("/stock/{sku}")
def sku_history(sku: str, request: Request, actor: Reader, warehouse: str = "") -> Response:
    uow = hub_of(request).uow
    where = warehouse.strip() or None
    return page(
        request,
        "stock_history.html",
        {
            "sku": sku,
            "warehouse": warehouse.strip(),
            "levels": inventory.stock(uow.read_only(), actor=actor, sku=sku, warehouse=where),
            "movements": inventory.history(uow.read_only(), actor=actor, sku=sku, warehouse=where),
            "kind_labels": MOVEMENT_KIND,
        },
    )


def _changed(request: Request, actor: Actor, level: StockLevel) -> Response:
    message = i18n.translate(
        request, "%(sku)s in %(warehouse)s: on hand %(on_hand)s, available %(available)s."
    ) % {
        "sku": level.sku,
        "warehouse": level.warehouse,
        "on_hand": level.on_hand,
        "available": level.available,
    }
    if is_htmx(request):
        return stock_page(request, actor, sku=level.sku, notice=message)
    flash(request, "notice", message)
    return RedirectResponse(f"/stock?sku={quote(level.sku)}", status_code=303)


@router.post("/stock/receive")
def receive(request: Request, actor: Adjuster, form: Form) -> Response:
    entered = {name: _value(form, name) for name in SHOWN_FIELDS}
    try:
        level = inventory.receive(
            hub_of(request).uow(),
            actor=actor,
            sku=entered["sku"],
            warehouse=entered["warehouse"],
            quantity=_whole(entered["quantity"], "quantity"),
            reason=entered["reason"],
            reference=entered["reference"] or None,
        )
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return stock_page(request, actor, error=error, entered=entered, status=error.status)
    return _changed(request, actor, level)


@router.post("/stock/adjust")
def adjust(request: Request, actor: Adjuster, form: Form) -> Response:
    entered = {name: _value(form, name) for name in SHOWN_FIELDS}
    try:
        level = inventory.adjust(
            hub_of(request).uow(),
            actor=actor,
            sku=entered["sku"],
            warehouse=entered["warehouse"],
            delta=_whole(entered["delta"], "delta"),
            reason=entered["reason"],
        )
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return stock_page(request, actor, error=error, entered=entered, status=error.status)
    return _changed(request, actor, level)
