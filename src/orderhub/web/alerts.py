"""Alerts (/alerts): the SLA alerts inbox. Filters (status, rule, severity, shop, order), one
page at a time, each alert with its order, how long the order has waited and buttons to
acknowledge or resolve it; tick several to do the same to all. Digests link here with the rule
filled in. The SLA rules are on the rules page (/rules#sla); the order page lists the order's
open alerts (templates/_order_alerts.html).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from orderhub.access import Requires, hub_of
from orderhub.domain.actors import Actor
from orderhub.domain.rule_sets import RuleSetKind
from orderhub.errors import NotAuthenticated, OrderHubError, ValidationFailed
from orderhub.permissions import Permission, can
from orderhub.services import alerts, rules
from orderhub.services.ports import SystemClock
from orderhub.web import i18n
from orderhub.web.labels import N_
from orderhub.web.order_actions import Form
from orderhub.web.render import flash, page

router = APIRouter()
Reader = Annotated[Actor, Depends(Requires(Permission.ALERT_READ))]
Manager = Annotated[Actor, Depends(Requires(Permission.ALERT_MANAGE))]
PAGE_SIZE = 100
ALERT_STATUS: dict[str, str] = {
    "open": N_("Open"),
    "acknowledged": N_("Acknowledged"),
    "resolved": N_("Resolved"),
}
SEVERITY: dict[str, str] = {
    "info": N_("Info"),
    "warning": N_("Warning"),
    "critical": N_("Critical"),
}
RESOLUTION: dict[str, str] = {
    "moved_on": N_("the order moved on"),
    "by_hand": N_("by hand"),
    "rule_removed": N_("its rule was removed"),
}


def labels() -> dict[str, dict[str, str]]:
    return {"status": ALERT_STATUS, "severity": SEVERITY, "resolution": RESOLUTION}


@router.get("/alerts")
def inbox(
    request: Request,
    actor: Reader,
    status: str = "open",
    rule: str = "",
    severity: str = "",
    shop: str = "",
    order_id: Annotated[int | None, Query()] = None,
    before_id: Annotated[int | None, Query()] = None,
) -> Response:
    hub = hub_of(request)
    found = alerts.list_alerts(
        hub.uow.read_only(),
        actor=actor,
        status=alerts.status_of(status),
        rule=rule or None,
        severity=alerts.severity_of(severity),
        shop=shop or None,
        order_id=order_id,
        before_id=before_id,
        limit=PAGE_SIZE,
    )
    in_force = (
        rules.rules_in_force(hub.uow.read_only(), RuleSetKind.SLA, actor=actor)
        if can(actor, Permission.RULE_READ)
        else None
    )
    chosen = {"status": status, "rule": rule, "severity": severity, "shop": shop}
    if order_id is not None:
        chosen["order_id"] = str(order_id)
    return page(
        request,
        "alerts.html",
        {
            "items": found,
            "counts": alerts.alert_counts(hub.uow.read_only(), actor=actor),
            "chosen": chosen,
            "rule_names": [r.name for r in in_force.rules] if in_force else [],
            "now": (hub.uow.clock or SystemClock()).now(),
            "names": labels(),
            "older": found[-1].id if len(found) == PAGE_SIZE else None,
            "query": urlencode({k: v for k, v in chosen.items() if v}),
            "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        },
    )


def _back(form: dict[str, list[str]]) -> str:
    """Where to return: the inbox as it was filtered (only a path on this site)."""
    back = (form.get("back") or ["/alerts"])[-1]
    return back if back.startswith("/") and not back.startswith("//") else "/alerts"


def _done(request: Request, form: dict[str, list[str]], message: str, kind: str) -> Response:
    flash(request, kind, message)
    return RedirectResponse(_back(form), status_code=303)


@router.post("/alerts/{alert_id:int}/acknowledge")
def acknowledge(alert_id: int, request: Request, actor: Manager, form: Form) -> Response:
    try:
        alerts.acknowledge_alert(hub_of(request).uow(), alert_id, actor=actor)
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return _done(request, form, error.detail, "error")
    said = i18n.translate(request, "Alert %(id)s acknowledged: it no longer escalates.")
    return _done(request, form, said % {"id": alert_id}, "notice")


@router.post("/alerts/{alert_id:int}/resolve")
def resolve(alert_id: int, request: Request, actor: Manager, form: Form) -> Response:
    note = (form.get("note") or [""])[-1]
    try:
        alerts.resolve_alert(hub_of(request).uow(), alert_id, actor=actor, note=note)
    except NotAuthenticated:
        raise
    except OrderHubError as error:
        return _done(request, form, error.detail, "error")
    said = i18n.translate(request, "Alert %(id)s resolved.")
    return _done(request, form, said % {"id": alert_id}, "notice")


@router.post("/alerts/bulk")
def bulk(request: Request, actor: Manager, form: Form) -> Response:
    action = (form.get("action") or [""])[-1]
    ids = [int(i) for i in form.get("alert_ids", []) if i.isdigit()]
    if not ids:
        said = i18n.translate(request, "Tick the alerts to acknowledge or resolve first.")
        return _done(request, form, said, "error")
    note = (form.get("note") or [""])[-1]
    uow = hub_of(request).uow()
    if action == "acknowledge":
        result = alerts.acknowledge_alerts(uow, ids, actor=actor)
        said = i18n.translate(request, "%(n)s alerts acknowledged.")
    elif action == "resolve":
        result = alerts.resolve_alerts(uow, ids, actor=actor, note=note)
        said = i18n.translate(request, "%(n)s alerts resolved.")
    else:
        raise ValidationFailed(
            f"'{action}' is not something to do to alerts; acknowledge or resolve", field="action"
        )
    message = said % {"n": len(result.done)}
    for alert_id, why in result.skipped:
        message += f" #{alert_id}: {why}"
    return _done(request, form, message, "error" if result.skipped else "notice")
