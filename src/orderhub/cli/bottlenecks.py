"""`orderhub bottlenecks`: where orders' time goes, per state, hop and segment; the slowest step."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.api.bottlenecks import BottleneckReportOut
from orderhub.cli.channels import CLI
from orderhub.cli.core import _fail, _hub, app, console
from orderhub.domain.bottlenecks import BottleneckReport, StepFigures
from orderhub.domain.bottlenecks import short_duration as dur
from orderhub.errors import OrderHubError
from orderhub.services import bottlenecks


def _figures_table(title: str, figures: list[StepFigures], by: str | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("step", *([by] if by else []), "count", "p50", "p90", "p99", "max"):
        table.add_column(name, justify="right" if name not in ("step", by) else "left")
    for f in figures:
        segment = [f.segment or "(none)"] if by else []
        table.add_row(
            f.step, *segment, str(f.count), dur(f.p50), dur(f.p90), dur(f.p99), dur(f.max)
        )
    return table


def _named(label: str, f: StepFigures | None) -> str:
    if f is None:
        return f"{label}: none in this window"
    return f"{label}: [bold]{f.step}[/bold] (p90 {dur(f.p90)}, {f.count} orders, max {dur(f.max)})"


def _print(report: BottleneckReport) -> None:
    w = report.window
    console.print(f"Stays that ended {w.since:%Y-%m-%d %H:%M} - {w.until:%Y-%m-%d %H:%M} UTC")
    console.print(_named("Slowest step", report.slowest_step), soft_wrap=True)
    console.print(_named("Slowest hop", report.slowest_hop), soft_wrap=True)
    console.print(_figures_table("States and hops (percentiles exact)", report.steps))
    if report.by is not None:
        console.print(_figures_table(f"By {report.by.value}", report.segments, report.by.value))
    console.print(_figures_table(f"Waiting now ({report.now:%H:%M} UTC)", report.waiting))
    slow = Table("step", "order", "channel order no", "shop", "took", "now", title="Slowest orders")
    slow.title_justify = "left"
    for s in report.slowest_orders:
        slow.add_row(s.step, str(s.order_id), s.channel_order_no, s.shop, dur(s.seconds), s.status)
    console.print(slow)


@app.command("bottlenecks")
def bottlenecks_command(
    since: Annotated[
        str, typer.Option(help="a duration back from now (30m, 12h, 1d, 2w) or an ISO time")
    ] = bottlenecks.DEFAULT_SINCE,
    until: Annotated[str | None, typer.Option(help="as --since; default now")] = None,
    by: Annotated[
        str | None, typer.Option(help="channel, shop, warehouse, order_type or tag")
    ] = None,
    state: Annotated[
        list[str] | None, typer.Option(help="only this state or hop (repeatable)")
    ] = None,
    limit: Annotated[int, typer.Option(help="slowest orders per step")] = bottlenecks.DEFAULT_LIMIT,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Time spent per state and between systems, per segment: count, exact p50/p90/p99, max,
    the slowest orders and the orders waiting now; names the slowest step."""
    hub = _hub()
    try:
        report = bottlenecks.report(
            hub.uow, actor=CLI, since=since, until=until, by=by, steps=state or (), limit=limit
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    finally:
        hub.close()
    if as_json:
        typer.echo(BottleneckReportOut.of(report).model_dump_json())
    else:
        _print(report)
