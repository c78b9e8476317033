"""Request and response shapes of the orders API. Amounts are integers in minor units."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from orderhub.domain.orders import (
    Amounts,
    Invoice,
    Order,
    OrderLine,
    OrderType,
    PaymentStatus,
    Receiver,
)
from orderhub.domain.transitions import Action, ExceptionReason, OrderStatus, allowed_actions
from orderhub.errors import ValidationFailed

Minor = Annotated[StrictInt, Field(ge=0, description="integer minor units (fen for CNY)")]
Text64 = Annotated[str, Field(min_length=1, max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(Strict):
    sku: Text64
    title: Annotated[str, Field(min_length=1, max_length=256)]
    quantity: Annotated[StrictInt, Field(ge=1)]
    unit_price: Minor
    line_discount: Minor = 0
    channel_sku: str | None = None

    def to_domain(self) -> OrderLine:
        return OrderLine(
            sku=self.sku,
            title=self.title,
            quantity=self.quantity,
            unit_price=self.unit_price,
            line_discount=self.line_discount,
            channel_sku=self.channel_sku,
        )


class ReceiverIn(Strict):
    name: str
    phone: str
    province: str
    city: str
    district: str = ""
    address: str
    postcode: str | None = None
    masked: bool = False

    def to_domain(self) -> Receiver:
        return Receiver(**self.model_dump())


class AmountsIn(Strict):
    goods_total: Minor
    shipping_fee: Minor = 0
    discount: Minor = 0
    tax: Minor = 0
    paid_total: Minor


class InvoiceIn(Strict):
    title: Annotated[str, Field(min_length=1, max_length=128)]
    tax_id: str | None = None


class OrderIn(Strict):
    """A new order. Channel orders arrive through the channel hub; this is for manual orders
    and for systems that push orders in."""

    channel: Text64 = "manual"
    channel_order_no: str | None = Field(
        None, max_length=64, description="generated for manual orders when left out"
    )
    shop: Text64
    order_type: OrderType = OrderType.NORMAL
    status: OrderStatus = Field(
        OrderStatus.PENDING_PAYMENT, description="pending_payment or paid; actions move it on"
    )
    payment_method: str | None = None
    transaction_no: str | None = None
    paid_at: AwareDatetime | None = None
    currency: Annotated[
        str | None,
        Field(
            min_length=3,
            max_length=3,
            description="ISO 4217; ORDERHUB_DEFAULT_CURRENCY when left out",
        ),
    ] = None
    amounts: AmountsIn
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    receiver: ReceiverIn
    invoice: InvoiceIn | None = None
    buyer_id: str | None = None
    buyer_nick: str | None = None
    buyer_note: str | None = None
    seller_note: str | None = None
    tags: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=50)] = []
    priority: int = 0
    created_at: AwareDatetime | None = None
    custom_fields: dict[str, Any] = {}

    def to_domain(self, *, default_currency: str) -> Order:
        if self.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID):
            raise ValidationFailed(
                f"a new order starts as pending_payment or paid, not {self.status.value}; "
                "create it, then apply actions to move it on",
                field="status",
            )
        return Order(
            channel=self.channel,
            channel_order_no=self.channel_order_no or "",
            shop=self.shop,
            order_type=self.order_type,
            payment_status=(
                PaymentStatus.PAID if self.status is OrderStatus.PAID else PaymentStatus.UNPAID
            ),
            payment_method=self.payment_method,
            transaction_no=self.transaction_no,
            paid_at=self.paid_at,
            currency=(self.currency or default_currency).upper(),
            amounts=Amounts(**self.amounts.model_dump()),
            lines=tuple(line.to_domain() for line in self.lines),
            receiver=self.receiver.to_domain(),
            invoice=Invoice(self.invoice.title, self.invoice.tax_id) if self.invoice else None,
            buyer_id=self.buyer_id,
            buyer_nick=self.buyer_nick,
            buyer_note=self.buyer_note,
            seller_note=self.seller_note,
            tags=tuple(self.tags),
            priority=self.priority,
            created_at=self.created_at or datetime.now(UTC),
            custom_fields=dict(self.custom_fields),
        )


class OrderEditIn(Strict):
    receiver: ReceiverIn | None = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)] | None = None
    buyer_note: str | None = None
    seller_note: str | None = None


class ActionParams(Strict):
    payment_method: str | None = None
    transaction_no: str | None = None
    warehouse: str | None = None
    carrier: str | None = None
    tracking_no: str | None = None


class ActionIn(Strict):
    reason: Annotated[str, Field(max_length=500)] | None = None
    reason_code: ExceptionReason | None = None
    params: ActionParams = ActionParams()


class BatchActionIn(ActionIn):
    order_ids: Annotated[list[int], Field(min_length=1, max_length=500)]


class LineOut(BaseModel):
    sku: str
    channel_sku: str | None
    title: str
    quantity: int
    unit_price: int
    line_discount: int
    amount: int


class OrderOut(BaseModel):
    id: int
    channel: str
    channel_order_no: str
    shop: str
    order_type: str
    status: str
    resume_status: str | None
    exception_reason: str | None
    payment_status: str
    payment_method: str | None
    transaction_no: str | None
    currency: str
    amounts: dict[str, int]
    lines: list[LineOut]
    receiver: dict[str, Any]
    invoice: dict[str, Any] | None
    buyer_id: str | None
    buyer_nick: str | None
    buyer_note: str | None
    seller_note: str | None
    tags: list[str]
    priority: int
    warehouse: str | None
    carrier: str | None
    tracking_no: str | None
    # How it leaves the warehouse: null (as one parcel), split or merged (GET .../parcels).
    parcel_mode: str | None = None
    never_merge: bool = False
    custom_fields: dict[str, Any]
    created_at: datetime
    paid_at: datetime | None
    updated_at: datetime | None
    # When it entered its current status.
    state_since: datetime | None = None
    # When the warehouse last took it, and when it shipped.
    handed_off_at: datetime | None = None
    shipped_at: datetime | None = None
    version: int
    allowed_actions: list[str]

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        a, r = order.amounts, order.receiver
        assert order.id is not None
        return cls(
            id=order.id,
            channel=order.channel,
            channel_order_no=order.channel_order_no,
            shop=order.shop,
            order_type=order.order_type.value,
            status=order.status.value,
            resume_status=order.resume_status.value if order.resume_status else None,
            exception_reason=order.exception_reason,
            payment_status=order.payment_status.value,
            payment_method=order.payment_method,
            transaction_no=order.transaction_no,
            currency=order.currency,
            amounts={
                "goods_total": a.goods_total,
                "shipping_fee": a.shipping_fee,
                "discount": a.discount,
                "tax": a.tax,
                "paid_total": a.paid_total,
            },
            lines=[
                LineOut(
                    sku=x.sku,
                    channel_sku=x.channel_sku,
                    title=x.title,
                    quantity=x.quantity,
                    unit_price=x.unit_price,
                    line_discount=x.line_discount,
                    amount=x.amount,
                )
                for x in order.lines
            ],
            receiver={
                "name": r.name,
                "phone": r.phone,
                "province": r.province,
                "city": r.city,
                "district": r.district,
                "address": r.address,
                "postcode": r.postcode,
                "masked": r.masked,
            },
            invoice=(
                {"title": order.invoice.title, "tax_id": order.invoice.tax_id}
                if order.invoice
                else None
            ),
            buyer_id=order.buyer_id,
            buyer_nick=order.buyer_nick,
            buyer_note=order.buyer_note,
            seller_note=order.seller_note,
            tags=list(order.tags),
            priority=order.priority,
            warehouse=order.warehouse,
            carrier=order.carrier,
            tracking_no=order.tracking_no,
            custom_fields=order.custom_fields,
            created_at=order.created_at,
            paid_at=order.paid_at,
            updated_at=order.updated_at,
            state_since=order.state_since,
            handed_off_at=order.handed_off_at,
            shipped_at=order.shipped_at,
            version=order.version,
            parcel_mode=order.parcel_mode,
            never_merge=order.never_merge,
            allowed_actions=[x.value for x in allowed_actions(order.status, order.resume_status)],
        )


class EventOut(BaseModel):
    action: str
    from_status: str | None
    to_status: str
    at: datetime
    actor: str
    source: str
    reason: str | None
    reason_code: str | None
    correlation_id: str | None
    detail: dict[str, Any]


class StayOut(BaseModel):
    status: str
    entered_at: datetime
    left_at: datetime | None
    seconds: float


class TimelineOut(BaseModel):
    order_id: int
    status: str
    events: list[EventOut]
    stays: list[StayOut]
    seconds_in_state: dict[str, float]


class BatchItemOut(BaseModel):
    order_id: int
    ok: bool
    status: str | None = None
    error_code: str | None = None
    detail: str | None = None


class BatchOut(BaseModel):
    action: Action
    succeeded: int
    failed: int
    results: list[BatchItemOut]


class OrderPageOut(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class CountsOut(BaseModel):
    total: int
    by_status: dict[str, int]
    by_exception_reason: dict[str, int]
