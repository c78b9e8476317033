"""The canonical order: the one shape every channel maps into.

Plain dataclasses; `build_order` validates a draft and refuses anything that does not add up,
naming the field and the difference so the sender knows what to fix.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from orderhub.domain.money import check_currency
from orderhub.domain.transitions import OrderStatus
from orderhub.errors import ValidationFailed

MANUAL_CHANNEL = "manual"


class OrderType(StrEnum):
    NORMAL = "normal"
    PRESALE = "presale"
    LIVE_STREAM = "live_stream"
    GIFT = "gift"
    GROUP_BUY = "group_buy"
    CROSS_BORDER = "cross_border"
    REPLACEMENT = "replacement"
    EXCHANGE = "exchange"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class OrderLine:
    sku: str
    title: str
    quantity: int
    unit_price: int
    line_discount: int = 0
    channel_sku: str | None = None

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price - self.line_discount


# Channels mask with runs of asterisks (138****1234, 张**) or a full-width one.
_MASK_MARKS = ("**", "＊")
_PHONE = re.compile(r"^[0-9+\-() *#]{3,32}$")


@dataclass(frozen=True)
class Receiver:
    name: str
    phone: str
    province: str
    city: str
    district: str
    address: str
    postcode: str | None = None
    # Channels withhold receivers from third parties (`138****1234`); we keep what came, flagged.
    masked: bool = False


@dataclass(frozen=True)
class Invoice:
    title: str
    tax_id: str | None = None


@dataclass(frozen=True)
class Amounts:
    goods_total: int
    shipping_fee: int = 0
    discount: int = 0
    tax: int = 0
    paid_total: int = 0

    @property
    def expected_paid_total(self) -> int:
        return self.goods_total + self.shipping_fee + self.tax - self.discount


class CustomFieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    CHOICE = "choice"


@dataclass(frozen=True)
class CustomFieldDef:
    """A field a merchant declares for its orders (e.g. `gift_wrap: boolean`)."""

    name: str
    type: CustomFieldType
    label: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass
class Order:
    channel: str
    channel_order_no: str
    shop: str
    currency: str
    amounts: Amounts
    lines: tuple[OrderLine, ...]
    receiver: Receiver
    # When the buyer placed it (the channel's time); OrderHub's own times are in the timeline.
    created_at: datetime
    order_type: OrderType = OrderType.NORMAL
    status: OrderStatus = OrderStatus.PENDING_PAYMENT
    payment_status: PaymentStatus = PaymentStatus.UNPAID
    updated_at: datetime | None = None
    # When the order entered its current status (that event's time): dwell and SLA clocks start
    # here. None only for an order not yet opened.
    state_since: datetime | None = None
    # When it was last handed to its warehouse and when it shipped: the milestones the dwell
    # report measures the hops between systems by (paid_at -> handed_off_at -> shipped_at).
    handed_off_at: datetime | None = None
    shipped_at: datetime | None = None
    id: int | None = None
    buyer_id: str | None = None
    buyer_nick: str | None = None
    buyer_note: str | None = None
    seller_note: str | None = None
    payment_method: str | None = None
    transaction_no: str | None = None
    paid_at: datetime | None = None
    invoice: Invoice | None = None
    tags: tuple[str, ...] = ()
    priority: int = 0
    warehouse: str | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    # Where the order stands with its stock: None (nothing taken), reserved, released, shipped.
    stock_state: str | None = None
    # The warehouse queue routing rules chose (e.g. "live"); None is the default queue.
    queue: str | None = None
    # How it leaves the warehouse: None as one parcel of its own, "split" in several, "merged"
    # with other orders of its buyer in one (domain/parcels.py).
    parcel_mode: str | None = None
    # Never merged with the buyer's other orders (the merchant's choice for this order).
    never_merge: bool = False
    custom_fields: dict[str, Any] = field(default_factory=dict)
    # Where a held or excepted order goes back to when released or resolved.
    resume_status: OrderStatus | None = None
    exception_reason: str | None = None
    version: int = 1
    # The channel's modified time and status word of the version applied last.
    channel_modified_at: datetime | None = None
    channel_status: str | None = None


def _require(value: str | None, field_name: str, hint: str) -> str:
    if value is None or not value.strip():
        raise ValidationFailed(f"{field_name} is missing; {hint}", field=field_name)
    return value.strip()


def check_lines(lines: tuple[OrderLine, ...]) -> None:
    if not lines:
        raise ValidationFailed("an order needs at least one line", field="lines")
    for i, line in enumerate(lines):
        where = f"lines[{i}]"
        _require(line.sku, f"{where}.sku", "give the merchant SKU code")
        if line.quantity <= 0:
            raise ValidationFailed(
                f"{where}.quantity is {line.quantity}; it must be at least 1",
                field=f"{where}.quantity",
            )
        if line.unit_price < 0:
            raise ValidationFailed(
                f"{where}.unit_price is {line.unit_price}; it cannot be negative",
                field=f"{where}.unit_price",
            )
        gross = line.quantity * line.unit_price
        if not 0 <= line.line_discount <= gross:
            raise ValidationFailed(
                f"{where}.line_discount {line.line_discount} must be between 0 and "
                f"quantity x unit_price = {gross}",
                field=f"{where}.line_discount",
            )


def check_amounts(amounts: Amounts, lines: tuple[OrderLine, ...]) -> None:
    """Refuse totals that do not add up, naming the difference in minor units."""
    for name in ("goods_total", "shipping_fee", "discount", "tax", "paid_total"):
        if getattr(amounts, name) < 0:
            raise ValidationFailed(f"amounts.{name} cannot be negative", field=f"amounts.{name}")
    lines_total = sum(line.amount for line in lines)
    if amounts.goods_total != lines_total:
        raise ValidationFailed(
            f"amounts.goods_total is {amounts.goods_total} but the lines add up to {lines_total} "
            f"(difference {amounts.goods_total - lines_total}); each line counts "
            "quantity x unit_price - line_discount",
            field="amounts.goods_total",
        )
    expected = amounts.expected_paid_total
    if amounts.paid_total != expected:
        raise ValidationFailed(
            f"amounts.paid_total is {amounts.paid_total} but goods_total {amounts.goods_total} + "
            f"shipping_fee {amounts.shipping_fee} + tax {amounts.tax} "
            f"- discount {amounts.discount} "
            f"= {expected} (difference {amounts.paid_total - expected})",
            field="amounts.paid_total",
        )


def looks_masked(receiver: Receiver) -> bool:
    return any(
        mark in value
        for value in (receiver.name, receiver.phone, receiver.address)
        for mark in _MASK_MARKS
    )


def check_receiver(receiver: Receiver) -> Receiver:
    hint = "the warehouse cannot ship without it"
    for name in ("name", "phone", "province", "city", "address"):
        _require(getattr(receiver, name), f"receiver.{name}", hint)
    if not _PHONE.match(receiver.phone.strip()):
        raise ValidationFailed(
            f"receiver.phone '{receiver.phone}' is not a phone number; use digits, "
            "with + - ( ) and * for masked digits",
            field="receiver.phone",
        )
    if receiver.masked or not looks_masked(receiver):
        return receiver
    return replace(receiver, masked=True)


def _coerce_custom(defn: CustomFieldDef, value: Any) -> Any:
    where = f"custom_fields.{defn.name}"
    ok: bool
    if defn.type is CustomFieldType.TEXT:
        ok = isinstance(value, str)
    elif defn.type is CustomFieldType.INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif defn.type is CustomFieldType.BOOLEAN:
        ok = isinstance(value, bool)
    elif defn.type is CustomFieldType.CHOICE:
        ok = value in defn.choices
    elif defn.type is CustomFieldType.DECIMAL:
        try:
            ok = isinstance(value, str) and Decimal(value).is_finite()
        except InvalidOperation:
            ok = False
    else:
        try:
            ok = isinstance(value, str) and date.fromisoformat(value) is not None
        except ValueError:
            ok = False
    if not ok:
        expected = (
            f"one of {', '.join(defn.choices)}"
            if defn.type is CustomFieldType.CHOICE
            else {
                "decimal": "a decimal string like '1.50'",
                "date": "a date like '2026-11-11'",
            }.get(defn.type.value, f"a {defn.type.value}")
        )
        raise ValidationFailed(f"{where} is {value!r}; expected {expected}", field=where)
    return value


def check_custom_fields(values: dict[str, Any], defs: dict[str, CustomFieldDef]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(defs))
    if unknown:
        declared = ", ".join(sorted(defs)) or "none"
        raise ValidationFailed(
            f"custom field '{unknown[0]}' is not declared (declared: {declared}); "
            "declare it under /api/v1/custom-fields first",
            field=f"custom_fields.{unknown[0]}",
        )
    for defn in defs.values():
        if defn.required and values.get(defn.name) is None:
            raise ValidationFailed(
                f"custom_fields.{defn.name} is required for every order",
                field=f"custom_fields.{defn.name}",
            )
    return {k: _coerce_custom(defs[k], v) for k, v in values.items() if v is not None}


def validate(order: Order, custom_field_defs: dict[str, CustomFieldDef]) -> Order:
    """Check a whole order; returns it with normalised receiver and custom fields."""
    check_currency(order.currency)
    _require(order.channel, "channel", "say where the order came from, e.g. 'taobao' or 'manual'")
    _require(order.channel_order_no, "channel_order_no", "give the order number in its channel")
    _require(order.shop, "shop", "give the shop the order belongs to")
    if order.created_at.tzinfo is None:
        raise ValidationFailed(
            "created_at needs a time zone, e.g. 2026-11-11T00:00:00+08:00", field="created_at"
        )
    check_lines(order.lines)
    check_amounts(order.amounts, order.lines)
    order.receiver = check_receiver(order.receiver)
    order.custom_fields = check_custom_fields(order.custom_fields, custom_field_defs)
    order.tags = tuple(dict.fromkeys(t.strip() for t in order.tags if t.strip()))
    return order


def open_order(
    order: Order, *, at: datetime, custom_field_defs: dict[str, CustomFieldDef]
) -> Order:
    """A new order enters the pool: validated, and waiting for payment unless already paid."""
    order = validate(order, custom_field_defs)
    if order.payment_status is PaymentStatus.UNPAID:
        order.status = OrderStatus.PENDING_PAYMENT
    else:
        order.status = OrderStatus.PAID
        order.paid_at = order.paid_at or at
    order.resume_status = order.exception_reason = None
    order.updated_at = order.state_since = at
    order.version = 1
    return order


def manual_order_no(at: datetime) -> str:
    """M + date + 8 random hex digits: unique without a counter every writer contends on."""
    return f"M{at:%Y%m%d}{secrets.token_hex(4).upper()}"
