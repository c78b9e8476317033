"""A Shopify order payload read with the packaged mapping."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from orderhub.domain.mapping import ChannelState, MappedOrder, Rejection, map_order
from orderhub.domain.orders import check_amounts
from orderhub.integrations.channels.registry import load_mapping
from orderhub.integrations.channels.shopify import CHANNEL
from orderhub.integrations.channels.shopify.payloads import (
    state_word,
    webhook_payloads,
    with_derived,
)

RAW: dict[str, Any] = {
    "id": 450789469,
    "name": "#1001",
    "order_number": 1001,
    "email": "bob.norman@mail.example.com",
    "created_at": "2026-11-24T21:15:47-05:00",
    "updated_at": "2026-11-24T21:20:02-05:00",
    "processed_at": "2026-11-24T21:15:47-05:00",
    "cancelled_at": None,
    "closed_at": None,
    "financial_status": "paid",
    "fulfillment_status": None,
    "currency": "USD",
    "total_line_items_price": "597.00",
    "total_discounts": "15.00",
    "subtotal_price": "582.00",
    "total_tax": "11.94",
    "total_price": "603.94",
    "total_shipping_price_set": {
        "shop_money": {"amount": "10.00", "currency_code": "USD"},
        "presentment_money": {"amount": "10.00", "currency_code": "USD"},
    },
    "line_items": [
        {
            "id": 466157049,
            "sku": "IPOD2008GREEN",
            "title": "IPod Nano - 8gb",
            "variant_title": "green",
            "quantity": 1,
            "price": "199.00",
            "total_discount": "0.00",
            "discount_allocations": [{"amount": "3.34"}, {"amount": "1.66"}],
        },
        {
            "id": 518995019,
            "sku": "IPOD2008RED",
            "title": "IPod Nano - 8gb",
            "variant_title": "red",
            "quantity": 2,
            "price": "199.00",
            "total_discount": "0.00",
            "discount_allocations": [{"amount": "10.00"}],
        },
    ],
    "shipping_address": {
        "name": "Bob Norman",
        "phone": "+1 (555) 555-5555",
        "province": "Kentucky",
        "city": "Louisville",
        "address1": "Chestnut Street 92",
        "address2": "Apt 4",
        "zip": "40202",
        "country_code": "US",
    },
    "customer": {"id": 207119551, "email": "bob.norman@mail.example.com", "first_name": "Bob"},
    "note": "Leave at the back door",
    "tags": "wholesale, VIP ,  ",
    "payment_gateway_names": ["shopify_payments", "gift_card"],
    "refunds": [],
}


def _map(raw: dict[str, Any]) -> MappedOrder | Rejection:
    return map_order(with_derived(raw), load_mapping(CHANNEL), shop="s1")


def _mapped(raw: dict[str, Any]) -> MappedOrder:
    result = _map(raw)
    assert isinstance(result, MappedOrder), result
    return result


def _changed(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    raw.update(changes)
    return raw


def test_paid_order_maps_to_canonical_order_in_minor_units_and_utc() -> None:
    mapped = _mapped(RAW)
    order = mapped.order
    assert order.channel == "shopify" and order.channel_order_no == "450789469"
    assert mapped.channel_state is ChannelState.PAID
    assert mapped.channel_status == "paid/unfulfilled"
    assert order.created_at == datetime(2026, 11, 25, 2, 15, 47, tzinfo=UTC)
    assert mapped.modified_at == datetime(2026, 11, 25, 2, 20, 2, tzinfo=UTC)
    assert order.currency == "USD"
    assert [
        (ln.channel_sku, ln.quantity, ln.unit_price, ln.line_discount) for ln in order.lines
    ] == [
        ("IPOD2008GREEN", 1, 19900, 500),
        ("IPOD2008RED", 2, 19900, 1000),
    ]
    assert order.lines[1].title == "IPod Nano - 8gb - red"
    a = order.amounts
    assert (a.goods_total, a.shipping_fee, a.tax, a.discount, a.paid_total) == (
        58200,
        1000,
        1194,
        0,
        60394,
    )
    check_amounts(a, order.lines)  # the lines carry every discount, so the totals agree


def test_shipping_discount_is_the_order_discount_and_totals_agree() -> None:
    raw = _changed(total_price="593.94")
    raw["shipping_lines"] = [{"price": "10.00", "discount_allocations": [{"amount": "10.00"}]}]
    order = _mapped(raw).order
    assert (order.amounts.discount, order.amounts.paid_total) == (1000, 59394)
    assert order.amounts.expected_paid_total == order.amounts.paid_total


def test_receiver_buyer_and_tags_come_across() -> None:
    order = _mapped(RAW).order
    r = order.receiver
    assert (r.name, r.phone, r.province, r.city, r.address, r.postcode) == (
        "Bob Norman",
        "+1 (555) 555-5555",
        "Kentucky",
        "Louisville",
        "Chestnut Street 92, Apt 4",
        "40202",
    )
    assert r.masked is False  # Shopify gives approved apps the real address
    assert (order.buyer_id, order.buyer_nick, order.buyer_note) == (
        "207119551",
        "Bob",
        "Leave at the back door",
    )
    assert order.payment_method == "shopify_payments"
    assert order.tags == ("wholesale", "VIP")


@pytest.mark.parametrize(
    ("changes", "state", "refund"),
    [
        ({"financial_status": "pending"}, ChannelState.AWAITING_PAYMENT, False),
        ({"financial_status": "authorized"}, ChannelState.PAID, False),
        ({"fulfillment_status": "partial"}, ChannelState.PARTLY_SHIPPED, False),
        ({"fulfillment_status": "fulfilled"}, ChannelState.SHIPPED, False),
        ({"financial_status": "partially_refunded"}, ChannelState.PAID, True),
        (
            {"fulfillment_status": "fulfilled", "closed_at": "2026-11-30T10:00:00-05:00"},
            ChannelState.COMPLETED,
            False,
        ),
        (
            {"cancelled_at": "2026-11-24T22:00:00-05:00", "financial_status": "refunded"},
            ChannelState.CANCELLED,
            True,
        ),
        # Cancelled without a refund: still paid, yet nothing must ship.
        ({"cancelled_at": "2026-11-24T22:00:00-05:00"}, ChannelState.CANCELLED, False),
        ({"financial_status": "voided"}, ChannelState.CANCELLED, False),
    ],
)
def test_shopify_statuses_map_to_channel_states(
    changes: dict[str, Any], state: ChannelState, refund: bool
) -> None:
    mapped = _mapped(_changed(**changes))
    assert (mapped.channel_state, mapped.refund_requested) == (state, refund)


def test_unpaid_order_is_not_marked_paid() -> None:
    assert _mapped(_changed(financial_status="pending")).order.payment_status.value == "unpaid"


def test_amount_that_is_not_a_decimal_is_rejected_naming_the_field() -> None:
    result = _map(_changed(total_price="12.3x"))
    assert isinstance(result, Rejection)
    assert result.field == "amounts.paid_total" and result.path == "total_price"
    assert "12.3x" in result.reason


def test_cents_beyond_the_currency_are_rejected() -> None:
    result = _map(_changed(total_tax="11.945"))
    assert isinstance(result, Rejection) and result.field == "amounts.tax"


def test_unknown_financial_status_is_rejected_naming_the_status() -> None:
    result = _map(_changed(financial_status="settled"))
    assert isinstance(result, Rejection)
    assert result.field == "status" and "settled/unfulfilled" in result.reason


def test_a_missing_shipping_phone_falls_back_to_the_customers() -> None:
    raw = copy.deepcopy(RAW)
    raw["shipping_address"]["phone"] = None
    raw.setdefault("customer", {})["phone"] = "+1 212 555 0100"
    result = _map(raw)
    assert not isinstance(result, Rejection)
    assert result.order.receiver.phone == "+1 212 555 0100"


def test_missing_receiver_phone_everywhere_is_rejected() -> None:
    raw = copy.deepcopy(RAW)
    raw["shipping_address"]["phone"] = None
    raw.get("customer", {}).pop("phone", None)
    raw.get("billing_address", {}).pop("phone", None)
    result = _map(raw)
    assert isinstance(result, Rejection)
    assert result.field == "receiver.phone"
    assert result.path == "shipping_address.phone+customer.phone+billing_address.phone"


def test_number_where_text_belongs_is_rejected() -> None:
    raw = copy.deepcopy(RAW)
    raw["shipping_address"]["city"] = 40202.5
    result = _map(raw)
    assert isinstance(result, Rejection) and result.field == "receiver.city"


def test_bad_line_price_is_rejected_naming_the_line() -> None:
    raw = copy.deepcopy(RAW)
    raw["line_items"][1]["price"] = "abc"
    result = _map(raw)
    assert isinstance(result, Rejection)
    assert result.field == "lines[1].unit_price" and result.path == "line_items[1].price"


def test_state_word_prefers_cancelled_then_closed() -> None:
    assert state_word({"cancelled_at": "x", "closed_at": "y", "financial_status": "paid"}) == (
        "cancelled"
    )
    assert state_word({"closed_at": "y", "financial_status": "paid"}) == "closed"


def test_webhook_body_is_one_order_read_like_the_pull() -> None:
    (payload,) = webhook_payloads(json.dumps(RAW).encode())
    assert _mapped(payload).order.channel_order_no == "450789469"
    assert payload["tags"] == RAW["tags"]  # Shopify's own field is left as sent
