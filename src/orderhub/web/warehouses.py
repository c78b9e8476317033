"""Warehouses (/warehouses): the list, adding one with its WMS, changing one, and what waits in
its queues (/warehouses/{code}/queue).

The WMS secret is write-only, like a shop's: the forms take it, no page shows it back (not even
after a refused form); an empty secret field on the edit form keeps the stored one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Connection

from orderhub.access import Requires, hub_of, read_connection
from orderhub.domain.actors import Actor
from orderhub.domain.fulfilment import wms_target
from orderhub.domain.warehouses import WmsCredentials
from orderhub.errors import NotAuthenticated, NotFound, OrderHubError, ValidationFailed
from orderhub.permissions import Permission
from orderhub.services import warehouses
from orderhub.storage.warehouse_queues import STAGES, warehouse_queues
from orderhub.web import i18n
from orderhub.web.channel_labels import error_title
from orderhub.web.order_actions import Fields, Form
from orderhub.web.render import flash, is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.WAREHOUSE_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.WAREHOUSE_MANAGE))]

# Echoed back into the form after a refusal; the secret never is.
SHOWN_FIELDS = ("code", "name", "wms", "base_url", "app_key", "customer_id", "rate_per_s")


def _value(form: Fields, name: str) -> str:
    values = form.get(name) or [""]
    return values[-1].strip()


def _rate(text: str) -> float:
    try:
        return float(text) if text else 50.0
    except ValueError:
        raise ValidationFailed(
            f"rate '{text}' is not a number of messages a second", field="rate_per_s"
        ) from None


def _context(request: Request, error: OrderHubError | None, notice: str | None) -> dict[str, Any]:
    return {
        "protocols": ["none", *sorted(hub_of(request).wms.protocols())],
        "error": error,
        "error_title": error_title(request, error) if error else None,
        "notice": notice,
    }


def warehouses_page(
    request: Request,
    actor: Actor,
    *,
    error: OrderHubError | None = None,
    notice: str | None = None,
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "_warehouses_main.html" if is_htmx(request) else "warehouses.html",
        {
            **_context(request, error, notice),
            "warehouses": warehouses.list_warehouses(hub_of(request).uow.read_only(), actor=actor),
            "entered": entered or {},
        },
        status=status,
    )


def warehouse_page(
    request: Request,
    code: str,
    actor: Actor,
    *,
    error: OrderHubError | None = None,
    notice: str | None = None,
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    warehouse = warehouses.get_warehouse(hub_of(request).uow.read_only(), code, actor=actor)
    shown = {
        "name": warehouse.name,
        "wms": warehouse.wms,
        "base_url": warehouse.base_url,
        "app_key": warehouse.credentials.app_key,
        "customer_id": warehouse.credentials.customer_id,
        "rate_per_s": f"{warehouse.rate_per_s:g}",
    }
    return page(
        request,
        "_warehouse_main.html" if is_htmx(request) else "warehouse.html",
        {
            **_context(request, error, notice),
            "w": warehouse,
            "wms_target": wms_target(warehouse.code),
            "entered": {**shown, **(entered or {})},
        },
        status=status,
    )


@router.get("/warehouses")
def list_warehouses(request: Request, actor: Reader) -> Response:
    return warehouses_page(request, actor)


@router.post("/warehouses")
def add_warehouse(request: Request, actor: Manager, form: Form) -> Response:
    entered = {name: _value(form, name) for name in SHOWN_FIELDS}
    hub = hub_of(request)
    try:
        warehouse = warehouses.create_warehouse(
            hub.uow(),
            hub.wms,
            actor=actor,
            code=entered["code"],
            name=entered["name"] or entered["code"],
            protocol=entered["wms"] or "none",
            base_url=entered["base_url"],
            credentials=WmsCredentials(
                entered["app_key"], _value(form, "secret"), entered["customer_id"]
            ),
            rate_per_s=_rate(entered["rate_per_s"]),
        )
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return warehouses_page(request, actor, error=error, entered=entered, status=error.status)
    message = i18n.translate(request, "Warehouse %(code)s added.") % {"code": warehouse.code}
    if is_htmx(request):
        return warehouses_page(request, actor, notice=message)
    flash(request, "notice", message)
    return RedirectResponse("/warehouses", status_code=303)


@router.get("/warehouses/{code}")
def show_warehouse(code: str, request: Request, actor: Reader) -> Response:
    return warehouse_page(request, code, actor)


@router.get("/warehouses/{code}/queue")
def show_queue(
    code: str,
    request: Request,
    actor: Reader,
    conn: Annotated[Connection, Depends(read_connection)],
    queue: Annotated[str | None, Query()] = None,
) -> Response:
    """What waits here, per queue and stage, and the orders in the order to work them."""
    hub = hub_of(request)
    warehouse = warehouses.get_warehouse(hub.uow.read_only(), code, actor=actor)
    with hub.uow.read_only() as uow:
        now = uow.clock.now()
    chosen = queue.strip() if queue and queue.strip() else None
    return page(
        request,
        "warehouse_queue.html",
        {
            "w": warehouse,
            "found": warehouse_queues(
                conn,
                code,
                queue=chosen,
                aging_per_min=hub.settings.priority_aging_per_min,
                now=now,
            ),
            "every_queue": warehouse_queues(conn, code, limit=0).queues if chosen else None,
            "stages": STAGES,
            "now": now,
        },
    )


@router.post("/warehouses/{code}")
def change_warehouse(code: str, request: Request, actor: Manager, form: Form) -> Response:
    entered = {name: _value(form, name) for name in SHOWN_FIELDS if name != "code"}
    credentials = {"app_key": entered["app_key"], "customer_id": entered["customer_id"]}
    if _value(form, "secret"):
        credentials["secret"] = _value(form, "secret")
    hub = hub_of(request)
    try:
        warehouses.update_warehouse(
            hub.uow(),
            hub.wms,
            code,
            actor=actor,
            changes={
                "name": entered["name"] or code,
                "wms": entered["wms"] or "none",
                "base_url": entered["base_url"],
                "credentials": credentials,
                # The checkbox sends "true"; a hidden "false" before it stands for unticked.
                "enabled": _value(form, "enabled") == "true",
                "rate_per_s": _rate(entered["rate_per_s"]),
            },
        )
    except (NotFound, NotAuthenticated):
        raise
    except OrderHubError as error:
        return warehouse_page(
            request, code, actor, error=error, entered=entered, status=error.status
        )
    message = i18n.translate(request, "Warehouse %(code)s saved.") % {"code": code}
    if is_htmx(request):
        return warehouse_page(request, code, actor, notice=message)
    flash(request, "notice", message)
    return RedirectResponse(f"/warehouses/{code}", status_code=303)
