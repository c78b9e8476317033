"""`orderhub listings sync | list` and `orderhub stock-rule show | set`: what the shops show."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli.channels import CLI
from orderhub.cli.core import _fail, _hub, app, console
from orderhub.domain.stock_push import StockRule
from orderhub.errors import OrderHubError
from orderhub.services import stock_push
from orderhub.services.ports import ChannelUnavailable

listings_app = typer.Typer(
    help="Listings on the channels and the stock pushed to them.", no_args_is_help=True
)
rules_app = typer.Typer(
    help="Each shop's stock rule: the share, buffer and minimum it shows.", no_args_is_help=True
)
app.add_typer(listings_app, name="listings")
app.add_typer(rules_app, name="stock-rule")


def _describe(rule: StockRule) -> str:
    where = ", ".join(rule.warehouses) or "every warehouse"
    state = "pushed" if rule.enabled else "not pushed (managed by hand)"
    return (
        f"shop {rule.shop}: shows {rule.percent}% of available from {where} after a buffer "
        f"of {rule.buffer}, at least {rule.minimum} while there is stock; {state}"
    )


@listings_app.command("sync")
def sync(shop: str) -> None:
    """Read the shop's listings from its channel; their stock is pushed right after."""
    hub = _hub()
    try:
        report = stock_push.sync_listings(hub.uow, hub.channels, actor=CLI, shop=shop)
    except (OrderHubError, ChannelUnavailable) as error:
        raise _fail(getattr(error, "detail", str(error))) from None
    console.print(f"{shop}: {report.listings} listings, {report.mapped} mapped")
    if report.unmapped:
        console.print(
            f"not mapped (map them with `orderhub skus map`): {', '.join(report.unmapped)}",
            soft_wrap=True,
        )


@listings_app.command("list")
def list_listings(
    shop: Annotated[str | None, typer.Option()] = None,
    sku: Annotated[str | None, typer.Option()] = None,
) -> None:
    table = Table("shop", "channel sku", "sku", "planned", "channel shows", "pushed at", "error")
    for x in stock_push.list_listings(_hub().uow.read_only(), actor=CLI, shop=shop, sku=sku):
        table.add_row(
            x.shop,
            x.channel_sku,
            x.sku or "(unmapped)",
            "-" if x.planned_quantity is None else str(x.planned_quantity),
            "-" if x.channel_quantity is None else str(x.channel_quantity),
            f"{x.pushed_at:%Y-%m-%d %H:%M:%S}" if x.pushed_at else "-",
            x.last_error or "",
        )
    console.print(table)


@rules_app.command("show")
def show(shop: str) -> None:
    try:
        rule = stock_push.stock_rule(_hub().uow.read_only(), actor=CLI, shop=shop)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(_describe(rule), soft_wrap=True)


@rules_app.command("set")
def set_rule(
    shop: str,
    percent: Annotated[int, typer.Option(help="share of available stock shown, 0-100")] = 100,
    buffer: Annotated[int, typer.Option(help="units held back from this shop")] = 0,
    minimum: Annotated[int, typer.Option(help="a smaller share is raised to this")] = 0,
    warehouse: Annotated[
        list[str] | None, typer.Option(help="a warehouse it sells from (repeat); default all")
    ] = None,
    enabled: Annotated[bool, typer.Option("--push/--no-push")] = True,
) -> None:
    """Replace the shop's stock rule; its listings are updated at once."""
    rule = StockRule(shop, percent, buffer, minimum, tuple(warehouse or ()), enabled)
    try:
        saved = stock_push.save_stock_rule(_hub().uow(), rule, actor=CLI)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"saved: {_describe(saved)}", soft_wrap=True)
