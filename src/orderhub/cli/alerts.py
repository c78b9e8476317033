"""`orderhub alerts list | show | ack | resolve | check`: the SLA alerts inbox from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli.channels import CLI
from orderhub.cli.core import _fail, _hub, app, console
from orderhub.domain.alerts import Alert, AlertPolicy
from orderhub.errors import OrderHubError
from orderhub.services import alerts
from orderhub.services.alerts import BulkResult
from orderhub.services.sla import check_sla

alerts_app = typer.Typer(
    help="SLA alerts: orders that waited too long (rules: /api/v1/rules/sla).",
    no_args_is_help=True,
)
app.add_typer(alerts_app, name="alerts")


def _when(alert: Alert) -> str:
    return f"{alert.raised_at:%Y-%m-%d %H:%M}"


@alerts_app.command("list")
def list_alerts(
    status: Annotated[
        str | None, typer.Option(help="open, acknowledged or resolved (default: open)")
    ] = "open",
    rule: Annotated[str | None, typer.Option(help="the rule's name")] = None,
    severity: Annotated[str | None, typer.Option(help="info, warning or critical")] = None,
    order: Annotated[int | None, typer.Option(help="one order's alerts (its id)")] = None,
    shop: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
) -> None:
    """Alerts, newest first (`--status ''` for every status)."""
    try:
        found = alerts.list_alerts(
            _hub().uow.read_only(),
            actor=CLI,
            status=alerts.status_of(status),
            rule=rule,
            severity=alerts.severity_of(severity),
            order_id=order,
            shop=shop,
            limit=limit,
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    table = Table("id", "order", "shop", "rule", "severity", "state", "since", "status", "raised")
    for a in found:
        table.add_row(
            str(a.id),
            f"{a.channel_order_no} (#{a.order_id})",
            a.shop,
            a.rule,
            a.severity.value,
            a.state,
            f"{a.since_at:%Y-%m-%d %H:%M}",
            a.status.value + (" (escalated)" if a.escalated_at else ""),
            _when(a),
        )
    console.print(table)


@alerts_app.command("show")
def show(alert_id: int) -> None:
    """One alert and the notices it went into."""
    try:
        detail = alerts.get_alert(_hub().uow.read_only(), alert_id, actor=CLI)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    a = detail.alert
    console.print(
        f"alert {a.id}: order {a.channel_order_no} (#{a.order_id}, shop {a.shop}) by rule "
        f"'{a.rule}' v{a.rule_version}, {a.severity.value}, {a.status.value}; in {a.state}, "
        f"clock ({a.since}) since {a.since_at:%Y-%m-%d %H:%M} UTC",
        soft_wrap=True,
    )
    for n in detail.notices:
        kind = "escalation" if n["escalation"] else "alert"
        told = (
            f"notice {n['notice_id']} ({'digest of ' + str(n['count']) if n['digest'] else 'one'})"
            if n["notice_id"]
            else "waiting for its digest window"
        )
        console.print(f"  {kind} to {n['recipient']}: {told}")


def _print(result: BulkResult, done: str) -> None:
    for a in result.done:
        console.print(f"alert {a.id} {done}")
    for alert_id, why in result.skipped:
        console.print(f"[yellow]alert {alert_id} skipped:[/yellow] {why}", soft_wrap=True)
    if result.skipped and not result.done:
        raise typer.Exit(2)


@alerts_app.command("ack")
def acknowledge(alert_ids: list[int]) -> None:
    """Acknowledge alerts: someone is on it (they no longer escalate)."""
    try:
        result = alerts.acknowledge_alerts(_hub().uow(), alert_ids, actor=CLI)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    _print(result, "acknowledged")


@alerts_app.command("resolve")
def resolve(
    alert_ids: list[int],
    note: Annotated[str, typer.Option(help="how it was dealt with")] = "",
) -> None:
    """Resolve alerts by hand."""
    try:
        result = alerts.resolve_alerts(_hub().uow(), alert_ids, actor=CLI, note=note)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    _print(result, "resolved")


@alerts_app.command("check")
def check() -> None:
    """Run one SLA check now (the worker runs it every ORDERHUB_SLA_CHECK_INTERVAL_S)."""
    hub = _hub()
    settings = hub.settings
    report = check_sla(
        hub.uow,
        policy=AlertPolicy(settings.alert_digest_window_s, settings.alert_digest_threshold),
    )
    console.print(
        f"raised {report.raised}, escalated {report.escalated}, resolved {report.resolved}, "
        f"notices {report.notices} (the worker's relay sends them)"
    )
