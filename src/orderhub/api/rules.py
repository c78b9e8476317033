"""/api/v1/rules/{review|routing}: the rule sets in force and their versions, saving a new
version (checked first) and trying one on recent orders (the dry run). docs/rules.md has the
language."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.actors import Actor
from orderhub.domain.rule_sets import Decision, RuleSet, RuleSetKind
from orderhub.permissions import Permission
from orderhub.services.rules import proposed, rule_versions, save_rules, try_rules

router = APIRouter(prefix="/api/v1", tags=["rules"])
Reader = Annotated[Actor, Depends(Requires(Permission.RULE_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.RULE_MANAGE))]


class RuleIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    condition: dict[str, Any] = Field(description="see docs/rules.md")
    outcome: dict[str, Any] = Field(
        description='review: {"decision": "approve"} or an exception; routing: {"warehouse"}'
    )


class RuleSetIn(Strict):
    rules: list[RuleIn]
    default: dict[str, Any] = Field(description="the outcome when no rule matches")
    notes: str = ""


class DryRunIn(RuleSetIn):
    last: Annotated[int, Field(ge=1, le=5000, description="how many recent orders")] = 200


class RuleSetOut(BaseModel):
    kind: str
    version: int
    rules: list[RuleIn]
    default: dict[str, Any]
    notes: str

    @classmethod
    def of(cls, rule_set: RuleSet) -> RuleSetOut:
        return cls(
            kind=rule_set.kind.value,
            version=rule_set.version,
            rules=[
                RuleIn(name=r.name, condition=dict(r.condition), outcome=dict(r.outcome))
                for r in rule_set.rules
            ],
            default=dict(rule_set.default),
            notes=rule_set.notes,
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
