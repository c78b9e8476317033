from __future__ import annotations

import dataclasses

import pytest

from orderhub.domain.orders import (
    Amounts,
    CustomFieldDef,
    CustomFieldType,
    OrderLine,
    PaymentStatus,
    Receiver,
    open_order,
)
from orderhub.domain.transitions import OrderStatus
from orderhub.errors import ValidationFailed
from tests.factories import T0, an_order


def test_a_valid_unpaid_order_opens_waiting_for_payment() -> None:
    order = open_order(an_order(), at=T0, custom_field_defs={})
    assert order.status is OrderStatus.PENDING_PAYMENT
    assert order.version == 1


def test_a_paid_order_opens_as_paid_with_a_payment_time() -> None:
    order = open_order(an_order(payment_status=PaymentStatus.PAID), at=T0, custom_field_defs={})
    assert order.status is OrderStatus.PAID
    assert order.paid_at == T0


def test_goods_total_that_differs_from_the_lines_names_the_difference() -> None:
    order = an_order()
    order.amounts = dataclasses.replace(
        order.amounts,
        goods_total=order.amounts.goods_total + 100,
        paid_total=order.amounts.paid_total + 100,
    )
    with pytest.raises(ValidationFailed, match=r"lines add up to 15300 \(difference 100\)"):
        open_order(order, at=T0, custom_field_defs={})


def test_paid_total_that_does_not_add_up_names_every_term_and_the_difference() -> None:
    order = an_order()
    order.amounts = dataclasses.replace(order.amounts, paid_total=1)
    with pytest.raises(ValidationFailed) as refused:
        open_order(order, at=T0, custom_field_defs={})
    assert refused.value.field == "amounts.paid_total"
    assert "goods_total 15300 + shipping_fee 1000 + tax 0 - discount 500 = 15800" in str(
        refused.value
    )
    assert "difference -15799" in str(refused.value)


def test_a_line_discount_above_the_line_is_refused() -> None:
    line = OrderLine(sku="A", title="a", quantity=1, unit_price=100, line_discount=101)
    order = an_order(lines=(line,))
    with pytest.raises(ValidationFailed, match=r"lines\[0\].line_discount"):
        open_order(order, at=T0, custom_field_defs={})


def test_missing_receiver_phone_is_refused_with_the_field() -> None:
    order = an_order()
    order.receiver = dataclasses.replace(order.receiver, phone="  ")
    with pytest.raises(ValidationFailed) as refused:
        open_order(order, at=T0, custom_field_defs={})
    assert refused.value.field == "receiver.phone"


def test_a_masked_receiver_is_kept_as_it_came_and_flagged() -> None:
    masked = Receiver("张**", "138****1234", "浙江省", "杭州市", "西湖区", "文三***")
    order = open_order(an_order(receiver=masked), at=T0, custom_field_defs={})
    assert order.receiver.masked
    assert order.receiver.phone == "138****1234"


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="currency 'XXX'"):
        open_order(an_order(currency="XXX"), at=T0, custom_field_defs={})


def test_a_naive_creation_time_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="time zone"):
        open_order(an_order(created_at=T0.replace(tzinfo=None)), at=T0, custom_field_defs={})


def test_custom_fields_must_be_declared_and_typed() -> None:
    defs = {
        "gift_wrap": CustomFieldDef("gift_wrap", CustomFieldType.BOOLEAN),
        "size": CustomFieldDef("size", CustomFieldType.CHOICE, choices=("S", "M")),
    }
    ok = open_order(
        an_order(custom_fields={"gift_wrap": True, "size": "M"}), at=T0, custom_field_defs=defs
    )
    assert ok.custom_fields == {"gift_wrap": True, "size": "M"}
    with pytest.raises(
        ValidationFailed, match="custom_fields.gift_wrap is 'yes'; expected a boolean"
    ):
        open_order(an_order(custom_fields={"gift_wrap": "yes"}), at=T0, custom_field_defs=defs)
    with pytest.raises(ValidationFailed, match="one of S, M"):
        open_order(an_order(custom_fields={"size": "XL"}), at=T0, custom_field_defs=defs)
    with pytest.raises(ValidationFailed, match="'colour' is not declared"):
        open_order(an_order(custom_fields={"colour": "red"}), at=T0, custom_field_defs=defs)


def test_a_required_custom_field_must_be_given() -> None:
    defs = {"po_number": CustomFieldDef("po_number", CustomFieldType.TEXT, required=True)}
    with pytest.raises(ValidationFailed, match="po_number is required"):
        open_order(an_order(), at=T0, custom_field_defs=defs)


def test_amounts_expected_total_counts_tax_and_discount() -> None:
    assert (
        Amounts(goods_total=1000, shipping_fee=200, discount=300, tax=50).expected_paid_total == 950
    )


@pytest.mark.parametrize(
    ("name", "phone", "masked"),
    [
        ("张三", "13800001234", False),
        ("张**", "13800001234", True),
        ("张三", "138****1234", True),
        ("王＊", "13800001234", True),
        ("Apt *3", "13800001234", False),
    ],
)
def test_masking_is_detected_from_asterisk_runs_or_a_full_width_asterisk(
    name: str, phone: str, masked: bool
) -> None:
    receiver = Receiver(name, phone, "浙江省", "杭州市", "西湖区", "文三路 90 号")
    assert (
        open_order(an_order(receiver=receiver), at=T0, custom_field_defs={}).receiver.masked
        is masked
    )
