"""Stock to the channels: every change of available stock reaches each listing that sells it.

The transaction that changes stock only notes the SKU (the unit of work writes `stock_changes`
with its commit), so paying an order stays one short transaction. `plan`, run by the worker a
few times a second, works the noted SKUs out into listing quantities by each shop's stock rule
(combos from their components) and writes one `channel.stock` command per listing whose figure
moved. A burst of changes on a SKU between two runs is one command; a command not yet sent is
replaced by the newer figure (the outbox coalesces by listing), and the outbox keeps each
listing's commands in order, so an older figure never lands after a newer one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from orderhub.domain.actors import Actor
from orderhub.domain.channels import Component
from orderhub.domain.fulfilment import MessageKind, channel_target
from orderhub.domain.stock_push import (
    Listing,
    StockRule,
    available_for,
    check_stock_rule,
    parts_of,
    shown,
    skus_affected,
)
from orderhub.permissions import Permission, require
from orderhub.services.ports import (
    ChannelConnector,
    Command,
    OutboxMessage,
    StockChange,
    UnitOfWork,
    UnitOfWorkFactory,
)

# Listing updates go behind orders' commands to the same shop (a shipment matters more).
PRIORITY = -1


@dataclass(frozen=True)
class PlanReport:
    changes: int  # SKUs worked out
    commands: int  # listing updates written (new, or replacing one not yet sent)


def plan(uows: UnitOfWorkFactory, *, limit: int = 1000) -> PlanReport:
    """Work the changed SKUs out into listing updates, in one transaction."""
    with uows() as uow:
        changes = uow.listings.changes(limit)
        if not changes:
            return PlanReport(0, 0)
        commands = _plan(uow, changes)
        uow.listings.clear_changes(changes)
        uow.commit()
    return PlanReport(len(changes), commands)


def _plan(uow: UnitOfWork, changes: list[StockChange]) -> int:
    combos = uow.catalogue.sku_book("", "").combos
    affected = skus_affected((c.sku for c in changes), combos)
    selling = uow.listings.selling(sorted(affected))
    if not selling:
        return 0
    available = uow.inventory.available(sorted(parts_of({x.sku for x in selling if x.sku}, combos)))
    rules, now = uow.listings.rules(), uow.clock.now()
    first_change = {c.sku: c.first_changed_at for c in changes}
    planned: dict[int, int] = {}
    for listing in selling:
        assert listing.sku is not None
        rule = rules.get(listing.shop) or StockRule(listing.shop)
        if not rule.enabled:
            continue
        quantity = shown(available_for(listing.sku, rule, available, combos), rule)
        if quantity == listing.planned_quantity:
            continue  # the channel is (or is about to be) showing this already
        changed_at = _first_change(listing.sku, combos, first_change)
        uow.outbox.coalesce(_command(listing, quantity, changed_at, now), now)
        planned[listing.id] = quantity
    uow.listings.planned(planned)
    return len(planned)


def _first_change(
    sku: str, combos: Mapping[str, tuple[Component, ...]], first: Mapping[str, datetime]
) -> datetime | None:
    times = [first[s] for s in parts_of([sku], combos) | {sku} if s in first]
    return min(times, default=None)


def _command(
    listing: Listing, quantity: int, changed_at: datetime | None, now: datetime
) -> Command:
    return Command(
        channel_target(listing.shop),
        MessageKind.CHANNEL_STOCK,
        {
            "listing_id": listing.id,
            "shop": listing.shop,
            "channel_sku": listing.channel_sku,
            "sku": listing.sku,
            "ids": dict(listing.ids),
            "quantity": quantity,
            "changed_at": (changed_at or now).isoformat(),
            "planned_at": now.isoformat(),
        },
        priority=PRIORITY,
        key=f"listing:{listing.id}",
    )


def record_pushes(uow: UnitOfWork, finished: list[tuple[OutboxMessage, dict[str, Any]]]) -> None:
    """Keep the channel's answer on each listing: what it shows now, or why it refused."""
    for message, row in finished:
        if message.kind != MessageKind.CHANNEL_STOCK or row["status"] == "pending":
            continue
        listing_id, quantity = message.payload["listing_id"], message.payload["quantity"]
        error = None if row["status"] == "delivered" else row["last_error"]
        if error is not None:
            # Not shown, so not planned either: the next change of the SKU tries again.
            uow.listings.planned({listing_id: -1})
        uow.listings.pushed(listing_id, quantity, row["attempt_at"], error)


# --- listings and rules, for people -------------------------------------------------------------


@dataclass(frozen=True)
class SyncReport:
    shop: str
    listings: int
    mapped: int
    unmapped: list[str]


def sync_listings(
    uows: UnitOfWorkFactory, channels: ChannelConnector, *, actor: Actor, shop: str
) -> SyncReport:
    """Read the shop's listings from its channel, map them to merchant SKUs, and push stock to
    all of them (their figures are worked out again from scratch)."""
    require(actor, Permission.LISTING_MANAGE)
    return refresh_listings(uows, channels, shop)


def refresh_listings(uows: UnitOfWorkFactory, channels: ChannelConnector, shop: str) -> SyncReport:
    """The worker's periodic read of a shop's listings (new items, removed ones, new ids)."""
    with uows.read_only() as uow:
        found_shop = uow.shops.get(shop)
    listed = channels.client(found_shop).listings()  # outside any transaction: a network call
    with uows() as uow:
        book = uow.catalogue.sku_book(found_shop.channel, shop)
        pairs = [(x, book.resolve(x.channel_sku)) for x in listed]
        synced = uow.listings.sync(shop, found_shop.channel, pairs, uow.clock.now())
        uow.listings.mark_changed(sorted({x.sku for x in synced if x.sku}), uow.clock.now())
        uow.commit()
    unmapped = sorted(x.channel_sku for x in synced if x.sku is None)
    return SyncReport(shop, len(synced), len(synced) - len(unmapped), unmapped)


def list_listings(
    uow: UnitOfWork, *, actor: Actor, shop: str | None = None, sku: str | None = None
) -> list[Listing]:
    require(actor, Permission.LISTING_READ)
    with uow:
        return uow.listings.find(shop=shop, sku=sku)


def stock_rule(uow: UnitOfWork, *, actor: Actor, shop: str) -> StockRule:
    require(actor, Permission.LISTING_READ)
    with uow:
        uow.shops.get(shop)  # NotFound names the shop
        return uow.listings.rule(shop)


def stock_rules(uow: UnitOfWork, *, actor: Actor) -> list[StockRule]:
    """Every shop's rule, the default for shops that have none saved."""
    require(actor, Permission.LISTING_READ)
    with uow:
        saved = uow.listings.rules()
        return [saved.get(s.code) or StockRule(s.code) for s in uow.shops.list()]


def save_stock_rule(uow: UnitOfWork, rule: StockRule, *, actor: Actor) -> StockRule:
    """Save a shop's rule; its listings are worked out again with it."""
    require(actor, Permission.LISTING_MANAGE)
    with uow:
        uow.shops.get(rule.shop)
        codes = [w.code for w in uow.warehouses.list()]
        saved = replace(
            check_stock_rule(rule, warehouses=codes),
            updated_at=uow.clock.now(),
            updated_by=actor.name,
        )
        uow.listings.save_rule(saved)
        skus = {x.sku for x in uow.listings.find(shop=rule.shop, limit=100_000) if x.sku}
        uow.listings.mark_changed(sorted(skus), uow.clock.now())
        uow.commit()
        return saved
