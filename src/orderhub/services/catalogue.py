"""The merchant's SKUs, combos and channel SKU mappings.

Adding a mapping releases the orders that waited in the exception queue for it: each one whose
lines now all map gets its merchant SKUs (combos expanded) and is resolved, by itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM, Actor
from orderhub.domain.channels import Component, apply_skus
from orderhub.domain.transitions import Action
from orderhub.errors import ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services.fulfilment import flow
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory


def add_product(
    uow: UnitOfWork,
    *,
    actor: Actor,
    sku: str,
    title: str,
    components: list[Component] | None = None,
) -> None:
    require(actor, Permission.SKU_MANAGE)
    if not sku.strip():
        raise ValidationFailed("give the SKU code", field="sku")
    for part in components or []:
        if part.quantity < 1 or part.weight < 0:
            raise ValidationFailed(
                f"component {part.sku}: quantity >= 1 and weight >= 0", field="components"
            )
    with uow:
        known = uow.catalogue.sku_book("", "").known
        unknown = [p.sku for p in components or [] if p.sku not in known]
        if unknown:
            raise ValidationFailed(
                f"components {', '.join(unknown)} are not SKUs yet; add them first",
                field="components",
            )
        uow.catalogue.add_product(sku.strip(), title, uow.clock.now(), components or [])
        uow.commit()


def list_products(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.SKU_READ)
    with uow:
        return uow.catalogue.products()


def list_mappings(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.SKU_READ)
    with uow:
        return uow.catalogue.mappings()


def map_sku(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    channel: str,
    channel_sku: str,
    sku: str,
    shop: str = "",
) -> list[int]:
    """Map a channel SKU; returns the orders it released from the unmapped-SKU queue."""
    require(actor, Permission.SKU_MANAGE)
    with uows() as uow:
        if sku not in uow.catalogue.sku_book(channel, shop).known:
            raise ValidationFailed(
                f"'{sku}' is not a merchant SKU; add it to the SKUs first", field="sku"
            )
        uow.catalogue.add_mapping(channel, shop, channel_sku, sku, uow.clock.now())
        # Listings of that channel SKU sell the merchant SKU now: push its stock to them.
        if uow.listings.remap(channel, shop, channel_sku, sku):
            uow.listings.mark_changed([sku], uow.clock.now())
        waiting = uow.catalogue.waiting_for_sku(channel, channel_sku)
        uow.commit()
    return [order_id for order_id in waiting if _release(uows, order_id)]


def _release(uows: UnitOfWorkFactory, order_id: int) -> bool:
    with uows() as uow:
        order = uow.orders.get(order_id)
        book = uow.catalogue.sku_book(order.channel, order.shop)
        # Back to the channel's lines, then map them again with the mappings known now.
        channel_lines = tuple(
            replace(line, sku=line.channel_sku or line.sku) for line in order.lines
        )
        lines, unmapped = apply_skus(channel_lines, book)
        if unmapped:
            return False
        order.lines = lines
        event = actions.apply(
            order,
            Action.RESOLVE,
            actor=SYSTEM,
            at=uow.clock.now(),
            reason="every SKU is mapped now",
        )
        uow.orders.update(order)
        flow.record(uow, order, [event])
        uow.commit()
    return True
