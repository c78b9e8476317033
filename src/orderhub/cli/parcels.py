"""`orderhub parcels list | split | merge | unmerge | never-merge | merge-waiting`: orders that
leave the warehouse split into parcels or merged into one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli.channels import CLI
from orderhub.cli.core import _fail, _hub, app, console
from orderhub.domain.parcels import Parcel
from orderhub.errors import OrderHubError
from orderhub.services.fulfilment import parcels

parcels_app = typer.Typer(
    help="Split an order into parcels, merge orders into one, and see an order's parcels.",
    no_args_is_help=True,
)
app.add_typer(parcels_app, name="parcels")


def _table(found: list[Parcel]) -> Table:
    table = Table("parcel", "kind", "warehouse", "status", "lines", "orders", "tracking no")
    for p in found:
        table.add_row(
            p.parcel_no,
            p.kind.value,
            p.warehouse,
            p.status.value,
            ", ".join(f"{sku} x{qty}" for sku, qty in p.needs()),
            ", ".join(str(i) for i in p.order_ids),
            f"{p.carrier} {p.tracking_no}" if p.tracking_no else "",
        )
    return table


def _parcel_spec(spec: str) -> parcels.ParcelAsked:
    """`[WAREHOUSE:]SKU=QTY,SKU=QTY` -> one parcel as asked."""
    warehouse, _, lines = spec.rpartition(":")
    try:
        pairs = tuple(
            (sku.strip(), int(qty)) for sku, qty in (item.split("=") for item in lines.split(","))
        )
    except ValueError:
        raise _fail(
            f"--parcel '{spec}' is not [WAREHOUSE:]SKU=QTY[,SKU=QTY...], e.g. WH-B:TS-WHITE-L=1"
        ) from None
    return parcels.ParcelAsked(pairs, warehouse or None)


@parcels_app.command("list")
def list_parcels(order_id: int) -> None:
    """The parcels that carry part or all of the order (cancelled ones too)."""
    try:
        found = parcels.order_parcels(_hub().uow.read_only(), order_id, actor=CLI)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    if not found:
        console.print(f"order {order_id} ships as one parcel of its own (OH{order_id:010d})")
        return
    console.print(_table(found))


@parcels_app.command("split")
def split(
    order_id: int,
    parcel: Annotated[
        list[str], typer.Option(help="[WAREHOUSE:]SKU=QTY[,SKU=QTY...]; once per parcel")
    ],
    reason: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Split the order into these parcels; their lines must add up to the order's."""
    try:
        made = parcels.split_order(
            _hub().uow(), order_id, [_parcel_spec(p) for p in parcel], actor=CLI, reason=reason
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(_table(made))


@parcels_app.command("merge")
def merge(order_ids: list[int], reason: Annotated[str | None, typer.Option()] = None) -> None:
    """Put the orders (one buyer, one receiver, one warehouse) in one parcel."""
    try:
        made = parcels.merge_orders(_hub().uow(), order_ids, actor=CLI, reason=reason)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(_table([made]))


@parcels_app.command("unmerge")
def unmerge(parcel_no: str, reason: Annotated[str | None, typer.Option()] = None) -> None:
    """Undo a merge before the WMS has the parcel; each order goes on its own again."""
    try:
        orders = parcels.unmerge_parcel(_hub().uow(), parcel_no, actor=CLI, reason=reason)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"{parcel_no} undone: orders {', '.join(str(o.id) for o in orders)} go on alone")


@parcels_app.command("never-merge")
def never_merge(
    order_id: int, off: Annotated[bool, typer.Option("--off", help="allow merging again")] = False
) -> None:
    """Mark the order as one that always ships on its own."""
    try:
        order = parcels.set_never_merge(_hub().uow(), order_id, not off, actor=CLI)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"order {order_id}: never_merge {'on' if order.never_merge else 'off'}")


@parcels_app.command("merge-waiting")
def merge_waiting() -> None:
    """Merge the allocated orders waiting for one buyer and receiver in one warehouse now."""
    made = parcels.merge_waiting(_hub().uow)
    console.print(f"{len(made)} merged parcels: {', '.join(made) or 'none'}")
