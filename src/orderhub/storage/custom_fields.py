"""Custom field definitions a merchant declares for its orders."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from orderhub.domain.orders import CustomFieldDef, CustomFieldType
from orderhub.services.ports import Clock
from orderhub.storage.tables import custom_field_defs

_ALL_FIELDS = select(custom_field_defs).order_by(custom_field_defs.c.name)
_INSERT = custom_field_defs.insert()


class SqlCustomFieldRepository:
    def __init__(self, conn: Connection, clock: Clock) -> None:
        self._conn, self._clock = conn, clock

    def all(self) -> dict[str, CustomFieldDef]:
        return {
            r["name"]: CustomFieldDef(
                r["name"],
                CustomFieldType(r["type"]),
                r["label"],
                r["required"],
                tuple(r["choices"]),
            )
            for r in self._conn.execute(_ALL_FIELDS).mappings()
        }

    def add(self, definition: CustomFieldDef) -> None:
        self._conn.execute(
            _INSERT,
            {
                "name": definition.name,
                "type": definition.type.value,
                "label": definition.label,
                "required": definition.required,
                "choices": list(definition.choices),
                "created_at": self._clock.now(),
            },
        )
