"""Stock per SKU and warehouse, and the ledger of every change."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    String,
    Table,
    Text,
)

from orderhub.storage.tables.base import Id, UTCDateTime, metadata

stock_levels = Table(
    "stock_levels",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("warehouse", String(64), primary_key=True),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # As-of time of the WMS count applied last; an older report is ignored.
    Column("counted_at", UTCDateTime),
    # The database's own floor under every code path: nothing reserved beyond what is on hand.
    CheckConstraint("reserved >= 0 AND on_hand >= reserved", name="not_below_reserved"),
)

# The ledger: every change of a level, with what the level became; levels = sum of the ledger.
stock_movements = Table(
    "stock_movements",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False),
    Column("warehouse", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("on_hand_delta", BigInteger, nullable=False),
    Column("reserved_delta", BigInteger, nullable=False),
    Column("on_hand_after", BigInteger, nullable=False),
    Column("reserved_after", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("source", String(32), nullable=False),
    Column("order_id", Id),
    Column("reference", String(128), unique=True),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "sku", "warehouse", "id"),
    Index(None, "order_id"),
)
