"""A simulated order as TOP writes a trade: status words, yuan strings, GMT+8 times, masking, oaid.

Used by the simulator only. Amounts follow TOP's account rules: trade.total_fee is the sum of
price x num; order.discount_fee is the line's own discount and order.total_fee/payment the line
after it (a single line's payment also carries the postage); trade.discount_fee is the
trade-level discount; trade.payment = lines after their discounts + post_fee - discount_fee.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

from orderhub.domain.mapping import ChannelState
from orderhub.integrations.channels.simkit import SimOrder, group_of
from orderhub.integrations.channels.taobao.carriers import company_name
from orderhub.integrations.channels.taobao.protocol import top_time, yuan

TID_PREFIX = "3712000000"  # tids are 19-digit numbers, beyond a float's exact range
_STATUS = {
    ChannelState.AWAITING_PAYMENT: "WAIT_BUYER_PAY",
    ChannelState.PAID: "WAIT_SELLER_SEND_GOODS",
    ChannelState.PARTLY_SHIPPED: "SELLER_CONSIGNED_PART",
    ChannelState.SHIPPED: "WAIT_BUYER_CONFIRM_GOODS",
    ChannelState.COMPLETED: "TRADE_FINISHED",
}


def status_of(order: SimOrder) -> str:
    if order.state is ChannelState.CANCELLED:
        # closed after payment (refunded) vs. closed before anyone paid
        return "TRADE_CLOSED" if order.paid_at else "TRADE_CLOSED_BY_TAOBAO"
    return _STATUS[order.state]


def oaid_of(order: SimOrder, secret: str) -> str:
    """Stable for one trade and address; a changed address gets a new one."""
    r = order.receiver
    seed = "|".join((secret, order.no, r["name"], r["phone"], r["address"]))
    return hashlib.sha256(seed.encode()).hexdigest()[:40]


def _mask(text: str, keep_head: int, keep_tail: int = 0) -> str:
    tail = text[len(text) - keep_tail :] if keep_tail else ""
    return text[:keep_head] + "*" * max(len(text) - keep_head - keep_tail, 2) + tail


def _number(text: str, digits: int) -> int:
    low = int(10 ** (digits - 1))
    return low + zlib.crc32(text.encode()) % (9 * low)


def item_ids(sku: str) -> dict[str, str]:
    """TOP's ids for a merchant SKU code: the item's num_iid (one item per code prefix, so
    `TS-WHITE-L` and `TS-BLACK-M` are two SKUs of one item) and the SKU's sku_id."""
    return {"num_iid": str(_number(group_of(sku), 12)), "sku_id": str(_number(sku, 13))}


def oid_of(order: SimOrder, n: int) -> int:
    """The sub-order id of the order's n-th line (0-based)."""
    return int(order.no) + 10**17 * (n + 1)


def _line_shipping(order: SimOrder, sku: str, status: str) -> tuple[str, str, str]:
    """(status, company, waybill) of one line: a split trade ships line by line."""
    parcel = order.parcel_of(sku)
    if parcel is not None:
        shipped = status if status != "SELLER_CONSIGNED_PART" else "WAIT_BUYER_CONFIRM_GOODS"
        return shipped, company_name(parcel.carrier), parcel.tracking_no
    if order.state is ChannelState.PARTLY_SHIPPED:
        return "WAIT_SELLER_SEND_GOODS", "", ""
    company = company_name(order.carrier) if order.carrier else ""
    return status, company, order.tracking_no


