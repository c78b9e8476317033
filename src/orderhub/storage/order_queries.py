"""The read side of orders: lists, counts and exports straight from SQL, as plain dicts.

Screens and reports over many orders read here instead of loading aggregates (cosmicpython's
views): filters map to indexed columns and pages use keyset cursors, so page 1,000 costs what
page 1 does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.engine import Connection

from orderhub.domain.transitions import SUSPENDED
from orderhub.errors import ValidationFailed
from orderhub.storage.tables import order_tags, orders

LIST_COLUMNS = [
    orders.c.id,
    orders.c.channel,
    orders.c.channel_order_no,
    orders.c.shop,
    orders.c.order_type,
    orders.c.status,
    orders.c.resume_status,
    orders.c.exception_reason,
    orders.c.payment_status,
    orders.c.currency,
    orders.c.paid_total,
    orders.c.receiver_name,
    orders.c.receiver_phone,
    orders.c.receiver_province,
    orders.c.receiver_city,
    orders.c.receiver_masked,
    orders.c.tags,
    orders.c.priority,
    orders.c.warehouse,
    orders.c.created_at,
    orders.c.paid_at,
    orders.c.updated_at,
]


@dataclass(frozen=True)
class OrderFilter:
    statuses: tuple[str, ...] = ()
    exception_reason: str | None = None
    channel: str | None = None
    shop: str | None = None
    tag: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    # An order id, a channel order no (or its start) or a receiver phone.
    q: str | None = None
    ids: tuple[int, ...] = field(default_factory=tuple)

    def without_status(self) -> OrderFilter:
        return OrderFilter(
            exception_reason=self.exception_reason,
            channel=self.channel,
            shop=self.shop,
            tag=self.tag,
            created_from=self.created_from,
            created_to=self.created_to,
            q=self.q,
            ids=self.ids,
        )


def _conditions(f: OrderFilter) -> list[ColumnElement[bool]]:
    c = orders.c
    where: list[ColumnElement[bool]] = []
    if f.statuses:
        where.append(c.status.in_(f.statuses))
    if f.exception_reason:
        where.append(c.exception_reason == f.exception_reason)
    if f.channel:
        where.append(c.channel == f.channel)
    if f.shop:
        where.append(c.shop == f.shop)
    if f.tag:
        where.append(c.id.in_(select(order_tags.c.order_id).where(order_tags.c.tag == f.tag)))
    if f.created_from:
        where.append(c.created_at >= f.created_from)
    if f.created_to:
        where.append(c.created_at < f.created_to)
    if f.ids:
        where.append(c.id.in_(f.ids))
    if f.q and f.q.strip():
        q = f.q.strip()
        # Range instead of LIKE: both databases use the index for a prefix this way.
        matches = [
            and_(col >= q, col < q + "\uffff") for col in (c.receiver_phone, c.channel_order_no)
        ]
        if q.isdigit() and len(q) < 19:
            matches.append(c.id == int(q))
        where.append(or_(*matches))
    return where


def encode_cursor(order_id: int) -> str:
    return base64.urlsafe_b64encode(f"o:{order_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "o":
            raise ValueError(kind)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            f"cursor '{cursor}' is not one this API gave out; pass `next_cursor` from the "
            "previous page unchanged, or leave it out for the first page",
            field="cursor",
        ) from None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def list_orders(
    conn: Connection, f: OrderFilter, *, limit: int = 50, cursor: str | None = None
) -> Page:
    """Newest first; `next_cursor` continues after the last item."""
    query: Select[Any] = select(*LIST_COLUMNS).where(*_conditions(f))
    if cursor:
        query = query.where(orders.c.id < decode_cursor(cursor))
    rows = [
        dict(r)
        for r in conn.execute(query.order_by(orders.c.id.desc()).limit(limit + 1)).mappings()
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1]["id"]) if more and rows else None)


@dataclass(frozen=True)
class Counts:
    by_status: dict[str, int]
    by_exception_reason: dict[str, int]
    total: int


def count_orders(conn: Connection, f: OrderFilter) -> Counts:
    """Counts per status and, for held or excepted orders, per reason (status filter ignored)."""
    where = _conditions(f.without_status())
    by_status = {
        row[0]: row[1]
        for row in conn.execute(
            select(orders.c.status, func.count()).where(*where).group_by(orders.c.status)
        )
    }
    by_reason = {
        row[0]: row[1]
        for row in conn.execute(
            select(orders.c.exception_reason, func.count())
            .where(*where, orders.c.status.in_([s.value for s in SUSPENDED]))
            .group_by(orders.c.exception_reason)
        )
        if row[0]
    }
    return Counts(by_status, by_reason, sum(by_status.values()))


EXPORT_COLUMNS = [
    c for c in orders.c if c.name not in ("custom_fields", "version", "resume_status")
]


def export_rows(conn: Connection, f: OrderFilter, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every matching order, streamed in batches so memory stays flat for any size."""
    query = (
        select(*EXPORT_COLUMNS)
        .where(*_conditions(f))
        .order_by(orders.c.id.desc())
        .execution_options(stream_results=True, yield_per=batch)
    )
    for row in conn.execute(query).mappings():
        yield dict(row)


def facet_values(conn: Connection) -> dict[str, list[str]]:
    """Channels and shops present, for filter drop-downs."""
    return {
        "channels": [
            r[0]
            for r in conn.execute(select(orders.c.channel).distinct().order_by(orders.c.channel))
        ],
        "shops": [
            r[0] for r in conn.execute(select(orders.c.shop).distinct().order_by(orders.c.shop))
        ],
    }
