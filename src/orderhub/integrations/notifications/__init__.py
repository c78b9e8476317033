"""Alert channels: email over SMTP, the WeCom, DingTalk and Feishu/Lark chat robots, and a signed
generic webhook; one module per provider (PROTOCOL.md has each one's format, signing and
sources), and local receivers speaking the same protocols for tests and the demo."""

from orderhub.integrations.notifications.connect import Notifiers, NotifySettings
from orderhub.integrations.notifications.smtp import SmtpSettings

__all__ = ["Notifiers", "NotifySettings", "SmtpSettings"]