def trade_of(order: SimOrder, *, secret: str) -> dict[str, Any]:
    """Every field this simulator knows, as the masked view a third-party app gets."""
    status = status_of(order)
    r = order.receiver
    single = len(order.lines) == 1
    refund = "WAIT_SELLER_AGREE" if order.refund_requested else "NO_REFUND"
    lines = []
    for n, line in enumerate(order.lines):
        after = line.quantity * line.unit_price - line.discount
        ids = item_ids(line.sku)
        line_status, company, waybill = _line_shipping(order, line.sku, status)
        lines.append(
            {
                "oid": oid_of(order, n),
                "num_iid": int(ids["num_iid"]),
                "sku_id": int(ids["sku_id"]),
                "outer_iid": group_of(line.sku),
                "outer_sku_id": line.sku,
                "title": line.title,
                "num": line.quantity,
                "price": yuan(line.unit_price),
                "discount_fee": yuan(line.discount),
                "adjust_fee": "0.00",
                "total_fee": yuan(after),
                "payment": yuan(after + (order.shipping_fee if single else 0)),
                "status": line_status,
                "refund_status": refund,
                "logistics_company": company,
                "invoice_no": waybill,
            }
        )
    presale = order.order_type == "presale"
    finished = order.state in (ChannelState.COMPLETED, ChannelState.CANCELLED)
    return {
        "tid": int(order.no),
        "tid_str": order.no,
        "status": status,
        "type": "step" if presale else "fixed",
        "step_trade_status": _step_status(order) if presale else None,
        "total_fee": yuan(sum(x.quantity * x.unit_price for x in order.lines)),
        "discount_fee": yuan(order.discount),
        "post_fee": yuan(order.shipping_fee),
        "adjust_fee": "0.00",
        "payment": yuan(order.paid_total),
        "created": top_time(order.created_at),
        "modified": top_time(order.modified_at),
        "pay_time": top_time(order.paid_at) if order.paid_at else None,
        # modelled: the time of the version that carried the waybill in
        "consign_time": top_time(order.modified_at) if order.tracking_no else None,
        "end_time": top_time(order.modified_at) if finished else None,
        "buyer_nick": _mask(order.buyer_nick, 1),
        "buyer_open_uid": "AAH" + hashlib.sha256(order.buyer_id.encode()).hexdigest()[:21],
        "buyer_message": order.buyer_note,
        "has_buyer_message": bool(order.buyer_note),
        "alipay_no": f"{order.paid_at:%Y%m%d}2200{int(order.no) % 10**16:016d}"
        if order.paid_at
        else None,
        "shipping_type": "express",
        "receiver_name": _mask(r["name"], 1),
        "receiver_mobile": _mask(r["phone"], 0, 4),
        "receiver_state": r["province"],
        "receiver_city": r["city"],
        "receiver_district": r["district"],
        "receiver_address": _mask(r["address"], 2),
        "receiver_zip": r["postcode"],
        "receiver_country": "",
        "oaid": oaid_of(order, secret),
        "orders": {"order": lines},
    }


def _step_status(order: SimOrder) -> str:
    if order.state is ChannelState.AWAITING_PAYMENT:
        return "FRONT_PAID_FINAL_NOPAID"  # deposit in, balance not yet
    return "FRONT_PAID_FINAL_PAID" if order.paid_at else "FRONT_NOPAID_FINAL_NOPAID"


def receiver_of(order: SimOrder, oaid: str, *, matched: bool) -> dict[str, Any]:
    """One entry of taobao.top.oaid.decrypt's receiver_list."""
    r = order.receiver
    return {
        "tid": order.no,
        "oaid": oaid,
        "name": r["name"],
        "mobile": r["phone"],
        "state": r["province"],
        "city": r["city"],
        "district": r["district"],
        "address_detail": r["address"],
        "matched": matched,
    }


def pick(trade: dict[str, Any], fields: str) -> dict[str, Any]:
    """Only the requested fields (`orders` = every line field, `orders.x` = some), none empty:
    TOP leaves out what is unset."""
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    out = {k: v for k, v in trade.items() if k in wanted and k != "orders" and v not in (None, "")}
    line_fields = {f.removeprefix("orders.") for f in wanted if f.startswith("orders.")}
    if "orders" in wanted or line_fields:
        out["orders"] = {
            "order": [
                {
                    k: v
                    for k, v in line.items()
                    if ("orders" in wanted or k in line_fields) and v not in (None, "")
                }
                for line in trade["orders"]["order"]
            ]
        }
    return out
