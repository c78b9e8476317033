"""/api/v1: split an order into parcels, merge orders into one, undo a merge, never_merge, and
each order's parcels with their history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, StrictInt

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict, Text64
from orderhub.domain.actors import Actor
from orderhub.domain.parcels import Parcel
from orderhub.permissions import Permission
from orderhub.services.fulfilment import parcels

router = APIRouter(prefix="/api/v1", tags=["parcels"])
Reader = Annotated[Actor, Depends(Requires(Permission.ORDER_READ))]
Splitter = Annotated[Actor, Depends(Requires(Permission.ORDER_SPLIT))]
Merger = Annotated[Actor, Depends(Requires(Permission.ORDER_MERGE))]
Reason = Annotated[str | None, Field(max_length=500)]


class ParcelLineIn(Strict):
    sku: Text64
    quantity: Annotated[StrictInt, Field(ge=1)]


class ParcelIn(Strict):
    warehouse: Annotated[
        str | None, Field(max_length=64, description="where it ships from; default: the order's")
    ] = None
    lines: list[ParcelLineIn]


class SplitIn(Strict):
    parcels: list[ParcelIn] = Field(
        description="two or more parcels whose lines add up to the order's lines exactly"
    )
    reason: Reason = None


class MergeIn(Strict):
    order_ids: list[StrictInt]
    reason: Reason = None


class UnmergeIn(Strict):
    reason: Reason = None


class NeverMergeIn(Strict):
    never_merge: bool


class ParcelLineOut(BaseModel):
    order_id: int
    line_no: int
    sku: str
    channel_sku: str | None
    title: str
    quantity: int


class ParcelOut(BaseModel):
    parcel_no: str
    kind: str
    warehouse: str
    status: str
    stock_state: str | None
    lines: list[ParcelLineOut]
    orders: list[int]
    other_orders: list[int] = Field(description="the parcel's orders but the one asked about")
    carrier: str | None
    tracking_no: str | None
    shipped_at: datetime | None
    handed_off_at: datetime | None
    created_at: datetime
    created_by: str
    note: str

    @classmethod
    def of(cls, parcel: Parcel, order_id: int | None = None) -> ParcelOut:
        return cls(
            parcel_no=parcel.parcel_no,
            kind=parcel.kind.value,
            warehouse=parcel.warehouse,
            status=parcel.status.value,
            stock_state=parcel.stock_state,
            lines=[
                ParcelLineOut(
                    order_id=x.order_id,
                    line_no=x.line_no,
                    sku=x.sku,
                    channel_sku=x.channel_sku,
                    title=x.title,
                    quantity=x.quantity,
                )
                for x in parcel.lines
            ],
            orders=list(parcel.order_ids),
            other_orders=[i for i in parcel.order_ids if i != order_id],
            carrier=parcel.carrier,
            tracking_no=parcel.tracking_no,
            shipped_at=parcel.shipped_at,
            handed_off_at=parcel.handed_off_at,
            created_at=parcel.created_at,
            created_by=parcel.created_by,
            note=parcel.note,
        )


class SplitOut(BaseModel):
    order_id: int
    parcels: list[ParcelOut]


class UnmergedOut(BaseModel):
    parcel_no: str
    orders: list[dict[str, object]]


class NeverMergeOut(BaseModel):
    order_id: int
    never_merge: bool


@router.post("/orders/{order_id}/split", response_model=SplitOut)
def split_order(order_id: int, body: SplitIn, request: Request, actor: Splitter) -> SplitOut:
    made = parcels.split_order(
        hub_of(request).uow(),
        order_id,
        [
            parcels.ParcelAsked(
                tuple((line.sku, line.quantity) for line in p.lines), p.warehouse or None
            )
            for p in body.parcels
        ],
        actor=actor,
        reason=body.reason,
    )
    return SplitOut(order_id=order_id, parcels=[ParcelOut.of(p, order_id) for p in made])


@router.post("/orders/merge", status_code=201, response_model=ParcelOut)
def merge_orders(body: MergeIn, request: Request, actor: Merger) -> ParcelOut:
    parcel = parcels.merge_orders(
        hub_of(request).uow(), body.order_ids, actor=actor, reason=body.reason
    )
    return ParcelOut.of(parcel)


@router.post("/orders/{order_id}/never-merge", response_model=NeverMergeOut)
def never_merge(
    order_id: int, body: NeverMergeIn, request: Request, actor: Merger
) -> NeverMergeOut:
    order = parcels.set_never_merge(hub_of(request).uow(), order_id, body.never_merge, actor=actor)
    return NeverMergeOut(order_id=order_id, never_merge=order.never_merge)


@router.get("/orders/{order_id}/parcels", response_model=list[ParcelOut])
def order_parcels(order_id: int, request: Request, actor: Reader) -> list[ParcelOut]:
    found = parcels.order_parcels(hub_of(request).uow.read_only(), order_id, actor=actor)
    return [ParcelOut.of(p, order_id) for p in found]


@router.get("/parcels/{parcel_no}", response_model=ParcelOut)
def get_parcel(parcel_no: str, request: Request, actor: Reader) -> ParcelOut:
    return ParcelOut.of(parcels.get_parcel(hub_of(request).uow.read_only(), parcel_no, actor=actor))


@router.post("/parcels/{parcel_no}/unmerge", response_model=UnmergedOut)
def unmerge(
    parcel_no: str, request: Request, actor: Merger, body: UnmergeIn | None = None
) -> UnmergedOut:
    orders = parcels.unmerge_parcel(
        hub_of(request).uow(), parcel_no, actor=actor, reason=body.reason if body else None
    )
    return UnmergedOut(
        parcel_no=parcel_no,
        orders=[
            {"order_id": o.id, "status": o.status.value, "never_merge": o.never_merge}
            for o in orders
        ],
    )
