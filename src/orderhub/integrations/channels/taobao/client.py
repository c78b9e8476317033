"""One shop's Taobao/Tmall connection over the TOP gateway: incremental pull, one trade, reconcile.

The pull is `taobao.trades.sold.increment.get`, whose pages are sorted by modified time, newest
first. TOP tells callers to read them from the last page back to the first: a trade modified
again while we page leaves the window and shifts the older ones towards page 1, which we have not
read yet, so nothing is skipped (at worst a trade is read twice). Hence a cheap count call first
(page_size 1, fields tid, use_has_next false gives total_results), then pages N..1, each reversed
so the caller gets oldest first. Windows longer than TOP's one-day limit are walked day by day.

Receivers come masked to third-party apps, with an `oaid`. They are kept masked and flagged: the
platform's decrypt call is made only when a document needs the real values (a waybill), never on
a pull, so no clear receiver is stored. A shop may opt in (`decrypt_receivers: "true"`): then for
trades still to be shipped the client asks `taobao.top.oaid.decrypt` and writes the values into
the payload's receiver_* fields, marking it `orderhub_receiver_source: oaid_decrypt` (the mapping
reads that mark for `receiver.masked`).

Shop settings in `ShopConnection.extra`: sign_method (md5, hmac, hmac-sha256; default
hmac-sha256), page_size (default 100, TOP's maximum: fewer calls a pull), window_s (default
86400), decrypt_receivers ("true" decrypts on pull; default masked), fields (extra trade fields,
comma-separated, for merchant mapping extensions such as seller_flag).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from orderhub.domain.fulfilment import Shipment
from orderhub.integrations.channels.http import ChannelHttp
from orderhub.integrations.channels.registry import ShopConnection
from orderhub.integrations.channels.taobao import protocol as top
from orderhub.integrations.channels.taobao import shipping, stock
from orderhub.integrations.channels.taobao.protocol import TopError
from orderhub.integrations.channels.taobao.receivers import tid_of, with_receivers
from orderhub.integrations.channels.taobao.signing import sign
from orderhub.services.ports import ChannelListing, ChannelPage, ChannelUnavailable

__all__ = ["TaobaoClient", "TopError", "throttled"]

CHANNEL_NAME = "taobao"
TRADE_FIELDS = (
    "tid,tid_str,status,type,step_trade_status,step_paid_fee,payment,total_fee,post_fee,"
    "discount_fee,adjust_fee,created,modified,pay_time,consign_time,end_time,buyer_nick,"
    "buyer_open_uid,buyer_message,seller_memo,seller_flag,alipay_no,shipping_type,receiver_name,"
    "receiver_mobile,receiver_phone,receiver_state,receiver_city,receiver_district,receiver_town,"
    "receiver_address,receiver_zip,receiver_country,oaid,orders"
)


def throttled(response: Any) -> str | None:
    """ChannelHttp's `retryable`: TOP answers HTTP 200 with code 7 when the app is over limit."""
    try:
        error = top.error_of(response.json())
    except ValueError:
        return None
    if error is None or not top.is_transient(error):
        return None
    return f"TOP error {error.get('code')} {error.get('msg')} {error.get('sub_code', '')}".strip()


@dataclass(frozen=True)
class _Cursor:
    """Where a pull stands: window [start, end) in epoch seconds and the next page to read."""

    start: int
    end: int
    page_no: int | None = None  # None: count the window first

    def encode(self) -> str:
        return f"{self.start}:{self.end}:{self.page_no or ''}"

    @classmethod
    def decode(cls, token: str) -> _Cursor:
        try:
            start, end, page = token.split(":")
            return cls(int(start), int(end), int(page) if page else None)
        except ValueError:
            raise ValueError(f"'{token}' is not a taobao page token") from None


