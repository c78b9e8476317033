"""A PDD order payload read into the canonical order by pdd/mapping.yaml."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from orderhub.domain.mapping import ChannelState, MappedOrder, Rejection, map_order
from orderhub.integrations.channels.pdd import CHANNEL
from orderhub.integrations.channels.registry import load_mapping

# As pdd.order.information.get gives it to an app: receiver encrypted, with masked copies.
PAYLOAD: dict[str, Any] = {
    "order_sn": "201125-123456789012345",
    "confirm_status": 1,
    "group_status": 1,
    "order_status": 1,
    "refund_status": 1,
    "trade_type": 0,
    "created_time": "2020-11-25 10:15:30",
    "pay_time": "2020-11-25 10:16:02",
    "confirm_time": "2020-11-25 10:16:02",
    "updated_at": "2020-11-25 10:20:00",
    "pay_type": "WEIXIN",
    "goods_amount": 138.8,
    "seller_discount": 5.0,
    "platform_discount": 3.1,
    "capital_free_discount": 0.0,
    "discount_amount": 8.1,
    "postage": 10.0,
    "pay_amount": 140.7,
    "province": "浙江省",
    "city": "杭州市",
    "town": "西湖区",
    "receiver_name": "~AgAAAAFv1Zw0~",
    "receiver_phone": "~AgAAAAFv1Zw1~",
    "address": "~AgAAAAFv1Zw2~",
    "receiver_address": "~AgAAAAFv1Zw3~",
    "receiver_name_mask": "王*",
    "receiver_phone_mask": "138****5678",
    "address_mask": "浙江省杭****",
    "receiver_address_mask": "文三路9****",
    "buyer_memo": "请尽快发货",
    "remark": "VIP",
    "item_list": [
        {
            "goods_id": 123456789,
            "sku_id": 987654321012,
            "outer_id": "TS-WHITE-L",
            "outer_goods_id": "TS",
            "goods_name": "纯棉短袖T恤 白色 L",
            "goods_count": 2,
            "goods_price": 59.9,
        },
        {
            "goods_id": 123456790,
            "sku_id": 987654321013,
            "outer_id": "SOCKS-5P",
            "outer_goods_id": "SOCKS",
            "goods_name": "中筒棉袜 5双装",
            "goods_count": 1,
            "goods_price": 19.0,
        },
    ],
}


def read(payload: dict[str, Any]) -> MappedOrder | Rejection:
    return map_order(payload, load_mapping(CHANNEL), shop="s1")


def changed(**fields: Any) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOAD)
    payload.update(fields)
    return payload


def test_a_deal_waiting_to_ship_becomes_a_paid_order_with_exact_amounts_in_fen() -> None:
    mapped = read(PAYLOAD)
    assert isinstance(mapped, MappedOrder)
    order = mapped.order
    assert mapped.channel_state is ChannelState.PAID
    assert order.channel == "pdd"
    assert order.channel_order_no == "201125-123456789012345"
    assert order.currency == "CNY"
    assert order.amounts.goods_total == 13880
    assert order.amounts.discount == 810
    assert order.amounts.shipping_fee == 1000
    assert order.amounts.paid_total == 14070
    assert order.amounts.expected_paid_total == order.amounts.paid_total


def test_times_are_beijing_wall_time_read_into_utc() -> None:
    mapped = read(PAYLOAD)
    assert isinstance(mapped, MappedOrder)
    assert mapped.order.created_at.astimezone(UTC) == datetime(2020, 11, 25, 2, 15, 30, tzinfo=UTC)
    assert mapped.modified_at.astimezone(UTC) == datetime(2020, 11, 25, 2, 20, tzinfo=UTC)
    assert mapped.order.paid_at is not None
    assert mapped.order.paid_at.astimezone(UTC) == datetime(2020, 11, 25, 2, 16, 2, tzinfo=UTC)


def test_lines_carry_the_merchant_sku_quantity_and_unit_price() -> None:
    mapped = read(PAYLOAD)
    assert isinstance(mapped, MappedOrder)
    first, second = mapped.order.lines
    assert (first.channel_sku, first.title, first.quantity, first.unit_price) == (
        "TS-WHITE-L",
        "纯棉短袖T恤 白色 L",
        2,
        5990,
    )
    assert (second.channel_sku, second.quantity, second.unit_price) == ("SOCKS-5P", 1, 1900)


def test_the_receiver_is_the_masked_one_and_says_so() -> None:
    mapped = read(PAYLOAD)
    assert isinstance(mapped, MappedOrder)
    receiver = mapped.order.receiver
    assert (receiver.name, receiver.phone) == ("王*", "138****5678")
    assert (receiver.province, receiver.city, receiver.district) == ("浙江省", "杭州市", "西湖区")
    assert receiver.address == "文三路9****"
    assert receiver.masked is True
    assert mapped.order.buyer_note == "请尽快发货"
    assert mapped.order.seller_note == "VIP"


@pytest.mark.parametrize(
    ("confirm", "shipping", "refund", "state"),
    [
        (0, 1, 1, ChannelState.AWAITING_PAYMENT),  # a group still forming is no deal yet
        (1, 2, 1, ChannelState.SHIPPED),
        (1, 3, 1, ChannelState.COMPLETED),
        (2, 1, 4, ChannelState.CANCELLED),  # the group failed and the buyer was refunded
        (1, 1, 4, ChannelState.CANCELLED),  # refunded in full before shipping: closed
    ],
)
def test_confirm_shipping_and_refund_status_together_give_the_state(
    confirm: int, shipping: int, refund: int, state: ChannelState
) -> None:
    mapped = read(changed(confirm_status=confirm, order_status=shipping, refund_status=refund))
    assert isinstance(mapped, MappedOrder)
    assert mapped.channel_state is state


def test_an_after_sale_in_progress_is_a_refund_request() -> None:
    mapped = read(changed(refund_status=2))
    assert isinstance(mapped, MappedOrder)
    assert mapped.channel_state is ChannelState.PAID
    assert mapped.refund_requested is True
    plain = read(PAYLOAD)
    assert isinstance(plain, MappedOrder) and plain.refund_requested is False


def test_a_deposit_order_is_a_presale() -> None:
    mapped = read(changed(trade_type=1))
    assert isinstance(mapped, MappedOrder)
    assert mapped.order.order_type.value == "presale"


def test_an_amount_that_is_not_a_number_is_refused_naming_the_field() -> None:
    rejection = read(changed(pay_amount="12.3x"))
    assert isinstance(rejection, Rejection)
    assert rejection.field == "amounts.paid_total"
    assert rejection.path == "pay_amount"
    assert "12.3x" in rejection.reason


def test_a_status_combination_pdd_does_not_have_is_refused() -> None:
    rejection = read(changed(order_status=9))
    assert isinstance(rejection, Rejection)
    assert rejection.field == "status"
    assert "1-9-1" in rejection.reason


def test_a_missing_receiver_phone_is_refused() -> None:
    payload = changed()
    del payload["receiver_phone_mask"]
    rejection = read(payload)
    assert isinstance(rejection, Rejection)
    assert rejection.field == "receiver.phone"
    assert rejection.path == "receiver_phone_mask"


def test_a_number_where_text_belongs_is_refused() -> None:
    rejection = read(changed(buyer_memo=12.5))
    assert isinstance(rejection, Rejection)
    assert rejection.field == "buyer_note"
    assert rejection.path == "buyer_memo"


def test_a_bad_line_price_is_refused_naming_the_line() -> None:
    payload = changed()
    payload["item_list"][1]["goods_price"] = "19.0.0"
    rejection = read(payload)
    assert isinstance(rejection, Rejection)
    assert rejection.field == "lines[1].unit_price"
    assert rejection.path == "item_list[1].goods_price"
