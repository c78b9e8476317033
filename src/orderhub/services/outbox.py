"""The outbox as operators see it: what waits, what failed, what is dead, and replaying it."""

from __future__ import annotations

from typing import Any

from orderhub.domain.actors import Actor
from orderhub.errors import ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services.ports import UnitOfWork

STATUSES = ("pending", "sending", "delivered", "refused", "dead", "superseded", "kept")
REPLAYABLE = ("dead", "refused")


def counts(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    """Messages per target and status (change events kept without a broker are left out)."""
    require(actor, Permission.OUTBOX_READ)
    with uow:
        return uow.outbox.counts()


def messages(
    uow: UnitOfWork,
    *,
    actor: Actor,
    status: str | None = None,
    target: str | None = None,
    order_id: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    require(actor, Permission.OUTBOX_READ)
    if status is not None and status not in STATUSES:
        raise ValidationFailed(
            f"unknown status '{status}'; use one of: {', '.join(STATUSES)}", field="status"
        )
    with uow:
        return uow.outbox.list(
            status=status,
            target=target,
            order_id=order_id,
            before_id=before_id,
            limit=max(1, min(limit, 500)),
        )


def message(uow: UnitOfWork, message_id: int, *, actor: Actor) -> dict[str, Any]:
    """One message with every delivery attempt."""
    require(actor, Permission.OUTBOX_READ)
    with uow:
        return uow.outbox.get(message_id)


def retry(uow: UnitOfWork, message_id: int, *, actor: Actor) -> dict[str, Any]:
    """Send a dead or refused message again (its attempts start over); the receiver dedupes."""
    require(actor, Permission.OUTBOX_REPLAY)
    with uow:
        found = uow.outbox.get(message_id)
        if found["status"] not in REPLAYABLE:
            raise ValidationFailed(
                f"outbox message {message_id} is {found['status']}; only "
                f"{' or '.join(REPLAYABLE)} messages are replayed (pending ones are on their way)"
            )
        uow.outbox.retry(message_id, at=uow.clock.now())
        uow.commit()
        return {**found, "status": "pending", "attempts": 0}
