"""/api/v1/listings and /api/v1/shops/{code}/stock-rule: what each shop's listings show.

Listings are read from the channel (`POST /shops/{code}/listings/sync`); every change of
available stock then reaches them through the outbox, by the shop's stock rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.stock_push import Listing, StockRule
from orderhub.permissions import Permission
from orderhub.services import stock_push

router = APIRouter(prefix="/api/v1", tags=["stock push"])
Reader = Annotated[Actor, Depends(Requires(Permission.LISTING_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.LISTING_MANAGE))]


class ListingOut(BaseModel):
    id: int
    shop: str
    channel: str
    channel_sku: str
    title: str
    sku: str | None = Field(description="the merchant SKU or combo it sells; null: unmapped")
    ids: dict[str, str] = Field(description="the channel's own ids for the listing")
    channel_quantity: int | None = Field(description="what the channel showed when last read")
    planned_quantity: int | None = Field(description="what OrderHub last decided it shows")
    pushed_quantity: int | None = Field(description="what the channel confirmed last")
    pushed_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, listing: Listing) -> ListingOut:
        return cls(
            id=listing.id,
            shop=listing.shop,
            channel=listing.channel,
            channel_sku=listing.channel_sku,
            title=listing.title,
            sku=listing.sku,
            ids=dict(listing.ids),
            channel_quantity=listing.channel_quantity,
            planned_quantity=listing.planned_quantity,
            pushed_quantity=listing.pushed_quantity,
            pushed_at=listing.pushed_at,
            last_error=listing.last_error,
        )


class SyncOut(BaseModel):
    shop: str
    listings: int
    mapped: int
    unmapped: list[str] = Field(description="channel SKUs to map before their stock is pushed")


class StockRuleIn(Strict):
    percent: Annotated[int, Field(ge=0, le=100, description="share of available shown")] = 100
    buffer: Annotated[int, Field(ge=0, description="units held back from this shop")] = 0
    minimum: Annotated[
        int,
        Field(ge=0, description="a smaller share is raised to this, never above what is there"),
    ] = 0
    warehouses: list[str] = Field(
        default_factory=list, description="warehouses this shop sells from; empty: all"
    )
    enabled: bool = True


class StockRuleOut(StockRuleIn):
    shop: str
    updated_at: datetime | None
    updated_by: str

    @classmethod
    def of(cls, rule: StockRule) -> StockRuleOut:
        return cls(
            shop=rule.shop,
            percent=rule.percent,
            buffer=rule.buffer,
            minimum=rule.minimum,
            warehouses=list(rule.warehouses),
            enabled=rule.enabled,
            updated_at=rule.updated_at,
            updated_by=rule.updated_by,
        )


@router.get("/listings", response_model=list[ListingOut])
def list_listings(
    request: Request,
    actor: Reader,
    shop: Annotated[str | None, Query()] = None,
    sku: Annotated[str | None, Query()] = None,
) -> list[ListingOut]:
    found = stock_push.list_listings(
        hub_of(request).uow.read_only(), actor=actor, shop=shop, sku=sku
    )
    return [ListingOut.of(x) for x in found]


@router.post("/shops/{code}/listings/sync", response_model=SyncOut)
def sync_listings(code: str, request: Request, actor: Manager) -> SyncOut:
    """Read the shop's listings from its channel; their stock is pushed right after."""
    hub = hub_of(request)
    report = stock_push.sync_listings(hub.uow, hub.channels, actor=actor, shop=code)
    return SyncOut(
        shop=report.shop, listings=report.listings, mapped=report.mapped, unmapped=report.unmapped
    )


@router.get("/stock-rules", response_model=list[StockRuleOut])
def list_stock_rules(request: Request, actor: Reader) -> list[StockRuleOut]:
    return [
        StockRuleOut.of(r)
        for r in stock_push.stock_rules(hub_of(request).uow.read_only(), actor=actor)
    ]


@router.get("/shops/{code}/stock-rule", response_model=StockRuleOut)
def get_stock_rule(code: str, request: Request, actor: Reader) -> StockRuleOut:
    return StockRuleOut.of(
        stock_push.stock_rule(hub_of(request).uow.read_only(), actor=actor, shop=code)
    )


@router.put("/shops/{code}/stock-rule", response_model=StockRuleOut)
def save_stock_rule(code: str, body: StockRuleIn, request: Request, actor: Manager) -> StockRuleOut:
    """Replace the shop's rule; its listings are worked out again at once."""
    rule = StockRule(
        shop=code,
        percent=body.percent,
        buffer=body.buffer,
        minimum=body.minimum,
        warehouses=tuple(body.warehouses),
        enabled=body.enabled,
    )
    saved = stock_push.save_stock_rule(hub_of(request).uow(), rule, actor=actor)
    return StockRuleOut.of(saved)
