"""Orders in SQL: prebuilt Core statements and explicit row <-> domain mapping."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Update, bindparam, delete, select
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from orderhub.domain.orders import (
    Amounts,
    Invoice,
    Order,
    OrderLine,
    OrderType,
    PaymentStatus,
    Receiver,
)
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import OrderStatus
from orderhub.errors import ConcurrentUpdate, DuplicateOrder, NotFound
from orderhub.storage.order_selections import OrderSelections
from orderhub.storage.rows import inserted_id
from orderhub.storage.tables import (
    order_events,
    order_lines,
    order_tags,
    orders,
)

# Built once: SQLAlchemy's compiled cache then makes each execution cheap.
_INSERT_ORDER = orders.insert()
_INSERT_LINES = order_lines.insert()
_INSERT_TAGS = order_tags.insert()
_SELECT_ORDER = select(orders).where(orders.c.id == bindparam("order_id"))
_FIND_ORDER = select(orders).where(
    orders.c.channel == bindparam("channel"),
    orders.c.shop == bindparam("shop"),
    orders.c.channel_order_no == bindparam("no"),
)
_SELECT_LINES = (
    select(order_lines)
    .where(order_lines.c.order_id == bindparam("order_id"))
    .order_by(order_lines.c.line_no)
)
_MUTABLE = tuple(
    c.name
    for c in orders.c
    if c.name not in ("id", "channel", "shop", "channel_order_no", "created_at", "version")
)
_DELETE_LINES = delete(order_lines).where(order_lines.c.order_id == bindparam("order_id"))
_DELETE_TAGS = delete(order_tags).where(order_tags.c.order_id == bindparam("order_id"))
_SELECT_EVENTS = (
    select(order_events)
    .where(order_events.c.order_id == bindparam("order_id"))
    .order_by(order_events.c.id)
)
INSERT_EVENTS = order_events.insert()


@lru_cache(maxsize=256)
def _update_order(names: tuple[str, ...]) -> Update:
    """UPDATE of `names` and the version, guarded by the version read: one statement per shape."""
    return (
        orders.update()
        .where(orders.c.id == bindparam("_id"), orders.c.version == bindparam("_version"))
        .values({name: bindparam(name) for name in (*names, "version")})
    )


def _written(row: dict[str, Any]) -> dict[str, Any]:
    """The row as stored, for `update`; order_row made `tags` a new list, custom_fields is the
    order's own dict, so it is copied: later changes to the order must show as changes."""
    fields = row["custom_fields"]
    return {**row, "custom_fields": copy.deepcopy(fields) if fields else {}}


def order_row(order: Order) -> dict[str, Any]:
    a, r, inv = order.amounts, order.receiver, order.invoice
    return {
        "channel": order.channel,
        "channel_order_no": order.channel_order_no,
        "shop": order.shop,
        "order_type": order.order_type.value,
        "status": order.status.value,
        "resume_status": order.resume_status.value if order.resume_status else None,
        "exception_reason": order.exception_reason,
        "payment_status": order.payment_status.value,
        "payment_method": order.payment_method,
        "transaction_no": order.transaction_no,
        "currency": order.currency,
        "goods_total": a.goods_total,
        "shipping_fee": a.shipping_fee,
        "discount": a.discount,
        "tax": a.tax,
        "paid_total": a.paid_total,
        "buyer_id": order.buyer_id,
        "buyer_nick": order.buyer_nick,
        "buyer_note": order.buyer_note,
        "seller_note": order.seller_note,
        "receiver_name": r.name,
        "receiver_phone": r.phone,
        "receiver_province": r.province,
        "receiver_city": r.city,
        "receiver_district": r.district,
        "receiver_address": r.address,
        "receiver_postcode": r.postcode,
        "receiver_masked": r.masked,
        "invoice_title": inv.title if inv else None,
        "invoice_tax_id": inv.tax_id if inv else None,
        "tags": list(order.tags),
        "priority": order.priority,
        "warehouse": order.warehouse,
        "carrier": order.carrier,
        "tracking_no": order.tracking_no,
        "stock_state": order.stock_state,
        "queue": order.queue,
        "parcel_mode": order.parcel_mode,
        "never_merge": order.never_merge,
        "custom_fields": order.custom_fields,
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "updated_at": order.updated_at,
        "state_since": order.state_since,
        "handed_off_at": order.handed_off_at,
        "shipped_at": order.shipped_at,
        "version": order.version,
        "channel_modified_at": order.channel_modified_at,
        "channel_status": order.channel_status,
    }


