"""Listings, stock rules and changed SKUs in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from orderhub.domain.stock_push import Listing, StockRule
from orderhub.services.ports import ChannelListing, StockChange
from orderhub.storage.tables import listings, shops, stock_changes, stock_rules

_L = listings.c
_PLANNED = (
    update(listings)
    .where(_L.id == bindparam("b_id"))
    .values(planned_quantity=bindparam("b_quantity"))
)
_FORGET = delete(stock_changes).where(
    stock_changes.c.sku == bindparam("b_sku"), stock_changes.c.seq == bindparam("b_seq")
)


def _listing(row: RowMapping) -> Listing:
    return Listing(
        id=row["id"],
        shop=row["shop"],
        channel=row["channel"],
        channel_sku=row["channel_sku"],
        title=row["title"],
        sku=row["sku"],
        ids=dict(row["ids"]),
        channel_quantity=row["channel_quantity"],
        planned_quantity=row["planned_quantity"],
        pushed_quantity=row["pushed_quantity"],
        pushed_at=row["pushed_at"],
        last_error=row["last_error"],
    )


def _rule(row: RowMapping) -> StockRule:
    return StockRule(
        shop=row["shop"],
        percent=row["percent"],
        buffer=row["buffer"],
        minimum=row["minimum"],
        warehouses=tuple(row["warehouses"]),
        enabled=row["enabled"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


class SqlListingRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(stock_changes)
        # A change to a SKU already waiting only bumps its sequence: the first time stays, so
        # the push can tell how long the oldest change waited.
        self._mark = insert.on_conflict_do_update(
            index_elements=[stock_changes.c.sku], set_={"seq": stock_changes.c.seq + 1}
        )
        rule_insert = dialect.insert(stock_rules)
        self._save_rule = rule_insert.on_conflict_do_update(
            index_elements=[stock_rules.c.shop],
            set_={c.name: rule_insert.excluded[c.name] for c in stock_rules.c if c.name != "shop"},
        )

    # --- listings ----------------------------------------------------------------------------

    def sync(
        self,
        shop: str,
        channel: str,
        found: Sequence[tuple[ChannelListing, str | None]],
        at: datetime,
    ) -> list[Listing]:
        known = {
            r["channel_sku"]: r["id"]
            for r in self._conn.execute(select(_L.id, _L.channel_sku).where(_L.shop == shop))
            .mappings()
            .all()
        }
        seen: set[str] = set()
        for listing, sku in found:
            seen.add(listing.channel_sku)
            values = {
                "title": listing.title,
                "sku": sku,
                "ids": dict(listing.ids),
                "channel_quantity": listing.quantity,
                # Unknown again: the next planning pushes what it should show.
                "planned_quantity": None,
                "synced_at": at,
            }
            if listing.channel_sku in known:
                self._conn.execute(
                    update(listings).where(_L.id == known[listing.channel_sku]).values(**values)
                )
            else:
                self._conn.execute(
                    listings.insert().values(
                        shop=shop, channel=channel, channel_sku=listing.channel_sku, **values
                    )
                )
        gone = [i for channel_sku, i in known.items() if channel_sku not in seen]
        if gone:
            self._conn.execute(delete(listings).where(_L.id.in_(gone)))
        return self.find(shop=shop, limit=100_000)

    def find(
        self, *, shop: str | None = None, sku: str | None = None, limit: int = 500
    ) -> list[Listing]:
        query = select(listings).order_by(_L.shop, _L.channel_sku).limit(limit)
        if shop:
            query = query.where(_L.shop == shop)
        if sku:
            query = query.where(_L.sku == sku)
        return [_listing(r) for r in self._conn.execute(query).mappings()]

    def selling(self, skus: Sequence[str]) -> list[Listing]:
        if not skus:
            return []
        query = (
            select(listings)
            .join(shops, shops.c.code == _L.shop)
            .where(_L.sku.in_(list(skus)), shops.c.enabled.is_(True))
            .order_by(_L.id)
        )
        return [_listing(r) for r in self._conn.execute(query).mappings()]

    def remap(self, channel: str, shop: str, channel_sku: str, sku: str) -> list[str]:
        where = [_L.channel == channel, _L.channel_sku == channel_sku]
        if shop:  # a channel-wide mapping ("" shop) applies to every shop of the channel
            where.append(_L.shop == shop)
        touched = self._conn.execute(
            update(listings)
            .where(and_(*where))
            .values(sku=sku, planned_quantity=None)
            .returning(_L.shop)
        ).scalars()
        return sorted(set(touched))

    def planned(self, quantities: Mapping[int, int]) -> None:
        if quantities:
            self._conn.execute(
                _PLANNED, [{"b_id": i, "b_quantity": q} for i, q in quantities.items()]
            )

    def pushed(
        self, listing_id: int, quantity: int | None, at: datetime, error: str | None
    ) -> None:
        values: dict[str, Any] = {"last_error": error}
        if error is None:
            values.update(pushed_quantity=quantity, channel_quantity=quantity, pushed_at=at)
        self._conn.execute(update(listings).where(_L.id == listing_id).values(**values))

    # --- rules -------------------------------------------------------------------------------

    def rule(self, shop: str) -> StockRule:
        row = self._conn.execute(select(stock_rules).where(stock_rules.c.shop == shop)).mappings()
        found = row.first()
        return _rule(found) if found else StockRule(shop)

    def rules(self) -> dict[str, StockRule]:
        return {
            r["shop"]: _rule(r) for r in self._conn.execute(select(stock_rules)).mappings().all()
        }

    def save_rule(self, rule: StockRule) -> None:
        self._conn.execute(
            self._save_rule,
            {
                "shop": rule.shop,
                "percent": rule.percent,
                "buffer": rule.buffer,
                "minimum": rule.minimum,
                "warehouses": list(rule.warehouses),
                "enabled": rule.enabled,
                "updated_at": rule.updated_at,
                "updated_by": rule.updated_by,
            },
        )

    # --- changed SKUs ------------------------------------------------------------------------

    def changes(self, limit: int) -> list[StockChange]:
        query = select(stock_changes).order_by(stock_changes.c.first_changed_at).limit(limit)
        return [
            StockChange(r["sku"], r["seq"], r["first_changed_at"])
            for r in self._conn.execute(query).mappings()
        ]

    def mark_changed(self, skus: Sequence[str], at: datetime) -> None:
        # Sorted: concurrent writers take these row locks in one order (no deadlock).
        if skus:
            self._conn.execute(
                self._mark, [{"sku": s, "seq": 1, "first_changed_at": at} for s in sorted(skus)]
            )

    def clear_changes(self, changes: Sequence[StockChange]) -> None:
        if changes:
            self._conn.execute(
                _FORGET, [{"b_sku": c.sku, "b_seq": c.seq} for c in sorted(changes, key=_sku)]
            )


def _sku(change: StockChange) -> str:
    return change.sku
