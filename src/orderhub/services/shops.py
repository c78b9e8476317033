"""Shops: the merchant's stores on each channel, with their credentials and sync settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from orderhub.domain.actors import Actor
from orderhub.domain.shops import Credentials, Shop, SyncSettings, check_shop
from orderhub.permissions import Permission, require
from orderhub.services.ports import ChannelConnector, UnitOfWork


def create_shop(
    uow: UnitOfWork,
    connector: ChannelConnector,
    *,
    actor: Actor,
    code: str,
    channel: str,
    name: str,
    base_url: str,
    credentials: Credentials,
    settings: SyncSettings | None = None,
) -> Shop:
    require(actor, Permission.SHOP_MANAGE)
    with uow:
        now = uow.clock.now()
        shop = check_shop(
            Shop(
                code=code,
                channel=channel,
                name=name,
                base_url=base_url,
                credentials=credentials,
                settings=settings or SyncSettings(),
                created_at=now,
                updated_at=now,
            ),
            connector.channels(),
        )
        shop.id = uow.shops.add(shop)
        uow.commit()
    return shop


def update_shop(
    uow: UnitOfWork,
    connector: ChannelConnector,
    code: str,
    *,
    actor: Actor,
    changes: dict[str, Any],
) -> Shop:
    """Change name, base_url, enabled, credentials or settings (partial: only what is given)."""
    require(actor, Permission.SHOP_MANAGE)
    with uow:
        shop = uow.shops.get(code)
        if "credentials" in changes:
            shop.credentials = replace(shop.credentials, **changes.pop("credentials"))
        if "settings" in changes:
            shop.settings = replace(shop.settings, **changes.pop("settings"))
        for name in ("name", "base_url", "enabled"):
            if name in changes:
                setattr(shop, name, changes.pop(name))
        shop.updated_at = uow.clock.now()
        check_shop(shop, connector.channels())
        uow.shops.update(shop)
        uow.commit()
    return shop


def list_shops(uow: UnitOfWork, *, actor: Actor) -> Sequence[Shop]:
    require(actor, Permission.SHOP_READ)
    with uow:
        return uow.shops.list()


def get_shop(uow: UnitOfWork, code: str, *, actor: Actor) -> Shop:
    require(actor, Permission.SHOP_READ)
    with uow:
        return uow.shops.get(code)
