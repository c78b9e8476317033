"""What alerting needs from storage: the recipients alert rules name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from orderhub.domain.notifications import Recipient


class RecipientRepository(Protocol):
    def get(self, code: str) -> Recipient:
        """The recipient, or NotFound naming the code and how to add one."""
        ...

    def find(self, code: str) -> Recipient | None: ...

    def list(self) -> Sequence[Recipient]: ...

    def add(self, recipient: Recipient) -> int: ...

    def update(self, recipient: Recipient) -> None: ...
