"""Warehouses in SQL; WMS credentials sealed at rest like a shop's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from orderhub.domain.warehouses import Warehouse, WmsCredentials
from orderhub.errors import AlreadyExists, NotFound
from orderhub.storage.rows import inserted_id
from orderhub.storage.sealed import seal, unseal
from orderhub.storage.tables import warehouses


def _row(warehouse: Warehouse, cipher: Fernet) -> dict[str, Any]:
    return {
        "code": warehouse.code,
        "name": warehouse.name,
        "wms": warehouse.wms,
        "base_url": warehouse.base_url,
        "credentials": seal(cipher, asdict(warehouse.credentials)),
        "enabled": warehouse.enabled,
        "rate_per_s": warehouse.rate_per_s,
        "created_at": warehouse.created_at,
        "updated_at": warehouse.updated_at,
    }


def _warehouse(row: RowMapping, cipher: Fernet) -> Warehouse:
    owner = f"warehouse {row['code']}"
    return Warehouse(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        wms=row["wms"],
        base_url=row["base_url"],
        credentials=WmsCredentials(**unseal(cipher, row["credentials"], owner=owner)),
        enabled=row["enabled"],
        rate_per_s=row["rate_per_s"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlWarehouseRepository:
    def __init__(self, conn: Connection, cipher: Fernet) -> None:
        self._conn, self._cipher = conn, cipher

    def find(self, code: str) -> Warehouse | None:
        query = select(warehouses).where(warehouses.c.code == code)
        row = self._conn.execute(query).mappings().first()
        return None if row is None else _warehouse(row, self._cipher)

    def get(self, code: str) -> Warehouse:
        found = self.find(code)
        if found is None:
            raise NotFound(
                f"warehouse '{code}' does not exist; add it with `orderhub warehouses add {code}` "
                "or POST /api/v1/warehouses"
            )
        return found

    def list(self) -> Sequence[Warehouse]:
        rows = self._conn.execute(select(warehouses).order_by(warehouses.c.code)).mappings()
        return [_warehouse(r, self._cipher) for r in rows]

    def add(self, warehouse: Warehouse) -> int:
        if self.find(warehouse.code) is not None:
            raise AlreadyExists(f"warehouse '{warehouse.code}' already exists; update it instead")
        return inserted_id(self._conn.execute(warehouses.insert(), _row(warehouse, self._cipher)))

    def update(self, warehouse: Warehouse) -> None:
        row = _row(warehouse, self._cipher)
        del row["created_at"]
        self._conn.execute(
            warehouses.update().where(warehouses.c.code == warehouse.code).values(**row)
        )
