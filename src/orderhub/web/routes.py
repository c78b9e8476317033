"""The console's routes in one router, its static folder, and its error renderer (for app.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from orderhub.web import (
    alerts,
    bottlenecks,
    i18n,
    login,
    notifications,
    order_actions,
    orders,
    outbox,
    quarantine,
    rules,
    shops,
    skus,
    stock,
    stock_push,
    warehouses,
)
from orderhub.web.render import render_error

STATIC_DIR = Path(__file__).parent / "static"

# Pages are not part of the REST API's OpenAPI description.
router = APIRouter(include_in_schema=False)
for feature in (
    login.router,
    i18n.router,
    orders.router,
    order_actions.router,
    shops.router,
    quarantine.router,
    skus.router,
    warehouses.router,
    stock.router,
    stock_push.router,
    outbox.router,
    rules.router,
    bottlenecks.router,
    alerts.router,
    notifications.router,
):
    router.include_router(feature)

__all__ = ["STATIC_DIR", "render_error", "router"]
