"""The inbox: ids of inbound messages already applied, so a repeated callback changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from orderhub.storage.tables import inbox


class SqlInboxRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        # ON CONFLICT DO NOTHING: a duplicate must not abort the transaction (PostgreSQL would).
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # RETURNING tells a new row from a conflict (psycopg reports no rowcount for it).
        self._insert: Any = (
            dialect.insert(inbox).on_conflict_do_nothing().returning(inbox.c.message_id)
        )

    def claim(self, message_id: str, *, source: str, kind: str, at: datetime) -> bool:
        row = {
            "message_id": message_id,
            "source": source,
            "kind": kind,
            "received_at": at,
            "outcome": "applied",
        }
        return self._conn.execute(self._insert, row).first() is not None

    def claim_many(self, messages: dict[str, str], *, source: str, at: datetime) -> set[str]:
        """Record many (message id -> kind) in few statements; returns the ids that were new."""
        if not messages:
            return set()
        rows = [
            {"message_id": m, "source": source, "kind": k, "received_at": at, "outcome": "applied"}
            for m, k in messages.items()
        ]
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        fresh: set[str] = set()
        for start in range(0, len(rows), 500):  # well inside SQLite's bound-parameter limit
            statement = (
                dialect.insert(inbox)
                .values(rows[start : start + 500])
                .on_conflict_do_nothing()
                .returning(inbox.c.message_id)
            )
            fresh.update(self._conn.execute(statement).scalars())
        return fresh

    def set_outcome(self, message_id: str, outcome: str) -> None:
        self._conn.execute(
            update(inbox).where(inbox.c.message_id == message_id).values(outcome=outcome[:100_000])
        )
