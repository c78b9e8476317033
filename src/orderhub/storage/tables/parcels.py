"""Parcels that are not one order in one box: split orders' parts and merged orders."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from orderhub.storage.tables.base import Id, UTCDateTime, metadata

parcels = Table(
    "parcels",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # The warehouse's key: OH0000000012-2 (a split order's second parcel), OM0000000005 (merged).
    Column("parcel_no", String(32), nullable=False, unique=True),
    Column("kind", String(8), nullable=False),  # split / merge
    Column("warehouse", String(64), nullable=False),
    # planned / backorder / sent / intercepting / shipped / delivered / cancelled
    Column("status", String(16), nullable=False),
    # reserved / released / shipped: a split parcel holds its own stock; None: nothing held.
    Column("stock_state", String(16)),
    Column("handed_off_at", UTCDateTime),
    Column("carrier", String(64)),
    Column("tracking_no", String(64)),
    Column("shipped_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("note", Text, nullable=False),
    # Backorders waiting in a warehouse are looked up when its stock arrives.
    Index(None, "status", "warehouse"),
)

parcel_lines = Table(
    "parcel_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("parcel_id", ForeignKey("parcels.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),  # the order line's (1-based)
    Column("sku", String(64), nullable=False, index=True),
    Column("channel_sku", String(64)),
    Column("title", String(256), nullable=False),
    Column("quantity", Integer, nullable=False),
)
