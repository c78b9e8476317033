"""Who hears about alerts, and the one message shape every alert channel is sent.

A recipient is a named destination the merchant configures: an email list, a WeCom group robot,
a DingTalk robot, a Feishu/Lark custom bot, or a generic webhook. SLA alert rules name
recipients by code. A notice is what one recipient is told at once: one alert, or a digest of
many (a spike of late orders becomes a handful of messages naming the counts and linking to the
list). Notices travel through the outbox as `alert.notify` commands to target `alert:<code>`;
each channel's sender turns a notice into its provider's own format and signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit, urlunsplit

from orderhub.errors import ValidationFailed

ALERT_NOTIFY = "alert.notify"


def alert_target(recipient: str) -> str:
    return f"alert:{recipient}"


class RecipientKind(StrEnum):
    EMAIL = "email"  # SMTP to `address`: one or more addresses, comma-separated
    WECOM = "wecom"  # WeCom (企业微信) group robot webhook URL
    DINGTALK = "dingtalk"  # DingTalk (钉钉) custom robot webhook URL; `secret` signs (HMAC-SHA256)
    FEISHU = "feishu"  # Feishu/Lark custom bot webhook URL; `secret` signs
    WEBHOOK = "webhook"  # any HTTPS endpoint; `secret` signs the body (HMAC-SHA256)


@dataclass(frozen=True)
class Recipient:
    code: str  # e.g. ops-lead, wecom-ops; alert rules name it
    name: str
    kind: RecipientKind
    # Email addresses (comma-separated) or the webhook URL.
    address: str
    # The signing secret, where the kind has one; sealed at rest, never shown again.
    secret: str = ""
    enabled: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None
    id: int | None = None


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Notice:
    """What one recipient is told in one message."""

    recipient: str
    severity: Severity
    title: str  # one line, e.g. "3 cross-border orders not shipped after 4 h"
    lines: tuple[str, ...]  # one per alert, or the digest's summary lines
    count: int  # alerts this message stands for
    link: str  # where to see them in the console
    alert_ids: tuple[int, ...] = ()
    digest: bool = False
    escalation: bool = False  # sent because an alert passed its second threshold
    at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def notice_payload(notice: Notice) -> dict[str, Any]:
    return {
        "recipient": notice.recipient,
        "severity": notice.severity.value,
        "title": notice.title,
        "lines": list(notice.lines),
        "count": notice.count,
        "link": notice.link,
        "alert_ids": list(notice.alert_ids),
        "digest": notice.digest,
        "escalation": notice.escalation,
        "at": notice.at.isoformat() if notice.at else None,
        "extra": dict(notice.extra),
    }


def notice_of(payload: dict[str, Any]) -> Notice:
    return Notice(
        recipient=payload["recipient"],
        severity=Severity(payload["severity"]),
        title=payload["title"],
        lines=tuple(payload.get("lines") or ()),
        count=int(payload.get("count", 0)),
        link=payload.get("link", ""),
        alert_ids=tuple(payload.get("alert_ids") or ()),
        digest=bool(payload.get("digest")),
        escalation=bool(payload.get("escalation")),
        at=datetime.fromisoformat(payload["at"]) if payload.get("at") else None,
        extra=dict(payload.get("extra") or {}),
    )


# -- checking a recipient -------------------------------------------------------------------
# Robot webhook paths, as each provider's docs give them (integrations/notifications/PROTOCOL.md).
# The shape (path and token) is checked, not the host, so a local receiver, a test double or a
# proxy can stand in for the provider's server.
WECOM_PATH = "/cgi-bin/webhook/send"
DINGTALK_PATH = "/robot/send"
FEISHU_HOOK_PATH = "/open-apis/bot/v2/hook/"
# DingTalk shows a robot's signing secret as a string starting "SEC" (加签 in its settings).
DINGTALK_SECRET_PREFIX = "SEC"

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
# Which part of each robot's address is its credential, masked wherever the address is shown.
_TOKEN_PARAM = {RecipientKind.WECOM: "key", RecipientKind.DINGTALK: "access_token"}
_EXAMPLES = {
    RecipientKind.WECOM: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...",
    RecipientKind.DINGTALK: "https://oapi.dingtalk.com/robot/send?access_token=...",
    RecipientKind.FEISHU: "https://open.feishu.cn/open-apis/bot/v2/hook/...",
    RecipientKind.WEBHOOK: "https://alerts.example.com/orderhub",
}
# Kinds whose messages are signed with the recipient's secret; the others take none.
SIGNED_KINDS = frozenset({RecipientKind.DINGTALK, RecipientKind.FEISHU, RecipientKind.WEBHOOK})


def recipient_kind(value: str) -> RecipientKind:
    try:
        return RecipientKind(value.strip().lower())
    except ValueError:
        raise ValidationFailed(
            f"unknown recipient kind '{value}'; use one of: "
            f"{', '.join(k.value for k in RecipientKind)}",
            field="kind",
        ) from None


def email_addresses(address: str) -> list[str]:
    """The addresses of an email recipient, in order, blanks and repeats dropped."""
    seen: dict[str, None] = {}
    for part in address.replace(";", ",").split(","):
        if part.strip():
            seen.setdefault(part.strip(), None)
    return list(seen)


def check_recipient(recipient: Recipient) -> Recipient:
    """The recipient, its address tidied, or ValidationFailed saying what to change."""
    if not _CODE.match(recipient.code):
        raise ValidationFailed(
            f"recipient code '{recipient.code}' must be 1-32 letters, digits, '_', '.' or '-' "
            "(alert rules name it)",
            field="code",
        )
    if not recipient.name.strip() or len(recipient.name) > 128:
        raise ValidationFailed("a recipient needs a name of 1-128 characters", field="name")
    if recipient.kind is RecipientKind.EMAIL:
        address = _checked_emails(recipient.address)
    else:
        address = _checked_url(recipient.kind, recipient.address.strip())
    _check_secret(recipient)
    return replace(recipient, address=address, name=recipient.name.strip())


def _checked_emails(address: str) -> str:
    found = email_addresses(address)
    if not found:
        raise ValidationFailed(
            "an email recipient needs one or more addresses, comma-separated "
            "(e.g. ops-lead@example.com, oncall@example.com)",
            field="address",
        )
    wrong = [a for a in found if not _EMAIL.match(a)]
    if wrong:
        raise ValidationFailed(
            f"not an email address: {', '.join(wrong)}; write name@domain, comma-separated",
            field="address",
        )
    return ", ".join(found)


def _checked_url(kind: RecipientKind, address: str) -> str:
    url = urlsplit(address)
    example = _EXAMPLES[kind]
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ValidationFailed(
            f"a {kind.value} recipient's address must be an http(s) URL like {example}; "
            f"got '{address}'",
            field="address",
        )
    query = parse_qs(url.query)
    if kind is RecipientKind.WECOM and not (url.path.endswith(WECOM_PATH) and query.get("key")):
        raise ValidationFailed(
            f"a WeCom group robot's address ends in {WECOM_PATH}?key=<the robot's key>, "
            f"like {example}; copy it from the robot in the group's settings",
            field="address",
        )
    if kind is RecipientKind.DINGTALK and not (
        url.path.endswith(DINGTALK_PATH) and query.get("access_token")
    ):
        raise ValidationFailed(
            f"a DingTalk robot's address ends in {DINGTALK_PATH}?access_token=<token>, like "
            f"{example}; copy it from the robot's settings in the group",
            field="address",
        )
    if kind is RecipientKind.FEISHU and not _feishu_hook(url.path):
        raise ValidationFailed(
            f"a Feishu/Lark custom bot's address is {FEISHU_HOOK_PATH}<hook id> on its open "
            f"platform host, like {example}; copy it from the bot's settings in the group",
            field="address",
        )
    return address


def _feishu_hook(path: str) -> str:
    """The hook id in a custom bot's path, or "" when the path is not a hook's."""
    _, found, hook = path.partition(FEISHU_HOOK_PATH)
    hook = hook.strip("/")
    return hook if found and hook and "/" not in hook else ""


def _check_secret(recipient: Recipient) -> None:
    kind, secret = recipient.kind, recipient.secret
    if secret and kind not in SIGNED_KINDS:
        raise ValidationFailed(
            f"a {kind.value} recipient is not signed: leave the secret empty "
            + (
                "(the robot's key in its address is its credential)"
                if kind is RecipientKind.WECOM
                else "(the SMTP login is set by ORDERHUB_SMTP_USERNAME/_PASSWORD)"
            ),
            field="secret",
        )
    if kind is RecipientKind.WEBHOOK and not secret:
        raise ValidationFailed(
            "a webhook recipient needs a secret: every message is signed with it "
            "(X-OrderHub-Signature) so the receiver can tell it came from OrderHub",
            field="secret",
        )
    if kind is RecipientKind.DINGTALK and secret and not secret.startswith(DINGTALK_SECRET_PREFIX):
        raise ValidationFailed(
            f"a DingTalk robot's signing secret starts with '{DINGTALK_SECRET_PREFIX}' (shown "
            "under 加签 in the robot's security settings); leave it empty if the robot uses "
            "keywords or an IP list instead",
            field="secret",
        )


def masked_address(recipient: Recipient) -> str:
    """The address with a robot's credential masked (a robot's URL lets anyone post to it)."""
    if recipient.kind in _TOKEN_PARAM:
        url = urlsplit(recipient.address)
        param = _TOKEN_PARAM[recipient.kind]
        query = "&".join(
            f"{quote(name)}={_mask(value) if name == param else quote(value)}"
            for name, value in parse_qsl(url.query, keep_blank_values=True)
        )
        return urlunsplit(url._replace(query=query))
    if recipient.kind is RecipientKind.FEISHU:
        url = urlsplit(recipient.address)
        hook = _feishu_hook(url.path)
        if hook:
            path = url.path[: url.path.rindex(hook)] + _mask(hook)
            return urlunsplit(url._replace(path=path))
    return recipient.address


def _mask(token: str) -> str:
    return token[:4] + "…" if len(token) > 4 else "…"


def trial_notice(recipient: Recipient, *, at: datetime, link: str) -> Notice:
    """What `recipients test` sends: says who asked for it and that alerts will arrive here."""
    return Notice(
        recipient=recipient.code,
        severity=Severity.INFO,
        title=f"OrderHub test notice for {recipient.name}",
        lines=(
            f"Alerts for recipient '{recipient.code}' ({recipient.kind.value}) will arrive here.",
            "Nothing needs doing: this message only checks the channel.",
        ),
        count=0,
        link=link,
        at=at,
        extra={"test": True},
    )
