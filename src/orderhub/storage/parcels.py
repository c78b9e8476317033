"""Parcels in SQL: a parcel row and its lines, read and written whole."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.engine import Connection, RowMapping

from orderhub.domain.orders import Order
from orderhub.domain.parcels import (
    Parcel,
    ParcelKind,
    ParcelLine,
    ParcelMode,
    ParcelStatus,
    merged_parcel_no,
)
from orderhub.errors import NotFound
from orderhub.storage.priority import order_rank
from orderhub.storage.rows import inserted_id
from orderhub.storage.tables import orders, parcel_lines, parcels

_P, _L, _O = parcels.c, parcel_lines.c, orders.c
_PAST_HAND_OFF = (ParcelStatus.SENT.value, ParcelStatus.INTERCEPTING.value)
# What orders must share to go in one parcel (domain.parcels.merge_key, as columns).
_MERGE_KEY = (
    _O.shop,
    _O.buyer_id,
    _O.receiver_name,
    _O.receiver_phone,
    _O.receiver_province,
    _O.receiver_city,
    _O.receiver_district,
    _O.receiver_address,
    _O.warehouse,
)


def _row(parcel: Parcel) -> dict[str, Any]:
    return {
        "parcel_no": parcel.parcel_no,
        "kind": parcel.kind.value,
        "warehouse": parcel.warehouse,
        "status": parcel.status.value,
        "stock_state": parcel.stock_state,
        "handed_off_at": parcel.handed_off_at,
        "carrier": parcel.carrier,
        "tracking_no": parcel.tracking_no,
        "shipped_at": parcel.shipped_at,
        "created_at": parcel.created_at,
        "created_by": parcel.created_by,
        "note": parcel.note,
    }


def _line_rows(parcel_id: int, lines: Sequence[ParcelLine]) -> list[dict[str, Any]]:
    return [
        {
            "parcel_id": parcel_id,
            "order_id": line.order_id,
            "line_no": line.line_no,
            "sku": line.sku,
            "channel_sku": line.channel_sku,
            "title": line.title,
            "quantity": line.quantity,
        }
        for line in lines
    ]


def _parcel(row: RowMapping, lines: Sequence[RowMapping]) -> Parcel:
    return Parcel(
        id=row["id"],
        parcel_no=row["parcel_no"],
        kind=ParcelKind(row["kind"]),
        warehouse=row["warehouse"],
        status=ParcelStatus(row["status"]),
        stock_state=row["stock_state"],
        handed_off_at=row["handed_off_at"],
        carrier=row["carrier"],
        tracking_no=row["tracking_no"],
        shipped_at=row["shipped_at"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        note=row["note"],
        lines=tuple(
            ParcelLine(
                order_id=x["order_id"],
                line_no=x["line_no"],
                sku=x["sku"],
                quantity=x["quantity"],
                title=x["title"],
                channel_sku=x["channel_sku"],
            )
            for x in lines
        ),
    )


class SqlParcelRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, parcel: Parcel) -> Parcel:
        row = _row(parcel)
        if parcel.kind is ParcelKind.MERGE and not parcel.parcel_no:
            # Its number is made from its id: a unique placeholder until the id is known.
            row["parcel_no"] = f"new-{uuid.uuid4().hex[:24]}"
        parcel.id = inserted_id(self._conn.execute(parcels.insert(), row))
        if parcel.kind is ParcelKind.MERGE and not parcel.parcel_no:
            parcel.parcel_no = merged_parcel_no(parcel.id)
            self._conn.execute(
                parcels.update().where(_P.id == parcel.id).values(parcel_no=parcel.parcel_no)
            )
        self._conn.execute(parcel_lines.insert(), _line_rows(parcel.id, parcel.lines))
        return parcel

    def update(self, parcel: Parcel) -> None:
        assert parcel.id is not None
        row = _row(parcel)
        del row["created_at"], row["created_by"], row["parcel_no"], row["kind"]
        self._conn.execute(parcels.update().where(_P.id == parcel.id).values(**row))
        stored = self._conn.execute(
            select(func.count()).select_from(parcel_lines).where(_L.parcel_id == parcel.id)
        ).scalar_one()
        if stored != len(parcel.lines):  # a merged parcel took in (or let go of) an order
            self._conn.execute(parcel_lines.delete().where(_L.parcel_id == parcel.id))
            self._conn.execute(parcel_lines.insert(), _line_rows(parcel.id, parcel.lines))

    def find(self, parcel_no: str) -> Parcel | None:
        row = self._conn.execute(select(parcels).where(_P.parcel_no == parcel_no)).mappings()
        found = row.first()
        return None if found is None else self._load([found])[0]

    def get(self, parcel_no: str) -> Parcel:
        found = self.find(parcel_no)
        if found is None:
            raise NotFound(
                f"parcel {parcel_no} does not exist; GET /api/v1/orders/{{id}}/parcels lists an "
                "order's parcels"
            )
        return found

    def lock(self, order_ids: Sequence[int]) -> None:
        """Hold every parcel of these orders until COMMIT (PostgreSQL; SQLite has one writer)."""
        if self._conn.dialect.name != "postgresql" or not order_ids:
            return
        ids = select(_L.parcel_id).where(_L.order_id.in_(list(order_ids)))
        # In id order, so two transactions locking parcels of one order never deadlock.
        self._conn.execute(select(_P.id).where(_P.id.in_(ids)).order_by(_P.id).with_for_update())

    def of_order(self, order_id: int) -> list[Parcel]:
        ids = select(_L.parcel_id).where(_L.order_id == order_id)
        rows = self._conn.execute(select(parcels).where(_P.id.in_(ids)).order_by(_P.id))
        return self._load(list(rows.mappings()))

    def _load(self, rows: Sequence[RowMapping]) -> list[Parcel]:
        if not rows:
            return []
        lines: dict[int, list[RowMapping]] = {int(r["id"]): [] for r in rows}
        query = (
            select(parcel_lines)
            .where(_L.parcel_id.in_(list(lines)))
            .order_by(_L.parcel_id, _L.order_id, _L.line_no, _L.id)
        )
        for line in self._conn.execute(query).mappings():
            lines[int(line["parcel_id"])].append(line)
        return [_parcel(r, lines[int(r["id"])]) for r in rows]

    def backorders(
        self, sku: str, warehouse: str, *, aging_per_min: float, limit: int = 200
    ) -> list[str]:
        # By the lead order's priority with aging, as orders waiting for stock are served.
        lead = select(func.min(_L.order_id)).where(_L.parcel_id == _P.id).scalar_subquery()
        query = (
            select(_P.parcel_no)
            .join(orders, _O.id == lead)
            .where(
                _P.status == ParcelStatus.BACKORDER.value,
                _P.warehouse == warehouse,
                exists().where(_L.parcel_id == _P.id, _L.sku == sku),
            )
            .order_by(order_rank(aging_per_min), _P.id)
            .limit(limit)
        )
        return [str(n) for n in self._conn.execute(query).scalars()]

    def in_flight(self, sku: str, warehouse: str) -> int:
        handed_off = (_P.status == ParcelStatus.PLANNED.value) & _P.handed_off_at.is_not(None)
        query = select(func.count()).where(
            _P.warehouse == warehouse,
            _P.stock_state == "reserved",
            _P.status.in_(_PAST_HAND_OFF) | handed_off,
            exists().where(_L.parcel_id == _P.id, _L.sku == sku),
        )
        return int(self._conn.execute(query).scalar_one())

    def merge_partners(self, order: Order, limit: int = 20) -> list[int]:
        assert order.id is not None
        r = order.receiver
        query = (
            select(_O.id)
            .where(
                _O.receiver_phone == r.phone,
                _O.buyer_id == order.buyer_id,
                _O.shop == order.shop,
                _O.receiver_name == r.name,
                _O.receiver_province == r.province,
                _O.receiver_city == r.city,
                _O.receiver_district == r.district,
                _O.receiver_address == r.address,
                _O.warehouse == order.warehouse,
                _O.status == "allocated",
                _O.never_merge.is_(False),
                (_O.parcel_mode.is_(None)) | (_O.parcel_mode == ParcelMode.MERGED.value),
                _O.id != order.id,
            )
            .order_by(_O.id)
            .limit(limit)
        )
        return [int(i) for i in self._conn.execute(query).scalars()]

    def mergeable_groups(self, limit: int = 500) -> list[list[int]]:
        waiting = and_(
            _O.status == "allocated",
            _O.parcel_mode.is_(None),
            _O.never_merge.is_(False),
            _O.buyer_id.is_not(None),
            _O.warehouse.is_not(None),
        )
        keys = (
            select(*_MERGE_KEY)
            .where(waiting)
            .group_by(*_MERGE_KEY)
            .having(func.count() > 1)
            .limit(limit)
            .subquery()
        )
        query = (
            select(_O.id, *_MERGE_KEY)
            .join(keys, and_(*(column == keys.c[column.name] for column in _MERGE_KEY)))
            .where(waiting)
            .order_by(*_MERGE_KEY, _O.id)
        )
        groups: dict[tuple[Any, ...], list[int]] = {}
        for row in self._conn.execute(query):
            groups.setdefault(tuple(row[1:]), []).append(int(row[0]))
        return list(groups.values())
