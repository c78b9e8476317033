"""Idempotency keys: which order a (principal, key) created, and the hash of the request body."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from orderhub.services.ports import Clock, IdempotencyKeyTaken
from orderhub.storage.tables import idempotency_keys

_FIND_KEY = select(idempotency_keys.c.request_hash, idempotency_keys.c.order_id).where(
    idempotency_keys.c.principal == bindparam("principal"),
    idempotency_keys.c.key == bindparam("key"),
)
_INSERT_KEY = idempotency_keys.insert()


class SqlIdempotencyRepository:
    def __init__(self, conn: Connection, clock: Clock) -> None:
        self._conn, self._clock = conn, clock

    def find(self, principal: str, key: str) -> tuple[str, int] | None:
        row = self._conn.execute(_FIND_KEY, {"principal": principal, "key": key}).first()
        return (row[0], int(row[1])) if row else None

    def add(self, principal: str, key: str, request_hash: str, order_id: int) -> None:
        try:
            self._conn.execute(
                _INSERT_KEY,
                {
                    "principal": principal,
                    "key": key,
                    "request_hash": request_hash,
                    "order_id": order_id,
                    "created_at": self._clock.now(),
                },
            )
        except IntegrityError as error:
            raise IdempotencyKeyTaken(key) from error
