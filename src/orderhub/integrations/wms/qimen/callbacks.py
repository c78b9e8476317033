"""Callbacks a Qimen WMS sends OrderHub: shipments, progress, stock, read as WarehouseReports.

Every report carries the WMS's message id so a repeated callback is applied once: the item's
`outBizCode` (Qimen's "message id, for dedupe") when the WMS sends one, else an id derived from
the fact itself (order code + status + tracking no or time), the same on every repeat.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orderhub.domain.fulfilment import ReportKind, StockCount, WarehouseReport
from orderhub.domain.warehouses import Warehouse
from orderhub.integrations.wms.qimen import protocol as qm
from orderhub.integrations.wms.qimen.signing import verify
from orderhub.services.ports import CallbackRejected

# processStatus (Qimen's status list) -> the report OrderHub applies. DELIVERED means "shipped"
# (已发货) in Qimen, and deliveryorder.confirm brings that fact with carrier and tracking no;
# SIGN (签收) is the proof of delivery.
PROCESS_KINDS: dict[str, ReportKind] = {
    "ACCEPT": ReportKind.ACCEPTED,
    "PRINT": ReportKind.PICKING,
    "PICK": ReportKind.PICKING,
    "CHECK": ReportKind.PICKING,
    "PACKAGE": ReportKind.PACKED,
    "WEIGH": ReportKind.PACKED,
    "READY": ReportKind.PACKED,
    "SIGN": ReportKind.DELIVERED,
}
# Known statuses that carry no fact OrderHub applies: acknowledged, nothing reported.
PROCESS_IGNORED = frozenset(
    {
        "NEW",
        "DELIVERED",
        "PARTDELIVERED",
        "EXCEPTION",
        "CLOSED",
        "CANCELED",
        "REJECT",
        "REFUSE",
        "CANCELEDFAIL",
        "TMSCANCELED",
        "PARTFULFILLED",
        "FULFILLED",
        "OTHER",
    }
)


def _reject(warehouse: Warehouse, problem: str) -> CallbackRejected:
    return CallbackRejected(f"Qimen callback for warehouse {warehouse.code}: {problem}")


def _field(node: Mapping[str, Any], name: str, where: str, warehouse: Warehouse) -> str:
    value = node.get(name)
    if value in (None, ""):
        raise _reject(warehouse, f"'{where}.{name}' is missing; the WMS must send it")
    return str(value)


def _at(text: str, where: str, warehouse: Warehouse) -> datetime:
    try:
        return qm.parse_time(text)
    except ValueError:
        raise _reject(
            warehouse, f"'{where}' is '{text}', not a Qimen time YYYY-MM-DD HH:MM:SS"
        ) from None


def _derived(*parts: str) -> str:
    return "qimen-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def parse_callback(
    warehouse: Warehouse, query: Mapping[str, str], body: bytes
) -> list[WarehouseReport]:
    """Verify the signature and read the facts, or CallbackRejected saying what to fix."""
    credentials = warehouse.credentials
    if not query.get("sign"):
        raise _reject(warehouse, "no 'sign' query parameter; the WMS must sign every callback")
    if not verify(query, body, credentials.secret):
        raise _reject(
            warehouse,
            "the signature does not match: 'sign' must be MD5(secret + sorted query name/value "
            "pairs + body + secret) in upper-case hex with sign_method=md5; check that the WMS "
            "signs with the secret stored for this warehouse",
        )
    if query.get("app_key") and credentials.app_key and query["app_key"] != credentials.app_key:
        raise _reject(
            warehouse,
            f"app_key '{query['app_key']}' is not this warehouse's ('{credentials.app_key}')",
        )
    if query.get("format", qm.FORMAT).lower() != qm.FORMAT:
        raise _reject(warehouse, f"format is '{query['format']}'; configure the WMS for json")
    method = qm.short_method(query.get("method", ""))
    try:
        content = json.loads(body)
    except ValueError as error:
        raise _reject(warehouse, f"the body is not JSON ({error}); send format=json") from None
    if not isinstance(content, dict):
        raise _reject(warehouse, "the body is not a JSON object")
    # Some WMSs keep XML's root element as a wrapper.
    if isinstance(content.get("request"), dict):
        content = content["request"]
    readers = {
        "deliveryorder.confirm": lambda: [_shipped(warehouse, content)],
        "deliveryorder.batchconfirm": lambda: [
            _shipped(warehouse, order) for order in qm.many(content.get("orders"), "order")
        ],
        "orderprocess.report": lambda: _process(warehouse, content),
        "inventory.report": lambda: [_stock(warehouse, content, "checkTime")],
        "stockchange.report": lambda: [_stock(warehouse, content, "changeTime")],
    }
    if method not in readers:
        raise _reject(
            warehouse,
            f"method '{query.get('method', '')}' is not one OrderHub reads; it reads "
            + ", ".join(qm.full_method(m) for m in readers),
        )
    reports = readers[method]()
    if method == "deliveryorder.batchconfirm" and not reports:
        raise _reject(warehouse, "batchconfirm has no 'orders.order'; nothing to apply")
    return reports


def _shipped(warehouse: Warehouse, content: Mapping[str, Any]) -> WarehouseReport:
    order = content.get("deliveryOrder")
    if not isinstance(order, dict):
        raise _reject(warehouse, "'deliveryOrder' is missing; the WMS must send it")
    code = _field(order, "deliveryOrderCode", "deliveryOrder", warehouse)
    packages = qm.many(content.get("packages"), "package")
    first = packages[0] if packages else {}
    carrier = str(first.get("logisticsCode") or order.get("logisticsCode") or "")
    tracking = str(first.get("expressCode") or order.get("expressCode") or "")
    if not carrier or not tracking:
        raise _reject(
            warehouse,
            f"outbound {code} has no carrier and tracking no: send packages.package "
            "logisticsCode and expressCode (or deliveryOrder.logisticsCode/expressCode)",
        )
    when = order.get("orderConfirmTime") or order.get("operateTime")
    if not when:
        raise _reject(warehouse, f"outbound {code} has no orderConfirmTime or operateTime")
    at = _at(str(when), "deliveryOrder.orderConfirmTime", warehouse)
    message_id = str(order.get("outBizCode") or _derived("confirm", code, carrier, tracking))
    detail: dict[str, Any] = {
        "wms_order_id": order.get("deliveryOrderId"),
        "status": order.get("status"),
        # 0: the order's final confirmation; 1: one of several partial shipments
        "partial": str(order.get("confirmType", "0")) == "1",
        "packages": [
            {"carrier": p.get("logisticsCode"), "tracking_no": p.get("expressCode")}
            for p in packages
        ],
    }
    return WarehouseReport(
        message_id=message_id,
        warehouse=warehouse.code,
        kind=ReportKind.SHIPPED,
        at=at,
        outbound_no=code,
        carrier=carrier,
        tracking_no=tracking,
        detail=detail,
    )


def _process(warehouse: Warehouse, content: Mapping[str, Any]) -> list[WarehouseReport]:
    order, process = content.get("order"), content.get("process")
    if not isinstance(order, dict) or not isinstance(process, dict):
        raise _reject(warehouse, "orderprocess.report needs both 'order' and 'process'")
    code = _field(order, "orderCode", "order", warehouse)
    status = _field(process, "processStatus", "process", warehouse).upper()
    if status in PROCESS_IGNORED:
        return []
    if status not in PROCESS_KINDS:
        raise _reject(
            warehouse,
            f"processStatus '{status}' of order {code} is not in Qimen's list; known: "
            + ", ".join(sorted(PROCESS_KINDS.keys() | PROCESS_IGNORED)),
        )
    when = _field(process, "operateTime", "process", warehouse)
    at = _at(when, "process.operateTime", warehouse)
    message_id = str(order.get("outBizCode") or _derived("process", code, status, when))
    return [
        WarehouseReport(
            message_id=message_id,
            warehouse=warehouse.code,
            kind=PROCESS_KINDS[status],
            at=at,
            outbound_no=code,
            tracking_no=str(process["expressCode"]) if process.get("expressCode") else None,
            detail={"process_status": status, "operator": process.get("operatorName")},
        )
    ]


def _stock(warehouse: Warehouse, content: Mapping[str, Any], time_field: str) -> WarehouseReport:
    items = qm.many(content.get("items"), "item")
    if not items:
        raise _reject(warehouse, "the stock report has no 'items'")
    when = content.get(time_field) or next((i.get(time_field) for i in items), None)
    if not when:
        raise _reject(warehouse, f"the stock report has no '{time_field}'")
    at = _at(str(when), time_field, warehouse)
    counts = []
    for item in items:
        sku = _field(item, "itemCode", "items.item", warehouse)
        # Qimen's `quantity` here is the change; the on-hand count after it is `totalQty`.
        if item.get("totalQty") in (None, ""):
            raise _reject(
                warehouse,
                f"item {sku} has no 'totalQty' (on hand after the change); OrderHub records "
                "counts, not bare changes",
            )
        try:
            on_hand = int(item["totalQty"])
        except (TypeError, ValueError):
            problem = f"item {sku}: totalQty '{item['totalQty']}' is not a whole number"
            raise _reject(warehouse, problem) from None
        counts.append(StockCount(sku, on_hand, at))
    outbiz = content.get("outBizCode") or content.get("checkOrderCode")
    counted = (f"{c.sku}={c.on_hand}" for c in counts)
    message_id = str(outbiz or _derived("stock", str(when), *counted))
    return WarehouseReport(
        message_id=message_id,
        warehouse=warehouse.code,
        kind=ReportKind.STOCK,
        at=at,
        stock=tuple(counts),
        detail={"adjust_type": content.get("adjustType")},
    )


def answer(warehouse: Warehouse, error: str | None) -> tuple[str, bytes]:
    """The answer the WMS reads: success, or failure (it retries a failure) with `error`."""
    if error is None:
        return qm.CONTENT_TYPE, qm.success()
    return qm.CONTENT_TYPE, qm.failure("callback-rejected", error)
