"""Email over SMTP (the standard library's smtplib): one multipart message per notice.

Subject: the notice's severity and title; body: the lines and the link, as plain text and as
HTML. The SMTP server's answer decides (RFC 5321 reply codes): 4xx is transient, so RETRY; 5xx
is permanent, so REFUSED with the code. Not reaching the server, a dropped connection, a failed
login or ORDERHUB_SMTP_HOST unset is our side, so RETRY naming what to fix. Message-ID is made
from the outbox message id, the same on every retry, so a mailbox or archive can tell a repeat.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from orderhub.domain.notifications import Notice, Recipient, email_addresses, notice_of
from orderhub.integrations.notifications.render import (
    LINK_TEXT,
    absolute_link,
    cut_line,
    plain_text,
    subject,
)
from orderhub.services.ports import DeliveryResult, OutboxMessage, Outcome


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = "orderhub@localhost"
    starttls: bool = True
    ssl: bool = False  # implicit TLS (port 465); wins over starttls
    timeout_s: float = 10.0


class _Unsent(Exception):
    """The whole batch could not be handed over; every message in it is retried."""


class EmailSender:
    batch_size = 20

    def __init__(self, recipient: Recipient, *, smtp: SmtpSettings, public_url: str) -> None:
        self.recipient, self.smtp, self.public_url = recipient, smtp, public_url

    def close(self) -> None:
        pass  # a connection lives for one batch only

    def send(self, messages: Sequence[OutboxMessage]) -> list[DeliveryResult]:
        try:
            connection = self._connect()
        except _Unsent as unsent:
            return [DeliveryResult(m.message_id, Outcome.RETRY, str(unsent)) for m in messages]
        results: list[DeliveryResult] = []
        try:
            for message in messages:
                if connection is None:  # the server hung up on an earlier message
                    results.append(
                        DeliveryResult(message.message_id, Outcome.RETRY, "the SMTP server hung up")
                    )
                    continue
                result = self._hand_over(connection, message)
                results.append(result)
                if result.outcome is Outcome.RETRY and result.code == "disconnected":
                    connection = None
        finally:
            if connection is not None:
                try:
                    connection.quit()
                except (OSError, smtplib.SMTPException):
                    connection.close()
        return results

    def message(self, notice: Notice, message_id: str) -> EmailMessage:
        link = absolute_link(notice.link, self.public_url)
        lines = [cut_line(line) for line in notice.lines]
        mail = EmailMessage()
        mail["Subject"] = subject(notice)
        mail["From"] = self.smtp.sender
        mail["To"] = ", ".join(email_addresses(self.recipient.address))
        mail["Date"] = formatdate(notice.at.timestamp() if notice.at else None, usegmt=True)
        mail["Message-ID"] = f"<{message_id}@orderhub>"
        mail["X-OrderHub-Message-Id"] = message_id
        mail.set_content(plain_text(notice, lines, link))
        mail.add_alternative(_html(notice, lines, link), subtype="html")
        return mail

    def _connect(self) -> smtplib.SMTP | None:
        s = self.smtp
        if not s.host:
            raise _Unsent(
                "ORDERHUB_SMTP_HOST is not set; set it (with _PORT, _FROM and, if the server "
                "wants a login, _USERNAME and _PASSWORD) to send email"
            )
        try:
            connection: smtplib.SMTP
            if s.ssl:
                connection = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout_s, context=ssl.create_default_context()
                )
            else:
                connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
                if s.starttls:
                    connection.starttls(context=ssl.create_default_context())
            if s.username:
                connection.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise _Unsent(
                f"the SMTP server refused the login ({error.smtp_code}); check "
                "ORDERHUB_SMTP_USERNAME and ORDERHUB_SMTP_PASSWORD"
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise _Unsent(f"SMTP server {s.host}:{s.port} not reached: {error!r}") from None
        return connection

    def _hand_over(self, connection: smtplib.SMTP, message: OutboxMessage) -> DeliveryResult:
        mid = message.message_id
        try:
            mail = self.message(notice_of(message.payload), mid)
        except (KeyError, TypeError, ValueError) as error:
            return DeliveryResult(
                mid, Outcome.REFUSED, f"payload is not a notice: {error!r}", code="invalid_payload"
            )
        to = email_addresses(self.recipient.address)
        try:
            refused = connection.send_message(mail, from_addr=self.smtp.sender, to_addrs=to)
        except smtplib.SMTPRecipientsRefused as error:
            return _by_code(mid, "every address was refused", error.recipients)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            said = {"": (error.smtp_code, error.smtp_error)}
            return _by_code(mid, "the message was refused", said)
        except smtplib.SMTPServerDisconnected as error:
            return DeliveryResult(mid, Outcome.RETRY, f"SMTP: {error}", code="disconnected")
        except (OSError, smtplib.SMTPException) as error:
            return DeliveryResult(mid, Outcome.RETRY, f"SMTP: {error!r}", code="disconnected")
        answer: dict[str, object] = {"accepted": [a for a in to if a not in refused]}
        if refused:  # some addresses took it: sending again would repeat it to them
            answer["refused"] = {a: f"{code} {_text(text)}" for a, (code, text) in refused.items()}
        return DeliveryResult(mid, Outcome.DELIVERED, answer=answer)


def _by_code(mid: str, what: str, answers: Mapping[str, tuple[int, bytes | str]]) -> DeliveryResult:
    """4xx from any address: try again later; all 5xx: refused, with the first code."""
    said = "; ".join(
        f"{address + ': ' if address else ''}{code} {_text(text)}"
        for address, (code, text) in answers.items()
    )
    codes = [code for code, _ in answers.values()]
    if any(400 <= code < 500 for code in codes):
        return DeliveryResult(mid, Outcome.RETRY, f"SMTP, {what} for now: {said}")
    return DeliveryResult(mid, Outcome.REFUSED, f"SMTP, {what}: {said}", code=str(codes[0]))


def _text(text: bytes | str) -> str:
    return text.decode(errors="replace") if isinstance(text, bytes) else text


def _html(notice: Notice, lines: Sequence[str], link: str) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return (
        "<!doctype html><html><body>"
        f"<h2>{html.escape(subject(notice))}</h2>"
        f"<ul>{items}</ul>"
        f'<p><a href="{html.escape(link, quote=True)}">{LINK_TEXT}</a></p>'
        "</body></html>"
    )
