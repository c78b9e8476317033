"""Local receivers for every alert channel, for tests and the demo: an SMTP server (aiosmtpd)
that keeps every message, and the robots' and webhook's HTTP endpoints (receiver_app.py).

    with start_receivers() as local:
        local.wecom("ops")          # -> the address a WeCom recipient uses
        local.dingtalk("ops", secret="SEC...")
        local.mailbox.messages      # what the SMTP server took
        local.desk.messages("wecom")

The SMTP server answers the next messages with a chosen reply code when told to
(`mailbox.fail_next(451)`: a transient refusal; 550: a permanent one). aiosmtpd is a development
dependency: this module is imported only where receivers run.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from orderhub.integrations.channels.simkit import RunningServer
from orderhub.integrations.notifications.receiver_app import (
    DINGTALK,
    FEISHU,
    WEBHOOK,
    WECOM,
    RobotDesk,
    make_receiver_app,
)

# What an SMTP server says with each reply code it is told to fail with (RFC 5321 wording).
_REPLIES = {
    421: "421 4.3.2 Service not available, closing channel",
    450: "450 4.2.1 Mailbox unavailable, try again later",
    451: "451 4.3.0 Local error in processing, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 Mailbox unavailable",
    552: "552 5.3.4 Message size exceeds limit",
    554: "554 5.7.1 Transaction failed",
}


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def part(self, subtype: str) -> str:
        """The text/plain or text/html body."""
        found = self.message.get_body(preferencelist=(subtype,))
        return "" if found is None else str(found.get_content())


@dataclass
class Mailbox:
    messages: list[ReceivedMail] = field(default_factory=list)
    failing: deque[int] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, *codes: int) -> None:
        """Answer the next messages' DATA with these reply codes, one message each."""
        unknown = set(codes) - set(_REPLIES)
        if unknown:
            raise ValueError(f"no reply text for {sorted(unknown)}; use one of {sorted(_REPLIES)}")
        with self.lock:
            self.failing.extend(codes)

    # aiosmtpd calls this for each message once its data is in (the handler protocol).
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.failing:
                return _REPLIES[self.failing.popleft()]
            parsed = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Message accepted for delivery"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (aiosmtpd's Controller cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _authenticator(user: str, password: str) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        # handled=False: the server answers a failure itself (535 5.7.8).
        return AuthResult(success=ok, handled=False)

    return check


@dataclass
class LocalReceivers:
    mailbox: Mailbox
    smtp_host: str
    smtp_port: int
    desk: RobotDesk
    http: RunningServer

    def wecom(self, key: str) -> str:
        self.desk.add(WECOM, key)
        return f"{self.http.url}/cgi-bin/webhook/send?key={key}"

    def dingtalk(self, token: str, *, secret: str = "") -> str:
        self.desk.add(DINGTALK, token, secret)
        return f"{self.http.url}/robot/send?access_token={token}"

    def feishu(self, hook: str, *, secret: str = "") -> str:
        self.desk.add(FEISHU, hook, secret)
        return f"{self.http.url}/open-apis/bot/v2/hook/{hook}"

    def webhook(self, name: str, *, secret: str) -> str:
        self.desk.add(WEBHOOK, name, secret)
        return f"{self.http.url}/hooks/{name}"


@contextmanager
def start_receivers(
    *,
    slow_s: float = 10.0,
    smtp_port: int = 0,
    http_port: int = 0,
    smtp_login: tuple[str, str] | None = None,
) -> Iterator[LocalReceivers]:
    """An SMTP server and the HTTP receivers on 127.0.0.1 (free ports unless given), stopped
    when the block ends. With `smtp_login`, the SMTP server wants AUTH with that user and
    password (over plain SMTP: it is a local test server) and refuses others with 535."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    host, port = "127.0.0.1", smtp_port or free_port()
    login: dict[str, Any] = {}
    if smtp_login is not None:
        login = {
            "authenticator": _authenticator(*smtp_login),
            "auth_required": True,
            "auth_require_tls": False,
        }
    controller = Controller(mailbox, hostname=host, port=port, **login)
    controller.start()
    desk = RobotDesk(slow_s=slow_s)
    http = RunningServer(make_receiver_app(desk), port=http_port).start()
    try:
        yield LocalReceivers(mailbox, host, port, desk, http)
    finally:
        http.stop()
        controller.stop()
