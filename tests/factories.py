"""Valid orders and payloads to start tests from; each test changes only what it is about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orderhub.domain.orders import Amounts, Order, OrderLine, PaymentStatus, Receiver

T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)


def an_order(**changes: Any) -> Order:
    lines = changes.pop(
        "lines",
        (
            OrderLine(sku="TS-WHITE-L", title="T恤 白色 L", quantity=2, unit_price=5900),
            OrderLine(
                sku="MUG-350", title="马克杯", quantity=1, unit_price=3900, line_discount=400
            ),
        ),
    )
    goods = sum(line.amount for line in lines)
    values: dict[str, Any] = dict(
        channel="manual",
        channel_order_no="M-1",
        shop="wholesale",
        currency="CNY",
        amounts=Amounts(
            goods_total=goods, shipping_fee=1000, discount=500, paid_total=goods + 1000 - 500
        ),
        lines=lines,
        receiver=Receiver("张三", "13800001234", "浙江省", "杭州市", "西湖区", "文三路 90 号"),
        created_at=T0,
        payment_status=PaymentStatus.UNPAID,
    )
    values.update(changes)
    return Order(**values)


def order_payload(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "shop": "wholesale",
        "amounts": {
            "goods_total": 15300,
            "shipping_fee": 1000,
            "discount": 500,
            "paid_total": 15800,
        },
        "lines": [
            {"sku": "TS-WHITE-L", "title": "T恤 白色 L", "quantity": 2, "unit_price": 5900},
            {
                "sku": "MUG-350",
                "title": "马克杯",
                "quantity": 1,
                "unit_price": 3900,
                "line_discount": 400,
            },
        ],
        "receiver": {
            "name": "张三",
            "phone": "13800001234",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address": "文三路 90 号",
        },
        "tags": ["#LIVE2026"],
    }
    body.update(changes)
    return body
