"""Qimen facts the client, the callback parser and the simulator share (see PROTOCOL.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from orderhub.domain.warehouses import WmsCredentials
from orderhub.integrations.wms.qimen.signing import SIGN_METHOD, sign

PROTOCOL = "qimen"
# The Qimen router's path; a WMS that speaks the protocol directly serves the same path.
ROUTER_PATH = "/router/qimen/service"
VERSION = "2.0"
FORMAT = "json"
CONTENT_TYPE = "application/json; charset=utf-8"

PREFIX = "taobao.qimen."
CREATE = PREFIX + "deliveryorder.create"
BATCH_CREATE = PREFIX + "deliveryorder.batchcreate"
CANCEL = PREFIX + "order.cancel"
CONFIRM = PREFIX + "deliveryorder.confirm"
BATCH_CONFIRM = PREFIX + "deliveryorder.batchconfirm"
PROCESS_REPORT = PREFIX + "orderprocess.report"
INVENTORY_QUERY = PREFIX + "inventory.query"
STOCK_QUERY = PREFIX + "stock.query"
INVENTORY_REPORT = PREFIX + "inventory.report"
STOCKCHANGE_REPORT = PREFIX + "stockchange.report"

ORDER_TYPE_SALE = "JYCK"  # 一般交易出库: an ordinary sales outbound order
INVENTORY_GOOD = "ZP"  # 正品: sellable stock
MAX_PAGE_SIZE = 100  # stock.query's documented page-size ceiling

# Answer codes. Qimen fixes only flag/code/message; the codes are each WMS's own, so these are
# the ones the simulator uses and the client recognises (PROTOCOL.md, "modelled").
OK = "0"
SIGN_CHECK_FAILURE = "sign-check-failure"
INVALID_METHOD = "invalid-method"
INVALID_ARGUMENT = "invalid-argument"
ORDER_NOT_FOUND = "order-not-found"
ORDER_SHIPPED = "order-already-shipped"

# Qimen writes times as "YYYY-MM-DD HH:MM:SS", Beijing time, no offset.
ZONE = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def qimen_time(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError(f"{at!r} has no time zone; Qimen times are converted from aware times")
    return at.astimezone(ZONE).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=ZONE).astimezone(UTC)


def short_method(method: str) -> str:
    """The method without `taobao.qimen.`: the router forwards it to the WMS in this form."""
    return method.removeprefix(PREFIX)


def full_method(method: str) -> str:
    return method if method.startswith(PREFIX) else PREFIX + method


def signed_query(
    method: str,
    body: bytes,
    credentials: WmsCredentials,
    now: datetime,
) -> dict[str, str]:
    params = {
        "method": method,
        "timestamp": qimen_time(now),
        "format": FORMAT,
        "app_key": credentials.app_key,
        "v": VERSION,
        "sign_method": SIGN_METHOD,
        "customerId": credentials.customer_id,
    }
    params["sign"] = sign(params, body, credentials.secret)
    return params


def encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def response(flag: str, code: str, message: str, **extra: Any) -> bytes:
    """Qimen's answer envelope: {"response": {"flag", "code", "message", ...}}."""
    return encode({"response": {"flag": flag, "code": code, "message": message, **extra}})


def success(message: str = "ok", **extra: Any) -> bytes:
    return response("success", OK, message, **extra)


def failure(code: str, message: str, **extra: Any) -> bytes:
    return response("failure", code, message, **extra)


def read_response(raw: bytes) -> dict[str, Any]:
    """The answer's fields, wrapped in "response" or not (WMSs do both); ValueError if not JSON."""
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("the answer is not a JSON object")
    inner = body.get("response", body)
    if not isinstance(inner, dict):
        raise ValueError("the answer's 'response' is not an object")
    return inner


def many(node: Any, key: str) -> list[dict[str, Any]]:
    """A Qimen list as Python: {"orderLines": {"orderLine": [..]}} from XML habits, a bare list,
    or a single object where XML had one element."""
    if isinstance(node, dict) and key in node:
        node = node[key]
    if isinstance(node, dict):
        return [node]
    if isinstance(node, list):
        return [item for item in node if isinstance(item, dict)]
    return []
