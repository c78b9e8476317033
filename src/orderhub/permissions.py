"""Named permissions, the roles made of them, and the small policy functions that check them.

The API, the console and the CLI all ask these same functions, so a button a role lacks is not
shown and the server refuses it anyway.
"""

from __future__ import annotations

from enum import StrEnum

from orderhub.domain.actors import Actor
from orderhub.domain.transitions import Action
from orderhub.errors import PermissionDenied


class Permission(StrEnum):
    ORDER_READ = "order.read"
    ORDER_CREATE = "order.create"
    ORDER_EDIT = "order.edit"
    ORDER_EXPORT = "order.export"
    ORDER_PAY = "order.pay"
    ORDER_SUBMIT_REVIEW = "order.submit_review"
    ORDER_APPROVE = "order.approve"
    ORDER_ALLOCATE = "order.allocate"
    ORDER_SEND_TO_WAREHOUSE = "order.send_to_warehouse"
    ORDER_START_PICKING = "order.start_picking"
    ORDER_SHIP = "order.ship"
    ORDER_DELIVER = "order.deliver"
    ORDER_COMPLETE = "order.complete"
    ORDER_CANCEL = "order.cancel"
    ORDER_VOID = "order.void"
    ORDER_HOLD = "order.hold"
    ORDER_RELEASE = "order.release"
    ORDER_RAISE_EXCEPTION = "order.raise_exception"
    ORDER_RESOLVE = "order.resolve"
    ORDER_INTERCEPT = "order.intercept"
    # Recorded from the WMS's answer; no role applies it by hand except admin (who has all).
    ORDER_INTERCEPTED = "order.intercepted"
    # Split an order into parcels; merge orders into one parcel, undo it, mark never_merge.
    ORDER_SPLIT = "order.split"
    ORDER_MERGE = "order.merge"
    USER_MANAGE = "user.manage"
    TOKEN_MANAGE = "token.manage"
    SETTINGS_MANAGE = "settings.manage"
    SHOP_READ = "shop.read"
    SHOP_MANAGE = "shop.manage"
    CHANNEL_SYNC = "channel.sync"
    QUARANTINE_READ = "quarantine.read"
    QUARANTINE_MANAGE = "quarantine.manage"
    SKU_READ = "sku.read"
    SKU_MANAGE = "sku.manage"
    STOCK_READ = "stock.read"
    STOCK_ADJUST = "stock.adjust"
    WAREHOUSE_READ = "warehouse.read"
    WAREHOUSE_MANAGE = "warehouse.manage"
    OUTBOX_READ = "outbox.read"
    OUTBOX_REPLAY = "outbox.replay"
    RULE_READ = "rule.read"
    RULE_MANAGE = "rule.manage"
    # Listings on the channels and each shop's stock rule (what share of stock it shows).
    LISTING_READ = "listing.read"
    LISTING_MANAGE = "listing.manage"
    # Reports over many orders: dwell times and the slowest step (the bottleneck report).
    REPORT_READ = "report.read"
    # Who alerts go to (email, chat robots, webhooks): see them; add, change and test them.
    RECIPIENT_READ = "recipient.read"
    RECIPIENT_MANAGE = "recipient.manage"
    # SLA alerts: the inbox; acknowledging and resolving them (the rules are rule.*).
    ALERT_READ = "alert.read"
    ALERT_MANAGE = "alert.manage"


P = Permission

# One permission per action, named after it.
ACTION_PERMISSIONS: dict[Action, Permission] = {a: Permission(f"order.{a.value}") for a in Action}

_READ = {P.ORDER_READ}
_FLOW = {
    P.ORDER_PAY,
    P.ORDER_SUBMIT_REVIEW,
    P.ORDER_APPROVE,
    P.ORDER_ALLOCATE,
    P.ORDER_SEND_TO_WAREHOUSE,
    P.ORDER_HOLD,
    P.ORDER_RELEASE,
    P.ORDER_RAISE_EXCEPTION,
    P.ORDER_RESOLVE,
    P.ORDER_CANCEL,
    P.ORDER_INTERCEPT,
}
_WAREHOUSE = {P.ORDER_START_PICKING, P.ORDER_SHIP, P.ORDER_DELIVER, P.ORDER_COMPLETE}

_CHANNEL_READ = {
    P.SHOP_READ,
    P.QUARANTINE_READ,
    P.SKU_READ,
    P.STOCK_READ,
    P.WAREHOUSE_READ,
    P.RULE_READ,
    P.LISTING_READ,
}
_CHANNEL_WORK = {
    P.CHANNEL_SYNC,
    P.QUARANTINE_MANAGE,
    P.SKU_MANAGE,
    P.OUTBOX_READ,
    P.OUTBOX_REPLAY,
    P.LISTING_MANAGE,
}

ROLES: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "supervisor": frozenset(
        set(Permission)
        - {P.USER_MANAGE, P.SETTINGS_MANAGE, P.SHOP_MANAGE, P.WAREHOUSE_MANAGE, P.ORDER_INTERCEPTED}
    ),
    "operator": frozenset(
        _READ
        | _FLOW
        | _CHANNEL_READ
        | _CHANNEL_WORK
        | {
            P.ORDER_CREATE,
            P.ORDER_EDIT,
            P.ORDER_EXPORT,
            P.ORDER_SPLIT,
            P.ORDER_MERGE,
            P.TOKEN_MANAGE,
            P.REPORT_READ,
            P.RECIPIENT_READ,
            P.ALERT_READ,
            P.ALERT_MANAGE,
        }
    ),
    "warehouse": frozenset(
        _READ
        | _WAREHOUSE
        | {
            P.ORDER_HOLD,
            P.ORDER_RAISE_EXCEPTION,
            P.STOCK_READ,
            P.STOCK_ADJUST,
            P.WAREHOUSE_READ,
            P.OUTBOX_READ,
            P.REPORT_READ,
            P.ALERT_READ,
        }
    ),
    "customer_service": frozenset(
        _READ
        | _CHANNEL_READ
        | {
            P.ORDER_EDIT,
            P.ORDER_HOLD,
            P.ORDER_RELEASE,
            P.ORDER_RAISE_EXCEPTION,
            P.ORDER_CANCEL,
            P.ORDER_INTERCEPT,
            P.REPORT_READ,
            P.ALERT_READ,
        }
    ),
    # A sales agent or an integration account: sends orders in and reads them back.
    "agent": frozenset(_READ | {P.ORDER_CREATE, P.ORDER_PAY, P.TOKEN_MANAGE}),
}

ROLE_NAMES = tuple(ROLES)


def permissions_of(role: str) -> frozenset[str]:
    return frozenset(p.value for p in ROLES.get(role, frozenset()))


def can(actor: Actor, permission: Permission) -> bool:
    return permission.value in actor.permissions


def require(actor: Actor, permission: Permission) -> None:
    if not can(actor, permission):
        raise PermissionDenied(
            f"{actor.name} (role {actor.role}) lacks the permission '{permission.value}'; "
            "ask an admin for a role that has it",
            permission=permission.value,
        )


def can_apply(actor: Actor, action: Action) -> bool:
    return can(actor, ACTION_PERMISSIONS[action])


def can_void(actor: Actor) -> bool:
    return can_apply(actor, Action.VOID)
