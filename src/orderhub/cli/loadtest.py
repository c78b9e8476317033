"""`orderhub loadtest`: a peak test of a running server (see docs/loadtest.md).

This process checks the server and finds what to drive through its API, then starts the load in
a process of its own (`python -m orderhub.loadtest`: Locust monkey-patches sockets, which must
not touch this one), shows nothing but its live progress meanwhile, and judges the result.
Exit 0: PASS; 1: FAIL; 2: the test could not run (the reason and the fix on stderr).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Column, Table

from orderhub.cli.core import app, err
from orderhub.cli.core import console as _console
from orderhub.loadtest.plan import CannotRun, Discovery, Plan, Targets, users_for
from orderhub.loadtest.profiles import PROFILES
from orderhub.loadtest.report import DEFAULT_MAX_ERROR_RATE, DEFAULT_P99_MS, Check, verdict

PASS, FAIL, CANNOT_RUN = 0, 1, 2
# The share of the offered orders that must be shipped once the run drained, by default.
DEFAULT_CARRIED_SHARE = 0.95
INSTALL_LOCUST = "pip install -e '.[load]'  (Locust 2.47: the `load` extra; `make test` has it)"


def _cannot_run(detail: str) -> typer.Exit:
    err.print(f"[red]loadtest cannot run:[/red] {detail}", soft_wrap=True)
    return typer.Exit(CANNOT_RUN)


@app.command("loadtest")
def loadtest(
    profile: Annotated[
        str, typer.Option(help="normal (1x), double11 (5x) or double11-midnight")
    ] = "double11",
    url: Annotated[
        str, typer.Option(envvar="ORDERHUB_LOADTEST_URL", help="the running OrderHub")
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ORDERHUB_TOKEN", help="an API token: `orderhub create-token admin --name lt`"
        ),
    ] = None,
    daily_orders: Annotated[
        float,
        typer.Option(
            min=1, envvar="ORDERHUB_LOADTEST_DAILY_ORDERS", help="the merchant's daily average"
        ),
    ] = 100_000,
    minutes: Annotated[float, typer.Option(min=0.01, help="how long the load lasts")] = 10.0,
    drain_s: Annotated[
        float, typer.Option(min=0, help="after the load, how long orders may take to ship")
    ] = 60.0,
    target_orders_per_s: Annotated[
        float | None,
        typer.Option(
            envvar="ORDERHUB_LOADTEST_TARGET_ORDERS_PER_S",
            help="orders a second that must ship (default 95% of the offered rate)",
        ),
    ] = None,
    target_p99_ms: Annotated[
        float,
        typer.Option(
            envvar="ORDERHUB_LOADTEST_TARGET_P99_MS", help="OrderHub's answers' 99th percentile"
        ),
    ] = DEFAULT_P99_MS,
    max_error_rate: Annotated[
        float,
        typer.Option(
            min=0, max=1, envvar="ORDERHUB_LOADTEST_MAX_ERROR_RATE", help="failed share of requests"
        ),
    ] = DEFAULT_MAX_ERROR_RATE,
    users: Annotated[
        int | None, typer.Option(min=1, help="concurrent clients per stream (default by rate)")
    ] = None,
    warehouse: Annotated[
        str | None, typer.Option(help="the warehouse that ships (default: the simulated one)")
    ] = None,
    wms_secret: Annotated[
        str | None,
        typer.Option(
            envvar="ORDERHUB_LOADTEST_WMS_SECRET", help="its WMS signing secret (demo: known)"
        ),
    ] = None,
    approve: Annotated[
        bool, typer.Option(help="a review desk approves the run's orders waiting in review")
    ] = True,
    restock: Annotated[
        bool, typer.Option(help="first receive the stock the run needs into the warehouse")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Drive a running server at a profile's multiple of the daily average (order creation at
    the channel simulators, payments, WMS shipment callbacks) and judge it against targets."""
    if profile not in PROFILES:
        raise _cannot_run(f"unknown profile '{profile}'; known: {', '.join(PROFILES)}")
    if importlib.util.find_spec("locust") is None:
        raise _cannot_run(f"Locust is not installed; {INSTALL_LOCUST}")
    if not token:
        raise _cannot_run(
            "no API token: pass --token or set ORDERHUB_TOKEN "
            "(make one with `orderhub create-token admin --name loadtest`)"
        )
    plan = _plan(
        url=url,
        token=token,
        profile=profile,
        daily_orders=daily_orders,
        load_s=minutes * 60,
        drain_s=drain_s,
        users=users,
        approve=approve,
        restock=restock,
        warehouse=warehouse,
        wms_secret=wms_secret,
        target_orders_per_s=target_orders_per_s,
        target_p99_ms=target_p99_ms,
        max_error_rate=max_error_rate,
    )
    result = _run(plan, live=not as_json and sys.stderr.isatty())
    result["verdict"] = verdict(result, vars(plan.targets))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        _print(result)
    raise typer.Exit(PASS if result["verdict"]["passed"] else FAIL)


