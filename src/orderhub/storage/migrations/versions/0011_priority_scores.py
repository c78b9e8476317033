"""priority scores: outbox.ranked_at, each message's place in the line (priority with aging),
and ix_outbox_due, the claim's walk through the unfinished messages in that order

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 12:50:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, timedelta

import sqlalchemy as sa
from alembic import op

import orderhub.storage.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_When = orderhub.storage.tables.base.UTCDateTime(timezone=True)
# ORDERHUB_PRIORITY_AGING_PER_MIN's default: the messages still waiting keep the order their
# priority gave them (a point is worth 60 / 2.0 = 30 seconds of waiting).
_SECONDS_PER_POINT = 30.0

_outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("priority", sa.Integer()),
    sa.column("created_at", _When),
    sa.column("ranked_at", _When),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ranked_at", _When, nullable=True))
    op.execute(_outbox.update().values(ranked_at=_outbox.c.created_at))
    conn = op.get_bind()
    waiting = conn.execute(
        sa.select(_outbox.c.id, _outbox.c.priority, _outbox.c.created_at).where(
            _outbox.c.status.in_(("pending", "sending")), _outbox.c.priority != 0
        )
    ).all()
    for message_id, priority, created_at in waiting:
        at = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        conn.execute(
            _outbox.update()
            .where(_outbox.c.id == message_id)
            .values(ranked_at=at - timedelta(seconds=priority * _SECONDS_PER_POINT))
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("ranked_at", existing_type=_When, nullable=False)
    unfinished = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["target", "ranked_at", "id"],
        unique=False,
        sqlite_where=unfinished,
        postgresql_where=unfinished,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    # DROP COLUMN (SQLite 3.35+), not a batch copy of the outbox.
    op.drop_column("outbox", "ranked_at")
