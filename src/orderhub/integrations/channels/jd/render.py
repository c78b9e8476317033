"""A simulated order as JD's POP order APIs show it to a third-party app.

Amounts are yuan strings ("59.00"), times Beijing wall-clock text, SKU lines in `itemInfoList`,
discounts in `couponDetailList`. Receivers come masked (name, phones, street); the real values
are only given by the decrypt call, keyed by the order's `oaid`.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from orderhub.domain.mapping import ChannelState
from orderhub.integrations.channels.jd.carriers import LOGISTICS_IDS
from orderhub.integrations.channels.jd.signing import jd_time
from orderhub.integrations.channels.simkit import SimLine, SimOrder

VENDER_ID = "10086521"
PAY_ONLINE = "4-在线支付"
COUPON_SKU = "30-单品促销优惠"
COUPON_SHOP = "100-店铺优惠"

_STATE_WORDS = {
    ChannelState.PAID: ("WAIT_SELLER_STOCK_OUT", "等待出库"),
    ChannelState.PARTLY_SHIPPED: ("WAIT_SELLER_STOCK_OUT", "等待出库"),
    ChannelState.SHIPPED: ("WAIT_GOODS_RECEIVE_CONFIRM", "等待确认收货"),
    ChannelState.COMPLETED: ("FINISHED_L", "完成"),
    ChannelState.CANCELLED: ("TRADE_CANCELED", "取消"),
}


def visible(order: SimOrder) -> bool:
    """JD shows a seller's app an online-paid order only once it is paid."""
    return order.paid_at is not None


def yuan(minor: int) -> str:
    return str((Decimal(minor) / 100).quantize(Decimal("0.01")))


def sku_id(sku: str) -> str:
    """JD's own numeric SKU id for a merchant SKU (stable, so every version agrees)."""
    return str(100_000_000_000 + int(hashlib.sha1(sku.encode()).hexdigest()[:8], 16))


def oaid(order: SimOrder) -> str:
    return hashlib.sha1(f"oaid:{order.no}".encode()).hexdigest().upper()


def _mask_name(name: str) -> str:
    return name[0] + "*" * max(len(name) - 1, 1) if name else ""


def _mask_phone(phone: str) -> str:
    digits = phone.replace(" ", "")
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 7 else "****"


def state_word(order: SimOrder) -> tuple[str, str]:
    if order.state is ChannelState.PAID and order.refund_requested:
        # A paid order whose buyer asked to cancel/refund is locked until the seller decides.
        return "LOCKED", "已锁定"
    return _STATE_WORDS.get(order.state, ("WAIT_SELLER_STOCK_OUT", "等待出库"))


def consignee(order: SimOrder, *, masked: bool) -> dict[str, str]:
    r = order.receiver
    region = f"{r['province']}{r['city']}{r['district']}"
    return {
        "fullname": _mask_name(r["name"]) if masked else r["name"],
        "mobile": _mask_phone(r["phone"]) if masked else r["phone"],
        "telephone": _mask_phone(r["phone"]) if masked else r["phone"],
        "province": r["province"],
        "city": r["city"],
        "county": r["district"],
        "town": "",
        "fullAddress": f"{region}****" if masked else f"{region}{r['address']}",
    }


def _item(line: SimLine) -> dict[str, Any]:
    return {
        "skuId": sku_id(line.sku),
        "outerSkuId": line.sku,
        "skuName": line.title,
        "jdPrice": yuan(line.unit_price),
        "itemTotal": str(line.quantity),
        "wareId": sku_id(line.sku)[:-2],
        "productNo": line.sku,
        "giftPoint": "0",
    }


def _coupons(order: SimOrder) -> list[dict[str, str]]:
    coupons = [
        {
            "orderId": order.no,
            "skuId": sku_id(line.sku),
            "couponType": COUPON_SKU,
            "couponPrice": yuan(line.discount),
        }
        for line in order.lines
        if line.discount
    ]
    if order.discount:
        coupons.append(
            {
                "orderId": order.no,
                "skuId": "",
                "couponType": COUPON_SHOP,
                "couponPrice": yuan(order.discount),
            }
        )
    return coupons


def render(order: SimOrder) -> dict[str, Any]:
    """One `orderInfo` of jingdong.pop.order.enSearch / .get (receiver masked)."""
    gross = sum(line.quantity * line.unit_price for line in order.lines)
    seller_discount = sum(line.discount for line in order.lines) + order.discount
    state, remark = state_word(order)
    finished = order.state in (ChannelState.COMPLETED, ChannelState.CANCELLED)
    return {
        "orderId": order.no,
        "venderId": VENDER_ID,
        "orderType": "22",  # SOP: the seller ships from its own warehouse
        "payType": PAY_ONLINE,
        "orderTotalPrice": yuan(gross),
        "sellerDiscount": yuan(seller_discount),
        "orderSellerPrice": yuan(gross - seller_discount),
        "freightPrice": yuan(order.shipping_fee),
        "orderPayment": yuan(order.paid_total),
        "orderState": state,
        "orderStateRemark": remark,
        "orderRemark": order.buyer_note,
        "venderRemark": "",
        "orderStartTime": jd_time(order.created_at),
        "orderEndTime": jd_time(order.modified_at) if finished else "0001-01-01 00:00:00",
        "modified": jd_time(order.modified_at),
        "paymentConfirmTime": jd_time(order.paid_at) if order.paid_at else "0001-01-01 00:00:00",
        "pin": order.buyer_nick,
        "open_id_buyer": order.buyer_id,
        "oaid": oaid(order),
        "consigneeInfo": consignee(order, masked=True),
        "itemInfoList": [_item(line) for line in order.lines],
        "couponDetailList": _coupons(order),
        "invoiceEasyInfo": {"invoiceType": "0", "invoiceTitle": "", "invoiceCode": ""},
        "waybill": order.tracking_no,
        "logisticsId": LOGISTICS_IDS.get(order.carrier, "") if order.carrier else "",
    }
