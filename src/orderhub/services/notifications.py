"""Recipients: who alerts go to. Add, change, list and read them, and send one a test notice.

Alerts themselves leave through the outbox (`alert.notify` to `alert:<code>`, written by the SLA
checker); a test notice goes straight to the channel and answers at once, so whoever sets a
recipient up sees whether the address, the secret and the network work.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from orderhub.domain.actors import Actor
from orderhub.domain.notifications import (
    ALERT_NOTIFY,
    Recipient,
    alert_target,
    check_recipient,
    notice_payload,
    recipient_kind,
    trial_notice,
)
from orderhub.errors import ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services.ports import DeliveryResult, Notifiers, OutboxMessage, UnitOfWork

_CHANGEABLE = frozenset({"name", "kind", "address", "secret", "enabled"})
# Where a test notice points: the console's recipients page.
RECIPIENTS_PATH = "/recipients"


def add_recipient(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    name: str,
    kind: str,
    address: str,
    secret: str = "",
    enabled: bool = True,
) -> Recipient:
    require(actor, Permission.RECIPIENT_MANAGE)
    with uow:
        now = uow.clock.now()
        recipient = check_recipient(
            Recipient(
                code=code.strip(),
                name=name or code,
                kind=recipient_kind(kind),
                address=address,
                secret=secret,
                enabled=enabled,
                created_at=now,
                updated_at=now,
            )
        )
        recipient = replace(recipient, id=uow.recipients.add(recipient))
        uow.commit()
    return recipient


def update_recipient(
    uow: UnitOfWork, code: str, *, actor: Actor, changes: dict[str, Any]
) -> Recipient:
    """Change name, kind, address, secret or enabled (only what is given; secret "" removes)."""
    require(actor, Permission.RECIPIENT_MANAGE)
    unknown = set(changes) - _CHANGEABLE
    if unknown:
        raise ValidationFailed(
            f"cannot change {', '.join(sorted(unknown))}; "
            f"changeable: {', '.join(sorted(_CHANGEABLE))}"
        )
    if "kind" in changes:
        changes = {**changes, "kind": recipient_kind(str(changes["kind"]))}
    with uow:
        found = uow.recipients.get(code)
        updated = check_recipient(replace(found, **changes, updated_at=uow.clock.now()))
        uow.recipients.update(updated)
        uow.commit()
    return updated


def list_recipients(uow: UnitOfWork, *, actor: Actor) -> Sequence[Recipient]:
    require(actor, Permission.RECIPIENT_READ)
    with uow:
        return uow.recipients.list()


def get_recipient(uow: UnitOfWork, code: str, *, actor: Actor) -> Recipient:
    require(actor, Permission.RECIPIENT_READ)
    with uow:
        return uow.recipients.get(code)


def send_test_notice(
    uow: UnitOfWork, notifiers: Notifiers, code: str, *, actor: Actor
) -> DeliveryResult:
    """Send the recipient a test notice now (also when it is disabled, to try it before
    switching it on) and say what its channel answered; nothing is written."""
    require(actor, Permission.RECIPIENT_MANAGE)
    with uow:
        recipient = uow.recipients.get(code)
        now = uow.clock.now()
    notice = trial_notice(recipient, at=now, link=RECIPIENTS_PATH)
    message = OutboxMessage(
        id=0,
        message_id=str(uuid.uuid4()),
        target=alert_target(recipient.code),
        kind=ALERT_NOTIFY,
        payload=notice_payload(notice),
        attempts=0,
        created_at=now,
    )
    sender = notifiers.notifier(recipient)
    try:
        return sender.send([message])[0]
    finally:
        sender.close()
