"""`orderhub import FILE --shop S`: orders from a CSV or Excel file, and where every row went."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli.channels import CLI
from orderhub.cli.core import _fail, _hub, app, console
from orderhub.errors import OrderHubError
from orderhub.integrations.files import FileBook
from orderhub.services.channel_ingest import QUARANTINED
from orderhub.services.file_import import ImportReport, import_file, rows_text

_COLOURS = {"created": "green", "updated": "cyan", "ignored": "dim", "quarantined": "red"}


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    shop: Annotated[str, typer.Option(help="the shop the orders belong to")],
    sheet: Annotated[str | None, typer.Option(help="workbook sheet; default the first")] = None,
) -> None:
    """Import orders from a CSV or .xlsx file (docs/file-import.md); exit 1 if rows were
    quarantined."""
    hub = _hub()
    mapping_dir = hub.settings.mapping_dir
    try:
        report = import_file(
            hub.uow,
            FileBook(Path(mapping_dir) if mapping_dir else None),
            path_or_bytes=file,
            filename=file.name,
            shop=shop,
            actor=CLI,
            review_required=hub.settings.review_required,
            sheet=sheet,
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    finally:
        hub.close()
    print_report(report)
    if report.rows_quarantined:
        raise typer.Exit(1)


def print_report(report: ImportReport) -> None:
    table = Table("rows", "order no", "outcome", "order id", "reason")
    for o in report.orders:
        colour = _COLOURS.get(o.outcome, "")
        table.add_row(
            rows_text(o.rows).split(" ", 1)[1],
            o.order_no or "-",
            f"[{colour}]{o.outcome}[/{colour}]" if colour else o.outcome,
            str(o.order_id or "-"),
            o.reason or "",
        )
    console.print(f"{report.filename} ({report.described}) for shop {report.shop}")
    console.print(table)
    totals = report.totals()
    orders = ", ".join(f"{n} {outcome}" for outcome, n in totals["orders"].items())
    console.print(
        f"rows read {report.rows_read} = imported {report.rows_imported} + quarantined "
        f"{report.rows_quarantined}" + ("" if report.balanced else " [red](DOES NOT ADD UP)[/red]")
    )
    console.print(f"orders: {orders}")
    if report.rows_quarantined:
        console.print(
            f"[red]{report.orders_with(QUARANTINED)} entries quarantined[/red]: see "
            "`orderhub quarantine list`; fix the rows and import the file again"
        )
