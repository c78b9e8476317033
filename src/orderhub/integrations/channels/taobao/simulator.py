"""A local TOP gateway: POST/GET /router/rest with TOP's system parameters, signature check, error
envelopes and the trade calls OrderHub uses (pull, one trade, decrypt, offline logistics send,
whole or split by sub-order), over a SimStore of numeric-tid trades; and the item calls (items on
sale, their SKUs, SKU stock updates) over a ListingBook (simstock.py).

Faults are TOP-shaped: TOP never answers HTTP 429; an app over its limit gets HTTP 200 with
error_response code 7 "App Call Limited", and a failing backend gets code 15 with an isp.* sub_code.
So `rate_429` and `rate_500` inject those bodies through simkit's fault_middleware, with HTTP 200;
`rate_timeout` delays the answer as for every channel.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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
from orderhub.integrations.channels.taobao import protocol as top
from orderhub.integrations.channels.taobao.carriers import carrier_of
from orderhub.integrations.channels.taobao.render import (
    TID_PREFIX,
    item_ids,
    oaid_of,
    oid_of,
    pick,
    receiver_of,
    status_of,
    trade_of,
)
from orderhub.integrations.channels.taobao.signing import SIGN_METHODS, verify
from orderhub.integrations.channels.taobao.simstock import ItemCalls
from orderhub.integrations.channels.taobao.simwire import (
    Refused,
    error_body,
    paging,
    required,
    time_param,
)

TIMESTAMP_TOLERANCE = timedelta(minutes=10)


class Gateway:
    def __init__(self, store: SimStore, options: SimulatorOptions, book: ListingBook) -> None:
        self.store, self.options = store, options
        self.methods: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
            "taobao.trades.sold.increment.get": self.increment,
            "taobao.trades.sold.get": self.sold,
            "taobao.trade.fullinfo.get": self.fullinfo,
            "taobao.top.oaid.decrypt": self.decrypt,
            top.OFFLINE_SEND: self.offline_send,
            **ItemCalls(book).methods(),
        }

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            self._check(params)
            method = params["method"]
            body = self.methods[method](params)
        except Refused as refused:
            return error_body(refused.code, refused.msg, refused.sub_code, refused.sub_msg)
        body["request_id"] = uuid.uuid4().hex[:13]
        return {method.removeprefix("taobao.").replace(".", "_") + "_response": body}

    def _check(self, params: dict[str, str]) -> None:
        """The system parameters, in the order TOP refuses them."""
        if not params.get("method"):
            raise Refused(21, "Missing Method")
        if not params.get("app_key"):
            raise Refused(top.MISSING_APP_KEY, "Missing App Key")
        if params["app_key"] != self.options.app_key:
            raise Refused(top.INVALID_APP_KEY, "Invalid App Key")
        if not params.get("timestamp"):
            raise Refused(top.MISSING_TIMESTAMP, "Missing Timestamp")
        try:
            sent = top.parse_top_time(params["timestamp"])
        except ValueError:
            raise Refused(top.INVALID_TIMESTAMP, "Invalid Timestamp") from None
        if abs(datetime.now(UTC) - sent) > TIMESTAMP_TOLERANCE:
            raise Refused(top.INVALID_TIMESTAMP, "Invalid Timestamp")
        if params.get("v") != "2.0":
            raise Refused(top.INVALID_VERSION, "Invalid Version")
        if params.get("format") != "json":
            raise Refused(top.INVALID_FORMAT, "Invalid Format", sub_msg="this gateway speaks json")
        if not params.get("sign"):
            raise Refused(top.MISSING_SIGNATURE, "Missing Signature")
        if params.get("sign_method", "md5") not in SIGN_METHODS or not verify(
            params, self.options.app_secret
        ):
            raise Refused(top.INVALID_SIGNATURE, "Invalid Signature")
        if params["method"] not in self.methods:
            raise Refused(top.INVALID_METHOD, "Invalid Method")
        if not params.get("session"):
            raise Refused(top.MISSING_SESSION, "Missing Session")
        if params["session"] != self.options.access_token:
            raise Refused(top.INVALID_SESSION, "Invalid Session", "invalid-sessionkey")

    def _trade(self, order: SimOrder, fields: str) -> dict[str, Any]:
        return pick(trade_of(order, secret=self.options.app_secret), fields)

    def increment(self, params: dict[str, str]) -> dict[str, Any]:
        fields = required(params, "fields")
        start, end = time_param(params, "start_modified"), time_param(params, "end_modified")
        if end < start or (end - start).total_seconds() > top.MAX_INCREMENT_SPAN_S:
            raise Refused(
                top.REMOTE_SERVICE_ERROR,
                "Remote service error",
                "isv.invalid-parameter",
                "end_modified must follow start_modified by at most one day",
            )
        page_no, page_size, has_next = paging(params)
        # both ends inclusive, to the second; newest first, as TOP sorts this list
        newest = self.store.changed(start, end + timedelta(seconds=1))[::-1]
        if params.get("status"):
            newest = [o for o in newest if status_of(o) == params["status"]]
        return self._page(newest, page_no, page_size, has_next, fields)

    def sold(self, params: dict[str, str]) -> dict[str, Any]:
        fields = required(params, "fields")
        start, end = time_param(params, "start_created"), time_param(params, "end_created")
        page_no, page_size, has_next = paging(params)
        orders = list(self.store.orders.copy().values())  # a copy is atomic; iterating is not
        created = [o for o in orders if start <= o.created_at < end + timedelta(seconds=1)]
        newest = sorted(created, key=lambda o: (o.created_at, o.no), reverse=True)
        return self._page(newest, page_no, page_size, has_next, fields)

    def _page(
        self, newest: list[SimOrder], page_no: int, size: int, has_next: bool, fields: str
    ) -> dict[str, Any]:
        chunk = newest[(page_no - 1) * size : page_no * size]
        # repeats and stale versions land as they would in the oldest-first reading of the page
        served = self.store.with_faults(chunk[::-1])[::-1]
        body: dict[str, Any] = {}
        if served:
            body["trades"] = {"trade": [self._trade(o, fields) for o in served]}
        if has_next:
            body["has_next"] = page_no * size < len(newest)
        else:
            body["total_results"] = len(newest)
        return body

    def fullinfo(self, params: dict[str, str]) -> dict[str, Any]:
        fields, tid = required(params, "fields"), required(params, "tid")
        order = self.store.orders.get(tid)
        if order is None:
            raise Refused(
                top.REMOTE_SERVICE_ERROR,
                "Remote service error",
                top.TRADE_NOT_EXIST,
                "交易订单不存在",
            )
        return {"trade": self._trade(order, fields)}

    def decrypt(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            queries = json.loads(required(params, "query_list"))
        except ValueError:
            raise Refused(top.INVALID_ARGUMENTS, "Invalid arguments:query_list") from None
        if not isinstance(queries, list) or len(queries) > top.MAX_DECRYPT_BATCH:
            raise Refused(
                top.INVALID_ARGUMENTS,
                "Invalid arguments:query_list",
                sub_msg=f"at most {top.MAX_DECRYPT_BATCH} queries",
            )
        secret = self.options.app_secret
        receivers = []
        for query in queries:
            tid, oaid = str(query.get("tid", "")), str(query.get("oaid", ""))
            versions = self.store.history.get(tid, [])
            known = [v for v in versions if oaid_of(v, secret) == oaid]
            if known:
                current = oaid_of(versions[-1], secret) == oaid
                receivers.append(receiver_of(known[-1], oaid, matched=current))
        return {"receiver_list": {"receiver": receivers}}

    def offline_send(self, params: dict[str, str]) -> dict[str, Any]:
        tid, out_sid = required(params, "tid"), required(params, "out_sid")
        code = required(params, "company_code")
        carrier = carrier_of(code)
        if carrier is None:  # modelled: TOP's exact sub_code for an unknown company
            raise Refused(
                top.REMOTE_SERVICE_ERROR,
                "Remote service error",
                "isv.invalid-parameter",
                f"物流公司编码 {code} 不存在",
            )
        if not out_sid.isalnum():
            raise Refused(
                top.REMOTE_SERVICE_ERROR,
                "Remote service error",
                top.SEND_BAD_WAYBILL,
                "运单号不符合规则",
            )
        lines = self._split_lines(tid, params) if params.get("is_split") == top.SPLIT_SEND else None
        outcome, _ = self.store.ship(tid, carrier, out_sid, lines=lines)
        if outcome is ShipOutcome.SHIPPED:
            return {"shipping": {"is_success": True}}
        sub_code, sub_msg = _SEND_REFUSALS.get(
            outcome,
            (top.SEND_SHIPPED_OR_CLOSED, "订单状态不对该物流订单已经发货或者已关闭，不能重复发货"),
        )
        raise Refused(top.REMOTE_SERVICE_ERROR, "Remote service error", sub_code, sub_msg)

    def _split_lines(self, tid: str, params: dict[str, str]) -> dict[str, int] | None:
        """The lines of the sub-orders named in sub_tid (a split send ships whole sub-orders)."""
        order = self.store.orders.get(tid)
        if order is None:
            return None  # the send answers B01
        oids = {oid_of(order, n): line for n, line in enumerate(order.lines)}
        try:
            asked = [int(x) for x in required(params, "sub_tid").split(",") if x.strip()]
        except ValueError:
            raise Refused(top.INVALID_ARGUMENTS, "Invalid arguments:sub_tid") from None
        unknown = [oid for oid in asked if oid not in oids]
        if unknown or not asked:  # modelled: the sub_code for an oid of another trade
            raise Refused(
                top.REMOTE_SERVICE_ERROR,
                "Remote service error",
                "isv.invalid-parameter",
                f"子订单 {unknown} 不属于交易 {tid}",
            )
        return {oids[oid].sku: oids[oid].quantity for oid in asked}


# TOP refuses even a repeat of the same waybill (B04), and a split send naming a sub-order that
# already left (not_in_order: B04 too); the client checks the trade on a B04.
_SEND_REFUSALS = {
    ShipOutcome.NOT_FOUND: (top.SEND_NO_TRADE, "订单不存在"),
    ShipOutcome.NOT_PAID: (top.SEND_BAD_STATE, "订单状态不对，买家尚未付款"),
}


def _fault_body(status: int) -> bytes:
    """TOP's envelopes for a throttle and for a back-end failure (both sent with HTTP 200)."""
    if status == 429:
        body = error_body(
            top.APP_CALL_LIMITED,
            "App Call Limited",
            "accesscontrol.limited-by-app-access-count",
            "This ban will last for 1 more seconds",
        )
    else:
        body = error_body(
            top.REMOTE_SERVICE_ERROR, "Remote service error", "isp.top-remote-connection-error"
        )
    return json.dumps(body).encode()


def create_app(options: SimulatorOptions) -> FastAPI:
    store = SimStore(OrderFactory(options.seed), prefix=TID_PREFIX, faults=options.faults)
    book = ListingBook(item_ids)
    gateway = Gateway(store, options, book)
    app = FastAPI(title="Taobao TOP simulator")
    app.state.store, app.state.listings = store, book
    fault_middleware(app, options.faults, error_body=_fault_body, http_status=lambda _: 200)
    app.include_router(control_router(store))
    app.include_router(listing_router(book))

    @app.api_route(top.GATEWAY_PATH, methods=["GET", "POST"])
    async def router_rest(request: Request) -> JSONResponse:
        params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return JSONResponse(gateway.answer(params))

    return app
