"""dwell: orders.state_since (when the order entered its current status)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 12:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import orderhub.storage.tables

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_When = orderhub.storage.tables.base.UTCDateTime(timezone=True)

# An order entered its current status with its last event that changed the status (a creation
# has no from_status); orders without one fall back to their last update, then their creation.
_BACKFILL_STATE_SINCE = """
UPDATE orders SET state_since = COALESCE(
    (SELECT MAX(e.at) FROM order_events e
      WHERE e.order_id = orders.id
        AND (e.from_status IS NULL OR e.from_status <> e.to_status)),
    updated_at,
    created_at)
"""


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_since", _When, nullable=True))
    op.execute(_BACKFILL_STATE_SINCE)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_orders_status_state_since"), ["status", "state_since"], unique=False
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_status_state_since"), table_name="orders")
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy: on SQLite a batch copy drops
    # and recreates orders, and with foreign keys on that deletes every order's lines and events.
    op.drop_column("orders", "state_since")
