"""A TOP trade read by the Taobao mapping: amounts in fen, GMT+8 times in UTC, states, receivers."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orderhub.domain.mapping import ChannelState, MappedOrder, Rejection, map_order
from orderhub.domain.orders import OrderType
from orderhub.integrations.channels.registry import load_mapping
from orderhub.integrations.channels.simkit import OrderFactory
from orderhub.integrations.channels.taobao import CHANNEL
from orderhub.integrations.channels.taobao.client import TRADE_FIELDS
from orderhub.integrations.channels.taobao.render import pick, trade_of

MAPPING = load_mapping(CHANNEL)

# As taobao.trades.sold.increment.get returns it once the client decrypted the receiver.
TRADE: dict[str, Any] = {
    "tid": 3712004455667788990,
    "tid_str": "3712004455667788990",
    "status": "WAIT_SELLER_SEND_GOODS",
    "type": "fixed",
    "total_fee": "157.00",
    "discount_fee": "10.00",
    "post_fee": "8.00",
    "adjust_fee": "0.00",
    "payment": "150.00",
    "created": "2026-11-25 09:15:02",
    "modified": "2026-11-25 09:16:40",
    "pay_time": "2026-11-25 09:16:40",
    "buyer_nick": "t**",
    "buyer_open_uid": "AAHm5Xd0AA0x3Bc5Y8kL2pQr",
    "buyer_message": "请尽快发货",
    "seller_memo": "送小样",
    "alipay_no": "2026112522001187650512345678",
    "receiver_name": "张伟",
    "receiver_mobile": "13812345678",
    "receiver_state": "浙江省",
    "receiver_city": "杭州市",
    "receiver_district": "西湖区",
    "receiver_town": "文新街道",
    "receiver_address": "文三路 90 号东部软件园 3 幢",
    "receiver_zip": "310012",
    "oaid": "1f3c0d2e9a",
    "orders": {
        "order": [
            {
                "oid": 3812004455667788990,
                "num_iid": 600011122233,
                "sku_id": 4455667788990,
                "outer_sku_id": "TS-WHITE-L",
                "title": "纯棉短袖T恤 白色 L",
                "num": 2,
                "price": "59.00",
                "discount_fee": "5.00",
                "payment": "113.00",
                "refund_status": "NO_REFUND",
            },
            {
                "oid": 3912004455667788990,
                "num_iid": 600011122299,
                "sku_id": 4455667788999,
                "outer_sku_id": "MUG-350",
                "title": "陶瓷马克杯 350ml",
                "num": 1,
                "price": "39.00",
                "discount_fee": "0.00",
                "payment": "39.00",
                "refund_status": "NO_REFUND",
            },
        ]
    },
    "orderhub_receiver_source": "oaid_decrypt",
}


def _map(**changes: Any) -> MappedOrder | Rejection:
    trade = copy.deepcopy(TRADE)
    trade.update(changes)
    return map_order(trade, MAPPING, shop="s1")


def _mapped(**changes: Any) -> MappedOrder:
    result = _map(**changes)
    assert isinstance(result, MappedOrder), getattr(result, "message", result)
    return result


def test_a_paid_trade_becomes_a_paid_order_in_fen_with_utc_times() -> None:
    mapped = _mapped()
    order = mapped.order
    assert order.channel == "taobao"
    assert order.channel_order_no == "3712004455667788990"  # exact: beyond float precision
    assert mapped.channel_state is ChannelState.PAID
    assert mapped.channel_status == "WAIT_SELLER_SEND_GOODS"
    assert order.currency == "CNY"
    assert order.created_at == datetime(2026, 11, 25, 1, 15, 2, tzinfo=UTC)
    assert order.created_at.utcoffset() == timedelta(hours=8)
    assert mapped.modified_at == datetime(2026, 11, 25, 1, 16, 40, tzinfo=UTC)
    assert order.paid_at == datetime(2026, 11, 25, 1, 16, 40, tzinfo=UTC)
    assert order.amounts.goods_total == 15200  # (2 x 59.00 - 5.00) + 39.00
    assert order.amounts.shipping_fee == 800
    assert order.amounts.discount == 1000
    assert order.amounts.paid_total == 15000 == order.amounts.expected_paid_total
    assert [(x.channel_sku, x.quantity, x.unit_price, x.line_discount) for x in order.lines] == [
        ("TS-WHITE-L", 2, 5900, 500),
        ("MUG-350", 1, 3900, 0),
    ]
    assert order.lines[1].title == "陶瓷马克杯 350ml"
    assert order.order_type is OrderType.NORMAL
    assert (order.buyer_id, order.buyer_note, order.seller_note) == (
        "AAHm5Xd0AA0x3Bc5Y8kL2pQr",
        "请尽快发货",
        "送小样",
    )
    assert order.transaction_no == "2026112522001187650512345678"
    assert mapped.refund_requested is False


def test_a_decrypted_receiver_is_whole_and_not_flagged_masked() -> None:
    receiver = _mapped().order.receiver
    assert (receiver.name, receiver.phone) == ("张伟", "13812345678")
    assert (receiver.province, receiver.city, receiver.district) == ("浙江省", "杭州市", "西湖区")
    assert receiver.address == "文新街道 文三路 90 号东部软件园 3 幢"
    assert receiver.postcode == "310012"
    assert receiver.masked is False


def test_a_receiver_as_top_shows_it_to_third_party_apps_is_flagged_masked() -> None:
    trade = copy.deepcopy(TRADE)
    del trade["orderhub_receiver_source"]
    trade.update(receiver_name="张*", receiver_mobile="*******5678", receiver_address="文三****")
    mapped = map_order(trade, MAPPING, shop="s1")
    assert isinstance(mapped, MappedOrder)
    assert mapped.order.receiver.masked is True
    assert mapped.order.receiver.phone == "*******5678"


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("WAIT_BUYER_PAY", ChannelState.AWAITING_PAYMENT),
        ("SELLER_CONSIGNED_PART", ChannelState.PARTLY_SHIPPED),
        ("WAIT_BUYER_CONFIRM_GOODS", ChannelState.SHIPPED),
        ("TRADE_BUYER_SIGNED", ChannelState.SHIPPED),
        ("TRADE_FINISHED", ChannelState.COMPLETED),
        ("TRADE_CLOSED", ChannelState.CANCELLED),
        ("TRADE_CLOSED_BY_TAOBAO", ChannelState.CANCELLED),
    ],
)
def test_top_status_words_map_to_channel_states(status: str, state: ChannelState) -> None:
    assert _mapped(status=status).channel_state is state


def test_a_step_trade_is_a_presale_order() -> None:
    mapped = _mapped(
        type="step", status="WAIT_BUYER_PAY", step_trade_status="FRONT_PAID_FINAL_NOPAID"
    )
    assert mapped.order.order_type is OrderType.PRESALE
    assert mapped.channel_state is ChannelState.AWAITING_PAYMENT


def test_a_refund_asked_on_the_lines_is_a_refund_request() -> None:
    trade = copy.deepcopy(TRADE)
    for line in trade["orders"]["order"]:
        line["refund_status"] = "WAIT_SELLER_AGREE"
    mapped = map_order(trade, MAPPING, shop="s1")
    assert isinstance(mapped, MappedOrder)
    assert mapped.refund_requested is True


def test_a_refund_asked_on_the_second_line_alone_is_a_refund_request() -> None:
    trade = copy.deepcopy(TRADE)
    lines = trade["orders"]["order"]
    assert len(lines) >= 2
    for line in lines:
        line["refund_status"] = "NO_REFUND"
    lines[1]["refund_status"] = "WAIT_SELLER_AGREE"
    mapped = map_order(trade, MAPPING, shop="s1")
    assert isinstance(mapped, MappedOrder) and mapped.refund_requested is True
    lines[1]["refund_status"] = "NO_REFUND"
    again = map_order(trade, MAPPING, shop="s1")
    assert isinstance(again, MappedOrder) and again.refund_requested is False


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"payment": "12.3x"}, "amounts.paid_total", "'12.3x' is not a decimal amount"),
        ({"payment": "150.001"}, "amounts.paid_total", "more decimals than CNY"),
        ({"status": "TRADE_LOST_IN_SPACE"}, "status", "TRADE_LOST_IN_SPACE"),
        ({"receiver_mobile": ""}, "receiver.phone", "is missing"),
        ({"receiver_name": 12.5}, "receiver.name", "expected text"),
        ({"created": "2026/11/25 09:15"}, "created_at", "%Y-%m-%d %H:%M:%S"),
        ({"orders": {"order": []}}, "lines", "no lines"),
    ],
)
def test_a_bad_trade_is_a_rejection_naming_the_field(
    changes: dict[str, Any], field: str, words: str
) -> None:
    rejection = _map(**changes)
    assert isinstance(rejection, Rejection)
    assert rejection.field == field
    assert words in rejection.message


def test_every_simulated_trade_maps_to_an_order_whose_amounts_add_up() -> None:
    factory = OrderFactory(seed=3)
    start = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    for n in range(200):
        order = factory.make(f"3712000000{n:09d}", start + timedelta(minutes=n))
        trade = pick(trade_of(order, secret="s"), TRADE_FIELDS)
        mapped = map_order(trade, MAPPING, shop="s1")
        assert isinstance(mapped, MappedOrder), getattr(mapped, "message", mapped)
        amounts = mapped.order.amounts
        assert amounts.paid_total == amounts.expected_paid_total == order.paid_total
        assert mapped.order.created_at == order.created_at.replace(microsecond=0)
        assert mapped.order.receiver.masked  # the simulator shows third parties masked data
        assert mapped.order.order_type in (OrderType.NORMAL, OrderType.PRESALE)
