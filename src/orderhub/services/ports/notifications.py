"""What alerting needs from storage: the recipients alert rules name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from orderhub.domain.notifications import Recipient
from orderhub.services.ports.fulfilment import Sender


class RecipientRepository(Protocol):
    def get(self, code: str) -> Recipient:
        """The recipient, or NotFound naming the code and how to add one."""
        ...

    def find(self, code: str) -> Recipient | None: ...

    def list(self) -> Sequence[Recipient]: ...

    def add(self, recipient: Recipient) -> int: ...

    def update(self, recipient: Recipient) -> None: ...


class Notifiers(Protocol):
    """Builds the sender for one recipient's channel (a test notice goes straight through it;
    alerts go through the outbox, whose relay finds the same sender by target)."""

    def notifier(self, recipient: Recipient) -> Sender: ...
