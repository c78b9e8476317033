"""Who does something: a signed-in user, an integration token, a channel, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ActorKind(StrEnum):
    USER = "user"
    TOKEN = "token"
    SYSTEM = "system"
    CHANNEL = "channel"
    WAREHOUSE = "warehouse"


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    kind: ActorKind = ActorKind.USER
    role: str | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


SYSTEM = Actor(id="system", name="system", kind=ActorKind.SYSTEM, role="system")


def warehouse_actor(code: str) -> Actor:
    """The WMS of warehouse `code`: it owns the fulfilment facts it reports."""
    return Actor(id=f"wms:{code}", name=f"wms/{code}", kind=ActorKind.WAREHOUSE, role="wms")
