"""Review, routing and priority rules: saved as versions, checked on save, tried against recent
orders. Saving routing rules reroutes the orders waiting to be allocated; saving priority rules
rescores the orders not yet at their warehouse (services/priority.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orderhub.domain import actions
from orderhub.domain.actors import SYSTEM, Actor
from orderhub.domain.rule_diff import RuleSetDiff, diff_rule_sets
from orderhub.domain.rule_sets import (
    DryRunRow,
    Rule,
    RuleSet,
    RuleSetKind,
    check_rule_set,
    decide,
    dry_run,
)
from orderhub.domain.sla import check_sla_rules, dry_run_sla
from orderhub.errors import NotFound, ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services import priority
from orderhub.services.fulfilment import flow
from orderhub.services.fulfilment.stock import resume_if_stocked
from orderhub.services.ports import UnitOfWork


def proposed(
    kind: str, rules: Sequence[Mapping[str, Any]], default: Mapping[str, Any], notes: str = ""
) -> RuleSet:
    """A rule set from its JSON shape, or ValidationFailed saying what is missing."""
    try:
        chosen = RuleSetKind(kind)
    except ValueError:
        raise ValidationFailed(
            f"unknown rule set '{kind}'; use one of: {', '.join(k.value for k in RuleSetKind)}",
            field="kind",
        ) from None
    parsed = []
    for n, rule in enumerate(rules):
        missing = [key for key in ("name", "condition", "outcome") if key not in rule]
        if missing:
            raise ValidationFailed(f"rules[{n}] needs {', '.join(missing)}", field=f"rules[{n}]")
        parsed.append(Rule(str(rule["name"]), rule["condition"], rule["outcome"]))
    return RuleSet(chosen, tuple(parsed), default, notes=notes)


def save_rules(uow: UnitOfWork, rule_set: RuleSet, *, actor: Actor) -> RuleSet:
    """Check the rule set against the warehouses that exist and store it as the next version."""
    require(actor, Permission.RULE_MANAGE)
    with uow:
        _check(uow, rule_set)
        saved = uow.rules.add(rule_set, at=uow.clock.now(), by=actor.label)
        if saved.kind is RuleSetKind.ROUTING:
            _reroute_waiting(uow, saved)
        elif saved.kind is RuleSetKind.PRIORITY:
            priority.rescore_waiting(uow, saved)
        uow.commit()
    return saved


def rule_versions(uow: UnitOfWork, kind: RuleSetKind, *, actor: Actor) -> list[RuleSet]:
    """Every saved version, newest (in force) first."""
    require(actor, Permission.RULE_READ)
    with uow:
        return uow.rules.versions(kind)


def rules_in_force(uow: UnitOfWork, kind: RuleSetKind, *, actor: Actor) -> RuleSet | None:
    """The newest version, the one deciding now; None when none is saved."""
    require(actor, Permission.RULE_READ)
    with uow:
        return uow.rules.current(kind)


def rule_version(uow: UnitOfWork, kind: RuleSetKind, version: int, *, actor: Actor) -> RuleSet:
    """One saved version, or NotFound naming the versions there are."""
    require(actor, Permission.RULE_READ)
    with uow:
        return _pick(uow.rules.versions(kind), kind, version)


def rule_diff(
    uow: UnitOfWork,
    kind: RuleSetKind,
    *,
    actor: Actor,
    from_version: int | None = None,
    to_version: int | None = None,
) -> RuleSetDiff:
    """What changed from one saved version to another; by default from the one before the rules
    in force to them (the first version compares with nothing: every rule added)."""
    require(actor, Permission.RULE_READ)
    with uow:
        saved = uow.rules.versions(kind)
    if not saved:
        raise NotFound(
            f"no {kind.value} rules are saved yet, so there is nothing to compare; "
            f"POST /api/v1/rules/{kind.value} saves the first version"
        )
    after = _pick(saved, kind, to_version) if to_version is not None else saved[0]
    if from_version is None:
        older = [v for v in saved if v.version < after.version]
        return diff_rule_sets(older[0] if older else None, after)
    before = None if from_version == 0 else _pick(saved, kind, from_version)
    return diff_rule_sets(before, after)


def _pick(saved: Sequence[RuleSet], kind: RuleSetKind, version: int) -> RuleSet:
    for rule_set in saved:
        if rule_set.version == version:
            return rule_set
    there = ", ".join(str(v.version) for v in sorted(saved, key=lambda v: v.version))
    raise NotFound(
        f"{kind.value} rules have no version {version}; "
        + (f"saved versions: {there}" if there else "none is saved yet")
    )


def try_rules(
    uow: UnitOfWork, rule_set: RuleSet, *, actor: Actor, last: int = 200
) -> list[DryRunRow]:
    """What `rule_set` would decide for the last orders, beside what the rules in force decide;
    nothing is saved or changed."""
    require(actor, Permission.RULE_READ)
    with uow:
        _check(uow, rule_set)
        current = uow.rules.current(rule_set.kind) or RuleSet(
            rule_set.kind, (), rule_set.default, version=0
        )
        ids = uow.orders.recent(max(1, min(last, 5000)))
        uow.orders.prefetch(ids)
        orders = [uow.orders.get(i) for i in ids]
        if rule_set.kind is RuleSetKind.SLA:
            return dry_run_sla(current, rule_set, orders, uow.clock.now())
        return dry_run(current, rule_set, orders)


def _check(uow: UnitOfWork, rule_set: RuleSet) -> RuleSet:
    """Refuse a rule set with a bad rule: SLA rules name recipients, routing rules warehouses."""
    if rule_set.kind is RuleSetKind.SLA:
        return check_sla_rules(
            rule_set, recipient_known=lambda code: uow.recipients.find(code) is not None
        )
    return check_rule_set(rule_set, warehouses=[w.code for w in uow.warehouses.list()])


def _reroute_waiting(uow: UnitOfWork, rules: RuleSet) -> list[int]:
    """Orders not yet at a warehouse go where the new routing rules send them: their stock is
    released where it was held and reserved again there (or they wait for it there)."""
    moved: list[int] = []
    ids = uow.orders.waiting_to_route()
    uow.orders.prefetch(ids)
    for order_id in ids:
        order = uow.orders.get(order_id)
        decision = decide(rules, order)
        target = str(decision.outcome["warehouse"])
        if order.warehouse is None or order.warehouse == target:
            continue
        queue = str(decision.outcome.get("queue", "default"))
        event = actions.note(
            order,
            "rerouted",
            actor=SYSTEM,
            at=uow.clock.now(),
            source="rules",
            reason=f"from {order.warehouse} to {target} ({queue}) by {decision.said()} "
            f"(routing rules v{rules.version})",
            detail={"from": order.warehouse, "warehouse": target, "queue": queue},
        )
        flow.release(uow, order, event)
        order.warehouse, order.queue = target, queue
        flow.record(uow, order, [event], save=True)
        resume_if_stocked(uow, order, f"routed to {target}")
        moved.append(order_id)
    return moved
