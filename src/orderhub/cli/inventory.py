"""`orderhub stock list | history | receive | adjust`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli.channels import CLI
from orderhub.cli.core import _fail, _hub, app, console
from orderhub.errors import OrderHubError
from orderhub.services import inventory

stock_app = typer.Typer(help="Stock per SKU and warehouse, and its ledger.", no_args_is_help=True)
app.add_typer(stock_app, name="stock")


@stock_app.command("list")
def list_stock(sku: str | None = None, warehouse: str | None = None) -> None:
    table = Table("sku", "warehouse", "on hand", "reserved", "available")
    for level in inventory.stock(_hub().uow.read_only(), actor=CLI, sku=sku, warehouse=warehouse):
        table.add_row(
            level.sku,
            level.warehouse,
            str(level.on_hand),
            str(level.reserved),
            str(level.available),
        )
    console.print(table)


@stock_app.command("history")
def history(sku: str, warehouse: str | None = None) -> None:
    table = Table(
        "at", "warehouse", "kind", "on hand ±", "reserved ±", "after", "order", "reason", "by"
    )
    for m in inventory.history(_hub().uow.read_only(), actor=CLI, sku=sku, warehouse=warehouse):
        table.add_row(
            f"{m['at']:%Y-%m-%d %H:%M:%S}",
            m["warehouse"],
            m["kind"],
            f"{m['on_hand_delta']:+d}",
            f"{m['reserved_delta']:+d}",
            f"{m['on_hand_after']}/{m['reserved_after']}",
            str(m["order_id"] or ""),
            m["reason"],
            m["source"],
        )
    console.print(table)


@stock_app.command("receive")
def receive(
    sku: str,
    warehouse: Annotated[str, typer.Option()],
    quantity: Annotated[int, typer.Option()],
    reason: Annotated[str, typer.Option()],
    reference: str | None = None,
) -> None:
    """Goods in."""
    try:
        level = inventory.receive(
            _hub().uow(),
            actor=CLI,
            sku=sku,
            warehouse=warehouse,
            quantity=quantity,
            reason=reason,
            reference=reference,
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"{sku} in {warehouse}: on hand {level.on_hand}, available {level.available}")


@stock_app.command("adjust")
def adjust(
    sku: str,
    warehouse: Annotated[str, typer.Option()],
    delta: Annotated[int, typer.Option()],
    reason: Annotated[str, typer.Option()],
) -> None:
    """Correct a count (delta may be negative)."""
    try:
        level = inventory.adjust(
            _hub().uow(), actor=CLI, sku=sku, warehouse=warehouse, delta=delta, reason=reason
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"{sku} in {warehouse}: on hand {level.on_hand}, available {level.available}")
