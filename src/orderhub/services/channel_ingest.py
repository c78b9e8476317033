"""Channel payloads into the pool: exactly once, never backwards, nothing lost.

Every payload ends as exactly one of: a new order, an update of the order the pool holds, an
update ignored because it is not newer than the one applied (said on the timeline), or a
quarantine entry with the reason. Its raw text is kept in the payload audit in every case.

A page of payloads is ingested in one transaction (one fsync for the page); if anything
unexpected fails, the page is rolled back and redone one payload per transaction, so one bad
payload never blocks the others. One query at the start of the page tells which of its orders the
pool does not hold yet: those are created without a lookup each (most of a pull's orders are new).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from orderhub.domain import actions
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.channels import Quarantined, SkuBook, Step, apply_skus, is_stale, steps_for
from orderhub.domain.mapping import MappedOrder, Rejection, map_order
from orderhub.domain.orders import Order, open_order
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import BEFORE_WAREHOUSE, SUSPENDED, Action, ExceptionReason
from orderhub.errors import IllegalTransition, OrderHubError, ValidationFailed
from orderhub.services import priority
from orderhub.services.fulfilment import flow
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger()

CREATED, UPDATED, IGNORED, QUARANTINED = "created", "updated", "ignored", "quarantined"
IGNORED_ACTION = "channel_update_ignored"


@dataclass(frozen=True)
class Ingested:
    channel_order_no: str | None
    outcome: str
    order_id: int | None = None
    detail: str | None = None


def channel_actor(channel: str, shop: str) -> Actor:
    return Actor(
        id=f"channel:{channel}:{shop}",
        name=f"{channel}/{shop}",
        kind=ActorKind.CHANNEL,
        role="channel",
    )


@dataclass(frozen=True)
class _Page:
    """What every payload of one call shares."""

    channel: str
    shop: str
    mapping: Mapping[str, Any]
    source: str
    review_required: bool
    # Who the timeline names: the channel itself, or the person who imported a file.
    actor: Actor


def ingest_payloads(
    uows: UnitOfWorkFactory,
    *,
    channel: str,
    shop: str,
    mapping: Mapping[str, Any],
    payloads: Sequence[dict[str, Any]],
    source: str,
    review_required: bool,
    actor: Actor | None = None,
) -> list[Ingested]:
    """Ingest a page of raw payloads of one shop; returns what became of each.

    `actor` None: the channel did it (pulls, webhooks); else the person behind an import.
    """
    if not payloads:
        return []
    page = _Page(
        channel, shop, mapping, source, review_required, actor or channel_actor(channel, shop)
    )
    try:
        with uows() as uow:
            book = uow.catalogue.sku_book(channel, shop)
            absent = _absent(uow, page, payloads)
            results = [_ingest(uow, book, page, p, absent) for p in payloads]
            uow.commit()
        return results
    except Exception as error:
        log.warning(
            "page ingest failed; retrying one payload per transaction",
            channel=channel,
            shop=shop,
            error=repr(error),
        )
    return [_ingest_alone(uows, page, p) for p in payloads]


def _ingest_alone(uows: UnitOfWorkFactory, page: _Page, payload: dict[str, Any]) -> Ingested:
    try:
        with uows() as uow:
            book = uow.catalogue.sku_book(page.channel, page.shop)
            result = _ingest(uow, book, page, payload, absent=set())  # alone: look it up
            uow.commit()
        return result
    except Exception as error:
        log.error(
            "payload ingest failed; quarantined",
            channel=page.channel,
            shop=page.shop,
            error=repr(error),
        )
        no = _order_no(payload, page.mapping)
        with uows() as uow:
            _quarantine(
                uow,
                page,
                payload,
                no,
                None,
                f"could not be stored ({type(error).__name__}: {error}); replay it "
                "once the cause is fixed",
            )
            uow.commit()
        return Ingested(no, QUARANTINED, detail=str(error))


def _absent(uow: UnitOfWork, page: _Page, payloads: Sequence[dict[str, Any]]) -> set[str]:
    """The page's order numbers the pool does not hold, by one query instead of one a payload."""
    numbers = {no for no in (_order_no(p, page.mapping) for p in payloads) if no is not None}
    return numbers - uow.orders.known_numbers(page.channel, page.shop, sorted(numbers))


def _order_no(payload: Mapping[str, Any], mapping: Mapping[str, Any]) -> str | None:
    rule = mapping.get("fields", {}).get("channel_order_no", {})
    value: Any = payload
    for part in str(rule.get("path", "")).split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return str(value) if value not in (None, "") else None


def _quarantine(
    uow: UnitOfWork,
    page: _Page,
    payload: dict[str, Any],
    no: str | None,
    field: str | None,
    reason: str,
) -> None:
    now = uow.clock.now()
    uow.quarantine.add(
        Quarantined(
            channel=page.channel,
            shop=page.shop,
            channel_order_no=no,
            field=field,
            reason=reason,
            payload=payload,
            source=page.source,
            received_at=now,
        )
    )
    uow.payloads.add(
        channel=page.channel,
        shop=page.shop,
        channel_order_no=no,
        modified_at=None,
        received_at=now,
        source=page.source,
        outcome=QUARANTINED,
        order_id=None,
        payload=payload,
    )


