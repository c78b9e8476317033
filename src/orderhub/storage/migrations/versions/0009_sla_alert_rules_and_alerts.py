"""sla alerts: alerts (one per order, rule and stay), the notices they went into, and the index
on orders (status, paid_at) for rules that count from payment. The SLA rules themselves are rule
sets of kind 'sla' (table rule_sets, migration 0005).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 12:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import orderhub.storage.tables

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_When = orderhub.storage.tables.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_notices",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("escalation", sa.Boolean(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("created_at", _When, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notices")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("order_id", _Id, nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("since", sa.String(length=8), nullable=False),
        sa.Column("since_at", _When, nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("channel_order_no", sa.String(length=64), nullable=False),
        sa.Column("raised_at", _When, nullable=False),
        sa.Column("escalated_at", _When, nullable=True),
        sa.Column("acknowledged_at", _When, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.Column("resolved_at", _When, nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_alerts_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "order_id", "rule", "since_at", name=op.f("uq_alerts_order_id_rule_since_at")
        ),
    )
    op.create_index(op.f("ix_alerts_rule_id"), "alerts", ["rule", "id"])
    op.create_index(
        op.f("ix_alerts_rule_status_since_at"), "alerts", ["rule", "status", "since_at"]
    )
    op.create_index(op.f("ix_alerts_status_id"), "alerts", ["status", "id"])
    op.create_table(
        "alert_notifications",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("alert_id", _Id, nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("escalation", sa.Boolean(), nullable=False),
        sa.Column("created_at", _When, nullable=False),
        sa.Column("notice_id", _Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_notifications_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["alert_notices.id"],
            name=op.f("fk_alert_notifications_notice_id_alert_notices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notifications")),
        sa.UniqueConstraint(
            "alert_id",
            "recipient",
            "escalation",
            name=op.f("uq_alert_notifications_alert_id_recipient_escalation"),
        ),
    )
    op.create_index(
        op.f("ix_alert_notifications_notice_id_recipient_escalation_created_at"),
        "alert_notifications",
        ["notice_id", "recipient", "escalation", "created_at"],
    )
    # A plain CREATE INDEX (no batch copy of orders, which on SQLite would cascade-delete).
    op.create_index(op.f("ix_orders_status_paid_at"), "orders", ["status", "paid_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_status_paid_at"), table_name="orders")
    op.drop_index(
        op.f("ix_alert_notifications_notice_id_recipient_escalation_created_at"),
        table_name="alert_notifications",
    )
    op.drop_table("alert_notifications")
    op.drop_index(op.f("ix_alerts_status_id"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_rule_status_since_at"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_rule_id"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_notices")
