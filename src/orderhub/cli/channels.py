"""`orderhub shops | sync | reconcile | quarantine | skus | worker | simulate`."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli.core import _fail, _hub, app, console
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.channels import Component
from orderhub.domain.shops import Credentials, SyncSettings
from orderhub.errors import OrderHubError
from orderhub.permissions import permissions_of
from orderhub.services import catalogue, quarantine, shops
from orderhub.services.channel_sync import pull_shop, reconcile_shop

# Whoever runs the CLI has the server's shell and database: they act as an admin, by name.
CLI = Actor(
    id="cli", name="cli", kind=ActorKind.SYSTEM, role="admin", permissions=permissions_of("admin")
)

shops_app = typer.Typer(help="Shops on the sales channels.", no_args_is_help=True)
quarantine_app = typer.Typer(
    help="Payloads that did not fit: why, replay, discard.", no_args_is_help=True
)
skus_app = typer.Typer(help="Merchant SKUs, combos and channel SKU mappings.", no_args_is_help=True)
simulate_app = typer.Typer(help="Local simulators of the channels.", no_args_is_help=True)
app.add_typer(shops_app, name="shops")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(skus_app, name="skus")
app.add_typer(simulate_app, name="simulate")

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise _fail(f"'{text}' is not a duration; write e.g. 30m, 12h or 2d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: float(match.group(1))})


@shops_app.command("list")
def list_shops() -> None:
    hub = _hub()
    table = Table("code", "channel", "name", "enabled", "cursor", "last sync", "last error")
    for s in shops.list_shops(hub.uow.read_only(), actor=CLI):
        table.add_row(
            s.code,
            s.channel,
            s.name,
            "yes" if s.enabled else "no",
            str(s.cursor_at or "-"),
            str(s.last_sync_at or "-"),
            s.last_error or "",
        )
    console.print(table)


@shops_app.command("add")
def add_shop(
    code: str,
    channel: Annotated[str, typer.Option()],
    base_url: Annotated[str, typer.Option()],
    name: Annotated[str | None, typer.Option()] = None,
    app_key: str = "",
    app_secret: str = "",
    access_token: str = "",
    interval_s: int = 60,
) -> None:
    hub = _hub()
    try:
        shop = shops.create_shop(
            hub.uow(),
            hub.channels,
            actor=CLI,
            code=code,
            channel=channel,
            name=name or code,
            base_url=base_url,
            credentials=Credentials(app_key, app_secret, access_token),
            settings=SyncSettings(interval_s=interval_s),
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"added shop {shop.code} on {shop.channel}")


@shops_app.command("set")
def set_shop(
    code: str,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
    base_url: Annotated[str | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
    app_key: Annotated[str | None, typer.Option()] = None,
    app_secret: Annotated[str | None, typer.Option()] = None,
    access_token: Annotated[str | None, typer.Option()] = None,
    interval_s: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Change a shop: enable or disable it, its URL, name, credentials or pull interval."""
    changes: dict[str, object] = {
        k: v
        for k, v in (("enabled", enabled), ("base_url", base_url), ("name", name))
        if v is not None
    }
    credentials = {
        k: v
        for k, v in (
            ("app_key", app_key),
            ("app_secret", app_secret),
            ("access_token", access_token),
        )
        if v is not None
    }
    if credentials:
        changes["credentials"] = credentials
    if interval_s is not None:
        changes["settings"] = {"interval_s": interval_s}
    if not changes:
        raise _fail(
            "nothing to change: give --enabled/--disabled, --base-url, --name, "
            "credentials or --interval-s"
        )
    hub = _hub()
    try:
        shop = shops.update_shop(hub.uow(), hub.channels, code, actor=CLI, changes=changes)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(
        f"shop {shop.code}: {'enabled' if shop.enabled else 'disabled'}, "
        f"{shop.base_url}, pulls every {shop.settings.interval_s} s"
    )


@app.command("sync")
def sync(
    shop: Annotated[str | None, typer.Option(help="one shop; default every enabled one")] = None,
) -> None:
    """Pull the shops' changed orders now."""
    hub = _hub()
    with hub.uow.read_only() as uow:
        codes = [shop] if shop else [s.code for s in uow.shops.list() if s.enabled]
    failed = False
    for code in codes:
        report = pull_shop(
            hub.uow, hub.channels, code, review_required=hub.settings.review_required
        )
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "nothing"
        console.print(
            f"{code}: {report.payloads} payloads in {report.pages} pages: {outcomes}"
            + (f" [red]error: {report.error}[/red]" if report.error else "")
        )
        failed = failed or report.error is not None
    if failed:
        raise typer.Exit(1)


