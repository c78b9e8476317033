"""Rules deciding for an order: where it ships from (routing), whether it passes review.

Each decision goes on the order's timeline with the rule that made it and the conditions that
held. With no rules saved, routing falls back to the shop's or the default warehouse and review
waits for a person, as before rules existed.
"""

from __future__ import annotations

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM
from orderhub.domain.orders import Order
from orderhub.domain.rule_sets import RuleSetKind, decide
from orderhub.domain.timeline import OrderEvent
from orderhub.domain.transitions import Action, ExceptionReason
from orderhub.services.ports import UnitOfWork

SOURCE = "rules"


def route(uow: UnitOfWork, order: Order) -> OrderEvent | None:
    """Choose the order's warehouse by the routing rules in force; None when there are none."""
    rules = uow.rules.current(RuleSetKind.ROUTING)
    if rules is None:
        return None
    decision = decide(rules, order)
    order.warehouse = str(decision.outcome["warehouse"])
    queue = str(decision.outcome.get("queue", "default"))
    order.queue = queue
    return actions.note(
        order,
        "routed",
        actor=SYSTEM,
        at=uow.clock.now(),
        source=SOURCE,
        reason=f"to {order.warehouse} ({queue}) by {decision.said()}",
        detail={
            "warehouse": order.warehouse,
            "queue": queue,
            "rule": decision.rule,
            "rules_version": rules.version,
        },
    )


def review(uow: UnitOfWork, order: Order) -> OrderEvent | None:
    """Approve the order or send it to the exception queue by the review rules; None (a person
    reviews) when there are none."""
    rules = uow.rules.current(RuleSetKind.REVIEW)
    if rules is None:
        return None
    decision = decide(rules, order)
    outcome, now = decision.outcome, uow.clock.now()
    said = f"{decision.said()} (review rules v{rules.version})"
    if outcome.get("decision") == "approve":
        return actions.apply(
            order, Action.APPROVE, actor=SYSTEM, at=now, source=SOURCE, reason=said
        )
    return actions.apply(
        order,
        Action.RAISE_EXCEPTION,
        actor=SYSTEM,
        at=now,
        source=SOURCE,
        reason_code=ExceptionReason(outcome["reason_code"]),
        reason=f"{outcome['reason']}: {said}",
    )
