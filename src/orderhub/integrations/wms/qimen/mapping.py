"""OrderHub's outbox payloads as Qimen request bodies (deliveryOrder, orderLines, order.cancel)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderhub.domain.warehouses import WmsCredentials
from orderhub.integrations.wms.qimen import protocol as qm

# Qimen's sourcePlatformCode list names the big platforms; the rest are OTHER.
PLATFORM_CODES = {"taobao": "TB", "tmall": "TM", "jd": "JD", "suning": "SN", "vip": "WPH"}


class PayloadError(ValueError):
    """An outbox payload lacks what the WMS needs; the message names the field."""


def _time(value: Any, field: str) -> str:
    try:
        return qm.qimen_time(datetime.fromisoformat(str(value)))
    except ValueError as error:
        problem = f"'{field}' is not an aware ISO-8601 time: {value!r} ({error})"
        raise PayloadError(problem) from None


def _required(payload: dict[str, Any], field: str) -> Any:
    value = payload.get(field)
    if value in (None, "", [], {}):
        raise PayloadError(f"the payload has no '{field}'")
    return value


def delivery_order(
    payload: dict[str, Any], message_id: str, credentials: WmsCredentials
) -> dict[str, Any]:
    """One `wms.outbound.create` payload as {"deliveryOrder", "orderLines", "extendProps"}.

    The message id travels as `deliveryOrder.outBizCode`, Qimen's field for "a unique code per
    request so a repeat caused by the network is not processed twice".
    """
    code = str(_required(payload, "outbound_no"))
    receiver = _required(payload, "receiver")
    channel = str(payload.get("channel") or "")
    order: dict[str, Any] = {
        "deliveryOrderCode": code,
        "orderType": qm.ORDER_TYPE_SALE,
        "warehouseCode": str(_required(payload, "warehouse")),
        "outBizCode": message_id,
        "sourcePlatformCode": PLATFORM_CODES.get(channel, "OTHER"),
        "sourcePlatformName": channel,
        "createTime": _time(_required(payload, "created_at"), "created_at"),
        "placeOrderTime": _time(payload["created_at"], "created_at"),
        "shopNick": str(payload.get("shop") or ""),
        "isUrgency": "Y" if int(payload.get("priority") or 0) > 0 else "N",
        "receiverInfo": {
            "name": str(receiver.get("name") or ""),
            "mobile": str(receiver.get("phone") or ""),
            "province": str(receiver.get("province") or ""),
            "city": str(receiver.get("city") or ""),
            "area": str(receiver.get("district") or ""),
            "detailAddress": str(receiver.get("address") or ""),
            "zipCode": str(receiver.get("postcode") or ""),
        },
    }
    if payload.get("paid_at"):
        order["payTime"] = _time(payload["paid_at"], "paid_at")
    if payload.get("buyer_note"):
        order["buyerMessage"] = str(payload["buyer_note"])
    if payload.get("seller_note"):
        order["sellerMessage"] = str(payload["seller_note"])
    lines = [
        {
            "orderLineNo": str(number),
            # A merged parcel's lines come from several orders, each line naming its own.
            "sourceOrderCode": str(
                line.get("channel_order_no") or payload.get("channel_order_no") or ""
            ),
            "ownerCode": credentials.customer_id,
            "itemCode": str(_required(line, "sku")),
            "itemName": str(line.get("title") or ""),
            "inventoryType": qm.INVENTORY_GOOD,
            "planQty": str(int(_required(line, "quantity"))),
        }
        for number, line in enumerate(_required(payload, "lines"), start=1)
    ]
    # OrderHub's own facts with no Qimen field: the WMS may use them, and echoes nothing back.
    extend = {
        "orderId": str(payload.get("order_id") or ""),
        "priority": str(int(payload.get("priority") or 0)),
        "queue": str(payload.get("queue") or ""),
        "channelOrderNo": str(payload.get("channel_order_no") or ""),
    }
    return {"deliveryOrder": order, "orderLines": {"orderLine": lines}, "extendProps": extend}


def cancel_request(
    payload: dict[str, Any], message_id: str, credentials: WmsCredentials
) -> dict[str, Any]:
    return {
        "warehouseCode": str(_required(payload, "warehouse")),
        "ownerCode": credentials.customer_id,
        "orderCode": str(_required(payload, "outbound_no")),
        "orderType": qm.ORDER_TYPE_SALE,
        "cancelReason": str(payload.get("reason") or ""),
        # order.cancel has no outBizCode of its own; a cancel is idempotent at the WMS anyway.
        "extendProps": {"outBizCode": message_id},
    }