def _ceil_s(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError(f"{at!r} has no time zone")
    return math.ceil(at.timestamp())


def _at(epoch: int) -> str:
    return top.top_time(datetime.fromtimestamp(epoch, UTC))


def _within(trade: dict[str, Any], key: str, start: int, end: int) -> bool:
    """TOP's window ends are inclusive and second-granular; ours is [start, end)."""
    try:
        at = top.parse_top_time(str(trade[key])).timestamp()
    except (KeyError, ValueError):
        return True  # keep it: the mapping will say what is wrong with it
    return start <= at < end


def _trades(body: dict[str, Any]) -> list[dict[str, Any]]:
    # TOP leaves `trades` out altogether when nothing matched.
    return list((body.get("trades") or {}).get("trade") or [])


class TaobaoClient:
    channel = CHANNEL_NAME

    def __init__(
        self,
        connection: ShopConnection,
        *,
        http: ChannelHttp | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.connection = connection
        self._http = http or ChannelHttp(connection, channel=CHANNEL_NAME, retryable=throttled)
        self._now = clock or (lambda: datetime.now(UTC))
        extra = connection.extra
        self.sign_method = extra.get("sign_method", "hmac-sha256")
        self.page_size = min(
            max(int(extra.get("page_size", str(top.MAX_PAGE_SIZE))), 1), top.MAX_PAGE_SIZE
        )
        # TOP refuses windows over a day and advises short ones (30 min) on busy shops.
        window_s = int(extra.get("window_s", top.MAX_INCREMENT_SPAN_S))
        self.window_s = min(max(window_s, 60), top.MAX_INCREMENT_SPAN_S)
        # Off by default: real receivers are fetched when a waybill needs them, not stored.
        self.decrypt = extra.get("decrypt_receivers", "false").lower() == "true"
        more = [f.strip() for f in extra.get("fields", "").split(",") if f.strip()]
        self.fields = ",".join([TRADE_FIELDS, *more])

    def call(self, method: str, params: dict[str, str]) -> dict[str, Any]:
        """One signed TOP call; the `<method>_response` object, or TopError."""
        signed = {
            **params,
            "method": method,
            "app_key": self.connection.app_key,
            "session": self.connection.access_token,
            "timestamp": top.top_time(self._now()),
            "format": "json",
            "v": "2.0",
            "sign_method": self.sign_method,
        }
        signed["sign"] = sign(signed, self.connection.app_secret, self.sign_method)
        response = self._http.request("POST", top.GATEWAY_PATH, data=signed)
        try:
            body = response.json()
        except ValueError:
            raise ChannelUnavailable(f"taobao {method}: the answer is not JSON") from None
        error = top.error_of(body)
        if error is not None:
            raise TopError(method, error)
        key = method.removeprefix("taobao.").replace(".", "_") + "_response"
        if not isinstance(body.get(key), dict):
            raise ChannelUnavailable(f"taobao {method}: the answer has no '{key}'")
        result: dict[str, Any] = body[key]
        return result

    # -- the incremental pull -------------------------------------------------------------
    def fetch_changed(self, since: datetime, until: datetime, page: str | None) -> ChannelPage:
        trades, following = self._changed(since, until, page, self.fields)
        if self.decrypt:
            trades = with_receivers(self.call, trades)
        return ChannelPage(trades, following)

    def _changed(
        self, since: datetime, until: datetime, page: str | None, fields: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        stop = _ceil_s(until)
        cursor = _Cursor.decode(page) if page else self._window(_ceil_s(since), stop)
        while cursor is not None:
            page_no = cursor.page_no or self._last_page(cursor)
            if page_no == 0:
                cursor = self._window(cursor.end, stop)
                continue
            body = self.call(
                "taobao.trades.sold.increment.get",
                {
                    "start_modified": _at(cursor.start),
                    "end_modified": _at(cursor.end),
                    "page_no": str(page_no),
                    "page_size": str(self.page_size),
                    "use_has_next": "true",
                    "fields": fields,
                },
            )
            following = (
                replace(cursor, page_no=page_no - 1)
                if page_no > 1
                else self._window(cursor.end, stop)
            )
            trades = [
                t
                for t in reversed(_trades(body))
                if _within(t, "modified", cursor.start, cursor.end)
            ]
            return trades, following.encode() if following else None
        return [], None

    def _window(self, start: int, stop: int) -> _Cursor | None:
        return _Cursor(start, min(start + self.window_s, stop)) if start < stop else None

    def _last_page(self, cursor: _Cursor) -> int:
        body = self.call(
            "taobao.trades.sold.increment.get",
            {
                "start_modified": _at(cursor.start),
                "end_modified": _at(cursor.end),
                "page_no": "1",
                "page_size": "1",
                "use_has_next": "false",
                "fields": "tid",
            },
        )
        return math.ceil(int(body.get("total_results") or 0) / self.page_size)

    # -- one trade, and the reconcile listing ---------------------------------------------
    def fetch_order(self, channel_order_no: str) -> dict[str, Any] | None:
        try:
            body = self.call(
                "taobao.trade.fullinfo.get", {"tid": channel_order_no, "fields": self.fields}
            )
        except TopError as error:
            if error.sub_code == top.TRADE_NOT_EXIST:
                return None
            raise
        trade = body.get("trade")
        if not isinstance(trade, dict):
            return None
        return with_receivers(self.call, [trade])[0] if self.decrypt else trade

    def list_order_numbers(self, since: datetime, until: datetime) -> list[str]:
        """Created in the window (taobao.trades.sold.get) or modified in it (the increment)."""
        start, stop = _ceil_s(since), _ceil_s(until)
        numbers: set[str] = set()
        page_no = 1
        while start < stop:
            body = self.call(
                "taobao.trades.sold.get",
                {
                    "start_created": _at(start),
                    "end_created": _at(stop),
                    "page_no": str(page_no),
                    "page_size": str(self.page_size),
                    "use_has_next": "true",
                    "fields": "tid,created",
                },
            )
            numbers.update(tid_of(t) for t in _trades(body) if _within(t, "created", start, stop))
            if not body.get("has_next"):
                break
            page_no += 1
        page: str | None = None
        while True:
            trades, page = self._changed(since, until, page, "tid,modified")
            numbers.update(tid_of(t) for t in trades)
            if page is None:
                return sorted(numbers)

    # -- telling TOP the trade shipped ------------------------------------------------------
    def ship(self, shipment: Shipment) -> str | None:
        """taobao.logistics.offline.send (a split parcel with is_split and its sub-orders); TOP
        gives no reference of its own, so None, or a note for a parcel TOP cannot be told."""
        return shipping.ship(self.call, shipment)

    # -- listings and their stock -----------------------------------------------------------
    def listings(self) -> list[ChannelListing]:
        """Items on sale and their SKUs, ids {num_iid, sku_id}."""
        return stock.listings(self.call)

    def set_stock(self, ids: Mapping[str, str], quantity: int) -> None:
        """taobao.item.quantity.update, a full update (type 1)."""
        stock.set_stock(self.call, ids, quantity)

    def close(self) -> None:
        self._http.close()
