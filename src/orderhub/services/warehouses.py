"""Warehouses: where orders ship from, and the WMS that runs each one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from orderhub.domain.actors import Actor
from orderhub.domain.warehouses import Warehouse, WmsCredentials, check_warehouse
from orderhub.errors import ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services.ports import UnitOfWork, WmsConnector

_CHANGEABLE = {"name", "wms", "base_url", "credentials", "enabled", "rate_per_s"}


def create_warehouse(
    uow: UnitOfWork,
    wms: WmsConnector,
    *,
    actor: Actor,
    code: str,
    name: str,
    protocol: str = "none",
    base_url: str = "",
    credentials: WmsCredentials | None = None,
    rate_per_s: float = 50.0,
) -> Warehouse:
    require(actor, Permission.WAREHOUSE_MANAGE)
    with uow:
        now = uow.clock.now()
        warehouse = check_warehouse(
            Warehouse(
                code=code,
                name=name,
                created_at=now,
                updated_at=now,
                wms=protocol,
                base_url=base_url,
                credentials=credentials or WmsCredentials(),
                rate_per_s=rate_per_s,
            ),
            wms.protocols(),
        )
        warehouse.id = uow.warehouses.add(warehouse)
        uow.commit()
    return warehouse


def update_warehouse(
    uow: UnitOfWork, wms: WmsConnector, code: str, *, actor: Actor, changes: dict[str, Any]
) -> Warehouse:
    """Change name, wms, base_url, credentials, enabled or rate_per_s (only what is given)."""
    require(actor, Permission.WAREHOUSE_MANAGE)
    unknown = set(changes) - _CHANGEABLE
    if unknown:
        raise ValidationFailed(
            f"cannot change {', '.join(sorted(unknown))}; "
            f"changeable: {', '.join(sorted(_CHANGEABLE))}"
        )
    with uow:
        found = uow.warehouses.get(code)
        if isinstance(changes.get("credentials"), dict):
            changes = {
                **changes,
                "credentials": replace(found.credentials, **changes["credentials"]),
            }
        updated = check_warehouse(
            replace(found, **changes, updated_at=uow.clock.now()), wms.protocols()
        )
        uow.warehouses.update(updated)
        uow.commit()
    return updated


def list_warehouses(uow: UnitOfWork, *, actor: Actor) -> Sequence[Warehouse]:
    require(actor, Permission.WAREHOUSE_READ)
    with uow:
        return uow.warehouses.list()


def get_warehouse(uow: UnitOfWork, code: str, *, actor: Actor) -> Warehouse:
    require(actor, Permission.WAREHOUSE_READ)
    with uow:
        return uow.warehouses.get(code)
