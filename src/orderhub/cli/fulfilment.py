"""`orderhub warehouses list | add | set` and `orderhub outbox counts | list | show | retry`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from orderhub.cli.channels import CLI
from orderhub.cli.core import _fail, _hub, app, console
from orderhub.domain.warehouses import Warehouse, WmsCredentials
from orderhub.errors import OrderHubError
from orderhub.services import outbox, warehouses

warehouses_app = typer.Typer(
    help="Warehouses and the WMS that runs each one.", no_args_is_help=True
)
outbox_app = typer.Typer(
    help="Messages on their way out: counts, failures and replay.", no_args_is_help=True
)
app.add_typer(warehouses_app, name="warehouses")
app.add_typer(outbox_app, name="outbox")

# The statuses an operator watches, in the order a message passes them (the counts' columns).
COUNTED = ("pending", "sending", "delivered", "refused", "dead", "superseded")


def _when(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value is not None else "-"


def _describe(w: Warehouse) -> str:
    wms = "no WMS (shipped by hand)" if w.wms == "none" else f"WMS {w.wms} at {w.base_url}"
    return (
        f"warehouse {w.code} ({w.name}): {wms}, {'enabled' if w.enabled else 'disabled'}, "
        f"{w.rate_per_s:g} msg/s"
    )


@warehouses_app.command("list")
def list_warehouses() -> None:
    table = Table("code", "name", "wms", "url", "app key", "customer id", "secret", "rate/s", "on")
    for w in warehouses.list_warehouses(_hub().uow.read_only(), actor=CLI):
        table.add_row(
            w.code,
            w.name,
            w.wms,
            w.base_url or "-",
            w.credentials.app_key or "-",
            w.credentials.customer_id or "-",
            "set" if w.credentials.secret else "-",
            f"{w.rate_per_s:g}",
            "yes" if w.enabled else "no",
        )
    console.print(table)


@warehouses_app.command("add")
def add_warehouse(
    code: str,
    name: Annotated[str | None, typer.Option(help="default: the code")] = None,
    wms: Annotated[str, typer.Option(help="the WMS protocol (qimen), or none")] = "none",
    url: Annotated[str, typer.Option(help="the WMS's http(s) address")] = "",
    app_key: str = "",
    secret: Annotated[
        str | None,
        typer.Option(help="the WMS signing secret; asked for (hidden) when a WMS is given"),
    ] = None,
    customer_id: str = "",
    rate: Annotated[float, typer.Option(help="messages a second sent to the WMS")] = 50.0,
) -> None:
    """Add a warehouse; with --wms, the relay pushes its orders to that WMS."""
    if secret is None and wms != "none":
        # Asked, not taken as an option value: a secret typed on the command line stays in
        # the shell's history.
        secret = typer.prompt("WMS secret", hide_input=True, default="", show_default=False)
    hub = _hub()
    try:
        warehouse = warehouses.create_warehouse(
            hub.uow(),
            hub.wms,
            actor=CLI,
            code=code,
            name=name or code,
            protocol=wms,
            base_url=url,
            credentials=WmsCredentials(app_key, secret or "", customer_id),
            rate_per_s=rate,
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"added {_describe(warehouse)}", soft_wrap=True)


@warehouses_app.command("set")
def set_warehouse(
    code: str,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
    name: Annotated[str | None, typer.Option()] = None,
    wms: Annotated[str | None, typer.Option()] = None,
    url: Annotated[str | None, typer.Option()] = None,
    app_key: Annotated[str | None, typer.Option()] = None,
    customer_id: Annotated[str | None, typer.Option()] = None,
    new_secret: Annotated[
        bool, typer.Option("--new-secret", help="ask for a new WMS secret (hidden)")
    ] = False,
    rate: Annotated[float | None, typer.Option()] = None,
) -> None:
    """Change a warehouse: switch it on or off, its WMS, address, credentials or rate."""
    changes: dict[str, Any] = {
        k: v
        for k, v in (
            ("enabled", enabled),
            ("name", name),
            ("wms", wms),
            ("base_url", url),
            ("rate_per_s", rate),
        )
        if v is not None
    }
    credentials = {
        k: v for k, v in (("app_key", app_key), ("customer_id", customer_id)) if v is not None
    }
    if new_secret:
        credentials["secret"] = typer.prompt("New WMS secret", hide_input=True)
    if credentials:
        changes["credentials"] = credentials
    if not changes:
        raise _fail(
            "nothing to change: give --enabled/--disabled, --name, --wms, --url, --app-key, "
            "--customer-id, --new-secret or --rate"
        )
    hub = _hub()
    try:
        warehouse = warehouses.update_warehouse(
            hub.uow(), hub.wms, code, actor=CLI, changes=changes
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(_describe(warehouse), soft_wrap=True)


@outbox_app.command("counts")
def counts() -> None:
    """Messages per target and status: dead or refused ones need a person."""
    found = outbox.counts(_hub().uow.read_only(), actor=CLI)
    per_target: dict[str, dict[str, int]] = {}
    for row in found:
        per_target.setdefault(row["target"], {})[row["status"]] = row["count"]
    if not per_target:
        console.print("the outbox is empty")
        return
    table = Table("target", *COUNTED)
    for target, by_status in per_target.items():
        cells = []
        for status in COUNTED:
            n = by_status.get(status, 0)
            cells.append(f"[red]{n}[/red]" if n and status in outbox.REPLAYABLE else str(n))
        table.add_row(target, *cells)
    console.print(table)


@outbox_app.command("list")
def list_messages(
    status: Annotated[str | None, typer.Option(help="e.g. dead, refused, pending")] = None,
    target: str | None = None,
    order: Annotated[int | None, typer.Option(help="an order id")] = None,
    before: Annotated[int | None, typer.Option(help="only messages older than this id")] = None,
    limit: int = 50,
) -> None:
    """Messages, newest first, with their last error."""
    try:
        rows = outbox.messages(
            _hub().uow.read_only(),
            actor=CLI,
            status=status,
            target=target,
            order_id=order,
            before_id=before,
            limit=limit,
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    table = Table("id", "target", "kind", "order", "status", "tries", "created", "last error")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["target"],
            r["event_type"],
            str(r["order_id"] or "-"),
            r["status"],
            str(r["attempts"]),
            _when(r["created_at"]),
            r["last_error"] or "",
        )
    console.print(table)
    if rows and len(rows) == limit:
        console.print(f"older: orderhub outbox list --before {rows[-1]['id']}", soft_wrap=True)


@outbox_app.command("show")
def show(message_id: int) -> None:
    """One message: its payload, the receiver's answer and every attempt."""
    try:
        m = outbox.message(_hub().uow.read_only(), message_id, actor=CLI)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(
        f"message {m['id']} ({m['message_id']}): {m['event_type']} to {m['target']}, "
        f"order {m['order_id'] or '-'}, {m['status']} after {m['attempts']} tries",
        soft_wrap=True,
    )
    console.print(f"created {_when(m['created_at'])}, next try {_when(m['next_attempt_at'])}")
    if m["last_error"]:
        console.print(f"last error: {m['last_error']}", soft_wrap=True, markup=False)
    console.print_json(json.dumps(m["payload"], ensure_ascii=False, default=str))
    if m["answer"] is not None:
        console.print("answer:")
        console.print_json(json.dumps(m["answer"], ensure_ascii=False, default=str))
    table = Table("at", "outcome", "detail", "worker", title="attempts")
    for a in m["attempt_log"]:
        table.add_row(_when(a["at"]), a["outcome"], a["detail"] or "", a["worker"])
    console.print(table)


@outbox_app.command("retry")
def retry(message_id: int) -> None:
    """Send a dead or refused message again (the receiver dedupes by message id)."""
    try:
        m = outbox.retry(_hub().uow(), message_id, actor=CLI)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(
        f"message {message_id} ({m['event_type']} to {m['target']}) is pending again",
        soft_wrap=True,
    )
