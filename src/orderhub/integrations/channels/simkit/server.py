"""HTTP pieces every simulator shares: fault injection, control routes, a thread to serve in."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field

from orderhub.integrations.channels.simkit.orders import SimOrder, SimParcel
from orderhub.integrations.channels.simkit.store import Faults, SimStore


def fault_middleware(
    app: FastAPI,
    faults: Faults,
    *,
    error_body: Callable[[int], bytes],
    content_type: str = "application/json",
    http_status: Callable[[int], int] = lambda status: status,
) -> None:
    """Inject 429 / 500 / timeouts on the channel's API routes (not on /_sim).

    `error_body(429 or 500)` is the channel's own error envelope; `http_status` maps the fault
    to the HTTP status the channel uses for it (TOP, for one, answers throttles with 200).
    """

    @app.middleware("http")
    async def inject(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith("/_sim"):
            return await call_next(request)
        if faults.roll("rate_timeout"):
            await asyncio.sleep(faults.timeout_s)
        for fault, status in (("rate_429", 429), ("rate_500", 500)):
            if faults.roll(fault):
                headers = {"Retry-After": "1"} if status == 429 else {}
                return Response(
                    error_body(status),
                    status_code=http_status(status),
                    media_type=content_type,
                    headers=headers,
                )
        return await call_next(request)


class _Count(BaseModel):
    count: int = Field(1, ge=1, le=100_000)
    ship: bool = True
    # New orders only: None lets most buyers pay at once; False leaves each one to /pay.
    paid: bool | None = None


def control_router(store: SimStore, visible: Callable[[SimOrder], bool] | None = None) -> APIRouter:
    """`visible` says which orders the channel's API shows a seller's app (JD, for one, shows an
    order only once it is paid); the ground truth reports it per order."""
    router = APIRouter(prefix="/_sim", tags=["simulator control"])

    @router.post("/orders")
    def create(body: _Count) -> dict[str, Any]:
        return {"created": [o.no for o in store.create(body.count, paid=body.paid)]}

    @router.post("/advance")
    def advance(body: _Count) -> dict[str, Any]:
        return {"moved": [o.no for o in store.advance(body.count, ship=body.ship)]}

    @router.post("/orders/{no}/pay")
    def pay(no: str) -> Response:
        """The buyer pays one order now (the push channels send their webhook for it)."""
        if no not in store.orders:
            return Response(status_code=404)
        order = store.pay(no)
        if order is None:
            return Response(status_code=409)
        return Response(
            json.dumps({"no": order.no, "version": order.version, "state": order.state.value}),
            media_type="application/json",
        )

    @router.post("/orders/{no}/refund")
    def refund(no: str) -> Response:
        """Refund (close) one order now, so a test can prove a refused shipment."""
        if no not in store.orders:
            return Response(status_code=404)
        order = store.refund(no)
        return Response(
            json.dumps({"no": order.no, "version": order.version, "state": order.state.value}),
            media_type="application/json",
        )

    @router.put("/faults")
    def set_faults(body: dict[str, float]) -> dict[str, Any]:
        try:
            store.faults.update(body)
        except ValueError as error:
            return {"error": str(error)}
        return {f.name: getattr(store.faults, f.name) for f in fields(store.faults)}

    @router.get("/faults")
    def injected() -> dict[str, Any]:
        """The fault settings and how many of each were injected so far."""
        return {
            "settings": {f.name: getattr(store.faults, f.name) for f in fields(store.faults)},
            "hits": dict(store.faults.hits),
        }

    @router.get("/orders")
    def truth() -> dict[str, Any]:
        with store._lock:
            current = dict(store.orders)
        return {
            "orders": {
                no: {
                    "version": o.version,
                    "state": o.state.value,
                    "modified_at": o.modified_at.isoformat(),
                    "visible": visible(o) if visible else True,
                    "refund_requested": o.refund_requested,
                    # OrderHub's carrier code, whatever the channel calls it on the wire
                    "carrier": o.carrier,
                    "tracking_no": o.tracking_no,
                    # every parcel told to the channel, oldest first
                    "parcels": [_parcel(p) for p in o.parcels],
                }
                for no, o in current.items()
            }
        }

    return router


def _parcel(parcel: SimParcel) -> dict[str, Any]:
    return {
        "carrier": parcel.carrier,
        "tracking_no": parcel.tracking_no,
        "lines": [{"channel_sku": sku, "quantity": q} for sku, q in parcel.lines],
        "extra": parcel.extra,
    }


@dataclass
class RunningServer:
    """An ASGI app served by uvicorn in a daemon thread (tests, `orderhub simulate channels`)."""

    app: Any
    host: str = "127.0.0.1"
    port: int = 0
    _server: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> RunningServer:
        import socket

        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        for _ in range(500):
            if self._server.started:
                return self
            threading.Event().wait(0.01)
        raise RuntimeError(f"the simulator on port {self.port} did not start")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
