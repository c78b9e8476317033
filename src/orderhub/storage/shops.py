"""Shops in SQL; credentials encrypted at rest with Fernet (cryptography)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from orderhub.domain.shops import Credentials, Shop, SyncSettings
from orderhub.errors import AlreadyExists, NotFound
from orderhub.storage.rows import inserted_id
from orderhub.storage.sealed import seal, unseal
from orderhub.storage.tables import shops


def _row(shop: Shop, cipher: Fernet) -> dict[str, Any]:
    secret = seal(cipher, asdict(shop.credentials))
    return {
        "code": shop.code,
        "channel": shop.channel,
        "name": shop.name,
        "enabled": shop.enabled,
        "base_url": shop.base_url,
        "credentials": secret,
        "settings": asdict(shop.settings),
        "cursor_at": shop.cursor_at,
        "last_sync_at": shop.last_sync_at,
        "last_error": shop.last_error,
        "warehouse": shop.warehouse,
        "created_at": shop.created_at,
        "updated_at": shop.updated_at,
    }


def _shop(row: RowMapping, cipher: Fernet) -> Shop:
    credentials = Credentials(**unseal(cipher, row["credentials"], owner=f"shop {row['code']}"))
    return Shop(
        id=row["id"],
        code=row["code"],
        channel=row["channel"],
        name=row["name"],
        enabled=row["enabled"],
        base_url=row["base_url"],
        credentials=credentials,
        settings=SyncSettings(**row["settings"]),
        cursor_at=row["cursor_at"],
        last_sync_at=row["last_sync_at"],
        last_error=row["last_error"],
        warehouse=row["warehouse"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlShopRepository:
    def __init__(self, conn: Connection, cipher: Fernet) -> None:
        self._conn, self._cipher = conn, cipher

    def get(self, code: str) -> Shop:
        row = self._conn.execute(select(shops).where(shops.c.code == code)).mappings().first()
        if row is None:
            raise NotFound(f"shop '{code}' does not exist; list shops with GET /api/v1/shops")
        return _shop(row, self._cipher)

    def list(self) -> Sequence[Shop]:
        rows = self._conn.execute(select(shops).order_by(shops.c.code)).mappings()
        return [_shop(r, self._cipher) for r in rows]

    def add(self, shop: Shop) -> int:
        if self._conn.execute(select(shops.c.id).where(shops.c.code == shop.code)).first():
            raise AlreadyExists(f"shop '{shop.code}' already exists; update it instead")
        return inserted_id(self._conn.execute(shops.insert(), _row(shop, self._cipher)))

    def update(self, shop: Shop) -> None:
        row = _row(shop, self._cipher)
        del row["created_at"]
        self._conn.execute(shops.update().where(shops.c.code == shop.code).values(**row))

    def record_sync(
        self, code: str, *, at: datetime, cursor_at: datetime | None, error: str | None
    ) -> None:
        values: dict[str, Any] = {"last_sync_at": at, "last_error": error}
        if cursor_at is not None:
            values["cursor_at"] = cursor_at
        self._conn.execute(shops.update().where(shops.c.code == code).values(**values))
