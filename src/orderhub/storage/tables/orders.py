"""Orders, their lines, tags and timeline, and merchant-declared custom fields."""

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
    false,
)

from orderhub.storage.tables.base import Id, UTCDateTime, metadata

orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("channel_order_no", String(64), nullable=False),
    Column("shop", String(64), nullable=False),
    Column("order_type", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("resume_status", String(32)),
    Column("exception_reason", String(48)),
    Column("payment_status", String(32), nullable=False),
    Column("payment_method", String(32)),
    Column("transaction_no", String(64)),
    Column("currency", String(3), nullable=False),
    Column("goods_total", BigInteger, nullable=False),
    Column("shipping_fee", BigInteger, nullable=False),
    Column("discount", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("paid_total", BigInteger, nullable=False),
    Column("buyer_id", String(64)),
    Column("buyer_nick", String(128)),
    Column("buyer_note", Text),
    Column("seller_note", Text),
    Column("receiver_name", String(128), nullable=False),
    Column("receiver_phone", String(32), nullable=False),
    Column("receiver_province", String(64), nullable=False),
    Column("receiver_city", String(64), nullable=False),
    Column("receiver_district", String(64), nullable=False),
    Column("receiver_address", Text, nullable=False),
    Column("receiver_postcode", String(16)),
    Column("receiver_masked", Boolean, nullable=False),
    Column("invoice_title", String(128)),
    Column("invoice_tax_id", String(32)),
    Column("tags", JSON, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("warehouse", String(64)),
    Column("carrier", String(64)),
    Column("tracking_no", String(64)),
    # none / reserved / released / shipped: where the order stands with its stock.
    Column("stock_state", String(16)),
    # The warehouse's queue routing chose (the WMS picks by it); None: the default queue.
    Column("queue", String(32)),
    # split / merged: it leaves in parcels (tables/parcels.py); None: as one parcel of its own.
    Column("parcel_mode", String(8)),
    Column("never_merge", Boolean, nullable=False, server_default=false()),
    Column("custom_fields", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    # When it entered its current status: how long it has waited there (dwell, SLA checks).
    Column("state_since", UTCDateTime),
    # Last handed to the warehouse, and shipped: where the dwell report's hops start.
    Column("handed_off_at", UTCDateTime),
    Column("shipped_at", UTCDateTime),
    Column("version", Integer, nullable=False),
    # The channel's own modified time and status word of the version applied last: an update
    # no newer than this is ignored (never moves the order backwards).
    Column("channel_modified_at", UTCDateTime),
    Column("channel_status", String(48)),
    UniqueConstraint("channel", "shop", "channel_order_no"),
    Index(None, "status", "id"),
    # Orders waiting in a state longest first, without a scan (SLA checks, open stays).
    Index(None, "status", "state_since"),
    # Orders in a state paid longest ago first: SLA rules that count from payment.
    Index(None, "status", "paid_at"),
    Index(None, "exception_reason", "id"),
    Index(None, "created_at"),
    Index(None, "receiver_phone"),
    Index(None, "channel_order_no"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("channel_sku", String(64)),
    Column("title", String(256), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("line_discount", BigInteger, nullable=False),
)

# The index behind the tag filter; orders.tags keeps the list so loading an order needs no join.
order_tags = Table(
    "order_tags",
    metadata,
    Column("tag", String(64), primary_key=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
)

order_events = Table(
    "order_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_status", String(32)),
    Column("to_status", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_name", String(128), nullable=False),
    Column("source", String(32), nullable=False),
    Column("reason", Text),
    Column("reason_code", String(48)),
    Column("correlation_id", String(64)),
    Column("detail", JSON, nullable=False),
    Index(None, "order_id", "id"),
)

custom_field_defs = Table(
    "custom_field_defs",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("label", String(128), nullable=False),
    Column("required", Boolean, nullable=False),
    Column("choices", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
