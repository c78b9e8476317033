"""JD orderInfo payloads read with the packaged mapping."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from orderhub.domain.mapping import ChannelState, MappedOrder, Rejection, map_order
from orderhub.integrations.channels.jd import CHANNEL
from orderhub.integrations.channels.registry import load_mapping

PAYLOAD: dict[str, Any] = {
    "orderId": "30000000007",
    "venderId": "10086521",
    "orderType": "22",
    "payType": "4-在线支付",
    "orderTotalPrice": "151.00",
    "sellerDiscount": "15.00",
    "orderSellerPrice": "136.00",
    "freightPrice": "0.00",
    "orderPayment": "136.00",
    "orderState": "WAIT_SELLER_STOCK_OUT",
    "orderStateRemark": "等待出库",
    "orderRemark": "请尽快发货",
    "venderRemark": "",
    "orderStartTime": "2026-11-25 16:30:05",
    "modified": "2026-11-25 16:31:00",
    "paymentConfirmTime": "2026-11-25 16:30:40",
    "pin": "buyer_4411",
    "open_id_buyer": "b123456",
    "consigneeInfo": {
        "fullname": "张*",
        "mobile": "138****5678",
        "telephone": "138****5678",
        "province": "浙江省",
        "city": "杭州市",
        "county": "西湖区",
        "town": "",
        "fullAddress": "浙江省杭州市西湖区****",
    },
    "itemInfoList": [
        {
            "skuId": "100012345678",
            "outerSkuId": "TS-WHITE-L",
            "skuName": "纯棉短袖T恤 白色 L",
            "jdPrice": "59.00",
            "itemTotal": "2",
        },
        {
            "skuId": "100087654321",
            "outerSkuId": "MUG-350",
            "skuName": "陶瓷马克杯 350ml",
            "jdPrice": "33.00",
            "itemTotal": "1",
        },
    ],
    "couponDetailList": [
        {
            "orderId": "30000000007",
            "skuId": "",
            "couponType": "100-店铺优惠",
            "couponPrice": "15.00",
        }
    ],
}


@pytest.fixture(scope="module")
def mapping() -> dict[str, Any]:
    return load_mapping(CHANNEL)


def _mapped(payload: dict[str, Any], mapping: dict[str, Any]) -> MappedOrder:
    result = map_order(payload, mapping, shop="s1")
    assert isinstance(result, MappedOrder), result
    return result


def _rejected(payload: dict[str, Any], mapping: dict[str, Any]) -> Rejection:
    result = map_order(payload, mapping, shop="s1")
    assert isinstance(result, Rejection), result
    return result


def test_a_paid_jd_order_becomes_a_canonical_order_in_fen_and_utc(mapping: dict[str, Any]) -> None:
    mapped = _mapped(PAYLOAD, mapping)
    order = mapped.order
    assert (order.channel, order.shop, order.channel_order_no) == ("jd", "s1", "30000000007")
    assert order.amounts.goods_total == 15100
    assert order.amounts.discount == 1500
    assert order.amounts.shipping_fee == 0
    assert order.amounts.paid_total == 13600
    assert order.created_at == datetime(2026, 11, 25, 8, 30, 5, tzinfo=UTC)
    assert order.paid_at == datetime(2026, 11, 25, 8, 30, 40, tzinfo=UTC)
    assert mapped.modified_at == datetime(2026, 11, 25, 8, 31, tzinfo=UTC)
    assert mapped.channel_state is ChannelState.PAID
    assert mapped.channel_status == "WAIT_SELLER_STOCK_OUT"
    assert not mapped.refund_requested
    assert order.buyer_note == "请尽快发货"
    assert order.payment_method == "4-在线支付"


def test_jd_lines_carry_the_outer_sku_quantity_and_unit_price(mapping: dict[str, Any]) -> None:
    lines = _mapped(PAYLOAD, mapping).order.lines
    assert [(x.channel_sku, x.quantity, x.unit_price) for x in lines] == [
        ("TS-WHITE-L", 2, 5900),
        ("MUG-350", 1, 3300),
    ]
    assert lines[1].title == "陶瓷马克杯 350ml"


def test_the_masked_receiver_is_kept_and_flagged_masked(mapping: dict[str, Any]) -> None:
    receiver = _mapped(PAYLOAD, mapping).order.receiver
    assert (receiver.name, receiver.phone) == ("张*", "138****5678")
    assert (receiver.province, receiver.city, receiver.district) == ("浙江省", "杭州市", "西湖区")
    assert receiver.address == "浙江省杭州市西湖区****"
    assert receiver.masked


@pytest.mark.parametrize(
    ("state", "expected", "refund"),
    [
        ("WAIT_GOODS_RECEIVE_CONFIRM", ChannelState.SHIPPED, False),
        ("FINISHED_L", ChannelState.COMPLETED, False),
        ("TRADE_CANCELED", ChannelState.CANCELLED, False),
        ("LOCKED", ChannelState.PAID, True),
        ("POP_ORDER_PAUSE", ChannelState.PAID, False),
    ],
)
def test_jd_order_states_map_to_channel_states(
    mapping: dict[str, Any], state: str, expected: ChannelState, refund: bool
) -> None:
    mapped = _mapped({**PAYLOAD, "orderState": state}, mapping)
    assert (mapped.channel_state, mapped.refund_requested) == (expected, refund)


def test_an_amount_that_is_not_a_number_is_rejected_naming_the_field(
    mapping: dict[str, Any],
) -> None:
    rejection = _rejected({**PAYLOAD, "orderPayment": "12.3x"}, mapping)
    assert (rejection.field, rejection.path) == ("amounts.paid_total", "orderPayment")
    assert "12.3x" in rejection.reason


def test_an_unknown_order_state_is_rejected_naming_the_known_ones(
    mapping: dict[str, Any],
) -> None:
    rejection = _rejected({**PAYLOAD, "orderState": "WAIT_PAY_NOW"}, mapping)
    assert rejection.field == "status"
    assert "WAIT_SELLER_STOCK_OUT" in rejection.reason


def test_a_receiver_without_a_mobile_falls_back_to_the_telephone(
    mapping: dict[str, Any],
) -> None:
    payload = copy.deepcopy(PAYLOAD)
    del payload["consigneeInfo"]["mobile"]
    payload["consigneeInfo"]["telephone"] = "0571-8888****"
    mapped = map_order(payload, mapping, shop="s1")
    assert isinstance(mapped, MappedOrder)
    assert mapped.order.receiver.phone == "0571-8888****"


def test_a_receiver_without_any_phone_is_rejected(mapping: dict[str, Any]) -> None:
    payload = copy.deepcopy(PAYLOAD)
    del payload["consigneeInfo"]["mobile"]
    payload["consigneeInfo"].pop("telephone", None)
    rejection = _rejected(payload, mapping)
    assert rejection.field == "receiver.phone"
    assert rejection.path == "consigneeInfo.mobile+consigneeInfo.telephone"


def test_a_number_where_the_sku_name_belongs_is_rejected_naming_the_line(
    mapping: dict[str, Any],
) -> None:
    payload = copy.deepcopy(PAYLOAD)
    payload["itemInfoList"][0]["skuName"] = 59.9  # a float: text expected
    rejection = _rejected(payload, mapping)
    assert rejection.field == "lines[0].title"
    assert rejection.path == "itemInfoList[0].skuName"


def test_a_price_with_more_decimals_than_fen_is_rejected(mapping: dict[str, Any]) -> None:
    payload = copy.deepcopy(PAYLOAD)
    payload["itemInfoList"][1]["jdPrice"] = "33.005"
    rejection = _rejected(payload, mapping)
    assert rejection.field == "lines[1].unit_price"


def test_a_payment_time_of_year_one_means_no_payment_time() -> None:
    from orderhub.domain.mapping_rules import FieldReader

    reader = FieldReader(load_mapping(CHANNEL))
    assert reader.get({"paymentConfirmTime": "0001-01-01 00:00:00"}, "paid_at") is None
