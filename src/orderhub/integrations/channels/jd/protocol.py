"""The JOS router's words, shared by the client and the simulator (see PROTOCOL.md)."""

from __future__ import annotations

import json
from typing import Any

from orderhub.services.ports import ChannelUnavailable

ROUTER_PATH = "/routerjson"
API_VERSION = "2.0"
# The router also knows hmacmd5 and hmacsha256; we sign (and the simulator checks) md5 only.
SIGN_METHOD = "md5"
PARAM_JSON = "360buy_param_json"

ORDER_SEARCH = "jingdong.pop.order.search"
# The variant whose receiver fields come encrypted/masked; the one third-party apps are given.
ORDER_EN_SEARCH = "jingdong.pop.order.enSearch"
ORDER_GET = "jingdong.pop.order.get"
OAID_DECRYPT = "jingdong.jos.order.oaid.decrypt"
# SOP outbound: the seller says the order left its warehouse with logiCoprId + logiNo.
ORDER_SHIPMENT = "jingdong.pop.order.shipment"
SHIPMENT_RESULT = "sopjosshipment_result"

# Listings and stock: the shop's SKUs, paged (pageNo, page_size; totalItem says how many), and
# a SKU's sellable stock set outright (stockNum: a full update).
SKU_SEARCH = "jingdong.sku.read.searchSkuList"
STOCK_UPDATE = "jingdong.stock.write.updateSkuStock"
SKU_PAGE_SIZE = 50
SKU_FIELDS = "wareId,skuId,outerId,skuName,wareTitle,stockNum,status,modified"
# skuStatuValue: 1 on sale, 2 off shelf, 4 deleted (we list the first two).
SKU_LISTED_STATUSES = "1,2"
# What an order that left shows: its state, and waybills "a,b|c" (a comma between one carrier's
# waybills, a bar between carriers), as jingdong.pop.order.shipment's logiNo takes them.
SHIPPED_STATES = frozenset({"WAIT_GOODS_RECEIVE_CONFIRM", "FINISHED_L"})

# dateType: 0 (or anything but 1) searches by modified time, 1 by creation time.
DATE_TYPE_MODIFIED = 0
DATE_TYPE_CREATED = 1
MAX_PAGE_SIZE = 100

# Every state a POP order can be in; a search without order_state would miss none of them.
ORDER_STATES = (
    "WAIT_SELLER_STOCK_OUT",
    "WAIT_SELLER_DELIVERY",
    "WAIT_GOODS_RECEIVE_CONFIRM",
    "FINISHED_L",
    "TRADE_CANCELED",
    "LOCKED",
    "PAUSE",
    "POP_ORDER_PAUSE",
)
OPTIONAL_FIELDS = (
    "orderId,venderId,orderType,payType,orderTotalPrice,orderSellerPrice,orderPayment,"
    "freightPrice,sellerDiscount,orderState,orderStateRemark,orderRemark,venderRemark,"
    "orderStartTime,orderEndTime,modified,paymentConfirmTime,consigneeInfo,itemInfoList,"
    "couponDetailList,invoiceEasyInfo,pin,open_id_buyer,oaid"
)

# Gateway error codes (error_response.code), from JD's published gateway error table.
ERR_CALL_LIMITED = "2"  # App Call Limited: the app is over its call rate
ERR_MISSING_VERSION = "4"
ERR_UNSUPPORTED_VERSION = "5"
ERR_MISSING_TIMESTAMP = "7"
ERR_INVALID_TIMESTAMP = "8"
ERR_MISSING_SIGNATURE = "11"
ERR_INVALID_SIGNATURE = "12"
ERR_MISSING_METHOD = "14"
ERR_INVALID_METHOD = "15"
# Not in the table we could read; modelled (see PROTOCOL.md).
ERR_SERVICE_UNAVAILABLE = "1"
ERR_INVALID_TOKEN = "19"
# Modelled (JD's codes for these are not public): a stock update for a SKU the shop does not
# have (or deleted), and one with a negative stockNum.
ERR_SKU_NOT_FOUND = "sku_not_found"
ERR_STOCK_INVALID = "stock_num_invalid"
STOCK_REFUSALS = frozenset({ERR_SKU_NOT_FOUND, ERR_STOCK_INVALID})
# Codes that mean "slow down and call again", not "your request is wrong".
THROTTLE_CODES = frozenset({ERR_CALL_LIMITED})

ERRORS: dict[str, tuple[str, str]] = {
    ERR_SERVICE_UNAVAILABLE: ("服务不可用", "Service Unavailable"),
    ERR_CALL_LIMITED: ("限制时间内调用失败次数", "App Call Limited"),
    ERR_MISSING_VERSION: ("缺少版本参数", "Missing Version"),
    ERR_UNSUPPORTED_VERSION: ("不支持的版本号", "Unsupported Version"),
    ERR_MISSING_TIMESTAMP: ("缺少时间戳参数", "Missing Timestamp"),
    ERR_INVALID_TIMESTAMP: ("非法的时间戳参数", "Invalid Timestamp"),
    ERR_MISSING_SIGNATURE: ("缺少签名参数", "Missing Signature"),
    ERR_INVALID_SIGNATURE: ("无效签名", "Invalid Signature"),
    ERR_MISSING_METHOD: ("缺少方法名参数", "Missing Method"),
    ERR_INVALID_METHOD: ("不存在的方法名", "Invalid Method"),
    ERR_INVALID_TOKEN: ("token已过期或者不存在，请重新授权访问", "Invalid access_token"),
    ERR_SKU_NOT_FOUND: ("SKU不存在或已删除", "sku not found"),
    ERR_STOCK_INVALID: ("库存数量不能为负数", "stockNum must not be negative"),
}


def response_key(method: str) -> str:
    """`jingdong.pop.order.search` answers under `jingdong_pop_order_search_responce` (sic)."""
    return method.replace(".", "_") + "_responce"


def error_body(code: str) -> dict[str, Any]:
    zh, en = ERRORS[code]
    return {"error_response": {"code": code, "zh_desc": zh, "en_desc": en}}


def error_bytes(code: str) -> bytes:
    return json.dumps(error_body(code), ensure_ascii=False).encode()


class JdApiError(ChannelUnavailable):
    """The router or the API refused the call; `code` is JD's (e.g. "12" Invalid Signature)."""

    def __init__(self, method: str, code: str, zh: str, en: str) -> None:
        super().__init__(f"{method}: JD error {code} {en} ({zh})")
        self.method, self.code, self.zh_desc, self.en_desc = method, code, zh, en
