"""Inventory use cases: goods in, counts, reserving for orders, and what stock there is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orderhub.domain.actors import Actor
from orderhub.domain.inventory import Movement, MovementKind, StockLevel, needs
from orderhub.errors import ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services.fulfilment.stock import stock_arrived
from orderhub.services.ports import UnitOfWork


def receive(
    uow: UnitOfWork,
    *,
    actor: Actor,
    sku: str,
    warehouse: str,
    quantity: int,
    reason: str,
    reference: str | None = None,
) -> StockLevel:
    """Goods in: `quantity` more on hand."""
    require(actor, Permission.STOCK_ADJUST)
    if quantity <= 0:
        raise ValidationFailed(
            "goods in must be at least 1 unit; correct a count with adjust", field="quantity"
        )
    return _change(uow, actor, MovementKind.RECEIVE, sku, warehouse, quantity, reason, reference)


def adjust(
    uow: UnitOfWork, *, actor: Actor, sku: str, warehouse: str, delta: int, reason: str
) -> StockLevel:
    """A count corrected by a person: up or down, never below what is reserved."""
    require(actor, Permission.STOCK_ADJUST)
    if delta == 0:
        raise ValidationFailed(
            "an adjustment changes the count; give a delta other than 0", field="delta"
        )
    return _change(uow, actor, MovementKind.ADJUST, sku, warehouse, delta, reason, None)


def _change(
    uow: UnitOfWork,
    actor: Actor,
    kind: MovementKind,
    sku: str,
    warehouse: str,
    delta: int,
    reason: str,
    reference: str | None,
) -> StockLevel:
    if not reason.strip():
        raise ValidationFailed(
            "say why the stock changes (a delivery note, a count...)", field="reason"
        )
    with uow:
        if sku not in uow.catalogue.sku_book("", "").known:
            raise ValidationFailed(
                f"'{sku}' is not a merchant SKU; add it to the SKUs first", field="sku"
            )
        level = uow.inventory.apply(
            Movement(
                sku,
                warehouse,
                kind,
                delta,
                0,
                reason.strip(),
                actor.name,
                uow.clock.now(),
                reference=reference,
            )
        )
        if delta > 0:
            stock_arrived(uow, sku, warehouse)
        uow.commit()
    return level


def reserve_for_order(
    uow: UnitOfWork, *, order_id: int, warehouse: str, lines: Sequence[tuple[str, int]], source: str
) -> list[StockLevel]:
    """Reserve every line of an order at once, or nothing (InsufficientStock names the short)."""
    with uow:
        levels = uow.inventory.reserve(
            warehouse,
            needs(lines),
            order_id=order_id,
            at=uow.clock.now(),
            source=source,
            reason=f"order {order_id} paid",
        )
        uow.commit()
    return levels


def stock(
    uow: UnitOfWork, *, actor: Actor, sku: str | None = None, warehouse: str | None = None
) -> list[StockLevel]:
    require(actor, Permission.STOCK_READ)
    with uow:
        return uow.inventory.levels(sku=sku, warehouse=warehouse)


def history(
    uow: UnitOfWork, *, actor: Actor, sku: str, warehouse: str | None = None
) -> list[dict[str, Any]]:
    require(actor, Permission.STOCK_READ)
    with uow:
        return uow.inventory.movements(sku=sku, warehouse=warehouse)
