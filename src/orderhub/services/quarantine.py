"""Quarantined payloads: see why each was refused, replay it once fixed, or discard it."""

from __future__ import annotations

from collections.abc import Sequence

from orderhub.domain.actors import Actor
from orderhub.domain.channels import Quarantined
from orderhub.errors import AlreadyClosed, ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services.channel_ingest import QUARANTINED, Ingested, ingest_payloads
from orderhub.services.ports import ChannelConnector, UnitOfWork, UnitOfWorkFactory


def list_quarantine(
    uow: UnitOfWork,
    *,
    actor: Actor,
    status: str | None = "open",
    shop: str | None = None,
    limit: int = 100,
) -> Sequence[Quarantined]:
    require(actor, Permission.QUARANTINE_READ)
    with uow:
        return uow.quarantine.list(status=status, shop=shop, limit=limit)


def get_entry(uow: UnitOfWork, item_id: int, *, actor: Actor) -> Quarantined:
    require(actor, Permission.QUARANTINE_READ)
    with uow:
        return uow.quarantine.get(item_id)


def replay(
    uows: UnitOfWorkFactory,
    connector: ChannelConnector,
    item_id: int,
    *,
    actor: Actor,
    review_required: bool,
) -> Ingested:
    """Ingest the kept payload again with today's mapping and data."""
    require(actor, Permission.QUARANTINE_MANAGE)
    with uows.read_only() as uow:
        item = uow.quarantine.get(item_id)
    if item.status != "open":
        raise AlreadyClosed(f"quarantine entry {item_id} is already {item.status}")
    result = ingest_payloads(
        uows,
        channel=item.channel,
        shop=item.shop,
        mapping=connector.mapping(item.channel),
        payloads=[item.payload],
        source="replay",
        review_required=review_required,
    )[0]
    if result.outcome != QUARANTINED:
        with uows() as uow:
            uow.quarantine.resolve(
                item_id,
                status="replayed",
                at=uow.clock.now(),
                resolution=f"{result.outcome} by {actor.name}",
                order_id=result.order_id,
            )
            uow.commit()
    return result


def discard(uow: UnitOfWork, item_id: int, *, actor: Actor, reason: str) -> None:
    """Close an entry without an order (a test order, a duplicate): kept, with the reason."""
    require(actor, Permission.QUARANTINE_MANAGE)
    if not reason.strip():
        raise ValidationFailed("say why the payload is discarded", field="reason")
    with uow:
        item = uow.quarantine.get(item_id)
        if item.status != "open":
            raise AlreadyClosed(f"quarantine entry {item_id} is already {item.status}")
        uow.quarantine.resolve(
            item_id,
            status="discarded",
            at=uow.clock.now(),
            resolution=f"{reason.strip()} ({actor.name})",
        )
        uow.commit()
