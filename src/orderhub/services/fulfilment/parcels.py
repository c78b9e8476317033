"""Split, merge and backorder use cases: one public function each, one transaction each.

The pipeline's own parcel steps (split by stock, merge on allocation, hand-offs, the WMS's
reports) live in parcel_split, parcel_merge, parcel_hand_off and parcel_reports; these are what
a person (or the scheduler) asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from orderhub.domain.actors import SYSTEM, Actor
from orderhub.domain.orders import Order
from orderhub.domain.parcels import (
    GONE,
    Parcel,
    ParcelKind,
    ParcelMode,
    ParcelStatus,
    PlannedParcel,
    check_split_plan,
)
from orderhub.domain.transitions import ExceptionReason, OrderStatus
from orderhub.errors import MergeRefused, SplitRefused, ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services.fulfilment import flow, parcel_merge, parcel_split
from orderhub.services.fulfilment import parcel_hand_off as hand
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger()
S = OrderStatus
SPLITTABLE = frozenset({S.PAID, S.PENDING_REVIEW, S.APPROVED, S.ALLOCATED})


@dataclass(frozen=True)
class ParcelAsked:
    """One parcel of a split as a person asks for it; no warehouse: the order's own."""

    lines: tuple[tuple[str, int], ...]
    warehouse: str | None = None


def split_order(
    uow: UnitOfWork,
    order_id: int,
    parcels: Sequence[ParcelAsked],
    *,
    actor: Actor,
    reason: str | None = None,
) -> list[Parcel]:
    """Split the order into these parcels (their lines must be the order's exactly); each
    reserves in its own warehouse, one short of stock waits as a backorder. Returns the
    order's parcels still to leave."""
    require(actor, Permission.ORDER_SPLIT)
    with uow:
        order = uow.orders.get(order_id)
        _check_splittable(order)
        home = flow.warehouse_for(uow, order)
        plan = check_split_plan(
            order,
            [PlannedParcel(p.warehouse or home, p.lines) for p in parcels],
            warehouses=parcel_split.shipping_warehouses(uow),
        )
        order.warehouse = home
        events = parcel_split.apply_split(
            uow, order, plan, actor=actor, how="by hand", reason=reason
        )
        flow.record(uow, order, events, save=True)
        hand.hand_off(uow, order)  # allocated already: no allocation will hand them off
        uow.commit()
        return hand.open_parcels(uow, order)


def _check_splittable(order: Order) -> None:
    name = f"order {order.id}"
    if order.parcel_mode == ParcelMode.MERGED:
        raise SplitRefused(
            f"{name} ships in a merged parcel with other orders; unmerge it first "
            "(POST /api/v1/parcels/{parcel_no}/unmerge)",
            order_id=order.id,
            order_status=order.status.value,
        )
    waiting_for_stock = (
        order.status is S.EXCEPTION and order.exception_reason == ExceptionReason.OUT_OF_STOCK
    )
    if order.status in SPLITTABLE or waiting_for_stock:
        return
    where = order.status.value
    if order.resume_status is not None:
        where += f" (from {order.resume_status.value})"
    hint = {
        S.PENDING_PAYMENT: "it can be split once it is paid",
        S.SENT_TO_WAREHOUSE: "the warehouse has it: intercept it first",
        S.PICKING: "the warehouse has it: intercept it first",
        S.ON_HOLD: "release it first",
        S.EXCEPTION: "resolve it first",
    }.get(order.status, "it has left the warehouse or is closed")
    raise SplitRefused(
        f"{name} is {where}; an order can be split only before the warehouse has it (paid, "
        f"pending_review, approved, allocated with its hand-off not yet delivered, or waiting "
        f"in out_of_stock): {hint}",
        order_id=order.id,
        order_status=order.status.value,
        allowed=[s.value for s in sorted(SPLITTABLE)] + ["exception (out_of_stock)"],
    )


def merge_orders(
    uow: UnitOfWork, order_ids: Sequence[int], *, actor: Actor, reason: str | None = None
) -> Parcel:
    """Put the orders in one parcel (one tracking no): same shop, buyer, receiver and warehouse,
    approved or allocated with their hand-offs not yet delivered, none marked never_merge."""
    require(actor, Permission.ORDER_MERGE)
    unique = list(dict.fromkeys(order_ids))
    if len(unique) < 2:
        raise ValidationFailed("give at least two different order ids to merge", field="order_ids")
    with uow:
        orders = [uow.orders.get(i) for i in unique]
        reasons = parcel_merge.refusals(uow, orders)
        if reasons:
            raise MergeRefused(
                f"orders {', '.join(map(str, unique))} cannot share a parcel: "
                + "; ".join(reasons),
                order_ids=unique,
                reasons=reasons,
            )
        how = "by hand" + (f" ({reason})" if reason else "")
        parcel = parcel_merge.merge(uow, orders, actor=actor, how=how)
        for order in orders:
            uow.orders.update(order)
        uow.commit()
    return parcel


