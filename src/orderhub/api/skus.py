"""/api/v1/skus and /api/v1/sku-mappings: the merchant's SKUs, combos and channel mappings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.channels import Component
from orderhub.permissions import Permission
from orderhub.services import catalogue

router = APIRouter(prefix="/api/v1", tags=["skus"])


def _as(permission: Permission) -> Any:
    return Depends(Requires(permission))


class ComponentIn(Strict):
    sku: str
    quantity: int = 1
    weight: int = 1


class ProductIn(Strict):
    sku: str
    title: str
    components: list[ComponentIn] = Field(default_factory=list)


@router.get("/skus")
def list_products(
    request: Request, actor: Actor = _as(Permission.SKU_READ)
) -> list[dict[str, Any]]:
    return catalogue.list_products(hub_of(request).uow.read_only(), actor=actor)


@router.post("/skus", status_code=201)
def add_product(
    body: ProductIn, request: Request, actor: Actor = _as(Permission.SKU_MANAGE)
) -> dict[str, Any]:
    catalogue.add_product(
        hub_of(request).uow(),
        actor=actor,
        sku=body.sku,
        title=body.title,
        components=[Component(c.sku, c.quantity, c.weight) for c in body.components],
    )
    return body.model_dump()


class SkuMappingIn(Strict):
    channel: str
    channel_sku: str
    sku: str
    shop: str = Field("", description="empty: every shop of the channel")


@router.get("/sku-mappings")
def list_mappings(
    request: Request, actor: Actor = _as(Permission.SKU_READ)
) -> list[dict[str, Any]]:
    return catalogue.list_mappings(hub_of(request).uow.read_only(), actor=actor)


@router.post("/sku-mappings", status_code=201)
def map_sku(
    body: SkuMappingIn, request: Request, actor: Actor = _as(Permission.SKU_MANAGE)
) -> dict[str, Any]:
    released = catalogue.map_sku(
        hub_of(request).uow,
        actor=actor,
        channel=body.channel,
        channel_sku=body.channel_sku,
        sku=body.sku,
        shop=body.shop,
    )
    return {**body.model_dump(), "released_orders": released}