def _ingest(
    uow: UnitOfWork, book: SkuBook, page: _Page, payload: dict[str, Any], absent: set[str]
) -> Ingested:
    """`absent`: numbers known not to be in the pool (no lookup needed); each is used once, as
    the first payload of a number may create its order."""
    mapped = map_order(payload, page.mapping, shop=page.shop)
    if isinstance(mapped, Rejection):
        no = _order_no(payload, page.mapping)
        _quarantine(uow, page, payload, no, mapped.field, mapped.message)
        return Ingested(no, QUARANTINED, detail=mapped.message)
    no = mapped.order.channel_order_no
    existing = None if no in absent else uow.orders.find(page.channel, page.shop, no)
    absent.discard(no)  # from here on this number may be in the pool: look it up next time
    try:
        if existing is None:
            order, outcome = _create(uow, book, mapped, page), CREATED
        elif _update(uow, existing, mapped, page):
            order, outcome = existing, UPDATED
        else:
            order, outcome = existing, IGNORED
    except ValidationFailed as refused:
        _quarantine(uow, page, payload, no, refused.field, refused.detail)
        return Ingested(no, QUARANTINED, detail=refused.detail)
    uow.payloads.add(
        channel=page.channel,
        shop=page.shop,
        channel_order_no=no,
        modified_at=mapped.modified_at,
        received_at=uow.clock.now(),
        source=page.source,
        outcome=outcome,
        order_id=order.id,
        payload=payload,
    )
    return Ingested(no, outcome, order.id)


def _create(uow: UnitOfWork, book: SkuBook, mapped: MappedOrder, page: _Page) -> Order:
    now, actor = uow.clock.now(), page.actor
    draft = mapped.order
    draft.lines, unmapped = apply_skus(draft.lines, book)
    order = open_order(draft, at=now, custom_field_defs=uow.custom_fields.all())
    order.channel_modified_at, order.channel_status = mapped.modified_at, mapped.channel_status
    events = [actions.created(order, actor=actor, at=now, source=order.channel)]
    follow_up = actions.advance_after_payment(
        order, review_required=page.review_required, at=now, actor=actor
    )
    if follow_up is not None:
        events.append(follow_up)
    events += _apply_steps(
        order, steps_for(order, mapped, unmapped_skus=unmapped), actor, now, page.review_required
    )
    # Scored before the insert, so the priority goes in with it (no UPDATE after).
    prioritised = priority.after(uow, order, events)
    if prioritised is not None:
        events.append(prioritised)
    order.id = uow.orders.add(order)
    flow.record(uow, order, events)
    return order


def _update(uow: UnitOfWork, order: Order, mapped: MappedOrder, page: _Page) -> bool:
    """Apply a newer channel version; False when it is not newer (a repeat or out of order)."""
    now, actor = uow.clock.now(), page.actor
    if is_stale(order.channel_modified_at, mapped.modified_at):
        applied = order.channel_modified_at
        why = "a repeat" if mapped.modified_at == applied else "older"
        uow.record(
            order,
            OrderEvent(
                action=IGNORED_ACTION,
                from_status=order.status,
                to_status=order.status,
                at=now,
                actor_id=actor.id,
                actor_name=actor.name,
                source=order.channel,
                reason=f"channel version of {mapped.modified_at.isoformat()} is {why} than the one "
                f"applied ({applied.isoformat() if applied else '-'})",
                detail={"channel_status": mapped.channel_status},
                order_id=order.id,
                published=False,
            ),
        )
        return False
    events = _receiver_change(order, mapped, actor, now)
    events += _apply_steps(order, steps_for(order, mapped), actor, now, page.review_required)
    if mapped.order.buyer_note and mapped.order.buyer_note != order.buyer_note:
        order.buyer_note = mapped.order.buyer_note
    order.channel_modified_at, order.channel_status = mapped.modified_at, mapped.channel_status
    uow.orders.update(order)
    flow.record(uow, order, events)
    return True


def _receiver_change(
    order: Order, mapped: MappedOrder, actor: Actor, now: datetime
) -> list[OrderEvent]:
    """A buyer who changed the address on the channel: take it before the warehouse, else
    stop the order for a person to intercept the parcel."""
    new = mapped.order.receiver
    if new == order.receiver or (new.masked and order.receiver.masked is False):
        return []
    effective = order.resume_status if order.status in SUSPENDED else order.status
    if effective in BEFORE_WAREHOUSE:
        return [actions.edit(order, actor=actor, at=now, receiver=new)]
    return _apply_steps(
        order,
        [
            Step(
                Action.RAISE_EXCEPTION,
                reason_code=ExceptionReason.ADDRESS_CHANGED,
                reason=f"the buyer changed the address on {order.channel} "
                "after hand-off to the warehouse",
            )
        ],
        actor,
        now,
    )


def _apply_steps(
    order: Order, steps: list[Step], actor: Actor, now: datetime, review_required: bool = True
) -> list[OrderEvent]:
    events = []
    for step in steps:
        try:
            events.append(
                actions.apply(
                    order,
                    step.action,
                    actor=actor,
                    at=now,
                    reason=step.reason,
                    reason_code=step.reason_code,
                    params=step.params,
                    source=order.channel,
                )
            )
        except (IllegalTransition, OrderHubError) as refused:
            # The order moved on meanwhile: the channel's word no longer applies; say so in logs.
            log.info(
                "channel step skipped",
                order=order.channel_order_no,
                step=step.action,
                reason=str(refused),
            )
            continue
        if step.action is Action.PAY:
            # Paid on the channel: on to review (or approved at once), as a new paid order is.
            follow_up = actions.advance_after_payment(
                order, review_required=review_required, at=now, actor=actor
            )
            if follow_up is not None:
                events.append(follow_up)
    return events
