"""Parcels: what leaves the warehouse when it is not one order in one box.

An order ships as one parcel (its outbound no `OH0000000012`) unless it is split or merged:

- **split**: the order's lines go out in several parcels, `OH0000000012-1`, `-2`, ... (by hand,
  or by stock: one parcel per warehouse holding part of it). Lines no warehouse holds form a
  **backorder** parcel that reserves and ships when stock arrives.
- **merge**: orders of one buyer to one receiver, waiting in one warehouse, go out together in
  one parcel `OM0000000005` with one tracking no; each order's channel is told of its own order.

Plain data and decisions; the services reserve, push and record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from orderhub.domain.orders import Order, OrderLine, PaymentStatus
from orderhub.domain.transitions import OrderStatus
from orderhub.errors import ValidationFailed

# order.stock_state of a split order: its stock is held per parcel, not by the order.
IN_PARCELS = "parcels"


class ParcelKind(StrEnum):
    SPLIT = "split"  # part of one order
    MERGE = "merge"  # several whole orders


class ParcelStatus(StrEnum):
    PLANNED = "planned"  # its stock is held (or not needed); handed to the WMS, not yet taken
    BACKORDER = "backorder"  # waits for stock; nothing held
    SENT = "sent"  # the WMS took it
    INTERCEPTING = "intercepting"  # a cancel is on its way to the WMS
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# Parcels still to leave the warehouse.
OPEN = frozenset(
    {ParcelStatus.PLANNED, ParcelStatus.BACKORDER, ParcelStatus.SENT, ParcelStatus.INTERCEPTING}
)
GONE = frozenset({ParcelStatus.SHIPPED, ParcelStatus.DELIVERED})


class ParcelMode(StrEnum):
    """How an order ships, kept on the order (None: as one parcel of its own)."""

    SPLIT = "split"
    MERGED = "merged"


_SPLIT_NO = re.compile(r"^OH(\d{10})-(\d+)$")
_MERGED_NO = re.compile(r"^OM(\d{10})$")


def split_parcel_no(order_id: int, index: int) -> str:
    """The warehouse's key for the `index`th parcel of a split order (never reused)."""
    return f"OH{order_id:010d}-{index}"


def merged_parcel_no(parcel_id: int) -> str:
    return f"OM{parcel_id:010d}"


def parcel_of(outbound_no: str) -> str | None:
    """The parcel an outbound number names, or None for a whole order's (or a stranger's)."""
    if _SPLIT_NO.match(outbound_no) or _MERGED_NO.match(outbound_no):
        return outbound_no
    return None


def split_index(parcel_no: str) -> int:
    found = _SPLIT_NO.match(parcel_no)
    return int(found.group(2)) if found else 0


@dataclass(frozen=True)
class ParcelLine:
    """Part of one order line in a parcel; `line_no` is the order line's (1-based)."""

    order_id: int
    line_no: int
    sku: str
    quantity: int
    title: str = ""
    channel_sku: str | None = None


@dataclass
class Parcel:
    parcel_no: str
    kind: ParcelKind
    warehouse: str
    status: ParcelStatus
    lines: tuple[ParcelLine, ...]
    created_at: datetime
    created_by: str
    note: str = ""
    id: int | None = None
    # reserved / released / shipped: a split parcel holds its own stock. None: nothing held (a
    # backorder; a merged parcel, whose orders hold their own).
    stock_state: str | None = None
    # When its wms.outbound.create was queued (None: not handed off yet).
    handed_off_at: datetime | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    shipped_at: datetime | None = None

    @property
    def order_ids(self) -> tuple[int, ...]:
        return tuple(sorted({line.order_id for line in self.lines}))

    @property
    def lead_order_id(self) -> int:
        """The order its outbox messages are filed under (the lowest id)."""
        return self.order_ids[0]

    def needs(self) -> list[tuple[str, int]]:
        """(sku, quantity) per SKU, summed over its lines."""
        return sorted(_sum((line.sku, line.quantity) for line in self.lines).items())

    def describe(self) -> str:
        said = ", ".join(f"{sku} x{qty}" for sku, qty in self.needs())
        return f"{self.parcel_no} from {self.warehouse}: {said}"


