"""Custom field definitions a merchant declares for its orders, and their in-process cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

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


# How long another process's custom field declaration may go unseen (this process's own are seen
# at once).
CUSTOM_FIELDS_TTL_S = 1.0


class CustomFieldCache:
    """The declared custom fields, read once and shared by the units of work of one factory.

    Every create validates against them, and they change seldom: a declaration made through this
    factory clears the cache when it commits; one made elsewhere (another process, or SQL by
    hand) is picked up within `ttl_s`.
    """

    def __init__(self, ttl_s: float = CUSTOM_FIELDS_TTL_S) -> None:
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._generation = 0
        self._entry: tuple[int, float, dict[str, CustomFieldDef]] | None = None

    def get(self, load: Callable[[], dict[str, CustomFieldDef]]) -> dict[str, CustomFieldDef]:
        entry, now = self._entry, time.monotonic()
        if entry is not None and entry[0] == self._generation and now - entry[1] < self._ttl_s:
            return dict(entry[2])
        generation = self._generation
        fields = load()
        with self._lock:
            # A declaration that committed while we read may not be in `fields`: keep nothing.
            if generation == self._generation:
                self._entry = (generation, now, fields)
        return dict(fields)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entry = None


class CachedCustomFieldRepository:
    def __init__(self, repository: SqlCustomFieldRepository, cache: CustomFieldCache) -> None:
        self._repository, self._cache = repository, cache
        self.declared = False

    def all(self) -> dict[str, CustomFieldDef]:
        return self._cache.get(self._repository.all)

    def add(self, definition: CustomFieldDef) -> None:
        self._repository.add(definition)
        self.declared = True
