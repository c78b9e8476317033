"""The outbox: change events and commands for other systems, written in the transaction that
caused them, then claimed, delivered and finished by the relay (worker/relay.py).

A claim sets status `sending` and leases the row until `next_attempt_at`; a worker killed
mid-delivery leaves a lease that runs out, and the row is claimed again (receivers dedupe by
message id). Finishing checks the lease it took, so a worker that overslept its lease cannot
finish a row someone else has re-claimed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, exists, func, select, update
from sqlalchemy.engine import Connection, RowMapping

from orderhub.domain.orders import Order
from orderhub.domain.priority import DEFAULT_AGING_PER_MIN, ranked_at
from orderhub.domain.timeline import OrderEvent
from orderhub.errors import NotFound
from orderhub.services.ports import Command, OutboxMessage
from orderhub.storage.tables import outbox, outbox_attempts
from orderhub.storage.tables.fulfilment import OUTBOX_UNFINISHED

INSERT_MESSAGES = outbox.insert()
PENDING, SENDING, KEPT = "pending", "sending", "kept"
DELIVERED, REFUSED, DEAD, SUPERSEDED = "delivered", "refused", "dead", "superseded"
UNFINISHED = OUTBOX_UNFINISHED  # (PENDING, SENDING): the rows ix_outbox_due holds
EVENT_VERSION = 1
_NO_STATUS_CHANGE = {"edit": "order.edited"}


def event_type(event: OrderEvent) -> str:
    if event.from_status is None:
        return "order.created"
    if event.changes_status:
        return "order.status_changed"
    return _NO_STATUS_CHANGE.get(event.action, f"order.{event.action}")


def message_row(
    order: Order,
    event: OrderEvent,
    message_id: UUID,
    now: datetime,
    *,
    publish: bool = False,
    aging_per_min: float = DEFAULT_AGING_PER_MIN,
) -> dict[str, Any]:
    """A change event; kept as the record only, unless a broker takes it (`publish`)."""
    return {
        "message_id": str(message_id),
        "event_type": event_type(event),
        "aggregate_id": str(order.id),
        "order_id": order.id,
        "target": "events",
        "priority": order.priority,
        "ranked_at": ranked_at(now, order.priority, aging_per_min),
        "payload": {
            "version": EVENT_VERSION,
            "order_id": order.id,
            "channel": order.channel,
            "shop": order.shop,
            "channel_order_no": order.channel_order_no,
            "action": event.action,
            "from_status": event.from_status.value if event.from_status else None,
            "to_status": event.to_status.value,
            "at": event.at.isoformat(),
            "actor": event.actor_name,
            "source": event.source,
            "reason_code": event.reason_code,
            "correlation_id": event.correlation_id,
        },
        "created_at": now,
        "status": PENDING if publish else KEPT,
        "attempts": 0,
        "next_attempt_at": now,
    }


def command_row(
    command: Command, now: datetime, *, aging_per_min: float = DEFAULT_AGING_PER_MIN
) -> dict[str, Any]:
    return {
        "message_id": str(uuid.uuid4()),
        "event_type": command.kind,
        "aggregate_id": command.key or str(command.order_id or ""),
        "order_id": command.order_id,
        "target": command.target,
        "priority": command.priority,
        "ranked_at": ranked_at(command.since or now, command.priority, aging_per_min),
        "payload": command.payload,
        "created_at": now,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
    }


def _message(row: RowMapping) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        message_id=row["message_id"],
        target=row["target"],
        kind=row["event_type"],
        payload=row["payload"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        order_id=row["order_id"],
    )


_earlier = outbox.alias("earlier")


def _unfinished(status: ColumnElement[str]) -> ColumnElement[bool]:
    # Rendered as literals, the condition of the partial index ix_outbox_due word for word: with
    # bound parameters neither SQLite nor PostgreSQL can tell the index covers the query.
    values: BindParameter[list[str]] = bindparam(
        None, list(OUTBOX_UNFINISHED), expanding=True, literal_execute=True
    )
    return status.in_(values)


# Per key (an order; a listing) and target, only the oldest unfinished message is due: a cancel
# never overtakes the create it cancels, subscribers see one order's events in order, and an
# older stock figure never lands after a newer one. Per target (the caller adds it), the highest
# priority with aging first (domain/priority.py), walking ix_outbox_due in order: a round reads
# about as many rows as it claims, however long the backlog.
_DUE = (
    select(outbox.c.id)
    .where(
        _unfinished(outbox.c.status),
        outbox.c.next_attempt_at <= bindparam("now"),
        ~exists().where(
            _earlier.c.aggregate_id == outbox.c.aggregate_id,
            _earlier.c.target == outbox.c.target,
            _earlier.c.id < outbox.c.id,
            _unfinished(_earlier.c.status),
        ),
    )
    .order_by(outbox.c.ranked_at, outbox.c.id)
    .limit(bindparam("limit"))
)
_FINISH = (
    update(outbox)
    .where(outbox.c.id == bindparam("b_id"))
    .values(
        status=bindparam("status"),
        attempts=outbox.c.attempts + 1,
        next_attempt_at=bindparam("next_attempt_at"),
        last_error=bindparam("last_error"),
        delivered_at=bindparam("delivered_at"),
        answer=bindparam("answer"),
    )
)


class SqlOutboxRepository:
    def __init__(self, conn: Connection, *, aging_per_min: float = DEFAULT_AGING_PER_MIN) -> None:
        self._conn = conn
        self._aging_per_min = aging_per_min

    # --- the relay -------------------------------------------------------------------------

    def claim(
        self, *, now: datetime, limit: int, lease_s: float, skip: Sequence[str] = ()
    ) -> tuple[list[OutboxMessage], datetime]:
        """Lease up to `limit` due messages of each target (but those in `skip`); returns them
        and the lease (their finish token).

        Per target, so a slow or failing receiver's backlog never holds up another's.
        """
        due_targets = (
            select(outbox.c.target)
            .distinct()
            .where(outbox.c.status.in_(UNFINISHED), outbox.c.next_attempt_at <= now)
        )
        ids: list[int] = []
        for target in self._conn.execute(due_targets).scalars():
            if target in skip:
                continue
            query = _DUE.where(outbox.c.target == target)
            if self._conn.dialect.name == "postgresql":
                # Several workers claim disjoint rows; SQLite serialises writers instead.
                query = query.with_for_update(skip_locked=True, of=outbox)
            ids += self._conn.execute(query, {"now": now, "limit": limit}).scalars()
        lease = now + timedelta(seconds=lease_s)
        if not ids:
            return [], lease
        rows = self._conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(status=SENDING, next_attempt_at=lease)
            .returning(*outbox.c)
        ).mappings()
        order = {message_id: n for n, message_id in enumerate(ids)}
        messages = sorted((_message(r) for r in rows), key=lambda m: order[m.id])
        return messages, lease

    def finish(self, rows: Sequence[dict[str, Any]], *, lease: datetime) -> set[int]:
        """Record outcomes (`id`, `status`, `next_attempt_at`, `last_error`, `delivered_at`,
        `answer`, `attempt_at`, `outcome`, `worker`); returns the ids this lease still held."""
        held_query = select(outbox.c.id).where(
            outbox.c.id.in_([row["id"] for row in rows]),
            outbox.c.status == SENDING,
            outbox.c.next_attempt_at == lease,
        )
        if self._conn.dialect.name == "postgresql":
            held_query = held_query.with_for_update()  # no re-claim between this and the update
        held = set(self._conn.execute(held_query).scalars())
        if held:
            # One executemany for the batch: the per-statement cost is what a relay round pays.
            self._conn.execute(
                _FINISH, [{**row, "b_id": row["id"]} for row in rows if row["id"] in held]
            )
        attempts = [
            {
                "outbox_id": row["id"],
                "at": row["attempt_at"],
                "outcome": row["outcome"],
                "detail": row["last_error"],
                "worker": row["worker"],
            }
            for row in rows
            if row["id"] in held
        ]
        if attempts:
            self._conn.execute(outbox_attempts.insert(), attempts)
        return held

    def release(self, ids: Sequence[int], *, lease: datetime, at: datetime) -> None:
        """Give back claimed rows that were not tried (e.g. the target's rate limit)."""
        if ids:
            self._conn.execute(
                update(outbox)
                .where(
                    outbox.c.id.in_(list(ids)),
                    outbox.c.status == SENDING,
                    outbox.c.next_attempt_at == lease,
                )
                .values(status=PENDING, next_attempt_at=at)
            )

    # --- services ----------------------------------------------------------------------------

    def supersede(self, order_id: int, target: str, kind: str, reason: str) -> int:
        result = self._conn.execute(
            update(outbox)
            .where(
                outbox.c.order_id == order_id,
                outbox.c.target == target,
                outbox.c.event_type == kind,
                outbox.c.status == PENDING,
            )
            .values(status=SUPERSEDED, last_error=reason)
        )
        return int(result.rowcount)

    def coalesce(self, command: Command, now: datetime) -> bool:
        """Write a command that replaces the same key's message not yet sent, if there is one
        (a burst of changes becomes one delivery of the latest); True when it replaced one.

        A message already being sent is left alone: the new one is written after it, and the
        per-key order in the claim sends it only once the one in flight is finished. A replaced
        message keeps its place in the line (its `ranked_at`): the wait counts from the first
        change."""
        assert command.key, "a coalesced command needs its key"
        replaced = self._conn.execute(
            update(outbox)
            .where(
                outbox.c.aggregate_id == command.key,
                outbox.c.target == command.target,
                outbox.c.event_type == command.kind,
                outbox.c.status == PENDING,
            )
            .values(payload=command.payload, priority=command.priority)
        ).rowcount
        if replaced:
            return True
        self._conn.execute(
            INSERT_MESSAGES, [command_row(command, now, aging_per_min=self._aging_per_min)]
        )
        return False

    def reprioritise(
        self, order_id: int, target: str, kind: str, *, priority: int, since: datetime
    ) -> int:
        """The order's messages of `kind` not yet sent get `priority` (in their payload too)
        and the place in the line it gives them; a message being sent keeps its own."""
        rows = self._conn.execute(
            select(outbox.c.id, outbox.c.payload).where(
                outbox.c.order_id == order_id,
                outbox.c.target == target,
                outbox.c.event_type == kind,
                outbox.c.status == PENDING,
            )
        ).all()
        for message_id, payload in rows:
            self._conn.execute(
                update(outbox)
                .where(outbox.c.id == message_id, outbox.c.status == PENDING)
                .values(
                    priority=priority,
                    ranked_at=ranked_at(since, priority, self._aging_per_min),
                    payload={**payload, "priority": priority},
                )
            )
        return len(rows)

    def pending_for(self, order_id: int, target: str, kind: str) -> bool:
        query = select(outbox.c.id).where(
            outbox.c.order_id == order_id,
            outbox.c.target == target,
            outbox.c.event_type == kind,
            outbox.c.status.in_(UNFINISHED),
        )
        return self._conn.execute(query.limit(1)).first() is not None

    # --- operations --------------------------------------------------------------------------

    def counts(self) -> list[dict[str, Any]]:
        """Messages per target and status (kept change events are not a backlog: left out)."""
        query = (
            select(outbox.c.target, outbox.c.status, func.count().label("count"))
            .where(outbox.c.status != KEPT)
            .group_by(outbox.c.target, outbox.c.status)
            .order_by(outbox.c.target, outbox.c.status)
        )
        return [dict(r) for r in self._conn.execute(query).mappings()]

    def list(
        self,
        *,
        status: str | None = None,
        target: str | None = None,
        order_id: int | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        conditions = [outbox.c.status != KEPT] if status is None else [outbox.c.status == status]
        if target is not None:
            conditions.append(outbox.c.target == target)
        if order_id is not None:
            conditions.append(outbox.c.order_id == order_id)
        if before_id is not None:
            conditions.append(outbox.c.id < before_id)
        query = select(outbox).where(and_(*conditions)).order_by(outbox.c.id.desc()).limit(limit)
        return [dict(r) for r in self._conn.execute(query).mappings()]

    def get(self, message_id: int) -> dict[str, Any]:
        row = self._conn.execute(select(outbox).where(outbox.c.id == message_id)).mappings().first()
        if row is None:
            raise NotFound(
                f"outbox message {message_id} does not exist; list them with `orderhub outbox list`"
            )
        found = dict(row)
        found["attempt_log"] = [
            dict(a)
            for a in self._conn.execute(
                select(outbox_attempts)
                .where(outbox_attempts.c.outbox_id == message_id)
                .order_by(outbox_attempts.c.id)
            ).mappings()
        ]
        return found

    def retry(self, message_id: int, *, at: datetime) -> dict[str, Any]:
        """Send a dead or refused message again, now; returns the message as it was."""
        found = self.get(message_id)
        self._conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(status=PENDING, next_attempt_at=at, attempts=0)
        )
        return found
