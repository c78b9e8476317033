"""The ASGI application: API and console on the same services, one error handler, CSRF, sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from asgi_csrf import asgi_csrf
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from orderhub import __version__
from orderhub.api import accounts as api_accounts
from orderhub.api import alerts as api_alerts
from orderhub.api import bottlenecks as api_bottlenecks
from orderhub.api import errors
from orderhub.api import imports as api_imports
from orderhub.api import inventory as api_inventory
from orderhub.api import orders as api_orders
from orderhub.api import outbox as api_outbox
from orderhub.api import parcels as api_parcels
from orderhub.api import quarantine as api_quarantine
from orderhub.api import recipients as api_recipients
from orderhub.api import rules as api_rules
from orderhub.api import settings as api_settings
from orderhub.api import shops as api_shops
from orderhub.api import skus as api_skus
from orderhub.api import stock_push as api_stock_push
from orderhub.api import warehouses as api_warehouses
from orderhub.api import webhooks as api_webhooks
from orderhub.api import wms as api_wms
from orderhub.bootstrap import Hub
from orderhub.errors import OrderHubError
from orderhub.web import routes as web

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {errors.PROBLEM: {}}}
    for status, text in (
        (400, "Malformed request"),
        (401, "Not signed in"),
        (403, "Permission missing"),
        (404, "Not found"),
        (409, "Conflict with the order's state"),
        (422, "Invalid data"),
    )
}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def create_app(hub: Hub) -> Any:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        hub.close()

    app = FastAPI(
        title="OrderHub",
        version=__version__,
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        description="One order pool for every sales channel. Amounts are integer "
        "minor units; times are UTC with a time zone.",
    )
    app.state.hub = hub

    async def on_orderhub_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, OrderHubError)
        if _wants_html(request):
            return web.render_error(request, error.status, error.title, error.detail, error.code)
        return errors.orderhub_problem(request, error)

    async def on_validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        if _wants_html(request):
            detail = "; ".join(errors.explain(e) for e in error.errors())
            return web.render_error(
                request, 422, "The data is not valid", detail, "validation_failed"
            )
        return errors.validation_problem(request, error)

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if _wants_html(request):
            return web.render_error(
                request, error.status_code, str(error.detail), str(error.detail), "http_error"
            )
        return errors.http_problem(request, error)

    async def on_unexpected(request: Request, error: Exception) -> Response:
        detail = errors.log_unexpected(request, error)
        if _wants_html(request):
            return web.render_error(request, 500, "Internal error", detail, "internal_error")
        return errors.problem(500, "internal_error", "Internal error", detail, request.url.path)

    app.add_exception_handler(OrderHubError, on_orderhub_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)

    for router in (
        api_orders.router,
        api_accounts.router,
        api_settings.router,
        api_shops.router,
        api_inventory.router,
        api_quarantine.router,
        api_skus.router,
        api_webhooks.router,
        api_imports.router,
        api_wms.router,
        api_rules.router,
        api_warehouses.router,
        api_recipients.router,
        api_outbox.router,
        api_alerts.router,
        api_bottlenecks.router,
        api_parcels.router,
        api_stock_push.router,
        web.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")

    app.add_middleware(
        SessionMiddleware,
        secret_key=hub.secret_key,
        session_cookie="orderhub",
        max_age=hub.settings.session_max_age_s,
        same_site="lax",
        https_only=hub.settings.cookie_secure,
    )
    return skip_csrf_for_tokens(
        asgi_csrf(
            app,
            signing_secret=hub.secret_key,
            cookie_secure=hub.settings.cookie_secure,
            send_csrf_failed=csrf_failed,
        ),
        inner=app,
    )


def skip_csrf_for_tokens(protected: Any, inner: Any) -> Any:
    """Requests that carry a bearer token and no cookies go straight in.

    CSRF rides on cookies a browser sends by itself; a request with none cannot be forged that
    way, and `current_actor` never reads the session of a bearer request. asgi-csrf would let it
    through anyway, but only after signing a fresh token for it (~175 µs of every API call).
    """

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _bearer_without_cookies(scope["headers"]):
            await inner(scope, receive, send)
        else:
            await protected(scope, receive, send)

    app.__wrapped__ = protected  # type: ignore[attr-defined]
    return app


def _bearer_without_cookies(headers: list[tuple[bytes, bytes]]) -> bool:
    bearer = False
    for name, value in headers:
        if name == b"cookie":
            return False
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            bearer = True
    return bearer


async def csrf_failed(scope: dict[str, Any], send: Any, message_id: int) -> None:
    """The CSRF check runs outside FastAPI, so it answers here: a problem, or a page to go back."""
    del message_id
    if str(scope.get("path", "")).startswith("/api/"):
        body = orjson.dumps(
            {
                "type": "urn:orderhub:problem:csrf_failed",
                "title": "CSRF check failed",
                "status": 403,
                "code": "csrf_failed",
                "instance": scope.get("path"),
                "detail": "a signed-in browser request must send the x-csrftoken header (the "
                "value of the csrftoken cookie); integrations should use a bearer token instead",
            }
        )
        content_type = errors.PROBLEM.encode()
    else:
        body = CSRF_PAGE.encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {"type": "http.response.start", "status": 403, "headers": [(b"content-type", content_type)]}
    )
    await send({"type": "http.response.body", "body": body})


CSRF_PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>403</title><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto">
<h1>表单已过期 / This form has expired</h1>
<p>页面打开太久或在别处登录过，安全校验未通过，未做任何更改。请返回并刷新页面后重试。</p>
<p>The page was open too long or you signed in elsewhere, so its security check failed and
nothing was changed. Go back, reload the page and try again.</p>
<p><a href="/orders">订单 / Orders</a></p></body></html>"""


def fastapi_app(asgi: Any) -> FastAPI:
    """The FastAPI app inside the CSRF wrapper (for route-table checks and OpenAPI)."""
    while not isinstance(asgi, FastAPI):
        asgi = asgi.__wrapped__ if hasattr(asgi, "__wrapped__") else asgi.app
    return asgi


def app_from_environment() -> Any:
    """Factory for `uvicorn --factory` (several worker processes read the same settings)."""
    from orderhub.bootstrap import bootstrap

    return create_app(bootstrap())
