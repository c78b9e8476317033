"""Rules (/rules): the review and routing rules in force, their saved versions, one version,
what changed between two versions, and a dry run of proposed rules on recent orders.

Conditions are shown in words, not JSON: a field's name and the operator are translated, groups
("all of", "any of", "not") nest as lists. Saving stays in the API (`POST /api/v1/rules/{kind}`),
where a rule set arrives whole and is checked on save; these pages read (the dry run saves
nothing either).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.domain.rule_sets import DryRunRow, RuleSet, RuleSetKind
from orderhub.errors import NotAuthenticated, OrderHubError, ValidationFailed
from orderhub.permissions import Permission
from orderhub.services import rules
from orderhub.web.channel_labels import error_title
from orderhub.web.labels import N_
from orderhub.web.order_actions import Fields, Form
from orderhub.web.render import is_htmx, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.RULE_READ))]

KIND: dict[str, str] = {
    RuleSetKind.REVIEW: N_("Review rules"),
    RuleSetKind.ROUTING: N_("Routing rules"),
    RuleSetKind.PRIORITY: N_("Priority rules"),
    RuleSetKind.SLA: N_("SLA alert rules"),
}
KIND_MEANING: dict[str, str] = {
    RuleSetKind.REVIEW: N_(
        "Approve a paid order or send it to the exception queue, with a reason code."
    ),
    RuleSetKind.ROUTING: N_("Choose the warehouse (and its queue) a paid order ships from."),
    RuleSetKind.PRIORITY: N_(
        "Score each order: every rule that matches adds its weight to the base. Higher scores "
        "are served first everywhere, and waiting raises a score, so no order waits for ever."
    ),
    RuleSetKind.SLA: N_(
        "Every rule applies on its own: orders it matches that wait in its state longer than it "
        "allows raise an alert to its recipients, and escalate to a second list after a second "
        "threshold. The alerts are in the inbox (/alerts)."
    ),
}
NONE_SAVED: dict[str, str] = {
    RuleSetKind.REVIEW: N_("No review rules are saved: people review every order."),
    RuleSetKind.ROUTING: N_(
        "No routing rules are saved: orders ship from their shop's warehouse or the default one."
    ),
    RuleSetKind.PRIORITY: N_(
        "No priority rules are saved: orders keep the priority they were created with."
    ),
    RuleSetKind.SLA: N_("No SLA alert rules are saved: no alert is raised."),
}
# The rule language's fields and operators in words (domain/rules.py has the language; a test
# keeps these in step with its FIELDS and OPERATORS).
FIELD: dict[str, str] = {
    "channel": N_("Channel"),
    "shop": N_("Shop"),
    "order_type": N_("Order type"),
    "tags": N_("Tags"),
    "skus": N_("SKUs"),
    "quantity": N_("Units in all"),
    "paid_total": N_("Amount paid (minor units)"),
    "goods_total": N_("Goods total (minor units)"),
    "buyer_note": N_("Buyer note"),
    "seller_note": N_("Seller note"),
    "province": N_("Receiver's province"),
    "city": N_("Receiver's city"),
    "district": N_("Receiver's district"),
    "address": N_("Street address"),
    "priority": N_("Priority"),
    "warehouse": N_("Warehouse"),
    "buyer_nick": N_("Buyer nickname"),
    "buyer_id": N_("Buyer id"),
}
OPERATOR: dict[str, str] = {
    "eq": N_("is"),
    "ne": N_("is not"),
    "in": N_("is one of"),
    "not_in": N_("is none of"),
    "contains": N_("contains"),
    "contains_any": N_("contains any of"),
    "contains_all": N_("contains all of"),
    "starts_with": N_("starts with"),
    "matches": N_("matches the pattern"),
    "empty": N_("is empty"),
    "not_empty": N_("is not empty"),
    "gt": N_("is more than"),
    "gte": N_("is at least"),
    "lt": N_("is less than"),
    "lte": N_("is at most"),
    "between": N_("is between"),
}
CHANGE: dict[str, str] = {
    "added": N_("Added"),
    "removed": N_("Removed"),
    "changed": N_("Changed"),
    "unchanged": N_("Unchanged"),
}
PART: dict[str, str] = {
    "condition": N_("condition"),
    "outcome": N_("outcome"),
    "position": N_("order"),
}


def _names() -> dict[str, dict[str, str]]:
    return {
        "kind": KIND,
        "meaning": KIND_MEANING,
        "none_saved": NONE_SAVED,
        "field": FIELD,
        "op": OPERATOR,
    }


@router.get("/rules")
def rules_in_force(request: Request, actor: Reader) -> Response:
    uow = hub_of(request).uow
    in_force = [
        (kind, rules.rules_in_force(uow.read_only(), kind, actor=actor)) for kind in RuleSetKind
    ]
    return page(request, "rules.html", {"in_force": in_force, "names": _names()})


@router.get("/rules/{kind}/versions")
def versions(kind: RuleSetKind, request: Request, actor: Reader) -> Response:
    saved = rules.rule_versions(hub_of(request).uow.read_only(), kind, actor=actor)
    return page(
        request, "rules_versions.html", {"kind": kind, "versions": saved, "names": _names()}
    )


@router.get("/rules/{kind}/versions/{version}")
def version(kind: RuleSetKind, version: int, request: Request, actor: Reader) -> Response:
    shown = rules.rule_version(hub_of(request).uow.read_only(), kind, version, actor=actor)
    return page(
        request,
        "rules_version.html",
        {"kind": kind, "rule_set": shown, "names": _names()},
    )


@router.get("/rules/{kind}/diff")
def diff(
    kind: RuleSetKind,
    request: Request,
    actor: Reader,
    from_version: Annotated[int | None, Query(alias="from", ge=0)] = None,
    to_version: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> Response:
    uow = hub_of(request).uow
    found = rules.rule_diff(
        uow.read_only(), kind, actor=actor, from_version=from_version, to_version=to_version
    )
    saved = rules.rule_versions(uow.read_only(), kind, actor=actor)
    return page(
        request,
        "_rules_diff_main.html" if is_htmx(request) else "rules_diff.html",
        {
            "kind": kind,
            "diff": found,
            "versions": [v.version for v in saved],
            "names": {**_names(), "change": CHANGE, "part": PART},
        },
    )


DRY_RUN_LAST = 200
RULES_SHAPE = '{"rules": [{"name": ..., "condition": ..., "outcome": ...}, ...], "default": {...}}'


def _as_text(rule_set: RuleSet | None, kind: RuleSetKind) -> str:
    """The rules as the API takes them, to start a dry run from the version in force."""
    if rule_set is None:
        default = {
            RuleSetKind.REVIEW: {"decision": "approve"},
            RuleSetKind.PRIORITY: {"base": 0},
            RuleSetKind.SLA: {},
        }.get(kind, {"warehouse": ""})
        return json.dumps({"rules": [], "default": default}, ensure_ascii=False, indent=2)
    body = {
        "rules": [
            {"name": r.name, "condition": r.condition, "outcome": r.outcome} for r in rule_set.rules
        ],
        "default": rule_set.default,
    }
    return json.dumps(body, ensure_ascii=False, indent=2)


def _proposed_from(kind: RuleSetKind, text: str) -> RuleSet:
    """The rules typed into the form, or ValidationFailed saying where the JSON is wrong."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as bad:
        raise ValidationFailed(
            f"the rules are not valid JSON: {bad.msg} at line {bad.lineno}, column {bad.colno}",
            field="rules",
        ) from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("rules"), list)
        or not all(isinstance(rule, dict) for rule in data["rules"])
        or not isinstance(data.get("default"), dict)
    ):
        raise ValidationFailed(f"write the rules as {RULES_SHAPE}", field="rules")
    return rules.proposed(kind.value, data["rules"], data["default"], str(data.get("notes", "")))


