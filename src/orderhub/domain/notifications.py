"""Who hears about alerts, and the one message shape every alert channel is sent.

A recipient is a named destination the merchant configures: an email list, a WeCom group robot,
a DingTalk robot, a Feishu/Lark custom bot, or a generic webhook. SLA alert rules name
recipients by code. A notice is what one recipient is told at once: one alert, or a digest of
many (a spike of late orders becomes a handful of messages naming the counts and linking to the
list). Notices travel through the outbox as `alert.notify` commands to target `alert:<code>`;
each channel's sender turns a notice into its provider's own format and signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

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
