"""The console's names for statuses, actions, reason codes and errors, marked for translation.

Strings are wrapped in `N_` so `pybabel extract -k N_` collects them; they are translated when a
page is rendered, in the request's language.
"""

from __future__ import annotations

from orderhub.domain.inventory import MovementKind
from orderhub.domain.orders import OrderType, PaymentStatus
from orderhub.domain.transitions import Action, ExceptionReason, OrderStatus


def N_(message: str) -> str:
    """Marks `message` for extraction; it is translated later, when rendered."""
    return message


STATUS: dict[str, str] = {
    OrderStatus.PENDING_PAYMENT: N_("Pending payment"),
    OrderStatus.PAID: N_("Paid"),
    OrderStatus.PENDING_REVIEW: N_("Pending review"),
    OrderStatus.APPROVED: N_("Approved"),
    OrderStatus.ALLOCATED: N_("Allocated"),
    OrderStatus.SENT_TO_WAREHOUSE: N_("Sent to warehouse"),
    OrderStatus.PICKING: N_("Picking"),
    OrderStatus.SHIPPED: N_("Shipped"),
    OrderStatus.DELIVERED: N_("Delivered"),
    OrderStatus.COMPLETED: N_("Completed"),
    OrderStatus.CANCELLED: N_("Cancelled"),
    OrderStatus.VOIDED: N_("Voided"),
    OrderStatus.ON_HOLD: N_("On hold"),
    OrderStatus.EXCEPTION: N_("Exception"),
}

ACTION: dict[str, str] = {
    Action.PAY: N_("Pay"),
    Action.SUBMIT_REVIEW: N_("Submit for review"),
    Action.APPROVE: N_("Approve"),
    Action.ALLOCATE: N_("Allocate"),
    Action.SEND_TO_WAREHOUSE: N_("Send to warehouse"),
    Action.START_PICKING: N_("Start picking"),
    Action.SHIP: N_("Ship"),
    Action.DELIVER: N_("Mark delivered"),
    Action.COMPLETE: N_("Complete"),
    Action.CANCEL: N_("Cancel order"),
    Action.VOID: N_("Void"),
    Action.HOLD: N_("Hold"),
    Action.RELEASE: N_("Release"),
    Action.RAISE_EXCEPTION: N_("Raise exception"),
    Action.RESOLVE: N_("Resolve"),
    Action.INTERCEPT: N_("Intercept at warehouse"),
    Action.INTERCEPTED: N_("Intercepted by the warehouse"),
}

# Actions the console never offers as a button: facts recorded from another system's answer.
# Admin holds their permissions (admin holds all), so the permission alone cannot hide them.
NOT_A_BUTTON: frozenset[Action] = frozenset({Action.INTERCEPTED})

# Timeline entries that are not actions of the state machine.
EVENT: dict[str, str] = {
    "create": N_("Order created"),
    "edit": N_("Order edited"),
    "channel_shipped": N_("Shipment confirmed to the channel"),
    "wms_accepted": N_("Accepted by the WMS"),
    "wms_packed": N_("Packed at the warehouse"),
    "delivery_problem": N_("Delivery problem"),
    "split": N_("Split into parcels"),
    "moved_by_stock": N_("Moved to the warehouse that holds it"),
    "parcels_handed_off": N_("Parcels handed to the warehouse"),
    "parcel_shipped": N_("Parcel shipped"),
    "parcel_delivered": N_("Parcel delivered"),
    "parcels_cancelled": N_("Parcels cancelled"),
    "backorder_reserved": N_("Backorder reserved"),
    "merged": N_("Merged into one parcel"),
    "unmerged": N_("Unmerged"),
    "never_merge": N_("Never merge changed"),
    "prioritised": N_("Priority set"),
}

