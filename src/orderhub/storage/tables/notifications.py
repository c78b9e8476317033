"""Who hears about alerts: the recipients alert rules name (email lists, chat robots, webhooks)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, String, Table, Text

from orderhub.storage.tables.base import Id, UTCDateTime, metadata

recipients = Table(
    "recipients",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    # email | wecom | dingtalk | feishu | webhook (domain.notifications.RecipientKind)
    Column("kind", String(16), nullable=False),
    # Email addresses (comma-separated) or the webhook URL.
    Column("address", Text, nullable=False),
    # Fernet-encrypted JSON of the signing secret, like a shop's credentials; "" sealed when none.
    Column("secret", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
