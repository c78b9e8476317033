"""Shared set-up for tests that send alerts: the local receivers (an SMTP server, the WeCom,
DingTalk and Feishu robots, a signed webhook endpoint), a hub whose SMTP settings point at them,
recipients of every kind, notices written to the outbox as the SLA checker writes them, and a
relay to deliver them.

    with start_receivers() as local, notify_hub(database_url, local, clock=clock) as hub:
        made = add_recipients(hub, local)               # one of each kind, codes = kinds
        send_notice(hub, made["wecom"].code, notice(title="..."))
        relay(hub).run_once()
        arrived(local, made["wecom"])                   # what that recipient's channel took
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from orderhub.bootstrap import Hub, bootstrap
from orderhub.config import Settings
from orderhub.domain.notifications import (
    ALERT_NOTIFY,
    Notice,
    Recipient,
    RecipientKind,
    Severity,
    alert_target,
    notice_payload,
)
from orderhub.integrations.notifications.receivers import LocalReceivers, start_receivers
from orderhub.services import notifications
from orderhub.services.fulfilment.deliveries import RetryPolicy
from orderhub.services.ports import Clock, Command
from orderhub.worker.relay import Relay
from tests.conftest import CHEAP_HASHER, SETUP_ADMIN, TEST_CREDENTIALS_KEY, wipe

__all__ = [
    "DINGTALK_SECRET",
    "FEISHU_SECRET",
    "PUBLIC_URL",
    "WEBHOOK_SECRET",
    "add_recipient",
    "add_recipients",
    "arrived",
    "notice",
    "notify_hub",
    "outbox_rows",
    "relay",
    "send_notice",
    "start_receivers",
]

DINGTALK_SECRET = "SECtest-dingtalk-signing-secret"
FEISHU_SECRET = "test-feishu-signing-secret"
WEBHOOK_SECRET = "test-webhook-signing-secret"
PUBLIC_URL = "http://console.test"


def notify_settings(local: LocalReceivers) -> dict[str, Any]:
    """Settings that send email to the local SMTP server (plain SMTP: it is on 127.0.0.1)."""
    return {
        "smtp_host": local.smtp_host,
        "smtp_port": local.smtp_port,
        "smtp_starttls": False,
        "smtp_from": "orderhub@test.example",
        "public_url": PUBLIC_URL,
        "notify_timeout_s": 2.0,
    }


@contextmanager
def notify_hub(
    database_url: str, local: LocalReceivers, *, clock: Clock | None = None, **settings: Any
) -> Iterator[Hub]:
    """A hub on a wiped database, sending alerts to `local`; `settings` override any setting."""
    chosen = {
        "credentials_key": TEST_CREDENTIALS_KEY,
        "database_url": database_url,
        "secret_key": "test-secret",
        "log_level": "WARNING",
        "reserve_stock": False,
        "auto_allocate": False,
        **notify_settings(local),
        **settings,
    }
    hub = bootstrap(Settings(**chosen), clock=clock, hasher=CHEAP_HASHER)
    wipe(hub.engine)
    try:
        yield hub
    finally:
        hub.close()


def add_recipient(
    hub: Hub,
    local: LocalReceivers,
    kind: RecipientKind,
    *,
    code: str | None = None,
    secret: str | None = None,
    enabled: bool = True,
) -> Recipient:
    """A recipient of `kind` whose channel is the local receiver; signed kinds get a secret the
    receiver knows (pass `secret` to give the recipient another one: a wrong secret)."""
    code = code or kind.value
    known = {
        RecipientKind.DINGTALK: DINGTALK_SECRET,
        RecipientKind.FEISHU: FEISHU_SECRET,
        RecipientKind.WEBHOOK: WEBHOOK_SECRET,
    }.get(kind, "")
    address = {
        RecipientKind.EMAIL: lambda: f"{code}@ops.example.com, lead-{code}@ops.example.com",
        RecipientKind.WECOM: lambda: local.wecom(f"key-{code}"),
        RecipientKind.DINGTALK: lambda: local.dingtalk(f"token-{code}", secret=known),
        RecipientKind.FEISHU: lambda: local.feishu(f"hook-{code}", secret=known),
        RecipientKind.WEBHOOK: lambda: local.webhook(code, secret=known),
    }[kind]()
    return notifications.add_recipient(
        hub.uow(),
        actor=SETUP_ADMIN,
        code=code,
        name=f"{kind.value} test recipient",
        kind=kind.value,
        address=address,
        secret=known if secret is None else secret,
        enabled=enabled,
    )


def add_recipients(hub: Hub, local: LocalReceivers) -> dict[str, Recipient]:
    """One recipient of each kind, each named by its kind."""
    return {kind.value: add_recipient(hub, local, kind) for kind in RecipientKind}


def notice(
    recipient: str = "",
    *,
    title: str = "2 cross-border orders not shipped after 4 h",
    lines: tuple[str, ...] = (
        "OH100001 (tb-main) waited 4 h 12 min in paid",
        "OH100002 (jd-main) waited 4 h 05 min in paid",
    ),
    severity: Severity = Severity.WARNING,
    **more: Any,
) -> Notice:
    fields: dict[str, Any] = {
        "count": len(lines),
        "link": "/alerts?rule=1",
        "at": datetime(2026, 11, 11, 12, 0, tzinfo=UTC),
        **more,
    }
    return Notice(recipient=recipient, severity=severity, title=title, lines=lines, **fields)


def send_notice(hub: Hub, code: str, sent: Notice | None = None) -> None:
    """Write an alert.notify command to the outbox, as the SLA checker does."""
    chosen = sent or notice(code)
    payload = notice_payload(replace(chosen, recipient=code))
    with hub.uow() as uow:
        uow.send(
            Command(alert_target(code), ALERT_NOTIFY, payload, key=f"test-notice:{uuid.uuid4()}")
        )
        uow.commit()


def relay(hub: Hub, *, max_attempts: int = 5) -> Relay:
    """A relay with tiny backoffs: a provider's own wait (Retry-After, rate-limit codes) is what
    the next try waits for, and a test moves its clock past it."""
    return Relay(hub.uow, hub.deliveries, lease_s=5, policy=RetryPolicy(max_attempts, 0.01, 0.05))


def outbox_rows(hub: Hub, code: str) -> list[dict[str, Any]]:
    with hub.uow.read_only() as uow:
        return list(reversed(uow.outbox.list(target=alert_target(code))))


def arrived(local: LocalReceivers, recipient: Recipient) -> list[Any]:
    """What the recipient's channel took: mails (to its addresses) or robot/webhook messages."""
    if recipient.kind is RecipientKind.EMAIL:
        first = recipient.address.split(",")[0].strip()
        return [m for m in local.mailbox.messages if first in m.recipients]
    robot = {
        RecipientKind.WECOM: f"key-{recipient.code}",
        RecipientKind.DINGTALK: f"token-{recipient.code}",
        RecipientKind.FEISHU: f"hook-{recipient.code}",
        RecipientKind.WEBHOOK: recipient.code,
    }[recipient.kind]
    return local.desk.messages(recipient.kind.value, robot)