def _plan(
    *,
    url: str,
    token: str,
    profile: str,
    daily_orders: float,
    load_s: float,
    drain_s: float,
    users: int | None,
    approve: bool,
    restock: bool,
    warehouse: str | None,
    wms_secret: str | None,
    target_orders_per_s: float | None,
    target_p99_ms: float,
    max_error_rate: float,
) -> Plan:
    chosen = PROFILES[profile]
    discovery = Discovery(url, token)
    try:
        discovery.check_server(approve=approve, restock=restock)
        shops = discovery.shops(dict(chosen.channel_mix))
        found = discovery.warehouse(warehouse, wms_secret)
        discovery.check_wms_secret(found)
        plan = Plan(
            url=discovery.url,
            token=token,
            profile=profile,
            daily_orders=daily_orders,
            load_s=load_s,
            drain_s=drain_s,
            users=1,
            approve=approve,
            targets=Targets(0.0, target_p99_ms, max_error_rate),
            shops=shops,
            warehouse=found,
        )
        offered = plan.offered_per_s
        targets = Targets(
            target_orders_per_s
            if target_orders_per_s is not None
            else round(offered * DEFAULT_CARRIED_SHARE, 3),
            target_p99_ms,
            max_error_rate,
        )
        restocked = discovery.restock(found, plan.expected_orders()) if restock else {}
    except CannotRun as reason:
        raise _cannot_run(str(reason)) from None
    finally:
        discovery.close()
    return replace(
        plan, users=users or users_for(plan.peak_per_s), targets=targets, restocked=restocked
    )


def _run(plan: Plan, *, live: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="orderhub-loadtest-") as folder:
        plan_file, result_file = Path(folder) / "plan.json", Path(folder) / "result.json"
        plan.write(plan_file)
        plan_file.chmod(0o600)  # it holds the token and the WMS secret
        command = [sys.executable, "-m", "orderhub.loadtest", str(plan_file), str(result_file)]
        if live:
            command.append("--live")
        err.print(
            f"loadtest: {plan.profile} at {plan.offered_per_s:.2f} orders/s for "
            f"{plan.load_s:g} s against {plan.url} ({len(plan.shops)} shops, warehouse "
            f"{plan.warehouse.code}, {plan.users} clients per stream)",
            soft_wrap=True,
        )
        try:
            finished = subprocess.run(command, check=False)
        except KeyboardInterrupt:
            raise _cannot_run("interrupted") from None
        if finished.returncode != 0 or not result_file.exists():
            raise _cannot_run(f"the load process failed (exit {finished.returncode}); see above")
        result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
        return result


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:g}"


def _print(result: dict[str, Any]) -> None:
    # A file or a pipe gets the full table rather than one folded to 80 columns.
    console = _console if _console.is_terminal else Console(width=120)
    orders = result["orders"]
    console.print(
        f"[bold]{result['profile']}[/bold] ({result['multiplier']:g}x of "
        f"{result['daily_orders']:,.0f} orders a day): {result['offered_orders_per_s']:g} "
        f"orders/s offered for {result['load_s']:g} s, drained in {result['drain_s']:g} s"
        + ("" if result["drained"] else " [yellow](not fully: the drain time ran out)[/yellow]"),
        soft_wrap=True,
    )
    console.print(
        f"orders: placed {orders['created']:,}, paid {orders['paid']:,}, shipments told "
        f"{orders['shipment_callbacks']:,}; OrderHub holds {orders['in_orderhub']:,} of the "
        f"run, {orders['shipped_in_orderhub']:,} shipped",
        soft_wrap=True,
    )
    for shop, lost in orders.get("not_in_orderhub", {}).items():
        console.print(
            f"[red]not in OrderHub[/red]: {lost.get('count')} orders of {shop}, e.g. "
            + ", ".join(lost.get("examples", [])),
            soft_wrap=True,
        )
    table = Table(
        Column("request", no_wrap=True),
        "requests",
        "failed",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        box=box.SIMPLE_HEAD,
    )
    for row in [*result["requests"], result["orderhub_requests"], result["all_requests"]]:
        table.add_row(
            row["name"],
            f"{row['requests']:,}",
            f"{row['failures']:,}",
            f"{row['requests_per_s']:g}",
            _ms(row["p50_ms"]),
            _ms(row["p99_ms"]),
            _ms(row["max_ms"]),
        )
    console.print(table)
    for error in result["errors"]:
        console.print(
            f"[red]error[/red] {error['request']}: {error['error']} x{error['count']}",
            soft_wrap=True,
        )
        for example in error["examples"]:
            console.print(f"    e.g. {example}", soft_wrap=True, highlight=False)
    backlog = result["backlog"]
    states = ", ".join(f"{s} {n:,}" for s, n in backlog["by_status"].items()) or "none"
    console.print(f"backlog of the run's orders by state: {states}", soft_wrap=True)
    kept = backlog["quarantined"]
    if kept["count"]:
        console.print(
            f"[red]quarantined[/red] {kept['count']:,} payloads of the run OrderHub could not "
            "take in (`orderhub quarantine list`)",
            soft_wrap=True,
        )
        for example in kept["examples"]:
            console.print(f"    e.g. {example}", soft_wrap=True, highlight=False)
    for row in backlog["outbox_pending"]:
        console.print(f"outbox: {row['target']} {row['status']} {row['count']:,}")
    late = result["generator"]["late_slots"]
    if late.get("orders"):
        console.print(
            f"[yellow]the load generator fell behind[/yellow]: {late['orders']:,} orders placed "
            "more than a second late; raise --users",
            soft_wrap=True,
        )
    if late.get("shipments"):
        console.print(
            f"{late['shipments']:,} shipments told more than a second after their turn: every "
            "warehouse hand was waiting for OrderHub's answer",
            soft_wrap=True,
        )
    decided = result["verdict"]
    for check in decided["checks"]:
        said = Check(**check).said()
        mark = "ok" if check["passed"] else "FAIL"
        colour = "green" if check["passed"] else "red"
        console.print(said.removesuffix(mark) + f"[{colour}]{mark}[/{colour}]", highlight=False)
    console.print("[bold green]PASS[/bold green]" if decided["passed"] else "[bold red]FAIL[/]")
