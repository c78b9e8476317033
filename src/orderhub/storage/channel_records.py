"""Every channel payload as it came (audit) and the quarantine of those that did not fit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, RowMapping

from orderhub.domain.channels import Quarantined
from orderhub.errors import NotFound
from orderhub.storage.rows import inserted_id
from orderhub.storage.tables import channel_payloads, quarantine

_INSERT_PAYLOAD = channel_payloads.insert()


class SqlPayloadRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(
        self,
        *,
        channel: str,
        shop: str,
        channel_order_no: str | None,
        modified_at: datetime | None,
        received_at: datetime,
        source: str,
        outcome: str,
        order_id: int | None,
        payload: dict[str, Any],
    ) -> None:
        self._conn.execute(
            _INSERT_PAYLOAD,
            {
                "channel": channel,
                "shop": shop,
                "channel_order_no": channel_order_no,
                "modified_at": modified_at,
                "received_at": received_at,
                "source": source,
                "outcome": outcome,
                "order_id": order_id,
                "payload": payload,
            },
        )


def _quarantined(row: RowMapping) -> Quarantined:
    return Quarantined(
        **{
            k: row[k]
            for k in (
                "id",
                "channel",
                "shop",
                "channel_order_no",
                "field",
                "reason",
                "payload",
                "source",
                "received_at",
                "status",
                "attempts",
                "resolved_at",
                "resolution",
                "order_id",
            )
        }
    )


class SqlQuarantineRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, item: Quarantined) -> int:
        open_same = None
        if item.channel_order_no:
            open_same = self._conn.execute(
                select(quarantine.c.id, quarantine.c.attempts).where(
                    quarantine.c.channel == item.channel,
                    quarantine.c.shop == item.shop,
                    quarantine.c.channel_order_no == item.channel_order_no,
                    quarantine.c.status == "open",
                )
            ).first()
        if open_same is not None:
            # The same order failing again: one entry, with its newest payload and reason.
            self._conn.execute(
                quarantine.update()
                .where(quarantine.c.id == open_same[0])
                .values(
                    payload=item.payload,
                    reason=item.reason,
                    field=item.field,
                    received_at=item.received_at,
                    attempts=open_same[1] + 1,
                )
            )
            return int(open_same[0])
        return inserted_id(
            self._conn.execute(
                quarantine.insert(),
                {
                    "channel": item.channel,
                    "shop": item.shop,
                    "channel_order_no": item.channel_order_no,
                    "field": item.field,
                    "reason": item.reason,
                    "payload": item.payload,
                    "source": item.source,
                    "received_at": item.received_at,
                    "status": item.status,
                    "attempts": item.attempts,
                },
            )
        )

    def get(self, item_id: int) -> Quarantined:
        row = (
            self._conn.execute(select(quarantine).where(quarantine.c.id == item_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"quarantine entry {item_id} does not exist")
        return _quarantined(row)

    def list(
        self, *, status: str | None = "open", shop: str | None = None, limit: int = 100
    ) -> Sequence[Quarantined]:
        query = select(quarantine).order_by(quarantine.c.id.desc()).limit(limit)
        if status:
            query = query.where(quarantine.c.status == status)
        if shop:
            query = query.where(quarantine.c.shop == shop)
        return [_quarantined(r) for r in self._conn.execute(query).mappings()]

    def resolve(
        self,
        item_id: int,
        *,
        status: str,
        at: datetime,
        resolution: str,
        order_id: int | None = None,
    ) -> None:
        self._conn.execute(
            quarantine.update()
            .where(quarantine.c.id == item_id)
            .values(status=status, resolved_at=at, resolution=resolution, order_id=order_id)
        )

    def open_numbers(self, channel: str, shop: str) -> set[str]:
        query = select(quarantine.c.channel_order_no).where(
            quarantine.c.channel == channel,
            quarantine.c.shop == shop,
            quarantine.c.status == "open",
            quarantine.c.channel_order_no.is_not(None),
        )
        return {str(n) for n in self._conn.execute(query).scalars()}

    def count_open(self) -> int:
        return int(
            self._conn.execute(
                select(func.count()).select_from(quarantine).where(quarantine.c.status == "open")
            ).scalar_one()
        )
