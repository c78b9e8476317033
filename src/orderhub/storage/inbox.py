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

    def set_outcome(self, message_id: str, outcome: str) -> None:
        self._conn.execute(
            update(inbox).where(inbox.c.message_id == message_id).values(outcome=outcome[:100_000])
        )
