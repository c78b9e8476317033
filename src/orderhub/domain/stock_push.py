"""What each shop's listings should show: available stock, by the shop's rules.

A shop does not always show everything the warehouses hold. The merchant keeps a safety buffer
back (units that are counted but may be damaged or promised elsewhere), shows only a share of
the rest when several shops sell the same goods, and may lift a small share back up so that a
listing with a few units left does not read zero because of rounding. The shown quantity never
exceeds what is really available after the buffer, so a shop cannot sell what is not there.

A combo listing (a gift set shipped as its parts) shows how many complete sets the components
make: the least, over its components, of available // units per set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from orderhub.domain.channels import Component
from orderhub.errors import ValidationFailed


@dataclass(frozen=True)
class StockRule:
    """How much of the available stock one shop shows on its listings."""

    shop: str
    # Share of (available - buffer) shown, in whole percent, 0..100.
    percent: int = 100
    # Units held back from this shop's listings.
    buffer: int = 0
    # A share below this is raised to it, but never above what is available after the buffer.
    minimum: int = 0
    # Warehouses whose stock this shop sells; empty means every warehouse.
    warehouses: tuple[str, ...] = ()
    # Off: the shop's listings are left as they are (the merchant manages them by hand).
    enabled: bool = True
    updated_at: datetime | None = None
    updated_by: str = ""


def check_stock_rule(rule: StockRule, *, warehouses: Iterable[str]) -> StockRule:
    """Refuse a rule that could oversell or names a warehouse that does not exist."""
    if not 0 <= rule.percent <= 100:
        raise ValidationFailed(
            f"percent is {rule.percent}; give a whole number from 0 to 100 (a share above 100 "
            "would show stock that is not there)",
            field="percent",
        )
    for name, value in (("buffer", rule.buffer), ("minimum", rule.minimum)):
        if value < 0:
            raise ValidationFailed(f"{name} is {value}; give 0 or more units", field=name)
    known = frozenset(warehouses)
    unknown = [w for w in rule.warehouses if w not in known]
    if unknown:
        raise ValidationFailed(
            f"unknown warehouse {', '.join(unknown)}; known: {', '.join(sorted(known)) or 'none'}"
            " (add it under warehouses first, or leave the list empty for every warehouse)",
            field="warehouses",
        )
    return rule


def shown(available: int, rule: StockRule) -> int:
    """The quantity a listing shows when `available` units can be sold."""
    sellable = max(0, available - rule.buffer)
    share = sellable * rule.percent // 100
    if share < rule.minimum:
        share = min(rule.minimum, sellable)
    return share


def available_for(
    sku: str,
    rule: StockRule,
    available: Mapping[str, Mapping[str, int]],
    combos: Mapping[str, tuple[Component, ...]],
) -> int:
    """Units of `sku` the rule's warehouses can sell: summed over them; a combo counts the sets
    its components make. `available` is per SKU, per warehouse."""
    if sku in combos:
        parts = combos[sku]
        return min(
            (available_for(p.sku, rule, available, combos) // p.quantity for p in parts),
            default=0,
        )
    per_warehouse = available.get(sku, {})
    chosen = rule.warehouses or tuple(per_warehouse)
    return sum(max(0, per_warehouse.get(w, 0)) for w in chosen)


def skus_affected(
    changed: Iterable[str], combos: Mapping[str, tuple[Component, ...]]
) -> frozenset[str]:
    """The changed SKUs and every combo built from one of them."""
    changed = frozenset(changed)
    return changed | {
        combo for combo, parts in combos.items() if any(p.sku in changed for p in parts)
    }


def parts_of(skus: Iterable[str], combos: Mapping[str, tuple[Component, ...]]) -> frozenset[str]:
    """The SKUs whose levels are needed to work out `skus` (a combo needs its components)."""
    needed: set[str] = set()
    for sku in skus:
        if sku in combos:
            needed |= parts_of((p.sku for p in combos[sku]), combos)
        else:
            needed.add(sku)
    return frozenset(needed)


@dataclass(frozen=True)
class Listing:
    """A shop's listing as OrderHub knows it: the channel's ids and what was last pushed."""

    id: int
    shop: str
    channel: str
    channel_sku: str
    title: str
    # The merchant SKU (or combo) it sells; None while its channel SKU is not mapped.
    sku: str | None
    ids: Mapping[str, str] = field(default_factory=dict)
    # What the channel showed when the listings were last read.
    channel_quantity: int | None = None
    # What OrderHub decided it should show last (a push is on its way or done).
    planned_quantity: int | None = None
    # What the channel confirmed last, and when.
    pushed_quantity: int | None = None
    pushed_at: datetime | None = None
    last_error: str | None = None