def line_rows(order_id: int, lines: tuple[OrderLine, ...]) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order_id,
            "line_no": n,
            "sku": line.sku,
            "channel_sku": line.channel_sku,
            "title": line.title,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "line_discount": line.line_discount,
        }
        for n, line in enumerate(lines, start=1)
    ]


def order_from_rows(row: RowMapping, lines: list[RowMapping]) -> Order:
    return Order(
        id=row["id"],
        channel=row["channel"],
        channel_order_no=row["channel_order_no"],
        shop=row["shop"],
        order_type=OrderType(row["order_type"]),
        status=OrderStatus(row["status"]),
        resume_status=OrderStatus(row["resume_status"]) if row["resume_status"] else None,
        exception_reason=row["exception_reason"],
        payment_status=PaymentStatus(row["payment_status"]),
        payment_method=row["payment_method"],
        transaction_no=row["transaction_no"],
        currency=row["currency"],
        amounts=Amounts(
            row["goods_total"], row["shipping_fee"], row["discount"], row["tax"], row["paid_total"]
        ),
        lines=tuple(
            OrderLine(
                sku=x["sku"],
                title=x["title"],
                quantity=x["quantity"],
                unit_price=x["unit_price"],
                line_discount=x["line_discount"],
                channel_sku=x["channel_sku"],
            )
            for x in lines
        ),
        receiver=Receiver(
            row["receiver_name"],
            row["receiver_phone"],
            row["receiver_province"],
            row["receiver_city"],
            row["receiver_district"],
            row["receiver_address"],
            row["receiver_postcode"],
            row["receiver_masked"],
        ),
        invoice=Invoice(row["invoice_title"], row["invoice_tax_id"])
        if row["invoice_title"]
        else None,
        buyer_id=row["buyer_id"],
        buyer_nick=row["buyer_nick"],
        buyer_note=row["buyer_note"],
        seller_note=row["seller_note"],
        tags=tuple(row["tags"]),
        priority=row["priority"],
        warehouse=row["warehouse"],
        carrier=row["carrier"],
        tracking_no=row["tracking_no"],
        stock_state=row["stock_state"],
        queue=row["queue"],
        parcel_mode=row["parcel_mode"],
        never_merge=bool(row["never_merge"]),
        custom_fields=dict(row["custom_fields"]),
        created_at=row["created_at"],
        paid_at=row["paid_at"],
        updated_at=row["updated_at"],
        state_since=row["state_since"],
        handed_off_at=row["handed_off_at"],
        shipped_at=row["shipped_at"],
        version=row["version"],
        channel_modified_at=row["channel_modified_at"],
        channel_status=row["channel_status"],
    )


def event_from_row(row: RowMapping) -> OrderEvent:
    return OrderEvent(
        order_id=row["order_id"],
        action=row["action"],
        from_status=OrderStatus(row["from_status"]) if row["from_status"] else None,
        to_status=OrderStatus(row["to_status"]),
        at=row["at"],
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        source=row["source"],
        reason=row["reason"],
        reason_code=row["reason_code"],
        correlation_id=row["correlation_id"],
        detail=dict(row["detail"]),
    )


def event_row(event: OrderEvent) -> dict[str, Any]:
    return {
        "order_id": event.order_id,
        "action": event.action,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value,
        "at": event.at,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "source": event.source,
        "reason": event.reason,
        "reason_code": event.reason_code,
        "correlation_id": event.correlation_id,
        "detail": event.detail,
    }


