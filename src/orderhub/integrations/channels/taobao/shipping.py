"""Telling TOP a trade shipped: taobao.logistics.offline.send (the seller arranged the carrier).

TOP answers any send to a trade that already left, our own earlier send included, with error 15
/ `isv.logistics-offline-service-error:B04`. Outbox delivery is at least once, so a B04 is checked
against the trade: shipped with this very waybill on its lines means our send already landed
(success); anything else is the channel's refusal, with its sub_code.

A parcel of a split order (`Shipment.lines`) is sent with `is_split=1` and `sub_tid`, the
sub-orders (oids) whose lines carry those SKU codes, found by reading the trade first. The trade
is SELLER_CONSIGNED_PART until its last sub-order left. TOP splits by whole sub-order, not by
quantity: a sub-order is told with the first parcel that carries any of it, and a later parcel
holding only the rest of sub-orders already told is not sent (ship answers a note saying so).
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
_SPLIT_FIELDS = "tid,status,orders.oid,orders.outer_sku_id,orders.invoice_no"


def ship(call: Call, shipment: Shipment) -> str | None:
    """Send the shipment (the whole trade, or a split parcel); ShipmentRefused with TOP's
    sub_code when TOP says no. None, or for a parcel TOP cannot be told, a note saying why."""
    if shipment.lines:
        return _ship_split(call, shipment)
    _ship_whole(call, shipment)
    return None


def _ship_whole(call: Call, shipment: Shipment) -> None:
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
        raise _refusal(shipment, error) from None
    _check_success(shipment, body)


def _refusal(shipment: Shipment, error: top.TopError) -> Exception:
    # isv.* is the call's own fault as TOP sees it (the trade's state, the waybill): final.
    if error.sub_code.startswith("isv."):
        return ShipmentRefused(
            f"taobao trade {shipment.channel_order_no}: {error.sub_msg or error}",
            code=error.sub_code,
        )
    return error


def _check_success(shipment: Shipment, body: dict[str, Any]) -> None:
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


def _ship_split(call: Call, shipment: Shipment) -> str | None:
    code = company_code(shipment.carrier)
    tid, tracking_no = shipment.channel_order_no, shipment.tracking_no
    parcel = _parcel_lines(call, shipment)
    if all(str(line.get("invoice_no", "")) == tracking_no for line in parcel):
        return None  # an earlier send of this parcel landed
    oids = [str(line["oid"]) for line in parcel if not line.get("invoice_no")]
    if not oids:
        told = sorted({str(line["invoice_no"]) for line in parcel})
        return (
            f"not sent to taobao: the sub-orders of {_skus(shipment)} already left with waybill "
            f"{', '.join(told)}; TOP splits a trade by whole sub-order, so waybill {tracking_no} "
            "for the rest of them cannot be added"
        )
    params = {
        "tid": tid,
        "out_sid": tracking_no,
        "company_code": code,
        "is_split": top.SPLIT_SEND,
        "sub_tid": ",".join(oids),
    }
    try:
        body = call(top.OFFLINE_SEND, params)
    except top.TopError as error:
        if error.sub_code == top.SEND_SHIPPED_OR_CLOSED and _split_landed(call, shipment, oids):
            return None
        raise _refusal(shipment, error) from None
    _check_success(shipment, body)
    return None


def _parcel_lines(call: Call, shipment: Shipment) -> list[dict[str, Any]]:
    """The trade's lines (sub-orders) whose SKU code is in the parcel."""
    try:
        trade = (
            call(
                "taobao.trade.fullinfo.get",
                {"tid": shipment.channel_order_no, "fields": _SPLIT_FIELDS},
            ).get("trade")
            or {}
        )
    except top.TopError as error:
        raise _refusal(shipment, error) from None
    lines = (trade.get("orders") or {}).get("order") or []
    wanted = {line.channel_sku for line in shipment.lines}
    parcel = [line for line in lines if str(line.get("outer_sku_id", "")) in wanted]
    missing = wanted - {str(line.get("outer_sku_id", "")) for line in parcel}
    if missing:
        raise ShipmentRefused(
            f"taobao trade {shipment.channel_order_no} has no sub-order with outer_sku_id "
            f"{', '.join(sorted(missing))}; the parcel names SKU codes the trade does not hold",
            code="line_not_in_order",
        )
    return parcel


def _split_landed(call: Call, shipment: Shipment, oids: list[str]) -> bool:
    """After a B04: every sub-order we sent now carries this waybill (our earlier send)."""
    asked = {"tid": shipment.channel_order_no, "fields": _SPLIT_FIELDS}
    lines = (call("taobao.trade.fullinfo.get", asked).get("trade") or {}).get("orders") or {}
    sent = [x for x in lines.get("order") or [] if str(x.get("oid")) in oids]
    return bool(sent) and all(str(x.get("invoice_no", "")) == shipment.tracking_no for x in sent)


def _skus(shipment: Shipment) -> str:
    return ", ".join(sorted({line.channel_sku for line in shipment.lines}))
