"""Custom field definitions a merchant declares for its orders, and their in-process cache."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from orderhub.domain.orders import CustomFieldDef, CustomFieldType
from orderhub.services.ports import Clock
from orderhub.storage.shared_cache import SharedCache
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


# How long another process's custom field declaration may go unseen (this process's own are seen
# at once).
CUSTOM_FIELDS_TTL_S = 1.0


class CustomFieldCache(SharedCache[dict[str, CustomFieldDef]]):
    """The declared custom fields: every create validates against them."""

    def __init__(self, ttl_s: float = CUSTOM_FIELDS_TTL_S) -> None:
        super().__init__(ttl_s)


class CachedCustomFieldRepository:
    def __init__(self, repository: SqlCustomFieldRepository, cache: CustomFieldCache) -> None:
        self._repository, self._cache = repository, cache
        self.declared = False

    def all(self) -> dict[str, CustomFieldDef]:
        return dict(self._cache.get(self._repository.all))

    def add(self, definition: CustomFieldDef) -> None:
        self._repository.add(definition)
        self.declared = True
