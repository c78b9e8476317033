"""dwell: orders.state_since, handed_off_at, shipped_at; state_stays, their tags, pending ones

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 12:50:00

Existing orders get their times, and their finished stays and hops, from the timeline, so the
dwell report covers the past too: the stays go to state_stays_pending, and the first settling
(the worker's next tick, or the first report) files them into the report tables in buckets.
The segments of those stays are the orders' as they are now (the timeline does not say which
warehouse an order had when it left a state).
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

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_When = orderhub.storage.tables.base.UTCDateTime(timezone=True)

# An order entered its current status with its last event that changed the status (a creation
# has no from_status); orders without one fall back to their last update, then their creation.
_BACKFILL_ORDERS = """
UPDATE orders SET
  state_since = COALESCE(
    (SELECT MAX(e.at) FROM order_events e
      WHERE e.order_id = orders.id
        AND (e.from_status IS NULL OR e.from_status <> e.to_status)),
    updated_at,
    created_at),
  handed_off_at = (SELECT MAX(e.at) FROM order_events e
                    WHERE e.order_id = orders.id AND e.action = 'send_to_warehouse'),
  shipped_at = (SELECT MAX(e.at) FROM order_events e
                 WHERE e.order_id = orders.id AND e.action = 'ship')
"""

# Each status change ends a stay that began with the order's previous status change; each
# hand-off, shipment and delivery ends a hop that began at the payment, the last hand-off and
# the last shipment before it. {seconds} is the dialect's difference of two times in seconds.
_BACKFILL_STAYS = """
INSERT INTO state_stays_pending
  (order_id, kind, step, entered_at, left_at, seconds, channel, shop, warehouse, order_type, tags)
SELECT m.order_id, m.kind, m.step, m.entered_at, m.left_at,
       CASE WHEN {seconds} > 0 THEN {seconds} ELSE 0 END,
       o.channel, o.shop, o.warehouse, o.order_type, o.tags
FROM (
  SELECT order_id, 'state' AS kind, from_status AS step, entered_at, at AS left_at
  FROM (
    SELECT e.order_id, e.from_status, e.at,
           LAG(e.at) OVER (PARTITION BY e.order_id ORDER BY e.id) AS entered_at
    FROM order_events e
    WHERE e.from_status IS NULL OR e.from_status <> e.to_status
  ) moves
  WHERE from_status IS NOT NULL AND entered_at IS NOT NULL
  UNION ALL
  SELECT order_id, 'hop',
         CASE action WHEN 'send_to_warehouse' THEN 'payment_to_handoff'
                     WHEN 'ship' THEN 'handoff_to_shipped'
                     ELSE 'shipped_to_delivered' END,
         entered_at, at
  FROM (
    SELECT e.order_id, e.action, e.at,
           CASE WHEN e.action = 'send_to_warehouse' THEN po.paid_at
                WHEN e.action = 'ship' AND LAG(e.action) OVER w = 'send_to_warehouse'
                  THEN LAG(e.at) OVER w
                WHEN e.action = 'deliver' AND LAG(e.action) OVER w = 'ship'
                  THEN LAG(e.at) OVER w
           END AS entered_at
    FROM order_events e JOIN orders po ON po.id = e.order_id
    WHERE e.action IN ('send_to_warehouse', 'ship', 'deliver')
    WINDOW w AS (PARTITION BY e.order_id ORDER BY e.id)
  ) milestones
  WHERE entered_at IS NOT NULL
) m
JOIN orders o ON o.id = m.order_id
"""

_SECONDS = {
    "sqlite": "ROUND((julianday(m.left_at) - julianday(m.entered_at)) * 86400.0, 3)",
    "postgresql": "EXTRACT(EPOCH FROM (m.left_at - m.entered_at))",
}


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_since", _When, nullable=True))
        batch_op.add_column(sa.Column("handed_off_at", _When, nullable=True))
        batch_op.add_column(sa.Column("shipped_at", _When, nullable=True))
    op.execute(_BACKFILL_ORDERS)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_orders_status_state_since"), ["status", "state_since"], unique=False
        )
    op.create_table(
        "state_stays",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("entered_at", _When, nullable=False),
        sa.Column("left_at", _When, nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("warehouse", sa.String(length=64), nullable=True),
        sa.Column("order_type", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_stays")),
    )
    for segment in ("", "channel", "shop", "warehouse", "order_type"):
        columns = ["step", *([segment] if segment else []), "bucket", "seconds", "left_at"]
        op.create_index(
            op.f(f"ix_state_stays_{'_'.join(columns)}"), "state_stays", columns, unique=False
        )
    op.create_table(
        "state_stay_tags",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("left_at", _When, nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_stay_tags")),
    )
    op.create_index(
        op.f("ix_state_stay_tags_step_tag_bucket_seconds_left_at"),
        "state_stay_tags",
        ["step", "tag", "bucket", "seconds", "left_at"],
        unique=False,
    )
    op.create_table(
        "state_stays_pending",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("entered_at", _When, nullable=False),
        sa.Column("left_at", _When, nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("warehouse", sa.String(length=64), nullable=True),
        sa.Column("order_type", sa.String(length=32), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_stays_pending")),
    )
    dialect = op.get_bind().dialect.name
    op.execute(_BACKFILL_STAYS.format(seconds=_SECONDS.get(dialect, _SECONDS["postgresql"])))


def downgrade() -> None:
    op.drop_table("state_stays_pending")
    op.drop_table("state_stay_tags")
    op.drop_table("state_stays")
    op.drop_index(op.f("ix_orders_status_state_since"), table_name="orders")
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy: on SQLite a batch copy drops
    # and recreates orders, and with foreign keys on that deletes every order's lines and events.
    for column in ("shipped_at", "handed_off_at", "state_since"):
        op.drop_column("orders", column)
