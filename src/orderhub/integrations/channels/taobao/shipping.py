"""Telling TOP a trade shipped: taobao.logistics.offline.send (the seller arranged the carrier).

TOP answers any send to a trade that already left, our own earlier send included, with error 15
/ `isv.logistics-offline-service-error:B04`. Outbox delivery is at least once, so a B04 is checked
against the trade: shipped with this very waybill on its lines means our send already landed
(success); anything else is the channel's refusal, with its sub_code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orderhub.domain.fulfilment import Shipment
from orderhub.integrations.channels.taobao import protocol as top
from orderhub.integrations.channels.taobao.carriers import company_code
from orderhub.services.ports import ShipmentRefused

Call = Callable[[str, dict[str, str]], dict[str, Any]]
_CHECK_FIELDS = "tid,status,orders.invoice_no,orders.logistics_company"


def ship(call: Call, shipment: Shipment) -> None:
    """Send the shipment; ShipmentRefused with TOP's sub_code when TOP says no."""
    code = company_code(shipment.carrier)
    params = {
        "tid": shipment.channel_order_no,
        "out_sid": shipment.tracking_no,
        "company_code": code,
    }
    try:
        body = call(top.OFFLINE_SEND, params)
    except top.TopError as error:
        if error.sub_code == top.SEND_SHIPPED_OR_CLOSED and _already_ours(call, shipment):
            return
        # isv.* is the call's own fault as TOP sees it (the trade's state, the waybill): final.
        if error.sub_code.startswith("isv."):
            raise ShipmentRefused(
                f"taobao trade {shipment.channel_order_no}: {error.sub_msg or error}",
                code=error.sub_code,
            ) from None
        raise
    if not (body.get("shipping") or {}).get("is_success"):
        raise ShipmentRefused(
            f"taobao trade {shipment.channel_order_no}: offline send answered without success",
            code="is_success_false",
        )


def _already_ours(call: Call, shipment: Shipment) -> bool:
    asked = {"tid": shipment.channel_order_no, "fields": _CHECK_FIELDS}
    trade = call("taobao.trade.fullinfo.get", asked).get("trade") or {}
    if trade.get("status") not in top.SHIPPED_STATUSES:
        return False
    lines = (trade.get("orders") or {}).get("order") or []
    return any(str(line.get("invoice_no", "")) == shipment.tracking_no for line in lines)