def _sum(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for sku, quantity in pairs:
        total[sku] = total.get(sku, 0) + quantity
    return total


# --- splitting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedParcel:
    """One parcel of a split as asked (by a person) or worked out (by stock)."""

    warehouse: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    backorder: bool = False


def check_split_plan(
    order: Order, plan: Sequence[PlannedParcel], *, warehouses: Iterable[str]
) -> list[PlannedParcel]:
    """Refuse a split that is not the order's lines exactly, naming what differs and how."""
    known = frozenset(warehouses)
    if len(plan) < 2:
        raise ValidationFailed(
            "a split needs at least two parcels; to ship the whole order from another warehouse, "
            "change its routing instead",
            field="parcels",
        )
    for n, parcel in enumerate(plan):
        where = f"parcels[{n}]"
        if parcel.warehouse not in known:
            raise ValidationFailed(
                f"{where}.warehouse '{parcel.warehouse}' is not a warehouse run by a WMS; "
                f"use one of: {', '.join(sorted(known)) or 'none (add one first)'}",
                field=f"{where}.warehouse",
            )
        if not parcel.lines:
            raise ValidationFailed(f"{where} has no lines; drop it or give it some", field=where)
        for i, (sku, quantity) in enumerate(parcel.lines):
            if quantity < 1:
                raise ValidationFailed(
                    f"{where}.lines[{i}].quantity is {quantity} for {sku}; it must be at least 1",
                    field=f"{where}.lines[{i}].quantity",
                )
    ordered = _sum((line.sku, line.quantity) for line in order.lines)
    asked = _sum(pair for parcel in plan for pair in parcel.lines)
    differences = []
    for sku in sorted(set(ordered) | set(asked)):
        has, carried = ordered.get(sku, 0), asked.get(sku, 0)
        if carried > has:
            extra = "the order has none" if has == 0 else f"the order has {has}"
            differences.append(
                f"{sku}: the parcels carry {carried}, {extra} ({carried - has} too many)"
            )
        elif carried < has:
            differences.append(
                f"{sku}: the parcels carry {carried}, the order has {has} ({has - carried} missing)"
            )
    if differences:
        raise ValidationFailed(
            "the parcels must carry exactly the order's lines; " + "; ".join(differences),
            field="parcels",
        )
    return list(plan)


def plan_by_stock(
    needs: Sequence[tuple[str, int]], home: str, available: Mapping[str, Mapping[str, int]]
) -> list[PlannedParcel]:
    """Parcels by where the stock is: the fewest warehouses that hold what is needed (the one
    holding the most of what is left first; the order's own warehouse wins a tie), and what no
    warehouse holds as a backorder at home. [] when no warehouse holds any of it.
    """
    left = _sum(needs)
    parcels: list[PlannedParcel] = []
    candidates = sorted(available, key=lambda code: (code != home, code))
    while any(left.values()):
        best, best_units = None, 0
        for code in candidates:
            units = sum(min(q, available[code].get(sku, 0)) for sku, q in left.items())
            if units > best_units:
                best, best_units = code, units
        if best is None:
            break
        taken = tuple(
            (sku, min(q, available[best].get(sku, 0)))
            for sku, q in sorted(left.items())
            if min(q, available[best].get(sku, 0)) > 0
        )
        parcels.append(PlannedParcel(best, taken))
        for sku, quantity in taken:
            left[sku] -= quantity
        candidates.remove(best)
    if not parcels:
        return []
    short = tuple((sku, q) for sku, q in sorted(left.items()) if q > 0)
    if short:
        parcels.append(PlannedParcel(home, short, backorder=True))
    return parcels


def allot(order: Order, plan: Sequence[PlannedParcel]) -> list[tuple[ParcelLine, ...]]:
    """Each planned parcel's lines as parts of the order's lines (a SKU on two order lines is
    taken from the first line first), so each part keeps its line's title and channel SKU."""
    assert order.id is not None
    remaining = [line.quantity for line in order.lines]
    allotted: list[tuple[ParcelLine, ...]] = []
    for parcel in plan:
        parts: list[ParcelLine] = []
        for sku, quantity in parcel.lines:
            wanted = quantity
            for n, line in enumerate(order.lines):
                if wanted == 0:
                    break
                if line.sku != sku or remaining[n] == 0:
                    continue
                take = min(wanted, remaining[n])
                remaining[n] -= take
                wanted -= take
                parts.append(_part(order.id, n + 1, line, take))
        allotted.append(tuple(parts))
    return allotted


def _part(order_id: int, line_no: int, line: OrderLine, quantity: int) -> ParcelLine:
    return ParcelLine(order_id, line_no, line.sku, quantity, line.title, line.channel_sku)


def whole_lines(order: Order) -> tuple[ParcelLine, ...]:
    assert order.id is not None
    return tuple(
        _part(order.id, n, line, line.quantity) for n, line in enumerate(order.lines, start=1)
    )


# --- merging --------------------------------------------------------------------------------

MERGE_FROM = frozenset({OrderStatus.APPROVED, OrderStatus.ALLOCATED})


def merge_key(order: Order) -> tuple[object, ...]:
    """What orders must share to go in one parcel: shop, buyer, receiver and warehouse."""
    r = order.receiver
    return (
        order.shop,
        order.buyer_id,
        r.name.strip(),
        r.phone.strip(),
        r.province.strip(),
        r.city.strip(),
        r.district.strip(),
        r.address.strip(),
        order.warehouse,
    )


def why_not_mergeable(order: Order, *, stock_needed: bool) -> str | None:
    """Why this order cannot go into a merged parcel, or None when it can."""
    name = f"order {order.id}"
    if order.status not in MERGE_FROM:
        return (
            f"{name} is {order.status.value}; only approved or allocated orders not yet at the "
            "warehouse can be merged"
        )
    if order.payment_status is not PaymentStatus.PAID:
        return f"{name} is not paid"
    if order.never_merge:
        return (
            f"{name} is marked never_merge; clear it with "
            f"POST /api/v1/orders/{order.id}/never-merge"
        )
    if order.parcel_mode == ParcelMode.SPLIT:
        return f"{name} is split into parcels; a split order is not merged"
    if order.parcel_mode == ParcelMode.MERGED:
        return f"{name} is in a merged parcel already; unmerge it first"
    if not order.buyer_id:
        return f"{name} has no buyer id, so nothing shows it is the same buyer's"
    if not order.warehouse:
        return f"{name} has no warehouse yet"
    if stock_needed and order.stock_state != "reserved":
        return f"{name} has no stock reserved"
    return None


_KEY_NAMES = (
    "shop",
    "buyer",
    "receiver name",
    "receiver phone",
    "province",
    "city",
    "district",
    "address",
    "warehouse",
)


def merge_differences(orders: Sequence[Order]) -> list[str]:
    """What differs between the orders that one parcel needs to be the same, named."""
    first = orders[0]
    key = merge_key(first)
    found = []
    for order in orders[1:]:
        other = merge_key(order)
        for name, a, b in zip(_KEY_NAMES, key, other, strict=True):
            if a != b:
                found.append(f"order {order.id} has {name} {b!r}, order {first.id} has {a!r}")
    return found


def mergeable_groups(orders: Iterable[Order], *, stock_needed: bool) -> list[list[Order]]:
    """Orders that may merge, in groups of two or more sharing a merge key (oldest first)."""
    groups: dict[tuple[object, ...], list[Order]] = {}
    for order in orders:
        if why_not_mergeable(order, stock_needed=stock_needed) is None:
            groups.setdefault(merge_key(order), []).append(order)
    return [sorted(group, key=lambda o: o.id or 0) for group in groups.values() if len(group) >= 2]
