"""A local PDD open-platform gateway: POST /api/router, signed calls, PDD's envelopes and codes.

Speaks pdd.order.number.list.increment.get (orders updated in a window of at most 30 minutes,
paged, with `use_has_next`), pdd.order.information.get, pdd.order.number.list.get (the old
wait-to-ship list), pdd.open.decrypt.batch (receiver ciphertext back to text) and
pdd.logistics.online.send (the merchant's shipment, carrier and tracking number). A call with a
bad sign, a wrong client_id or token gets PDD's `error_response`, as do the injected faults.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from orderhub.integrations.channels.pdd.carriers import carrier_of
from orderhub.integrations.channels.pdd.render import CN, Cipher, render
from orderhub.integrations.channels.pdd.signing import param_text, verify
from orderhub.integrations.channels.registry import SimulatorOptions
from orderhub.integrations.channels.simkit import (
    OrderFactory,
    ShipOutcome,
    SimOrder,
    SimStore,
    control_router,
    fault_middleware,
)

GATEWAY_PATH = "/api/router"
WINDOW_MAX_S = 30 * 60  # PDD: start and end of the update window at most 30 minutes apart
CONFIRM_WINDOW_MAX_S = 24 * 3600  # pdd.order.list.get: confirm-time window at most 24 hours
PAGE_SIZE_MAX = 100
_ALL = 5  # order_status / refund_status "all"

# PDD's public error codes (see PROTOCOL.md).
E_PARAM, E_CLIENT_ID, E_SIGN, E_MISSING, E_TOKEN = 10000, 10016, 20004, 20007, 20032
E_INTERNAL, E_BUSINESS, E_THROTTLED = 50000, 50001, 70031
_MESSAGES = {
    E_PARAM: "参数错误",
    E_CLIENT_ID: "client_id不正确",
    E_SIGN: "签名sign校验失败",
    E_MISSING: "缺少必填请求参数",
    E_TOKEN: "access_token或client_id错误",
    E_INTERNAL: "系统内部错误",
    E_BUSINESS: "业务服务错误",
    E_THROTTLED: "调用过于频繁，请调整调用频率",
}


class PddError(Exception):
    def __init__(self, code: int, sub_msg: str = "", sub_code: str | None = None) -> None:
        super().__init__(f"{code} {sub_msg}")
        self.code, self.sub_msg, self.sub_code = code, sub_msg, sub_code


def error_envelope(code: int, sub_msg: str = "", sub_code: str | None = None) -> dict[str, Any]:
    return {
        "error_response": {
            "error_code": code,
            "error_msg": _MESSAGES.get(code, "错误"),
            "sub_code": sub_code,
            "sub_msg": sub_msg,
            "request_id": uuid.uuid4().hex,
        }
    }


def _fault_body(status: int) -> bytes:
    code = E_THROTTLED if status == 429 else E_INTERNAL
    return json.dumps(error_envelope(code), ensure_ascii=False).encode("utf-8")


def _integer(params: dict[str, str], name: str, default: int | None = None) -> int:
    text = params.get(name)
    if text is None or text == "":
        if default is None:
            raise PddError(E_MISSING, f"缺少参数 {name}")
        return default
    try:
        return int(text)
    except ValueError:
        raise PddError(E_PARAM, f"{name} 不是整数: {text}") from None


class Gateway:
    """One simulated PDD app and shop: checks each call, then answers it from the store."""

    def __init__(self, options: SimulatorOptions, store: SimStore, cipher: Cipher) -> None:
        self.options, self.store, self.cipher = options, store, cipher

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
        handler = {
            "pdd.order.number.list.increment.get": self._increment,
            "pdd.order.information.get": self._information,
            "pdd.order.list.get": self._list_by_confirm_time,
            "pdd.order.number.list.get": self._number_list,
            "pdd.open.decrypt.batch": self._decrypt,
            "pdd.logistics.online.send": self._send,
        }.get(params["type"])
        if handler is None:
            raise PddError(E_PARAM, f"type {params['type']} 不存在")
        return handler(params)

    def _increment(self, params: dict[str, str]) -> dict[str, Any]:
        start = _integer(params, "start_updated_at")
        end = _integer(params, "end_updated_at")
        if not 0 < end - start <= WINDOW_MAX_S:
            raise PddError(E_PARAM, "开始时间结束时间间距不超过 30 分钟")
        order_status = _integer(params, "order_status")
        refund_status = _integer(params, "refund_status")
        _integer(params, "is_lucky_flag")
        page = _integer(params, "page", 1)
        size = _integer(params, "page_size", PAGE_SIZE_MAX)
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
        start = _integer(params, "start_confirm_at")
        end = _integer(params, "end_confirm_at")
        if not 0 < end - start <= CONFIRM_WINDOW_MAX_S:
            raise PddError(E_PARAM, "开始时间结束时间间距不超过 24 小时")
        order_status = _integer(params, "order_status")
        refund_status = _integer(params, "refund_status")
        page = _integer(params, "page", 1)
        size = _integer(params, "page_size", PAGE_SIZE_MAX)
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
        if _integer(params, "order_status") != 1:
            raise PddError(E_PARAM, "参数错误，可能错误原因：order_status仅支持1：待发货状态")
        page = _integer(params, "page", 1)
        size = min(_integer(params, "page_size", PAGE_SIZE_MAX), PAGE_SIZE_MAX)
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
        carrier = carrier_of(_integer(params, "logistics_id"))
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
    gateway = Gateway(options, store, Cipher(options.app_secret))
    app = FastAPI(title="PDD open platform (simulator)")
    app.state.store = store
    fault_middleware(app, options.faults, error_body=_fault_body)
    app.include_router(control_router(store))

    @app.post(GATEWAY_PATH)
    async def router(request: Request) -> JSONResponse:
        return JSONResponse(gateway.answer(await _params(request)))

    return app
