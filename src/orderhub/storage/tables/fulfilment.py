"""What leaves OrderHub (the outbox and its delivery attempts), what came in once (the inbox),
the warehouses goods ship from, and the review and routing rules that decide where."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from orderhub.storage.tables.base import Id, UTCDateTime, metadata

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", String(36), nullable=False, unique=True),
    Column("event_type", String(64), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # pending -> sending (claimed; next_attempt_at is then the end of the claim) -> delivered |
    # refused | dead; "kept" rows are change events recorded while no broker is configured.
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("target", String(96), nullable=False, server_default="events"),
    Column("order_id", Id),
    Column("priority", Integer, nullable=False, server_default="0"),
    # Its place in the line: when it started waiting less the head start its priority is worth
    # (domain/priority.py ranked_at); the claim serves the earliest first.
    Column("ranked_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime),
    Column("answer", JSON),
    Index(None, "status", "next_attempt_at"),
    # The claim skips a message while an older one with the same key (an order, a listing) and
    # target is undelivered.
    Index(None, "aggregate_id", "target", "id"),
    Index(None, "order_id", "target", "id"),
    Index(None, "target", "status"),
)
# The claim's walk: per target, the unfinished messages in the order they are served (lowest
# ranked_at first), so a round reads about as many rows as it claims however long the backlog.
# Partial (only unfinished rows): delivered history and kept events stay out of it. The claim
# repeats this condition word for word (as literals), or the planners cannot use the index.
OUTBOX_UNFINISHED = ("pending", "sending")
Index(
    "ix_outbox_due",
    outbox.c.target,
    outbox.c.ranked_at,
    outbox.c.id,
    sqlite_where=outbox.c.status.in_(OUTBOX_UNFINISHED),
    postgresql_where=outbox.c.status.in_(OUTBOX_UNFINISHED),
)

outbox_attempts = Table(
    "outbox_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("outbox_id", Id, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text),
    Column("worker", String(64), nullable=False),
    Index(None, "outbox_id"),
)

inbox = Table(
    "inbox",
    metadata,
    # The sender's message id, namespaced by source ("wms:WH-MAIN:<id>"): a repeat is ignored.
    Column("message_id", String(192), primary_key=True),
    Column("source", String(96), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("outcome", Text, nullable=False),
)

warehouses = Table(
    "warehouses",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    Column("wms", String(32), nullable=False),
    Column("base_url", String(256), nullable=False),
    # Fernet-encrypted JSON of the WMS credentials, like a shop's.
    Column("credentials", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("rate_per_s", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

rule_sets = Table(
    "rule_sets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    # Every save is a new version; the highest is in force, the others are the history.
    Column("version", Integer, nullable=False),
    Column("rules", JSON, nullable=False),
    Column("default_outcome", JSON, nullable=False),
    Column("notes", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    UniqueConstraint("kind", "version"),
)
