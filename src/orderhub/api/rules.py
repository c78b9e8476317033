"""/api/v1/rules/{review|routing|priority}: the rule sets in force and their versions, one
version, the difference between two, saving a new version (checked first) and trying one on
recent orders (the dry run). docs/rules.md has the language, docs/priority.md the scores."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.rule_diff import RuleDiff, RuleSetDiff, ValueChange
from orderhub.domain.rule_sets import Decision, Rule, RuleSet, RuleSetKind
from orderhub.permissions import Permission
from orderhub.services.rules import (
    proposed,
    rule_diff,
    rule_version,
    rule_versions,
    save_rules,
    try_rules,
)

router = APIRouter(prefix="/api/v1", tags=["rules"])
Reader = Annotated[Actor, Depends(Requires(Permission.RULE_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.RULE_MANAGE))]


class RuleIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    condition: dict[str, Any] = Field(description="see docs/rules.md")
    outcome: dict[str, Any] = Field(
        description='review: {"decision": "approve"} or an exception; routing: {"warehouse"}; '
        'priority: {"weight": 50} (every matching rule adds its weight); sla: {"state": '
        '"pending_review", "after": "4h", "recipients": [...]} (docs/alerts.md)'
    )


class RuleSetIn(Strict):
    rules: list[RuleIn]
    default: dict[str, Any] = Field(
        default_factory=dict,
        description='the outcome when no rule matches; priority: {"base": 0}, the score every '
        "order starts from; sla: none (every SLA rule applies on its own)",
    )
    notes: str = ""


class DryRunIn(RuleSetIn):
    last: Annotated[int, Field(ge=1, le=5000, description="how many recent orders")] = 200


def _rule_out(rule: Rule) -> RuleIn:
    return RuleIn(name=rule.name, condition=dict(rule.condition), outcome=dict(rule.outcome))


class RuleSetOut(BaseModel):
    kind: str
    version: int
    rules: list[RuleIn]
    default: dict[str, Any]
    notes: str
    saved_at: datetime | None = Field(description="when this version was saved (UTC)")
    saved_by: str = Field(description="who saved it")

    @classmethod
    def of(cls, rule_set: RuleSet) -> RuleSetOut:
        return cls(
            kind=rule_set.kind.value,
            version=rule_set.version,
            rules=[_rule_out(r) for r in rule_set.rules],
            default=dict(rule_set.default),
            notes=rule_set.notes,
            saved_at=rule_set.saved_at,
            saved_by=rule_set.saved_by,
        )


class ValueChangeOut(BaseModel):
    key: str
    before: Any = Field(description="null: the key was absent")
    after: Any = Field(description="null: the key is gone")

    @classmethod
    def of(cls, change: ValueChange) -> ValueChangeOut:
        return cls(key=change.key, before=change.before, after=change.after)


class RuleDiffOut(BaseModel):
    name: str
    change: str = Field(description="added, removed, changed or unchanged")
    parts: list[str] = Field(description="for a changed rule: condition, outcome, position")
    position_before: int | None = Field(description="1-based; null: added")
    position_after: int | None = Field(description="1-based; null: removed")
    before: RuleIn | None
    after: RuleIn | None
    outcome_changes: list[ValueChangeOut]

    @classmethod
    def of(cls, entry: RuleDiff) -> RuleDiffOut:
        return cls(
            name=entry.name,
            change=entry.change.value,
            parts=[p.value for p in entry.parts],
            position_before=entry.position_before,
            position_after=entry.position_after,
            before=_rule_out(entry.before) if entry.before else None,
            after=_rule_out(entry.after) if entry.after else None,
            outcome_changes=[ValueChangeOut.of(c) for c in entry.outcome_changes],
        )


class RuleSetDiffOut(BaseModel):
    kind: str
    from_version: int = Field(description="0: compared with nothing (the first version)")
    to_version: int
    identical: bool = Field(description="no rule and not the default differ (notes aside)")
    rules: list[RuleDiffOut] = Field(
        description="in the newer version's order; a removed rule where it used to be"
    )
    default_changed: bool
    default_before: dict[str, Any] | None
    default_after: dict[str, Any]
    default_changes: list[ValueChangeOut]
    notes_before: str
    notes_after: str

    @classmethod
    def of(cls, diff: RuleSetDiff) -> RuleSetDiffOut:
        return cls(
            kind=diff.kind.value,
            from_version=diff.from_version,
            to_version=diff.to_version,
            identical=diff.identical,
            rules=[RuleDiffOut.of(r) for r in diff.rules],
            default_changed=diff.default_changed,
            default_before=dict(diff.default_before) if diff.default_before else None,
            default_after=dict(diff.default_after),
            default_changes=[ValueChangeOut.of(c) for c in diff.default_changes],
            notes_before=diff.notes_before,
            notes_after=diff.notes_after,
        )


class DecisionOut(BaseModel):
    outcome: dict[str, Any]
    rule: str | None
    said: str

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls(outcome=dict(decision.outcome), rule=decision.rule, said=decision.said())


class DryRunRowOut(BaseModel):
    order_id: int | None
    changes: bool
    before: DecisionOut
    after: DecisionOut


def _proposed(kind: RuleSetKind, body: RuleSetIn) -> RuleSet:
    rules = [r.model_dump() for r in body.rules]
    return proposed(kind.value, rules, body.default, body.notes)


@router.get("/rules/{kind}", response_model=list[RuleSetOut])
def versions(kind: RuleSetKind, request: Request, actor: Reader) -> list[RuleSetOut]:
    """Every saved version, newest (the one in force) first."""
    found = rule_versions(hub_of(request).uow.read_only(), kind, actor=actor)
    return [RuleSetOut.of(v) for v in found]


@router.get("/rules/{kind}/versions/{version}", response_model=RuleSetOut)
def version(kind: RuleSetKind, version: int, request: Request, actor: Reader) -> RuleSetOut:
    """One saved version; 404 names the versions there are."""
    return RuleSetOut.of(rule_version(hub_of(request).uow.read_only(), kind, version, actor=actor))


@router.get("/rules/{kind}/diff", response_model=RuleSetDiffOut)
def diff(
    kind: RuleSetKind,
    request: Request,
    actor: Reader,
    from_version: Annotated[
        int | None,
        Query(alias="from", ge=0, description="default: the version before `to`; 0: nothing"),
    ] = None,
    to_version: Annotated[
        int | None, Query(alias="to", ge=1, description="default: the version in force")
    ] = None,
) -> RuleSetDiffOut:
    """What changed between two versions, rule by rule (matched by name): added, removed,
    changed (condition, outcome, position) and the default; 404 names the versions there are."""
    found = rule_diff(
        hub_of(request).uow.read_only(),
        kind,
        actor=actor,
        from_version=from_version,
        to_version=to_version,
    )
    return RuleSetDiffOut.of(found)


@router.post("/rules/{kind}", response_model=RuleSetOut, status_code=201)
def save(kind: RuleSetKind, body: RuleSetIn, request: Request, actor: Manager) -> RuleSetOut:
    """Save a new version; refused (422) with the rule and the reason when a rule is wrong."""
    return RuleSetOut.of(save_rules(hub_of(request).uow(), _proposed(kind, body), actor=actor))


@router.post("/rules/{kind}/dry-run", response_model=list[DryRunRowOut])
def dry_run(
    kind: RuleSetKind, body: DryRunIn, request: Request, actor: Reader
) -> list[DryRunRowOut]:
    """What these rules would decide for the last orders, beside the rules in force; saves
    nothing."""
    hub = hub_of(request)
    rows = try_rules(hub.uow.read_only(), _proposed(kind, body), actor=actor, last=body.last)
    return [
        DryRunRowOut(
            order_id=r.order_id,
            changes=r.changes,
            before=DecisionOut.of(r.before),
            after=DecisionOut.of(r.after),
        )
        for r in rows
    ]
