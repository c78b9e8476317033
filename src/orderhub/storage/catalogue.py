"""The merchant's SKUs, combos and channel SKU mappings in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from orderhub.domain.channels import Component, SkuBook
from orderhub.domain.transitions import ExceptionReason, OrderStatus
from orderhub.errors import AlreadyExists
from orderhub.storage.tables import (
    order_lines,
    orders,
    product_components,
    products,
    sku_mappings,
)


class SqlCatalogueRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def sku_book(self, channel: str, shop: str) -> SkuBook:
        """Mappings for this shop (a shop's own mapping beats the channel-wide one)."""
        rows = self._conn.execute(
            select(sku_mappings.c.channel_sku, sku_mappings.c.sku, sku_mappings.c.shop)
            .where(
                sku_mappings.c.channel == channel,
                or_(sku_mappings.c.shop == "", sku_mappings.c.shop == shop),
            )
            .order_by(sku_mappings.c.shop)  # "" first, so the shop's own rows win
        ).all()
        combos: dict[str, list[Component]] = {}
        for combo, part, quantity, weight in self._conn.execute(
            select(
                product_components.c.combo_sku,
                product_components.c.component_sku,
                product_components.c.quantity,
                product_components.c.weight,
            ).order_by(product_components.c.combo_sku, product_components.c.component_sku)
        ):
            combos.setdefault(combo, []).append(Component(part, quantity, weight))
        known = frozenset(self._conn.execute(select(products.c.sku)).scalars())
        return SkuBook({r[0]: r[1] for r in rows}, known, {k: tuple(v) for k, v in combos.items()})

    def add_product(
        self, sku: str, title: str, at: datetime, components: Sequence[Component] = ()
    ) -> None:
        if self._conn.execute(select(products.c.sku).where(products.c.sku == sku)).first():
            raise AlreadyExists(f"SKU '{sku}' already exists")
        self._conn.execute(products.insert(), {"sku": sku, "title": title, "created_at": at})
        if components:
            self._conn.execute(
                product_components.insert(),
                [
                    {
                        "combo_sku": sku,
                        "component_sku": c.sku,
                        "quantity": c.quantity,
                        "weight": c.weight,
                    }
                    for c in components
                ],
            )

    def products(self) -> list[dict[str, Any]]:
        parts: dict[str, list[dict[str, Any]]] = {}
        for row in self._conn.execute(select(product_components)).mappings():
            parts.setdefault(row["combo_sku"], []).append(
                {"sku": row["component_sku"], "quantity": row["quantity"], "weight": row["weight"]}
            )
        return [
            {"sku": r["sku"], "title": r["title"], "components": parts.get(r["sku"], [])}
            for r in self._conn.execute(select(products).order_by(products.c.sku)).mappings()
        ]

    def add_mapping(
        self, channel: str, shop: str, channel_sku: str, sku: str, at: datetime
    ) -> None:
        exists = self._conn.execute(
            select(sku_mappings.c.id).where(
                sku_mappings.c.channel == channel,
                sku_mappings.c.shop == shop,
                sku_mappings.c.channel_sku == channel_sku,
            )
        ).first()
        if exists:
            raise AlreadyExists(
                f"{channel} SKU '{channel_sku}' is already mapped"
                + (f" for shop {shop}" if shop else "")
            )
        self._conn.execute(
            sku_mappings.insert(),
            {
                "channel": channel,
                "shop": shop,
                "channel_sku": channel_sku,
                "sku": sku,
                "created_at": at,
            },
        )

    def mappings(self) -> list[dict[str, Any]]:
        query = select(sku_mappings).order_by(sku_mappings.c.channel, sku_mappings.c.channel_sku)
        return [dict(r) for r in self._conn.execute(query).mappings()]

    def waiting_for_sku(self, channel: str, channel_sku: str) -> list[int]:
        """Orders in the exception queue for an unmapped SKU that includes this one."""
        query = (
            select(orders.c.id)
            .distinct()
            .join(order_lines, order_lines.c.order_id == orders.c.id)
            .where(
                orders.c.status == OrderStatus.EXCEPTION.value,
                orders.c.exception_reason == ExceptionReason.UNMAPPED_SKU.value,
                orders.c.channel == channel,
                order_lines.c.channel_sku == channel_sku,
            )
            .order_by(orders.c.id)
        )
        return [int(i) for i in self._conn.execute(query).scalars()]
