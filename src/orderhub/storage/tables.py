"""Every table, as SQLAlchemy Core, on one MetaData that Alembic migrates."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite makes only INTEGER keys rowids: 64-bit ids on PostgreSQL, rowids on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Always aware UTC in Python; SQLite keeps naive UTC text, PostgreSQL timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; OrderHub stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    Column("custom_fields", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    # The channel's own modified time and status word of the version applied last: an update
    # no newer than this is ignored (never moves the order backwards).
    Column("channel_modified_at", UTCDateTime),
    Column("channel_status", String(48)),
    UniqueConstraint("channel", "shop", "channel_order_no"),
    Index(None, "status", "id"),
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

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", String(36), nullable=False, unique=True),
    Column("event_type", String(64), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Index(None, "status", "next_attempt_at"),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(32), nullable=False),
    Column("locale", String(8)),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    # sha256 of the token: tokens are long random strings, so a fast hash is enough to look up.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
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


stock_levels = Table(
    "stock_levels",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("warehouse", String(64), primary_key=True),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
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
