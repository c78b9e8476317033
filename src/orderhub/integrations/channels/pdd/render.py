"""A simulated order as PDD's order APIs show it to an ISV app (pdd.order.information.get and the
items of pdd.order.number.list.increment.get), and the platform's receiver encryption.

PDD shows no unpaid order to apps: a buyer pays when joining a group, and the order becomes a deal
(confirm_status 1) once the group forms. So a simulated order still awaiting payment is shown as
"paid into a group that has not formed yet" (confirm_status 0, group_status 0), and a cancelled one
as a failed group refunded in full (confirm_status 2, group_status 2, refund_status 4).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from orderhub.domain.mapping import ChannelState
from orderhub.integrations.channels.pdd.carriers import LOGISTICS_IDS
from orderhub.integrations.channels.simkit import SimOrder, group_of

CN = ZoneInfo("Asia/Shanghai")  # PDD writes every time as GMT+8 wall time
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# data_type of pdd.open.decrypt.batch: 5 receiver name, 6 receiver phone, 7 full address,
# 8 detailed address (without province/city/town).
NAME, PHONE, FULL_ADDRESS, ADDRESS = 5, 6, 7, 8

# (confirm_status, group_status, order_status) per simulated state.
_STATES: dict[ChannelState, tuple[int, int, int]] = {
    ChannelState.AWAITING_PAYMENT: (0, 0, 1),
    ChannelState.PAID: (1, 1, 1),
    ChannelState.PARTLY_SHIPPED: (1, 1, 2),
    ChannelState.SHIPPED: (1, 1, 2),
    ChannelState.COMPLETED: (1, 1, 3),
    ChannelState.CANCELLED: (2, 2, 1),
}


class Cipher:
    """The platform's receiver encryption as the simulator models it: an opaque `~...~` token per
    value, which only pdd.open.decrypt.batch (with the shop's token) turns back into text."""

    def __init__(self, key: str) -> None:
        self._key = key.encode("utf-8")
        self._plain: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def encrypt(self, tag: str, data_type: int, value: str) -> str:
        digest = hashlib.sha256(self._key + f"{tag}|{data_type}|{value}".encode()).digest()
        token = "~" + base64.urlsafe_b64encode(digest[:24]).decode("ascii") + "~"
        with self._lock:
            self._plain[token] = (value, data_type)
        return token

    def decrypt(self, token: str) -> tuple[str, int] | None:
        with self._lock:
            return self._plain.get(token)


def yuan(fen: int) -> float:
    """Fen to the yuan number PDD writes (a JSON number, e.g. 118.5). Exact: two decimals of a
    float print back as written, and readers take them through Decimal(str(value))."""
    return float(Decimal(fen).scaleb(-2))


def pdd_time(at: datetime | None) -> str:
    return at.astimezone(CN).strftime(TIME_FORMAT) if at is not None else ""


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1)


def _mask_phone(phone: str) -> str:
    digits = phone.replace(" ", "")
    return f"{digits[:3]}****{digits[-4:]}"


def _mask_address(address: str) -> str:
    return address[:4] + "****"


def _number(text: str, digits: int) -> int:
    """A stable numeric id (PDD's goods_id / sku_id are numbers) for a merchant SKU code."""
    low = int("1" + "0" * (digits - 1))
    return low + int(hashlib.sha256(text.encode()).hexdigest(), 16) % (9 * low)


def goods_ids(sku: str) -> dict[str, str]:
    """PDD's ids for a merchant SKU code: the goods (one per code prefix, so `TS-WHITE-L` and
    `TS-BLACK-M` are two SKUs of one goods) and the SKU, as order items and goods lists show."""
    return {"goods_id": str(_number(group_of(sku), 11)), "sku_id": str(_number(sku, 12))}


def render(order: SimOrder, cipher: Cipher) -> dict[str, Any]:
    confirm_status, group_status, order_status = _STATES[order.state]
    if order.state is ChannelState.CANCELLED and order.refund_requested:
        # a deal refunded in full before shipping stays a deal waiting to ship, refunded
        confirm_status, group_status = 1, 1
    if order.state is ChannelState.CANCELLED:
        refund_status = 4  # a failed group is refunded in full by the platform
    else:
        refund_status = 2 if order.refund_requested else 1
    receiver = order.receiver
    full_address = "".join(receiver.get(k, "") for k in ("province", "city", "district", "address"))
    # Ciphertext only while the order waits to ship and is a deal; afterwards PDD sends "".
    visible = order_status == 1 and confirm_status == 1
    goods_amount = sum(line.quantity * line.unit_price for line in order.lines)
    seller_discount = sum(line.discount for line in order.lines)
    discount = seller_discount + order.discount
    shipped = order.state in (
        ChannelState.PARTLY_SHIPPED,
        ChannelState.SHIPPED,
        ChannelState.COMPLETED,
    )
    no = order.no
    return {
        "order_sn": no,
        "confirm_status": confirm_status,
        "group_status": group_status,
        "order_status": order_status,
        "refund_status": refund_status,
        "after_sales_status": 2 if refund_status == 2 else (10 if refund_status == 4 else 0),
        "is_lucky_flag": 1,
        "trade_type": 1 if order.order_type == "presale" else 0,
        "is_pre_sale": 1 if order.order_type == "presale" else 0,
        "risk_control_status": 0,
        "created_time": pdd_time(order.created_at),
        # The buyer pays on joining a group, so even a forming group has a pay time.
        "pay_time": pdd_time(order.paid_at or order.created_at),
        "confirm_time": pdd_time(order.paid_at) if confirm_status == 1 else "",
        "updated_at": pdd_time(order.modified_at),
        "shipping_time": pdd_time(order.modified_at) if shipped and order.tracking_no else "",
        "receive_time": pdd_time(order.modified_at) if order_status == 3 else "",
        "pay_type": "WEIXIN",
        "goods_amount": yuan(goods_amount),
        "seller_discount": yuan(seller_discount),
        "platform_discount": yuan(order.discount),
        "capital_free_discount": 0.0,
        "discount_amount": yuan(discount),
        "postage": yuan(order.shipping_fee),
        "pay_amount": yuan(goods_amount - discount + order.shipping_fee),
        "order_change_amount": 0.0,
        "country": "中国",
        "province": receiver.get("province", ""),
        "city": receiver.get("city", ""),
        "town": receiver.get("district", ""),
        "receiver_name": cipher.encrypt(no, NAME, receiver["name"]) if visible else "",
        "receiver_phone": cipher.encrypt(no, PHONE, receiver["phone"]) if visible else "",
        "address": cipher.encrypt(no, FULL_ADDRESS, full_address) if visible else "",
        "receiver_address": cipher.encrypt(no, ADDRESS, receiver["address"]) if visible else "",
        "receiver_name_mask": _mask_name(receiver["name"]),
        "receiver_phone_mask": _mask_phone(receiver["phone"]),
        "address_mask": _mask_address(full_address),
        "receiver_address_mask": _mask_address(receiver["address"]),
        "buyer_memo": order.buyer_note,
        "remark": "",
        "logistics_id": LOGISTICS_IDS.get(order.carrier, 0) if order.tracking_no else 0,
        "tracking_number": order.tracking_no,
        "item_list": [
            {
                "goods_id": int(goods_ids(line.sku)["goods_id"]),
                "sku_id": int(goods_ids(line.sku)["sku_id"]),
                "outer_id": line.sku,
                "outer_goods_id": group_of(line.sku),
                "goods_name": line.title,
                "goods_spec": "",
                "goods_count": line.quantity,
                "goods_price": yuan(line.unit_price),
            }
            for line in order.lines
        ],
    }
