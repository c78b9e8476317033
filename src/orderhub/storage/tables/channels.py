"""Shops, the catalogue and SKU mappings, raw channel payloads and the quarantine."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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

shops = Table(
    "shops",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("base_url", String(256), nullable=False),
    # app key, secret and token as one Fernet token (cryptography); never stored in clear.
    Column("credentials", Text, nullable=False),
    Column("settings", JSON, nullable=False),
    Column("cursor_at", UTCDateTime),
    Column("last_sync_at", UTCDateTime),
    Column("last_error", Text),
    # Where its orders ship from until routing rules say otherwise.
    Column("warehouse", String(32)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("title", String(256), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# A combo (bundle) SKU is a product with components; it expands into them at ingest.
product_components = Table(
    "product_components",
    metadata,
    Column("combo_sku", ForeignKey("products.sku", ondelete="CASCADE"), primary_key=True),
    Column("component_sku", String(64), primary_key=True),
    Column("quantity", Integer, nullable=False),
    # Share of the combo's price this component carries (its list price, say).
    Column("weight", BigInteger, nullable=False),
)

sku_mappings = Table(
    "sku_mappings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    # "" means every shop of the channel.
    Column("shop", String(64), nullable=False),
    Column("channel_sku", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel", "shop", "channel_sku"),
)

# Every version of every channel payload, as it came, with what was done with it (audit).
channel_payloads = Table(
    "channel_payloads",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("shop", String(64), nullable=False),
    Column("channel_order_no", String(64)),
    Column("modified_at", UTCDateTime),
    Column("received_at", UTCDateTime, nullable=False),
    Column("source", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("order_id", Id),
    Column("payload", JSON, nullable=False),
    Index(None, "channel", "shop", "channel_order_no"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("shop", String(64), nullable=False),
    Column("channel_order_no", String(64)),
    Column("field", String(128)),
    Column("reason", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("source", String(16), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    # open -> replayed (now in the pool) or discarded (by a person, with a reason)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("resolved_at", UTCDateTime),
    Column("resolution", Text),
    Column("order_id", Id),
    Index(None, "status", "id"),
    Index(None, "channel", "shop", "channel_order_no"),
)