def _last(form: Fields) -> int:
    text = (form.get("last") or [""])[-1].strip() or str(DRY_RUN_LAST)
    if not text.isdigit() or not 1 <= int(text) <= 5000:
        raise ValidationFailed(f"'{text}' is not a number of orders from 1 to 5000", field="last")
    return int(text)


def _dry_run_page(
    request: Request,
    kind: RuleSetKind,
    *,
    text: str,
    last: str,
    found: list[DryRunRow] | None = None,
    error: OrderHubError | None = None,
) -> Response:
    changed = [row for row in found or [] if row.changes]
    return page(
        request,
        "_rules_dry_run_main.html" if is_htmx(request) else "rules_dry_run.html",
        {
            "kind": kind,
            "text": text,
            "last": last,
            "rows": None if found is None else changed + [r for r in found if not r.changes],
            "changed": len(changed),
            "error": error,
            "error_title": error_title(request, error) if error else None,
            "names": _names(),
        },
        status=error.status if error else 200,
    )


@router.get("/rules/{kind}/dry-run")
def dry_run_form(kind: RuleSetKind, request: Request, actor: Reader) -> Response:
    in_force = rules.rules_in_force(hub_of(request).uow.read_only(), kind, actor=actor)
    return _dry_run_page(request, kind, text=_as_text(in_force, kind), last=str(DRY_RUN_LAST))


@router.post("/rules/{kind}/dry-run")
def dry_run(kind: RuleSetKind, request: Request, actor: Reader, form: Form) -> Response:
    text = (form.get("rules") or [""])[-1]
    last = (form.get("last") or [""])[-1].strip()
    try:
        found = rules.try_rules(
            hub_of(request).uow.read_only(),
            _proposed_from(kind, text),
            actor=actor,
            last=_last(form),
        )
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return _dry_run_page(request, kind, text=text, last=last, error=error)
    return _dry_run_page(request, kind, text=text, last=last, found=found)
