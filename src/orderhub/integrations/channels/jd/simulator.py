"""A local JOS router: `/routerjson` with JD's system parameters, signature check and envelopes.

It answers jingdong.pop.order.search / .enSearch (paged, by modified or creation time),
jingdong.pop.order.get, the receiver decrypt call and jingdong.pop.order.shipment (the seller's
outbound with carrier and waybill), from a SimStore; and the SKU list and stock update
(simstock.py) over a ListingBook. Gateway errors come as
HTTP 200 with `error_response`, as JD sends them; injected 429/500 carry the same envelope.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from orderhub.integrations.channels.jd import protocol as p
from orderhub.integrations.channels.jd.carriers import carrier_of
from orderhub.integrations.channels.jd.render import consignee, oaid, render, state_word, visible
from orderhub.integrations.channels.jd.signing import check, parse_jd_time
from orderhub.integrations.channels.jd.simstock import (
    SkuRefused,
    search_skus,
    sku_ids,
    update_stock,
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

ORDER_PREFIX = "30"  # JD order ids are plain numbers
CLOCK_SKEW = timedelta(minutes=6)  # the router refuses timestamps further off than this


class _Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _api_result(success: bool = True, zh: str = "", en: str = "") -> dict[str, Any]:
    return {"success": success, "chineseErrCode": zh, "englishErrCode": en, "numberCode": ""}


def _gateway_check(params: dict[str, str], options: SimulatorOptions, now: datetime) -> None:
    method = params.get("method", "")
    if not method:
        raise _Refused(p.ERR_MISSING_METHOD)
    if method not in (
        p.ORDER_SEARCH,
        p.ORDER_EN_SEARCH,
        p.ORDER_GET,
        p.OAID_DECRYPT,
        p.ORDER_SHIPMENT,
        p.SKU_SEARCH,
        p.STOCK_UPDATE,
    ):
        raise _Refused(p.ERR_INVALID_METHOD)
    if "v" not in params:
        raise _Refused(p.ERR_MISSING_VERSION)
    if params["v"] != p.API_VERSION:
        raise _Refused(p.ERR_UNSUPPORTED_VERSION)
    if not params.get("timestamp"):
        raise _Refused(p.ERR_MISSING_TIMESTAMP)
    try:
        stamp = parse_jd_time(params["timestamp"])
    except ValueError:
        raise _Refused(p.ERR_INVALID_TIMESTAMP) from None
    if abs(stamp - now) > CLOCK_SKEW:
        raise _Refused(p.ERR_INVALID_TIMESTAMP)
    if not params.get("sign"):
        raise _Refused(p.ERR_MISSING_SIGNATURE)
    # A wrong app_key finds no secret to check against: the router reports a bad signature.
    if (
        params.get("app_key") != options.app_key
        or params.get("sign_method", p.SIGN_METHOD).lower() != p.SIGN_METHOD
        or not check(params, options.app_secret)
    ):
        raise _Refused(p.ERR_INVALID_SIGNATURE)
    if params.get("access_token") != options.access_token:
        raise _Refused(p.ERR_INVALID_TOKEN)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _search(store: SimStore, business: dict[str, Any]) -> dict[str, Any]:
    try:
        start = parse_jd_time(str(business.get("start_date", "")))
        # end_date counts whole seconds: an order modified at 12:00:05.7 is in "... 12:00:05".
        end = parse_jd_time(str(business.get("end_date", ""))) + timedelta(seconds=1)
    except ValueError:
        return {
            "searchorderinfo_result": {
                "orderInfoList": [],
                "orderTotal": 0,
                "apiResult": _api_result(False, "时间格式错误", "invalid start_date or end_date"),
            }
        }
    page = max(_int(business.get("page"), 1), 1)
    size = min(max(_int(business.get("page_size"), 20), 1), p.MAX_PAGE_SIZE)
    states = {s for s in str(business.get("order_state") or "").split(",") if s}
    if _int(business.get("dateType"), p.DATE_TYPE_MODIFIED) == p.DATE_TYPE_CREATED:
        current = list(store.orders.values())
        found = sorted(
            (o for o in current if start <= o.created_at < end), key=lambda o: (o.created_at, o.no)
        )
    else:
        found = store.changed(start, end)
    found = [o for o in found if visible(o)]
    if states:
        found = [o for o in found if state_word(o)[0] in states]
    window = found[(page - 1) * size : page * size]
    served = [render(o) for o in store.with_faults(window) if visible(o)]
    return {
        "searchorderinfo_result": {
            "orderInfoList": served,
            "orderTotal": len(found),
            "apiResult": _api_result(),
        }
    }


def _get(store: SimStore, business: dict[str, Any]) -> dict[str, Any]:
    order: SimOrder | None = store.orders.get(str(business.get("order_id", "")))
    if order is None or not visible(order):
        return {
            "orderDetailInfo": {
                "orderInfo": None,
                "apiResult": _api_result(False, "订单不存在", "order not found"),
            }
        }
    return {"orderDetailInfo": {"orderInfo": render(order), "apiResult": _api_result()}}


def _decrypt(store: SimStore, business: dict[str, Any]) -> dict[str, Any]:
    request = business.get("getReceiverInfoListReqVO") or {}
    found = []
    for asked in request.get("orderInfos") or []:
        order = store.orders.get(str(asked.get("orderId", "")))
        # The oaid ties the decrypt to the order it was issued for; a mismatch decrypts nothing.
        if order is not None and visible(order) and asked.get("oaid") == oaid(order):
            found.append(
                {"orderId": order.no, "oaid": oaid(order)} | consignee(order, masked=False)
            )
    return {"response": {"success": True, "data": {"receiverInfoList": found}}}


# Modelled refusals (the SDK's OperatorResult has errorCode and both descriptions; the values
# JD uses are not public): (errorCode, chineseErrCode, englishErrCode)
_SHIPMENT_REFUSALS: dict[ShipOutcome, tuple[str, str, str]] = {
    ShipOutcome.NOT_FOUND: ("order_not_found", "订单不存在", "order not found"),
    ShipOutcome.CLOSED: ("order_state_error", "订单已取消，不能出库", "order is cancelled"),
    ShipOutcome.REFUND_PENDING: ("order_locked", "订单已锁定，不能出库", "order is locked"),
    ShipOutcome.SHIPPED_OTHER: (
        "order_already_shipped",
        "订单已出库，运单号不一致",
        "order already shipped with another waybill",
    ),
}


def _shipment(store: SimStore, business: dict[str, Any]) -> dict[str, Any]:
    no, waybill = str(business.get("orderId", "")), str(business.get("logiNo", "")).strip()
    carrier = carrier_of(str(business.get("logiCoprId", "")))
    if carrier is None or not waybill:
        refusal = ("param_error", "物流公司或运单号错误", "invalid logiCoprId or logiNo")
    else:
        order = store.orders.get(no)
        # JD shows a seller an online-paid order only once paid: an unpaid one is not found.
        if order is None or not visible(order):
            outcome = ShipOutcome.NOT_FOUND
        else:
            outcome, _ = store.ship(no, carrier, waybill, refund_blocks=True)
        if outcome in (ShipOutcome.SHIPPED, ShipOutcome.REPEAT):
            return {
                p.SHIPMENT_RESULT: {
                    "success": True,
                    "errorCode": "",
                    "chineseErrCode": "",
                    "englishErrCode": "",
                }
            }
        refusal = _SHIPMENT_REFUSALS[outcome]
    code, zh, en = refusal
    return {
        p.SHIPMENT_RESULT: {
            "success": False,
            "errorCode": code,
            "chineseErrCode": zh,
            "englishErrCode": en,
        }
    }


def create_app(options: SimulatorOptions) -> FastAPI:
    app = FastAPI(title="JD open platform (simulated)")
    store = SimStore(OrderFactory(options.seed), prefix=ORDER_PREFIX, faults=options.faults)
    book = ListingBook(sku_ids)
    app.state.store, app.state.listings = store, book

    def refuse(code: str) -> bytes:
        return p.error_bytes(code)

    fault_middleware(
        app,
        options.faults,
        error_body=lambda status: refuse(
            p.ERR_CALL_LIMITED if status == 429 else p.ERR_SERVICE_UNAVAILABLE
        ),
    )
    app.include_router(control_router(store, visible=visible))
    app.include_router(listing_router(book))

    @app.api_route(p.ROUTER_PATH, methods=["GET", "POST"])
    async def router(request: Request) -> JSONResponse:
        params = {k: str(v) for k, v in request.query_params.items()}
        if request.method == "POST":
            form = await request.form()
            params |= {k: str(v) for k, v in form.items()}
        try:
            _gateway_check(params, options, datetime.now(UTC))
        except _Refused as refused:
            return JSONResponse(p.error_body(refused.code))
        try:
            business = json.loads(params.get(p.PARAM_JSON) or "{}")
        except json.JSONDecodeError:
            business = None
        method = params["method"]
        if not isinstance(business, dict):
            body: dict[str, Any] = {"apiResult": _api_result(False, "参数错误", "bad param json")}
        elif method in (p.ORDER_SEARCH, p.ORDER_EN_SEARCH):
            body = _search(store, business)
        elif method == p.ORDER_GET:
            body = _get(store, business)
        elif method == p.ORDER_SHIPMENT:
            body = _shipment(store, business)
        elif method == p.SKU_SEARCH:
            body = search_skus(book, business)
        elif method == p.STOCK_UPDATE:
            try:
                body = update_stock(book, business)
            except SkuRefused as refused:
                return JSONResponse(p.error_body(refused.code))
        else:
            body = _decrypt(store, business)
        return JSONResponse({p.response_key(method): {"code": "0", **body}})

    return app