REASON: dict[str, str] = {
    ExceptionReason.ADDRESS_CHANGED: N_("Address changed"),
    ExceptionReason.OUT_OF_STOCK: N_("Out of stock"),
    ExceptionReason.RISK: N_("Risk"),
    ExceptionReason.REFUND_REQUESTED: N_("Refund requested"),
    ExceptionReason.UNMAPPED_SKU: N_("Unmapped SKU"),
    ExceptionReason.PLATFORM_ALREADY_SHIPPED: N_("Already shipped on the platform"),
    ExceptionReason.AMOUNT_MISMATCH: N_("Amount mismatch"),
    ExceptionReason.BUYER_REQUEST: N_("Buyer request"),
    ExceptionReason.AWAITING_INFO: N_("Awaiting information"),
    ExceptionReason.INTERCEPTING: N_("Intercepting at the warehouse"),
    ExceptionReason.WMS_REFUSED: N_("Refused by the WMS"),
    ExceptionReason.CHANNEL_REFUSED_SHIPMENT: N_("Channel refused the shipment"),
    ExceptionReason.DELIVERY_FAILED: N_("Delivery failed"),
    ExceptionReason.OTHER: N_("Other"),
}

# Titles by error code; the detail text comes from the service and stays as written there.
ERROR_TITLE: dict[str, str] = {
    "validation_failed": N_("The data is not valid"),
    "illegal_transition": N_("Action not allowed in this state"),
    "edit_refused": N_("The order can no longer be edited"),
    "concurrent_update": N_("The order changed meanwhile"),
    "already_exists": N_("It already exists"),
    "duplicate_order": N_("The order already exists"),
    "not_found": N_("Not found"),
    "not_authenticated": N_("Sign in first"),
    "permission_denied": N_("Permission missing"),
    "database_not_migrated": N_("The database needs migrating"),
}

ERROR_BY_STATUS: dict[int, str] = {
    400: N_("Request refused"),
    401: N_("Sign in first"),
    403: N_("Permission missing"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict with the order's state"),
    422: N_("The data is not valid"),
}

# Where an outbox message is on its way out (services/outbox.py STATUSES).
OUTBOX_STATUS: dict[str, str] = {
    "pending": N_("Pending"),
    "sending": N_("Sending"),
    "delivered": N_("Delivered"),
    "refused": N_("Refused"),
    "dead": N_("Dead"),
    "superseded": N_("Superseded"),
    "kept": N_("Kept (no broker)"),
}

# Kinds of stock movement on the ledger (domain/inventory.py MovementKind).
MOVEMENT_KIND: dict[str, str] = {
    MovementKind.RECEIVE: N_("Goods in"),
    MovementKind.ADJUST: N_("Count corrected"),
    MovementKind.WMS_LEVEL: N_("Counted by the WMS"),
    MovementKind.RESERVE: N_("Reserved for an order"),
    MovementKind.RELEASE: N_("Released by a cancel"),
    MovementKind.SHIP: N_("Shipped"),
}

ROLE: dict[str, str] = {
    "admin": N_("Administrator"),
    "supervisor": N_("Supervisor"),
    "operator": N_("Operator"),
    "warehouse": N_("Warehouse"),
    "customer_service": N_("Customer service"),
    "agent": N_("Agent"),
}

PAYMENT: dict[str, str] = {
    PaymentStatus.UNPAID: N_("Unpaid"),
    PaymentStatus.PAID: N_("Paid"),
    PaymentStatus.PARTIALLY_REFUNDED: N_("Partially refunded"),
    PaymentStatus.REFUNDED: N_("Refunded"),
}

ORDER_TYPE: dict[str, str] = {
    OrderType.NORMAL: N_("Normal"),
    OrderType.PRESALE: N_("Presale"),
    OrderType.LIVE_STREAM: N_("Live stream"),
    OrderType.GIFT: N_("Gift"),
    OrderType.GROUP_BUY: N_("Group buy"),
    OrderType.CROSS_BORDER: N_("Cross-border"),
    OrderType.REPLACEMENT: N_("Replacement"),
    OrderType.EXCHANGE: N_("Exchange"),
}