class SqlOrderRepository(OrderSelections):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        # What was loaded, so an update rewrites lines and tags only when they changed.
        self._loaded: dict[int, tuple[tuple[OrderLine, ...], tuple[str, ...]]] = {}
        # The order row as loaded or last written, so an update sets only the columns that changed.
        self._rows: dict[int, dict[str, Any]] = {}
        # Rows read ahead for a batch (`prefetch`), handed out once by `get`.
        self._ahead: dict[int, tuple[RowMapping, list[RowMapping]]] = {}

    def prefetch(self, order_ids: Sequence[int]) -> None:
        """Read many orders in two statements; `get` then hands each out without a query."""
        unique = list(dict.fromkeys(order_ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            rows = self._conn.execute(select(orders).where(orders.c.id.in_(chunk))).mappings()
            found: dict[int, tuple[RowMapping, list[RowMapping]]] = {
                int(r["id"]): (r, []) for r in rows
            }
            lines = self._conn.execute(
                select(order_lines)
                .where(order_lines.c.order_id.in_(chunk))
                .order_by(order_lines.c.order_id, order_lines.c.line_no)
            ).mappings()
            for line in lines:
                found[int(line["order_id"])][1].append(line)
            self._ahead.update(found)

    def get(self, order_id: int) -> Order:
        ahead = self._ahead.pop(order_id, None)
        if ahead is not None:
            return self._remember(order_from_rows(*ahead))
        row = self._conn.execute(_SELECT_ORDER, {"order_id": order_id}).mappings().first()
        if row is None:
            raise NotFound(
                f"order {order_id} does not exist; check the id (GET /api/v1/orders lists them)"
            )
        return self._load(row)

    def find(self, channel: str, shop: str, channel_order_no: str) -> Order | None:
        """The order the pool holds for this channel order, if any."""
        params = {"channel": channel, "shop": shop, "no": channel_order_no}
        row = self._conn.execute(_FIND_ORDER, params).mappings().first()
        return self._load(row) if row is not None else None

    def known_numbers(self, channel: str, shop: str, numbers: Sequence[str]) -> set[str]:
        found: set[str] = set()
        unique = list(dict.fromkeys(numbers))
        for start in range(0, len(unique), 500):
            query = select(orders.c.channel_order_no).where(
                orders.c.channel == channel,
                orders.c.shop == shop,
                orders.c.channel_order_no.in_(unique[start : start + 500]),
            )
            found.update(str(n) for n in self._conn.execute(query).scalars())
        return found

    def _load(self, row: RowMapping) -> Order:
        order_id = int(row["id"])
        lines = list(self._conn.execute(_SELECT_LINES, {"order_id": order_id}).mappings())
        return self._remember(order_from_rows(row, lines))

    def _remember(self, order: Order) -> Order:
        assert order.id is not None
        self._loaded[order.id] = (order.lines, order.tags)
        self._rows[order.id] = _written(order_row(order))
        return order

    def add(self, order: Order) -> int:
        row = order_row(order)
        try:
            result = self._conn.execute(_INSERT_ORDER, row)
        except IntegrityError as error:
            raise DuplicateOrder(
                f"order {order.channel_order_no} of shop {order.shop} on {order.channel} is "
                "already in the pool; edit it or apply an action instead of creating it again",
                channel=order.channel,
                shop=order.shop,
                channel_order_no=order.channel_order_no,
            ) from error
        order_id = inserted_id(result)
        self._conn.execute(_INSERT_LINES, line_rows(order_id, order.lines))
        if order.tags:
            self._conn.execute(_INSERT_TAGS, [{"order_id": order_id, "tag": t} for t in order.tags])
        self._loaded[order_id] = (order.lines, order.tags)
        self._rows[order_id] = _written(row)
        return order_id

    def update(self, order: Order) -> None:
        assert order.id is not None
        row = order_row(order)
        before = self._rows.get(order.id)
        # The version guard makes writing only the changed columns equal to writing them all.
        names = tuple(n for n in _MUTABLE if before is None or row[n] != before[n])
        params = {name: row[name] for name in names}
        params.update(version=order.version + 1, _id=order.id, _version=order.version)
        if self._conn.execute(_update_order(names), params).rowcount != 1:
            raise ConcurrentUpdate(
                f"order {order.id} was changed by someone else meanwhile; reload it and try again",
                order_id=order.id,
            )
        order.version += 1
        lines, tags = self._loaded.get(order.id, ((), ()))
        if lines != order.lines:
            self._conn.execute(_DELETE_LINES, {"order_id": order.id})
            self._conn.execute(_INSERT_LINES, line_rows(order.id, order.lines))
        if tags != order.tags:
            self._conn.execute(_DELETE_TAGS, {"order_id": order.id})
            if order.tags:
                self._conn.execute(
                    _INSERT_TAGS, [{"order_id": order.id, "tag": t} for t in order.tags]
                )
        self._loaded[order.id] = (order.lines, order.tags)
        self._rows[order.id] = _written(row)

    def events(self, order_id: int) -> list[OrderEvent]:
        return [
            event_from_row(r)
            for r in self._conn.execute(_SELECT_EVENTS, {"order_id": order_id}).mappings()
        ]
