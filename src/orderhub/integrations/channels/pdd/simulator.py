"""A local PDD open-platform gateway: POST /api/router, signed calls, PDD's envelopes and codes.

Speaks pdd.order.number.list.increment.get (orders updated in a window of at most 30 minutes,
paged, with `use_has_next`), pdd.order.information.get, pdd.order.number.list.get (the old
wait-to-ship list), pdd.open.decrypt.batch (receiver ciphertext back to text),
pdd.logistics.online.send (the merchant's shipment, carrier and tracking number), and (simstock.py)
pdd.order.upload.extra.logistics (further parcels' waybills), pdd.goods.list.get and
pdd.goods.quantity.update over a ListingBook. A call with a bad sign, a wrong client_id or token
gets PDD's `error_response`, as do the injected faults.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from orderhub.integrations.channels.pdd.carriers import carrier_of
from orderhub.integrations.channels.pdd.render import CN, Cipher, goods_ids, render
from orderhub.integrations.channels.pdd.signing import param_text, verify
from orderhub.integrations.channels.pdd.simstock import extra_logistics, goods_list, quantity_update
from orderhub.integrations.channels.pdd.simwire import (
    E_BUSINESS,
    E_CLIENT_ID,
    E_INTERNAL,
    E_MISSING,
    E_PARAM,
    E_SIGN,
    E_THROTTLED,
    E_TOKEN,
    PddError,
    error_envelope,
    integer,
)
from orderhub.integrations.channels.registry import SimulatorOptions
from orderhub.integrations.channels.simkit import (
    ListingBook,
    OrderFactory,
    ShipOutcome,
    SimOrder,
    SimStore,
    control_router,
    fault_middleware,
    listing_router,
)

GATEWAY_PATH = "/api/router"
WINDOW_MAX_S = 30 * 60  # PDD: start and end of the update window at most 30 minutes apart
CONFIRM_WINDOW_MAX_S = 24 * 3600  # pdd.order.list.get: confirm-time window at most 24 hours
PAGE_SIZE_MAX = 100
_ALL = 5  # order_status / refund_status "all"


def _fault_body(status: int) -> bytes:
    code = E_THROTTLED if status == 429 else E_INTERNAL
    return json.dumps(error_envelope(code), ensure_ascii=False).encode("utf-8")


class Gateway:
    """One simulated PDD app and shop: checks each call, then answers it from the store."""

    def __init__(
        self, options: SimulatorOptions, store: SimStore, cipher: Cipher, book: ListingBook
    ) -> None:
        self.options, self.store, self.cipher, self.book = options, store, cipher, book

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            return self._answer(params)
        except PddError as error:
            return error_envelope(error.code, error.sub_msg, error.sub_code)

    def _answer(self, params: dict[str, str]) -> dict[str, Any]:
        for name in ("type", "client_id", "timestamp", "sign"):
            if not params.get(name):
                raise PddError(E_MISSING, f"缺少公共参数 {name}")
        if params["client_id"] != self.options.app_key:
            raise PddError(E_CLIENT_ID)
        if not verify(params, self.options.app_secret):
            raise PddError(E_SIGN)
        if params.get("access_token") != self.options.access_token:
            raise PddError(E_TOKEN)
        handlers: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
            "pdd.order.number.list.increment.get": self._increment,
            "pdd.order.information.get": self._information,
            "pdd.order.list.get": self._list_by_confirm_time,
            "pdd.order.number.list.get": self._number_list,
            "pdd.open.decrypt.batch": self._decrypt,
            "pdd.logistics.online.send": self._send,
            "pdd.order.upload.extra.logistics": lambda p: extra_logistics(self.store, p),
            "pdd.goods.list.get": lambda p: goods_list(self.book, p),
            "pdd.goods.quantity.update": lambda p: quantity_update(self.book, p),
        }
        handler = handlers.get(params["type"])
        if handler is None:
            raise PddError(E_PARAM, f"type {params['type']} 不存在")
        return handler(params)

    def _increment(self, params: dict[str, str]) -> dict[str, Any]:
        start = integer(params, "start_updated_at")
        end = integer(params, "end_updated_at")
        if not 0 < end - start <= WINDOW_MAX_S:
            raise PddError(E_PARAM, "开始时间结束时间间距不超过 30 分钟")
        order_status = integer(params, "order_status")
        refund_status = integer(params, "refund_status")
        integer(params, "is_lucky_flag")
        page = integer(params, "page", 1)
        size = integer(params, "page_size", PAGE_SIZE_MAX)
        if page < 1 or not 1 <= size <= PAGE_SIZE_MAX:
            raise PddError(E_PARAM, "page 从 1 开始，page_size 最大 100")
        rows = []
        for order in self.store.changed(
            datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
        ):
            payload = render(order, self.cipher)
            if order_status in (_ALL, payload["order_status"]) and refund_status in (
                _ALL,
                payload["refund_status"],
            ):
                rows.append(order)
        # Faults go into the page after it is cut, so a repeat never pushes an order off a page.
        served = self.store.with_faults(rows[(page - 1) * size : page * size])
        body: dict[str, Any] = {
            "order_sn_list": [render(order, self.cipher) for order in served],
            "has_next": page * size < len(rows),
        }
        if params.get("use_has_next") != "true":
            body["total_count"] = len(rows)
        return {"order_sn_increment_get_response": body}

    def _everything(self) -> list[SimOrder]:
        # Not "until now": two quick changes put an order's modified time a second ahead.
        return self.store.changed(
            datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
        )

    def _list_by_confirm_time(self, params: dict[str, str]) -> dict[str, Any]:
        start = integer(params, "start_confirm_at")
        end = integer(params, "end_confirm_at")
        if not 0 < end - start <= CONFIRM_WINDOW_MAX_S:
            raise PddError(E_PARAM, "开始时间结束时间间距不超过 24 小时")
        order_status = integer(params, "order_status")
        refund_status = integer(params, "refund_status")
        page = integer(params, "page", 1)
        size = integer(params, "page_size", PAGE_SIZE_MAX)
        if page < 1 or not 1 <= size <= PAGE_SIZE_MAX:
            raise PddError(E_PARAM, "page 从 1 开始，page_size 最大 100")
        since, until = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
        rows = []
        for order in self._everything():
            payload = render(order, self.cipher)
            if (
                payload["confirm_status"] == 1
                and order.paid_at is not None
                and since <= order.paid_at < until
                and order_status in (_ALL, payload["order_status"])
                and refund_status in (_ALL, payload["refund_status"])
            ):
                rows.append(payload)
        body: dict[str, Any] = {
            "order_list": rows[(page - 1) * size : page * size],
            "has_next": page * size < len(rows),
        }
        if params.get("use_has_next") != "true":
            body["total_count"] = len(rows)
        return {"order_list_get_response": body}

    def _information(self, params: dict[str, str]) -> dict[str, Any]:
        order_sn = params.get("order_sn")
        if not order_sn:
            raise PddError(E_MISSING, "缺少参数 order_sn")
        order = self.store.orders.get(order_sn)
        if order is None:
            raise PddError(E_BUSINESS, "订单不存在", "order_not_exist")
        return {"order_info_get_response": {"order_info": render(order, self.cipher)}}

    def _number_list(self, params: dict[str, str]) -> dict[str, Any]:
        if integer(params, "order_status") != 1:
            raise PddError(E_PARAM, "参数错误，可能错误原因：order_status仅支持1：待发货状态")
        page = integer(params, "page", 1)
        size = min(integer(params, "page_size", PAGE_SIZE_MAX), PAGE_SIZE_MAX)
        everything = self._everything()
        waiting = [o.no for o in everything if render(o, self.cipher)["order_status"] == 1]
        return {
            "order_sn_list_get_response": {
                "order_sn_list": [{"order_sn": no} for no in waiting[(page - 1) * size :][:size]],
                "total_count": len(waiting),
            }
        }

    def _decrypt(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            items = json.loads(params.get("data_list", ""))
        except ValueError:
            raise PddError(E_PARAM, "data_list 不是合法的 JSON") from None
        if not isinstance(items, list) or not 0 < len(items) <= 100:
            raise PddError(E_PARAM, "data_list 列表大小 1 到 100")
        answers = []
        for item in items:
            token = str(item.get("encrypted_data", "")) if isinstance(item, dict) else ""
            found = self.cipher.decrypt(token)
            answers.append(
                {
                    "data_tag": item.get("data_tag", "") if isinstance(item, dict) else "",
                    "encrypted_data": token,
                    "decrypted_data": found[0] if found else "",
                    "data_type": found[1] if found else 0,
                    "error_code": 0 if found else 1,
                    "error_msg": "" if found else "解密失败",
                    "virtual_number_type": 0,
                }
            )
        return {"open_decrypt_batch_response": {"data_decrypt_list": answers}}

    def _send(self, params: dict[str, str]) -> dict[str, Any]:
        order_sn = params.get("order_sn") or ""
        tracking = (params.get("tracking_number") or "").strip()
        carrier = carrier_of(integer(params, "logistics_id"))
        if not order_sn or not tracking:
            raise PddError(E_MISSING, "缺少参数 order_sn 或 tracking_number")
        if carrier is None:
            raise PddError(E_BUSINESS, "快递公司不存在", "logistics_company_not_exist")
        outcome, _ = self.store.ship(order_sn, carrier, tracking)
        if outcome in (ShipOutcome.SHIPPED, ShipOutcome.REPEAT):
            return {"logistics_online_send_response": {"is_success": True}}
        sub_msg, sub_code = _SEND_REFUSALS[outcome]
        raise PddError(E_BUSINESS, sub_msg, sub_code)


# Modelled: PDD's sub_code / sub_msg for each refusal (the public SDKs do not list them).
_SEND_REFUSALS = {
    ShipOutcome.NOT_FOUND: ("订单不存在", "order_not_exist"),
    ShipOutcome.NOT_PAID: ("订单未成团，不能发货", "order_not_confirmed"),
    ShipOutcome.CLOSED: ("订单已取消或已全额退款，不能发货", "order_closed"),
    ShipOutcome.SHIPPED_OTHER: ("订单已发货，运单号不一致", "order_already_shipped"),
    ShipOutcome.REFUND_PENDING: ("订单售后中，不能发货", "order_in_after_sale"),
}


async def _params(request: Request) -> dict[str, str]:
    """The call's parameters as text, whether sent as JSON (as PDD's guide shows) or a form."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}
        return {str(k): param_text(v) for k, v in body.items()} if isinstance(body, dict) else {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def create_app(options: SimulatorOptions) -> FastAPI:
    # Order numbers like PDD's: yymmdd (Beijing date), a dash, then 15 digits.
    serial_head = random.Random(options.seed).randrange(100_000, 1_000_000)
    prefix = f"{datetime.now(CN):%y%m%d}-{serial_head}"
    store = SimStore(OrderFactory(options.seed), prefix=prefix, faults=options.faults)
    book = ListingBook(goods_ids)
    gateway = Gateway(options, store, Cipher(options.app_secret), book)
    app = FastAPI(title="PDD open platform (simulator)")
    app.state.store, app.state.listings = store, book
    fault_middleware(app, options.faults, error_body=_fault_body)
    app.include_router(control_router(store))
    app.include_router(listing_router(book))

    @app.post(GATEWAY_PATH)
    async def router(request: Request) -> JSONResponse:
        return JSONResponse(gateway.answer(await _params(request)))

    return app
