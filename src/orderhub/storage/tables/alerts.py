"""SLA alerts, the notices they went into, and which alert reached which recipient in which one."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from orderhub.storage.tables.base import Id, UTCDateTime, metadata

alerts = Table(
    "alerts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("rule", String(128), nullable=False),
    Column("rule_version", Integer, nullable=False),
    # The order's status when raised, the rule's clock (state | paid) and when it started.
    Column("state", String(32), nullable=False),
    Column("since", String(8), nullable=False),
    Column("since_at", UTCDateTime, nullable=False),
    Column("severity", String(16), nullable=False),
    # open | acknowledged | resolved (domain.alerts.AlertStatus)
    Column("status", String(16), nullable=False),
    # Copied from the order (they never change): the inbox and digests count by them.
    Column("shop", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("channel_order_no", String(64), nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("escalated_at", UTCDateTime),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(128)),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", String(128)),
    # moved_on | by_hand | rule_removed (domain.alerts.Resolution)
    Column("resolution", String(16)),
    Column("note", Text),
    # Raised once per order, rule and stay, even by two checkers at once.
    UniqueConstraint("order_id", "rule", "since_at"),
    Index(None, "status", "id"),
    Index(None, "rule", "id"),
    # A rule's unresolved alerts, oldest clock first: escalation and resolving without a scan.
    Index(None, "rule", "status", "since_at"),
)

alert_notices = Table(
    "alert_notices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("recipient", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("digest", Boolean, nullable=False),
    Column("escalation", Boolean, nullable=False),
    Column("link", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# One row per alert and recipient to tell (raised, and again when escalated); `notice_id` is the
# notice it went into, NULL while it waits for its digest window.
alert_notifications = Table(
    "alert_notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("alert_id", ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("recipient", String(32), nullable=False),
    Column("escalation", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("notice_id", ForeignKey("alert_notices.id")),
    # Nothing is told twice: one row per alert, recipient and kind.
    UniqueConstraint("alert_id", "recipient", "escalation"),
    # What waits to be told, per recipient and kind, oldest first: read from the index alone.
    Index(None, "notice_id", "recipient", "escalation", "created_at"),
)
