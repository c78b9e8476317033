"""TOP facts both the client and the simulator rely on: times, envelopes, error codes, amounts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from orderhub.services.ports import ChannelUnavailable

GATEWAY_PATH = "/router/rest"
# TOP writes every time (system `timestamp`, query windows, trade fields) in GMT+8, no offset.
TOP_ZONE = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# end_modified - start_modified may not exceed one day (taobao.trades.sold.increment.get).
MAX_INCREMENT_SPAN_S = 86_400
MAX_PAGE_SIZE = 100
MAX_DECRYPT_BATCH = 20

# error_response codes (TOP "platform error codes"); HTTP status is 200 for all of them.
APP_CALL_LIMITED = 7
SERVICE_UNAVAILABLE = 10
REMOTE_SERVICE_ERROR = 15
INVALID_METHOD = 22
INVALID_FORMAT = 23
MISSING_SIGNATURE = 24
INVALID_SIGNATURE = 25
MISSING_SESSION = 26
INVALID_SESSION = 27
MISSING_APP_KEY = 28
INVALID_APP_KEY = 29
MISSING_TIMESTAMP = 30
INVALID_TIMESTAMP = 31
INVALID_VERSION = 33
MISSING_ARGUMENTS = 40
INVALID_ARGUMENTS = 41
TRADE_NOT_EXIST = "isv.trade-not-exist"
# taobao.logistics.offline.send refusals (error 15, these sub_codes): B01 no such trade, B04 the
# trade is closed or already shipped ("不能重复发货", a repeat included), B60 the waybill number
# does not fit the company's rule.
OFFLINE_SEND = "taobao.logistics.offline.send"
SEND_NO_TRADE = "isv.logistics-offline-service-error:B01"
SEND_BAD_STATE = "isv.logistics-offline-service-error:B02"
SEND_SHIPPED_OR_CLOSED = "isv.logistics-offline-service-error:B04"
SEND_BAD_WAYBILL = "isv.logistics-offline-service-error:B60"
# A split trade (is_split=1) names the sub-orders (oids) that left, comma-separated, in sub_tid.
SPLIT_SEND = "1"
SHIPPABLE_LINE_STATUSES = frozenset({"WAIT_SELLER_SEND_GOODS"})

# Listings and stock. items.onsale.get pages up to 200 items; item.skus.get takes at most 40
# num_iids; item.quantity.update type 1 is a full update (the default), 2 a delta.
ITEMS_ONSALE = "taobao.items.onsale.get"
# Items in the warehouse (not on sale): `banner` for_shelved (default: the seller's own, never
# listed, or timed) and sold_out (every SKU at 0, taken off by the platform).
ITEMS_INVENTORY = "taobao.items.inventory.get"
WAREHOUSE_BANNERS = ("for_shelved", "sold_out")
ITEM_SKUS = "taobao.item.skus.get"
QUANTITY_UPDATE = "taobao.item.quantity.update"
MAX_ONSALE_PAGE_SIZE = 200
MAX_SKUS_NUM_IIDS = 40
FULL_UPDATE = "1"
# Its refusals (error 15 with these sub_codes; a Tmall shop gets them with a "-tmall" suffix).
ITEM_NOT_EXIST = "isv.item-not-exist:invalid-numIid-or-iid"
ITEM_DELETED = "isv.item-is-delete:invalid-numIid-or-iid"
SKU_NOT_FOUND = "isv.invalid-parameter:sku-properties"
BAD_QUANTITY = "isv.invalid-parameter:quantity"
# Trade statuses that mean "the goods left": a B04 on one of these may be our own earlier send.
SHIPPED_STATUSES = frozenset({"WAIT_BUYER_CONFIRM_GOODS", "TRADE_BUYER_SIGNED", "TRADE_FINISHED"})


def top_time(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError(f"{at!r} has no time zone; TOP times are converted from aware times")
    return at.astimezone(TOP_ZONE).strftime(TIME_FORMAT)


def parse_top_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=TOP_ZONE).astimezone(UTC)


def error_of(body: Any) -> dict[str, Any] | None:
    """The `error_response` object of a TOP answer, or None when the call succeeded."""
    error = body.get("error_response") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def is_transient(error: dict[str, Any]) -> bool:
    """Worth retrying: the app is throttled (7), or TOP/the service behind it failed (isp.*)."""
    code = str(error.get("code", ""))
    sub_code = str(error.get("sub_code", ""))
    return code in (str(APP_CALL_LIMITED), str(SERVICE_UNAVAILABLE)) or sub_code.startswith("isp.")


def yuan(minor: int) -> str:
    """Fen -> TOP's yuan string with two decimals ('12.30'); never through float."""
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


class TopError(ChannelUnavailable):
    """TOP refused the call with an error_response that retrying does not cure."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.code = str(error.get("code", ""))
        self.msg = str(error.get("msg", ""))
        self.sub_code = str(error.get("sub_code", ""))
        self.sub_msg = str(error.get("sub_msg", ""))
        detail = f" ({self.sub_code}: {self.sub_msg})" if self.sub_code else ""
        super().__init__(f"taobao {method}: error {self.code} {self.msg}{detail}")
