"""Stock shown on the channels: each shop's listings, its stock rule, and the SKUs whose
available stock changed since the listings were last worked out."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from orderhub.storage.tables.base import Id, UTCDateTime, metadata

listings = Table(
    "listings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    # The seller's code on the listing (outer id, Shopify variant sku): what mappings key on.
    Column("channel_sku", String(128), nullable=False),
    Column("title", String(256), nullable=False),
    # The merchant SKU or combo it sells; NULL while the channel SKU is unmapped.
    Column("sku", String(64)),
    # The channel's own ids a stock update needs (num_iid + sku_id, inventory_item_id...).
    Column("ids", JSON, nullable=False),
    Column("channel_quantity", BigInteger),
    Column("planned_quantity", BigInteger),
    Column("pushed_quantity", BigInteger),
    Column("pushed_at", UTCDateTime),
    Column("last_error", Text),
    Column("synced_at", UTCDateTime, nullable=False),
    Index(None, "shop", "channel_sku", unique=True),
    Index(None, "sku"),
)

stock_rules = Table(
    "stock_rules",
    metadata,
    Column("shop", String(64), primary_key=True),
    Column("percent", Integer, nullable=False),
    Column("buffer", BigInteger, nullable=False),
    Column("minimum", BigInteger, nullable=False),
    Column("warehouses", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(128), nullable=False),
)

# One row per SKU whose available stock changed and whose listings are not yet worked out.
# Written in the transaction that changed the stock; `seq` counts changes, so the planner
# deletes a row only if no change came in after it read it.
stock_changes = Table(
    "stock_changes",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("first_changed_at", UTCDateTime, nullable=False),
)
