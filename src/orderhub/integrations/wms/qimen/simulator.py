"""A local Qimen WMS: the router path with signature checks, outbound orders deduped by message id
and by deliveryOrderCode, cancels that intercept, stock queries, and callbacks (shipments in
batchconfirm, optional PICK and SIGN progress, stock counts) posted back signed and retried
until taken. Faults come from simkit: 429 (Retry-After), 500 and slow answers on the router,
`duplicate` on callbacks (some are sent twice).

Control routes for tests and the demo:
    GET/PUT /_sim/faults     the fault settings (and hits), as on the channel simulators
    GET     /_sim/outbound   every outbound order: status, carrier, tracking no; create counts
    GET/PUT /_sim/stock      on-hand per SKU; a PUT {"SKU": qty} sets it and reports it
    GET     /_sim/callbacks  callbacks pending, delivered, failed attempts, duplicates sent
    POST    /_sim/ship       ship the longest-waiting orders now ({"count": 10}); with
                             {"callback": false} their deliveryorder.confirm payloads are
                             answered for the caller to deliver (a load generator) instead
    POST    /_sim/flush      wait (up to ?timeout_s=10) until every callback due is delivered
    POST    /_sim/pick       a pick wave now ({"count": 10}, default `pick_wave`): the most
                             urgent orders of the pick queue (simqueue.py) are picked, in order
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, Field

from orderhub.domain.warehouses import WmsCredentials
from orderhub.integrations.channels.simkit import RunningServer, fault_middleware
from orderhub.integrations.wms.qimen import protocol as qm
from orderhub.integrations.wms.qimen.signing import verify
from orderhub.integrations.wms.qimen.simstate import WarehouseBooks, WmsSimOptions
from orderhub.integrations.wms.qimen.simworker import CallbackSender, OrderMover, confirmation

__all__ = ["WmsSimOptions", "make_wms_simulator", "start_wms_simulator"]

TIMESTAMP_TOLERANCE = timedelta(minutes=10)


class ShipNow(BaseModel):
    count: int = Field(1, ge=1, le=10_000)
    # False: answer the deliveryorder.confirm payloads instead of sending them
    callback: bool = True


class PickNow(BaseModel):
    count: int | None = Field(None, ge=1, le=10_000)


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class QimenWms:
    """The router's business side: one handler per method, each answering Qimen fields."""

    def __init__(self, options: WmsSimOptions) -> None:
        self.options = options
        self.books = WarehouseBooks(options)
        self.sender = CallbackSender(options)
        self.mover = OrderMover(self.books, self.sender)
        self.handlers = {
            "deliveryorder.create": self.create,
            "deliveryorder.batchcreate": self.batch_create,
            "order.cancel": self.cancel,
            "inventory.query": self.inventory_query,
            "stock.query": self.stock_query,
        }

    def answer(self, params: dict[str, str], body: bytes) -> bytes:
        try:
            self._check(params, body)
            try:
                content = json.loads(body)
            except ValueError:
                raise _Refused(qm.INVALID_ARGUMENT, "the body is not JSON") from None
            if not isinstance(content, dict):
                raise _Refused(qm.INVALID_ARGUMENT, "the body is not a JSON object")
            result = self.handlers[qm.short_method(params["method"])](content)
        except _Refused as refused:
            return qm.failure(refused.code, refused.message)
        flag = result.pop("flag", "success")
        return qm.response(flag, result.pop("code", qm.OK), result.pop("message", "ok"), **result)

    def _check(self, params: dict[str, str], body: bytes) -> None:
        if params.get("app_key") != self.options.app_key:
            raise _Refused(qm.SIGN_CHECK_FAILURE, "Illegal request: unknown app_key")
        if not verify(params, body, self.options.secret):
            raise _Refused(qm.SIGN_CHECK_FAILURE, "Illegal request: sign check failed")
        try:
            sent = qm.parse_time(params.get("timestamp", ""))
        except ValueError:
            raise _Refused(qm.INVALID_ARGUMENT, "timestamp is not YYYY-MM-DD HH:MM:SS") from None
        if abs(datetime.now(UTC) - sent) > TIMESTAMP_TOLERANCE:
            raise _Refused(qm.INVALID_ARGUMENT, "timestamp is more than 10 minutes off")
        if params.get("customerId") != self.options.customer_id:
            raise _Refused(qm.INVALID_ARGUMENT, "customerId is not this WMS's customer")
        if params.get("format", "xml") != qm.FORMAT:
            raise _Refused(qm.INVALID_ARGUMENT, "this simulator speaks format=json only")
        if qm.short_method(params.get("method", "")) not in self.handlers:
            raise _Refused(qm.INVALID_METHOD, f"method '{params.get('method')}' is not served")

    def create(self, content: dict[str, Any]) -> dict[str, Any]:
        order = content.get("deliveryOrder")
        message_id = str(order.get("outBizCode") or "") if isinstance(order, dict) else ""
        answer, new = self.books.create(content, message_id)
        if new:
            self.mover.accepted([answer["deliveryOrderCode"]])
        answer.pop("deliveryOrderCode", None)
        return answer

    def batch_create(self, content: dict[str, Any]) -> dict[str, Any]:
        orders = qm.many(content.get("orders"), "order")
        if not orders:
            raise _Refused(qm.INVALID_ARGUMENT, "orders.order is empty")
        answers, accepted = [], []
        for order in orders:
            inner = order.get("deliveryOrder")
            inner = inner if isinstance(inner, dict) else {}
            message_id = str(order.get("outBizCode") or inner.get("outBizCode") or "")
            answer, new = self.books.create(order, message_id)
            answers.append(answer)
            if new:
                accepted.append(answer["deliveryOrderCode"])
        self.mover.accepted(accepted)
        failed = sum(1 for a in answers if a["flag"] != "success")
        return {
            "message": f"{len(answers) - failed} accepted, {failed} failed",
            "orders": {"order": answers},
        }

    def cancel(self, content: dict[str, Any]) -> dict[str, Any]:
        code = str(content.get("orderCode") or "")
        if not code:
            raise _Refused(qm.INVALID_ARGUMENT, "orderCode is missing")
        flag, error, message = self.books.cancel(code)
        return {"flag": flag, "code": error, "message": message}

    def inventory_query(self, content: dict[str, Any]) -> dict[str, Any]:
        wanted = [str(c.get("itemCode")) for c in qm.many(content.get("criteriaList"), "criteria")]
        with self.books.lock:
            items = [(sku, self.books.stock.get(sku, 0)) for sku in wanted if sku]
        return {"items": {"item": [self._item(sku, qty) for sku, qty in items]}}

    def stock_query(self, content: dict[str, Any]) -> dict[str, Any]:
        try:
            page = int(content.get("page") or 1)
            size = int(content.get("pageSize") or qm.MAX_PAGE_SIZE)
        except (TypeError, ValueError):
            raise _Refused(qm.INVALID_ARGUMENT, "page and pageSize must be numbers") from None
        if page < 1 or not 1 <= size <= qm.MAX_PAGE_SIZE:
            raise _Refused(qm.INVALID_ARGUMENT, f"page >= 1, pageSize 1-{qm.MAX_PAGE_SIZE}")
        items, total = self.books.stock_page(page, size)
        return {"totalCount": total, "items": {"item": [self._item(s, q) for s, q in items]}}

    def _item(self, sku: str, quantity: int) -> dict[str, Any]:
        return {
            "warehouseCode": self.options.warehouse_code,
            "itemCode": sku,
            "inventoryType": qm.INVENTORY_GOOD,
            "quantity": quantity,
            "lockQuantity": 0,
        }

    def report_stock(self, counts: dict[str, int]) -> None:
        changes = self.books.set_stock(counts)
        serial = self.books.next_serial()
        self.sender.enqueue(
            qm.INVENTORY_REPORT,
            {
                "warehouseCode": self.options.warehouse_code,
                "ownerCode": self.options.customer_id,
                "checkOrderCode": f"CHK{serial:08d}",
                "checkTime": qm.qimen_time(datetime.now(UTC)),
                "outBizCode": f"CHK{serial:08d}",
                "adjustType": "CHECK",
                "items": {
                    "item": [
                        {
                            "itemCode": s,
                            "inventoryType": qm.INVENTORY_GOOD,
                            "quantity": d,
                            "totalQty": q,
                        }
                        for s, d, q in changes
                    ]
                },
            },
        )

    def flush(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            # Idle mover first: it is what enqueues callbacks.
            if self.mover.idle() and self.sender.pending() == 0 and self.mover.idle():
                return True
            time.sleep(0.005)
        return False


def _fault_body(status: int) -> bytes:
    if status == 429:
        return qm.failure("isv.app-call-limited", "throttled: retry after the Retry-After")
    return qm.failure("isp.service-unavailable", "the WMS failed; try again")


def make_wms_simulator(options: WmsSimOptions) -> FastAPI:
    wms = QimenWms(options)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threads = [threading.Thread(target=t.run, daemon=True) for t in (wms.mover, wms.sender)]
        for thread in threads:
            thread.start()
        yield
        wms.mover.stop()
        wms.sender.stop()

    app = FastAPI(title="Qimen WMS simulator", lifespan=lifespan)
    app.state.wms = wms
    fault_middleware(app, options.faults, error_body=_fault_body)

    @app.api_route(qm.ROUTER_PATH, methods=["GET", "POST"])
    async def router(request: Request) -> Response:
        body = await request.body()
        answer = wms.answer(dict(request.query_params), body)
        return Response(answer, media_type=qm.CONTENT_TYPE)

    @app.get("/_sim/faults")
    def injected() -> dict[str, Any]:
        faults = options.faults
        return {
            "settings": {f.name: getattr(faults, f.name) for f in fields(faults)},
            "hits": dict(faults.hits),
        }

    @app.put("/_sim/faults")
    def set_faults(body: dict[str, float]) -> dict[str, Any]:
        try:
            options.faults.update(body)
        except ValueError as error:
            return {"error": str(error)}
        return {f.name: getattr(options.faults, f.name) for f in fields(options.faults)}

    @app.get("/_sim/outbound")
    def outbound() -> dict[str, Any]:
        return wms.books.snapshot()

    @app.get("/_sim/stock")
    def stock() -> dict[str, Any]:
        with wms.books.lock:
            return {"stock": dict(wms.books.stock)}

    @app.put("/_sim/stock")
    def set_stock(body: dict[str, int]) -> dict[str, Any]:
        wms.report_stock(body)
        with wms.books.lock:
            return {"stock": dict(wms.books.stock)}

    @app.get("/_sim/callbacks")
    def callbacks() -> dict[str, int]:
        return wms.sender.stats()

    @app.post("/_sim/ship")
    def ship(body: ShipNow) -> dict[str, Any]:
        shipped = wms.books.ship_next(body.count)
        confirmations = [confirmation(o, options.warehouse_code) for o in shipped]
        if body.callback:
            for payload in confirmations:
                wms.sender.enqueue(qm.CONFIRM, payload)
            return {"shipped": [o.code for o in shipped]}
        return {"shipped": [o.code for o in shipped], "confirmations": confirmations}

    @app.post("/_sim/pick")
    def pick(body: PickNow) -> dict[str, Any]:
        return {"picked": wms.mover.wave(body.count), "waiting": len(wms.mover.pick_queue)}

    @app.post("/_sim/flush")
    def flush(timeout_s: float = 10.0) -> dict[str, Any]:
        return {"flushed": wms.flush(timeout_s), "pending": wms.sender.pending()}

    return app


def start_wms_simulator(
    *,
    port: int = 0,
    callback_url: str,
    credentials: WmsCredentials,
    options: WmsSimOptions | None = None,
) -> RunningServer:
    """Serve a simulated WMS on 127.0.0.1 that shares `credentials` with OrderHub."""
    chosen = replace(
        options or WmsSimOptions(),
        app_key=credentials.app_key,
        secret=credentials.secret,
        customer_id=credentials.customer_id,
        callback_url=callback_url,
    )
    return RunningServer(make_wms_simulator(chosen), port=port).start()
