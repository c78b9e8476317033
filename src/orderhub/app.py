"""The ASGI application: API and console on the same services, one error handler, CSRF, sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asgi_csrf import asgi_csrf
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from orderhub import __version__
from orderhub.api import accounts as api_accounts
from orderhub.api import errors
from orderhub.api import orders as api_orders
from orderhub.api import settings as api_settings
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
        return errors.validation_problem(request, error)

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if _wants_html(request):
            return web.render_error(
                request, error.status_code, str(error.detail), str(error.detail), "http_error"
            )
        return errors.http_problem(request, error)

    async def on_unexpected(request: Request, error: Exception) -> Response:
        return errors.unexpected_problem(request, error)

    app.add_exception_handler(OrderHubError, on_orderhub_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)

    for router in (api_orders.router, api_accounts.router, api_settings.router, web.router):
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
    return asgi_csrf(app, signing_secret=hub.secret_key, cookie_secure=hub.settings.cookie_secure)


def fastapi_app(asgi: Any) -> FastAPI:
    """The FastAPI app inside the CSRF wrapper (for route-table checks and OpenAPI)."""
    while not isinstance(asgi, FastAPI):
        asgi = asgi.__wrapped__ if hasattr(asgi, "__wrapped__") else asgi.app
    return asgi


def app_from_environment() -> Any:
    """Factory for `uvicorn --factory` (several worker processes read the same settings)."""
    from orderhub.bootstrap import bootstrap

    return create_app(bootstrap())
