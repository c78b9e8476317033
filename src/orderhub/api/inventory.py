"""/api/v1/stock: levels per SKU and warehouse, their ledger, goods in and counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.inventory import StockLevel
from orderhub.permissions import Permission
from orderhub.services import inventory

router = APIRouter(prefix="/api/v1/stock", tags=["stock"])
Reader = Annotated[Actor, Depends(Requires(Permission.STOCK_READ))]
Adjuster = Annotated[Actor, Depends(Requires(Permission.STOCK_ADJUST))]


class LevelOut(BaseModel):
    sku: str
    warehouse: str
    on_hand: int
    reserved: int
    available: int

    @classmethod
    def of(cls, level: StockLevel) -> LevelOut:
        return cls(
            sku=level.sku,
            warehouse=level.warehouse,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
        )


class ReceiveIn(Strict):
    sku: str
    warehouse: str
    quantity: Annotated[int, Field(ge=1)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    reference: Annotated[
        str | None, Field(max_length=128, description="e.g. the delivery note no")
    ] = None


class AdjustIn(Strict):
    sku: str
    warehouse: str
    delta: int = Field(description="units to add (positive) or take away (negative)")
    reason: Annotated[str, Field(min_length=1, max_length=500)]


@router.get("", response_model=list[LevelOut])
def levels(
    request: Request, actor: Reader, sku: str | None = None, warehouse: str | None = None
) -> list[LevelOut]:
    return [
        LevelOut.of(x)
        for x in inventory.stock(
            hub_of(request).uow.read_only(), actor=actor, sku=sku, warehouse=warehouse
        )
    ]


@router.get("/{sku}/movements")
def movements(
    sku: str, request: Request, actor: Reader, warehouse: str | None = None
) -> list[dict[str, Any]]:
    return inventory.history(
        hub_of(request).uow.read_only(), actor=actor, sku=sku, warehouse=warehouse
    )


@router.post("/receive", response_model=LevelOut)
def receive(body: ReceiveIn, request: Request, actor: Adjuster) -> LevelOut:
    return LevelOut.of(
        inventory.receive(
            hub_of(request).uow(),
            actor=actor,
            sku=body.sku,
            warehouse=body.warehouse,
            quantity=body.quantity,
            reason=body.reason,
            reference=body.reference,
        )
    )


@router.post("/adjust", response_model=LevelOut)
def adjust(body: AdjustIn, request: Request, actor: Adjuster) -> LevelOut:
    return LevelOut.of(
        inventory.adjust(
            hub_of(request).uow(),
            actor=actor,
            sku=body.sku,
            warehouse=body.warehouse,
            delta=body.delta,
            reason=body.reason,
        )
    )