@app.command("reconcile")
def reconcile(
    shop: Annotated[str, typer.Option()],
    since: Annotated[str, typer.Option(help="how far back, e.g. 2d")] = "2d",
) -> None:
    """Compare the channel's orders with the pool, backfill what is missing, prove the count."""
    hub = _hub()
    with hub.uow.read_only() as uow:
        now = uow.clock.now()
    report = reconcile_shop(
        hub.uow,
        hub.channels,
        shop,
        since=now - parse_duration(since),
        until=now,
        review_required=hub.settings.review_required,
    )
    console.print(f"{shop} {report.since:%Y-%m-%d %H:%M} .. {report.until:%Y-%m-%d %H:%M} UTC")
    console.print(
        f"channel total {report.channel_total} = in pool {report.in_pool} + in "
        f"quarantine {report.in_quarantine}: "
        + ("[green]complete[/green]" if report.complete else "[red]INCOMPLETE[/red]")
    )
    console.print(
        f"missing before: {len(report.missing)} {' '.join(report.missing)}", soft_wrap=True
    )
    console.print(
        f"backfilled: {len(report.backfilled)} {' '.join(report.backfilled)}", soft_wrap=True
    )
    if report.still_missing or report.error:
        console.print(
            f"[red]still missing: {' '.join(report.still_missing)} {report.error or ''}[/red]",
            soft_wrap=True,
        )
    if not report.complete:
        raise typer.Exit(1)


@quarantine_app.command("list")
def list_quarantine(status: str = "open", shop: str | None = None, limit: int = 50) -> None:
    hub = _hub()
    table = Table("id", "shop", "order no", "field", "reason", "attempts", "received")
    for q in quarantine.list_quarantine(
        hub.uow.read_only(), actor=CLI, status=status or None, shop=shop, limit=limit
    ):
        table.add_row(
            str(q.id),
            q.shop,
            q.channel_order_no or "-",
            q.field or "-",
            q.reason,
            str(q.attempts),
            f"{q.received_at:%Y-%m-%d %H:%M:%S}",
        )
    console.print(table)


@quarantine_app.command("replay")
def replay(item_id: int) -> None:
    hub = _hub()
    try:
        result = quarantine.replay(
            hub.uow, hub.channels, item_id, actor=CLI, review_required=hub.settings.review_required
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(
        f"{result.channel_order_no}: {result.outcome}"
        + (f" (order {result.order_id})" if result.order_id else "")
        + (f": {result.detail}" if result.detail else ""),
        soft_wrap=True,
    )


@quarantine_app.command("discard")
def discard(item_id: int, reason: Annotated[str, typer.Option()]) -> None:
    hub = _hub()
    try:
        quarantine.discard(hub.uow(), item_id, actor=CLI, reason=reason)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"discarded {item_id}")


@skus_app.command("add")
def add_sku(
    sku: str,
    title: Annotated[str, typer.Option()],
    component: Annotated[
        list[str] | None, typer.Option(help="SKU:QUANTITY:WEIGHT, once per component of a combo")
    ] = None,
) -> None:
    hub = _hub()
    parts = []
    for text in component or []:
        bits = text.split(":")
        if len(bits) != 3 or not bits[1].isdigit() or not bits[2].isdigit():
            raise _fail(f"component '{text}' must be SKU:QUANTITY:WEIGHT, e.g. MUG-350:1:3900")
        parts.append(Component(bits[0], int(bits[1]), int(bits[2])))
    try:
        catalogue.add_product(hub.uow(), actor=CLI, sku=sku, title=title, components=parts)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"added SKU {sku}" + (f" with {len(parts)} components" if parts else ""))


@skus_app.command("map")
def map_sku(channel: str, channel_sku: str, sku: str, shop: str = "") -> None:
    hub = _hub()
    try:
        released = catalogue.map_sku(
            hub.uow, actor=CLI, channel=channel, channel_sku=channel_sku, sku=sku, shop=shop
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"{channel} {channel_sku} -> {sku}; released {len(released)} orders")


@app.command("worker")
def worker(tick_s: float = 1.0) -> None:
    """Run the scheduled jobs (pulls, reconciliation) in the foreground."""
    from orderhub.worker.scheduler import Scheduler

    scheduler = Scheduler(_hub(), tick_s=tick_s).start()
    console.print("worker running; Ctrl-C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        scheduler.stop()


@simulate_app.command("channels")
def simulate(
    port: Annotated[int, typer.Option(help="first port; one per channel")] = 9101,
    rate: Annotated[float, typer.Option(help="new orders per second per channel")] = 2.0,
) -> None:
    """Serve every channel's simulator on 127.0.0.1 and let orders flow in at `rate`."""
    from orderhub.integrations.channels.simulate import start_simulators

    running = start_simulators(first_port=port, rate_per_s=rate)
    for name, server in running.items():
        console.print(f"{name}: {server.url}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        for server in running.values():
            server.stop()
