"""Priority scores set by the priority rules in force, and explained on the order's timeline.

An order is scored when it is created, paid or edited (`after`, called by the fulfilment flow in
the same transaction, before routing: routing and review rules may read `priority`), and again
when new priority rules are saved (`rescore_waiting`) while it has not reached its warehouse.
With no priority rules saved, an order keeps the priority it was created with.

The timeline gets a `prioritised` entry only when the score changes, e.g. "priority 80 = VIP
buyer +50, expedited +30 (priority rules v3)": scoring costs the paying path one rule
evaluation from the cached rules and, for a changed score, one timeline row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM
from orderhub.domain.fulfilment import MessageKind, wms_target
from orderhub.domain.orders import Order
from orderhub.domain.priority import score, waiting_since
from orderhub.domain.rule_sets import RuleSet, RuleSetKind
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import Action, OrderStatus
from orderhub.services.ports import UnitOfWork

SOURCE = "rules"
PRIORITISED = "prioritised"
# The events after which an order's score is worked out (again): what the rules read may change.
SCORED_AFTER = frozenset({"create", Action.PAY.value, "edit"})
# At most this many waiting orders are rescored when priority rules are saved (in that one
# transaction, oldest first), as saving routing rules reroutes at most as many.
RESCORE_LIMIT = 5000


def after(uow: UnitOfWork, order: Order, events: Sequence[OrderEvent]) -> OrderEvent | None:
    """Score the order if one of `events` may have changed what the priority rules read; the
    timeline entry when its priority changed, else None."""
    actions_seen = {event.action for event in events}
    if PRIORITISED in actions_seen or not actions_seen & SCORED_AFTER:
        return None  # scored already (a new order, before its insert), or nothing to score
    rules = uow.rules.current(RuleSetKind.PRIORITY)
    if rules is None:
        return None
    return prioritise(uow, order, rules)


def prioritise(uow: UnitOfWork, order: Order, rules: RuleSet) -> OrderEvent | None:
    """Set the order's priority by `rules`; the timeline entry saying why, None if unchanged."""
    found = score(rules, order)
    was = order.priority
    if found.score == was:
        return None
    order.priority = found.score
    event = actions.note(
        order,
        PRIORITISED,
        actor=SYSTEM,
        at=uow.clock.now(),
        source=SOURCE,
        reason=f"{found.said()} (priority rules v{rules.version})",
        detail={
            "priority": found.score,
            "was": was,
            "rules": found.weights(),
            "rules_version": rules.version,
        },
    )
    # Only the timeline needs it: no change event goes out for a priority.
    return replace(event, published=False)


def rescore_waiting(uow: UnitOfWork, rules: RuleSet) -> list[int]:
    """New priority rules rescore the orders not yet at their warehouse: before payment, paid,
    in review, approved, or allocated with the hand-off still waiting in the outbox (held or in
    the exception queue from one of those). A hand-off not yet sent carries the new priority
    and takes its new place in the line; one being sent, or already sent, keeps its own.
    Returns the orders whose priority changed."""
    changed: list[int] = []
    ids = uow.orders.before_warehouse(RESCORE_LIMIT)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        uow.orders.prefetch(chunk)
        for order_id in chunk:
            order = uow.orders.get(order_id)
            event = prioritise(uow, order, rules)
            if event is None:
                continue
            uow.orders.update(order)
            uow.record(order, event)
            if _allocated(order) and order.warehouse and not order.parcel_mode:
                uow.outbox.reprioritise(
                    order_id,
                    wms_target(order.warehouse),
                    MessageKind.WMS_OUTBOUND_CREATE,
                    priority=order.priority,
                    since=waiting_since(order),
                )
            changed.append(order_id)
    return changed


def _allocated(order: Order) -> bool:
    return OrderStatus.ALLOCATED in (order.status, order.resume_status)
