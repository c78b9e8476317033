"""Every table, as SQLAlchemy Core, on one MetaData that Alembic migrates (one module per area)."""

from orderhub.storage.tables.accounts import api_tokens, idempotency_keys, users
from orderhub.storage.tables.alerts import alert_notices, alert_notifications, alerts
from orderhub.storage.tables.base import Id, UTCDateTime, metadata
from orderhub.storage.tables.bottlenecks import (
    state_stay_tags,
    state_stays,
    state_stays_pending,
)
from orderhub.storage.tables.channels import (
    channel_payloads,
    product_components,
    products,
    quarantine,
    shops,
    sku_mappings,
)
from orderhub.storage.tables.fulfilment import (
    inbox,
    outbox,
    outbox_attempts,
    rule_sets,
    warehouses,
)
from orderhub.storage.tables.inventory import stock_levels, stock_movements
from orderhub.storage.tables.notifications import recipients
from orderhub.storage.tables.orders import (
    custom_field_defs,
    order_events,
    order_lines,
    order_tags,
    orders,
)
from orderhub.storage.tables.parcels import parcel_lines, parcels
from orderhub.storage.tables.stock_push import listings, stock_changes, stock_rules

__all__ = [
    "Id",
    "UTCDateTime",
    "alert_notices",
    "alert_notifications",
    "alerts",
    "api_tokens",
    "channel_payloads",
    "custom_field_defs",
    "idempotency_keys",
    "inbox",
    "listings",
    "metadata",
    "order_events",
    "order_lines",
    "order_tags",
    "orders",
    "outbox",
    "outbox_attempts",
    "parcel_lines",
    "parcels",
    "product_components",
    "products",
    "quarantine",
    "recipients",
    "rule_sets",
    "shops",
    "sku_mappings",
    "state_stay_tags",
    "state_stays",
    "state_stays_pending",
    "stock_changes",
    "stock_levels",
    "stock_movements",
    "stock_rules",
    "users",
    "warehouses",
]
