"""`orderhub recipients list | add | set | test`: who alerts go to."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from orderhub.cli.channels import CLI
from orderhub.cli.core import _fail, _hub, app, console
from orderhub.domain.notifications import SIGNED_KINDS, Recipient, masked_address, recipient_kind
from orderhub.errors import OrderHubError
from orderhub.services import notifications
from orderhub.services.ports import Outcome

recipients_app = typer.Typer(
    help="Who alerts go to: email lists, WeCom/DingTalk/Feishu robots, webhooks.",
    no_args_is_help=True,
)
app.add_typer(recipients_app, name="recipients")


def _describe(r: Recipient) -> str:
    signed = ", signed" if r.secret else ""
    state = "enabled" if r.enabled else "disabled"
    return f"recipient {r.code} ({r.name}): {r.kind.value} {masked_address(r)}{signed}, {state}"


@recipients_app.command("list")
def list_recipients() -> None:
    table = Table("code", "name", "kind", "address", "secret", "on")
    for r in notifications.list_recipients(_hub().uow.read_only(), actor=CLI):
        table.add_row(
            r.code,
            r.name,
            r.kind.value,
            masked_address(r),
            "set" if r.secret else "-",
            "yes" if r.enabled else "no",
        )
    console.print(table)


@recipients_app.command("add")
def add_recipient(
    code: str,
    kind: Annotated[str, typer.Option(help="email, wecom, dingtalk, feishu or webhook")],
    address: Annotated[
        str, typer.Option(help="email addresses (comma-separated) or the robot's/webhook's URL")
    ],
    name: Annotated[str | None, typer.Option(help="default: the code")] = None,
    secret: Annotated[
        bool,
        typer.Option(
            "--secret/--no-secret",
            help="ask for the signing secret (hidden); asked anyway for a webhook",
        ),
    ] = False,
    enabled: Annotated[bool, typer.Option("--enabled/--disabled")] = True,
) -> None:
    """Add a recipient alert rules can name."""
    try:
        chosen = recipient_kind(kind)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    signing = ""
    if chosen in SIGNED_KINDS and (secret or chosen.value == "webhook"):
        # Asked, not taken as an option value: a secret typed on the command line stays in the
        # shell's history.
        signing = typer.prompt(f"{chosen.value} signing secret", hide_input=True)
    try:
        recipient = notifications.add_recipient(
            _hub().uow(),
            actor=CLI,
            code=code,
            name=name or code,
            kind=chosen.value,
            address=address,
            secret=signing,
            enabled=enabled,
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(f"added {_describe(recipient)}", soft_wrap=True)


@recipients_app.command("set")
def set_recipient(
    code: str,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
    name: Annotated[str | None, typer.Option()] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    address: Annotated[str | None, typer.Option()] = None,
    new_secret: Annotated[
        bool, typer.Option("--new-secret", help="ask for a new signing secret (hidden)")
    ] = False,
    no_secret: Annotated[bool, typer.Option("--no-secret", help="remove the secret")] = False,
) -> None:
    """Change a recipient: switch it on or off, its name, kind, address or secret."""
    changes: dict[str, Any] = {
        k: v
        for k, v in (("enabled", enabled), ("name", name), ("kind", kind), ("address", address))
        if v is not None
    }
    if new_secret:
        changes["secret"] = typer.prompt("New signing secret", hide_input=True)
    elif no_secret:
        changes["secret"] = ""
    if not changes:
        raise _fail(
            "nothing to change: give --enabled/--disabled, --name, --kind, --address, "
            "--new-secret or --no-secret"
        )
    try:
        recipient = notifications.update_recipient(_hub().uow(), code, actor=CLI, changes=changes)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    console.print(_describe(recipient), soft_wrap=True)


@recipients_app.command("test")
def test_recipient(code: str) -> None:
    """Send the recipient a test notice now and say what its channel answered."""
    hub = _hub()
    try:
        result = notifications.send_test_notice(hub.uow.read_only(), hub.notifiers, code, actor=CLI)
    except OrderHubError as error:
        raise _fail(error.detail) from None
    if result.outcome is Outcome.DELIVERED:
        console.print(f"test notice delivered to {code}", soft_wrap=True)
        return
    said = f"{result.detail} ({result.code})" if result.code else result.detail
    verb = "refused" if result.outcome is Outcome.REFUSED else "not delivered (would be retried)"
    raise _fail(f"test notice to {code} {verb}: {said}")
