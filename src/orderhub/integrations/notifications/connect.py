"""The sender for each recipient's kind (the Notifiers port), built from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from orderhub.domain.notifications import Recipient, RecipientKind
from orderhub.integrations.notifications.dingtalk import DingTalkSender
from orderhub.integrations.notifications.feishu import FeishuSender
from orderhub.integrations.notifications.http import DEFAULT_TIMEOUT_S, HttpNotifier
from orderhub.integrations.notifications.smtp import EmailSender, SmtpSettings
from orderhub.integrations.notifications.webhook import WebhookSender
from orderhub.integrations.notifications.wecom import WecomSender
from orderhub.services.ports import Sender

_HTTP: dict[RecipientKind, type[HttpNotifier]] = {
    RecipientKind.WECOM: WecomSender,
    RecipientKind.DINGTALK: DingTalkSender,
    RecipientKind.FEISHU: FeishuSender,
    RecipientKind.WEBHOOK: WebhookSender,
}
# Messages a second the relay sends one recipient at most, where the provider's limit allows a
# whole message a second (Feishu: 5 a second). WeCom's and DingTalk's 20 a minute is below the
# relay's per-target limiter (its bucket holds a second's worth); their "too fast" answers wait.
RATE_PER_S: dict[RecipientKind, float] = {RecipientKind.FEISHU: 5.0}


@dataclass(frozen=True)
class NotifySettings:
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    # Where the console is, for the links in messages (notices carry paths).
    public_url: str = "http://127.0.0.1:8000"
    timeout_s: float = DEFAULT_TIMEOUT_S


class Notifiers:
    def __init__(self, settings: NotifySettings | None = None) -> None:
        self.settings = settings or NotifySettings()

    def notifier(self, recipient: Recipient) -> Sender:
        s = self.settings
        if recipient.kind is RecipientKind.EMAIL:
            return EmailSender(recipient, smtp=s.smtp, public_url=s.public_url)
        return _HTTP[recipient.kind](recipient, public_url=s.public_url, timeout_s=s.timeout_s)

    @staticmethod
    def rate_per_s(recipient: Recipient) -> float | None:
        return RATE_PER_S.get(recipient.kind)
