"""`orderhub recipients list | add | set | test`: who alerts go to; `orderhub simulate receivers`:
local stand-ins for every alert channel, for a demo."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table

from orderhub.cli.channels import CLI, simulate_app
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


DEMO_SECRET = "demo-signing-secret"
DEMO_DINGTALK_SECRET = "SECdemo-signing-secret"


@simulate_app.command("receivers")
def simulate_receivers(
    smtp_port: Annotated[int, typer.Option(help="the SMTP server's port")] = 8025,
    http_port: Annotated[int, typer.Option(help="the robots' and webhook's port")] = 9201,
) -> None:
    """Serve a local SMTP server and WeCom, DingTalk, Feishu and webhook receivers on 127.0.0.1,
    print how to point OrderHub at them, then every message they take."""
    try:
        from orderhub.integrations.notifications.receivers import start_receivers
    except ImportError:  # aiosmtpd is a development dependency
        raise _fail("the local receivers need the dev extra: pip install -e '.[dev]'") from None
    with start_receivers(smtp_port=smtp_port, http_port=http_port) as local:
        addresses = {
            "wecom": (local.wecom("demo"), ""),
            "dingtalk": (local.dingtalk("demo", secret=DEMO_DINGTALK_SECRET), DEMO_DINGTALK_SECRET),
            "feishu": (local.feishu("demo", secret=DEMO_SECRET), DEMO_SECRET),
            "webhook": (local.webhook("demo", secret=DEMO_SECRET), DEMO_SECRET),
        }
        console.print(
            f"SMTP on {local.smtp_host}:{local.smtp_port}: serve OrderHub with "
            f"ORDERHUB_SMTP_HOST={local.smtp_host} ORDERHUB_SMTP_PORT={local.smtp_port} "
            "ORDERHUB_SMTP_STARTTLS=false",
            soft_wrap=True,
        )
        console.print("Add recipients (secrets are asked for; the receivers know these):")
        console.print(
            "  orderhub recipients add demo-mail --kind email --address ops@demo.example",
            soft_wrap=True,
        )
        for kind, (address, signing) in addresses.items():
            flag = " --secret" if signing else ""
            hint = f"   # secret: {signing}" if signing else ""
            console.print(
                f"  orderhub recipients add demo-{kind} --kind {kind} --address '{address}'"
                f"{flag}{hint}",
                soft_wrap=True,
            )
        _print_arrivals(local)


def _print_arrivals(local: Any) -> None:
    seen_mail = seen_robot = 0
    try:
        while True:
            for mail in local.mailbox.messages[seen_mail:]:
                console.print(f"email to {', '.join(mail.recipients)}: {mail.subject}")
            for message in local.desk.received[seen_robot:]:
                console.print(f"{message.channel} {message.robot}: {_title_of(message.body)}")
            seen_mail, seen_robot = len(local.mailbox.messages), len(local.desk.received)
            time.sleep(0.5)
    except KeyboardInterrupt:
        return


def _title_of(body: dict[str, Any]) -> str:
    """The heading of a robot's or webhook's message, whatever its format."""
    if "notice" in body:
        return str(body["notice"].get("title", ""))
    markdown = body.get("markdown") or {}
    if "title" in markdown:
        return str(markdown["title"])
    if "content" in markdown:
        return str(markdown["content"]).split("\n")[0].lstrip("# ")
    post = ((body.get("content") or {}).get("post") or {}).get("zh_cn") or {}
    return str(post.get("title", ""))