def unmerge_parcel(
    uow: UnitOfWork, parcel_no: str, *, actor: Actor, reason: str | None = None
) -> list[Order]:
    """Undo a merge before the WMS has the parcel: each order goes back to its own hand-off and
    is marked never_merge, so the automatic merge does not put it back."""
    require(actor, Permission.ORDER_MERGE)
    with uow:
        parcel = uow.parcels.get(parcel_no)
        _check_unmergeable(parcel)
        if parcel.handed_off_at is not None and not hand.withdraw(
            uow, parcel.lead_order_id, parcel.warehouse, f"unmerged by {actor.name}"
        ):
            raise MergeRefused(
                f"parcel {parcel_no} is being handed to {parcel.warehouse} right now and the WMS "
                "may already have it; intercept its orders first, or try again in a moment",
                parcel_no=parcel_no,
            )
        why = f"unmerged by {actor.name}" + (f": {reason}" if reason else "")
        orders = hand.dissolve(uow, parcel, why=why, keep_apart=True)
        uow.commit()
    return orders


def _check_unmergeable(parcel: Parcel) -> None:
    no = parcel.parcel_no
    if parcel.kind is not ParcelKind.MERGE:
        raise MergeRefused(
            f"parcel {no} is part of a split order, not a merge; there is nothing to unmerge",
            parcel_no=no,
        )
    if parcel.status in (ParcelStatus.SENT, ParcelStatus.INTERCEPTING):
        raise MergeRefused(
            f"the WMS already has parcel {no} ({parcel.status.value}); intercept its orders "
            "first, then each can be handed off again on its own",
            parcel_no=no,
            parcel_status=parcel.status.value,
        )
    if parcel.status in GONE:
        raise MergeRefused(f"parcel {no} has shipped; it cannot be unmerged", parcel_no=no)
    if parcel.status is ParcelStatus.CANCELLED:
        raise MergeRefused(f"parcel {no} is already undone (cancelled)", parcel_no=no)


def set_never_merge(uow: UnitOfWork, order_id: int, never_merge: bool, *, actor: Actor) -> Order:
    """Mark (or unmark) the order as one that always ships on its own."""
    require(actor, Permission.ORDER_MERGE)
    with uow:
        order = uow.orders.get(order_id)
        if never_merge and order.parcel_mode == ParcelMode.MERGED:
            parcel = hand.merged_parcel(uow, order)
            no = parcel.parcel_no if parcel else "?"
            raise MergeRefused(
                f"order {order_id} is in merged parcel {no}; unmerge it first "
                f"(POST /api/v1/parcels/{no}/unmerge), which also marks it never_merge",
                order_id=order_id,
                parcel_no=no,
            )
        if order.never_merge != never_merge:
            order.never_merge = never_merge
            uow.record(
                order,
                hand.note(
                    order,
                    "never_merge",
                    "never merged with the buyer's other orders"
                    if never_merge
                    else "may be merged with the buyer's other orders again",
                    at=uow.clock.now(),
                    actor=actor,
                    detail={"never_merge": never_merge},
                ),
            )
            uow.orders.update(order)
            uow.commit()
    return order


def order_parcels(uow: UnitOfWork, order_id: int, *, actor: Actor) -> list[Parcel]:
    """Every parcel that carries part or all of the order, oldest first (cancelled ones too)."""
    require(actor, Permission.ORDER_READ)
    with uow:
        uow.orders.get(order_id)  # NotFound names the id
        return uow.parcels.of_order(order_id)


def get_parcel(uow: UnitOfWork, parcel_no: str, *, actor: Actor) -> Parcel:
    require(actor, Permission.ORDER_READ)
    with uow:
        return uow.parcels.get(parcel_no)


def merge_waiting(uows: UnitOfWorkFactory, *, limit: int = 500) -> list[str]:
    """The scheduler's merge round (ORDERHUB_AUTO_MERGE): allocated orders waiting in one
    warehouse for one buyer and receiver go out in one parcel. Each group is one transaction;
    an order whose hand-off is on its way right now is left out. Returns the parcels made."""
    with uows.read_only() as uow:
        groups = uow.parcels.mergeable_groups(limit)
    made: list[str] = []
    for ids in groups:
        while len(ids) >= 2:
            try:
                made.append(_merge_group(uows(), ids))
            except MergeRefused as refused:
                left_out = refused.extra.get("order_id")
                if left_out not in ids:
                    log.info("merge round skipped a group", orders=ids, reason=refused.detail)
                    break
                ids = [i for i in ids if i != left_out]
                continue
            break
    return made


def _merge_group(uow: UnitOfWork, ids: list[int]) -> str:
    with uow:
        orders = [uow.orders.get(i) for i in ids]
        reasons = parcel_merge.refusals(uow, orders)
        if reasons:
            raise MergeRefused("; ".join(reasons))
        parcel = parcel_merge.merge(uow, orders, actor=SYSTEM, how=parcel_merge.AUTOMATICALLY)
        for order in orders:
            uow.orders.update(order)
        uow.commit()
    return parcel.parcel_no
