"""/api/v1/shops: shops, their pulls and their reconciliation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.shops import Credentials, Shop, SyncSettings
from orderhub.permissions import Permission
from orderhub.services import shops
from orderhub.services.channel_sync import pull_shop, reconcile_shop

router = APIRouter(prefix="/api/v1", tags=["shops"])


def _as(permission: Permission) -> Any:
    return Depends(Requires(permission))


class CredentialsIn(Strict):
    app_key: str = ""
    app_secret: str = ""
    access_token: str = ""


class SettingsIn(Strict):
    interval_s: int | None = None
    overlap_s: int | None = None
    initial_lookback_s: int | None = None
    rate_per_s: float | None = None
    timeout_s: float | None = None
    max_attempts: int | None = None


class ShopIn(Strict):
    code: str
    channel: str
    name: str
    base_url: str
    credentials: CredentialsIn = CredentialsIn()
    settings: SettingsIn = SettingsIn()


class ShopPatch(Strict):
    name: str | None = None
    base_url: str | None = None
    enabled: bool | None = None
    credentials: CredentialsIn | None = None
    settings: SettingsIn | None = None


class ShopOut(BaseModel):
    code: str
    channel: str
    name: str
    enabled: bool
    base_url: str
    app_key: str = Field(description="the secret and the token are never shown")
    settings: dict[str, Any]
    cursor_at: datetime | None
    last_sync_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, shop: Shop) -> ShopOut:
        return cls(
            code=shop.code,
            channel=shop.channel,
            name=shop.name,
            enabled=shop.enabled,
            base_url=shop.base_url,
            app_key=shop.credentials.app_key,
            settings=vars(shop.settings),
            cursor_at=shop.cursor_at,
            last_sync_at=shop.last_sync_at,
            last_error=shop.last_error,
        )


@router.get("/shops", response_model=list[ShopOut])
def list_shops(request: Request, actor: Actor = _as(Permission.SHOP_READ)) -> list[ShopOut]:
    return [ShopOut.of(s) for s in shops.list_shops(hub_of(request).uow.read_only(), actor=actor)]


@router.post("/shops", response_model=ShopOut, status_code=201)
def create_shop(
    body: ShopIn, request: Request, actor: Actor = _as(Permission.SHOP_MANAGE)
) -> ShopOut:
    hub = hub_of(request)
    settings = SyncSettings(**body.settings.model_dump(exclude_none=True))
    return ShopOut.of(
        shops.create_shop(
            hub.uow(),
            hub.channels,
            actor=actor,
            code=body.code,
            channel=body.channel,
            name=body.name,
            base_url=body.base_url,
            credentials=Credentials(**body.credentials.model_dump()),
            settings=settings,
        )
    )


@router.patch("/shops/{code}", response_model=ShopOut)
def update_shop(
    code: str, body: ShopPatch, request: Request, actor: Actor = _as(Permission.SHOP_MANAGE)
) -> ShopOut:
    hub = hub_of(request)
    changes = body.model_dump(exclude_none=True)
    if "settings" in changes:
        changes["settings"] = {k: v for k, v in changes["settings"].items() if v is not None}
    return ShopOut.of(
        shops.update_shop(hub.uow(), hub.channels, code, actor=actor, changes=changes)
    )


class PullOut(BaseModel):
    shop: str
    since: datetime
    until: datetime
    pages: int
    payloads: int
    outcomes: dict[str, int]
    error: str | None


@router.post("/shops/{code}/pull", response_model=PullOut)
def pull(code: str, request: Request, actor: Actor = _as(Permission.CHANNEL_SYNC)) -> PullOut:
    hub = hub_of(request)
    report = pull_shop(
        hub.uow, hub.channels, code, review_required=hub.settings.review_required, actor=actor
    )
    return PullOut(
        shop=report.shop,
        since=report.since,
        until=report.until,
        pages=report.pages,
        payloads=report.payloads,
        outcomes=dict(report.outcomes),
        error=report.error,
    )


class ReconcileOut(BaseModel):
    shop: str
    since: datetime
    until: datetime
    channel_total: int
    in_pool: int
    in_quarantine: int
    complete: bool
    missing: list[str]
    backfilled: list[str]
    still_missing: list[str]
    error: str | None


@router.post("/shops/{code}/reconcile", response_model=ReconcileOut)
def reconcile(
    code: str,
    request: Request,
    actor: Actor = _as(Permission.CHANNEL_SYNC),
    since: AwareDatetime | None = None,
    hours: Annotated[float, Query(gt=0, le=24 * 90)] = 48,
) -> ReconcileOut:
    hub = hub_of(request)
    with hub.uow.read_only() as uow:
        now = uow.clock.now()
    report = reconcile_shop(
        hub.uow,
        hub.channels,
        code,
        since=since or now - timedelta(hours=hours),
        until=now,
        review_required=hub.settings.review_required,
        actor=actor,
    )
    return ReconcileOut(
        complete=report.complete,
        **{
            k: getattr(report, k)
            for k in (
                "shop",
                "since",
                "until",
                "channel_total",
                "in_pool",
                "in_quarantine",
                "missing",
                "backfilled",
                "still_missing",
                "error",
            )
        },
    )
