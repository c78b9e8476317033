"""DingTalk (钉钉) custom robot: POST {"msgtype": "markdown", "markdown": {title, text}} to the
robot's webhook URL, signed when the robot has a secret (加签).

Signing: string_to_sign = f"{timestamp}\\n{secret}" (timestamp in milliseconds, within an hour of
DingTalk's clock); sign = Base64(HMAC-SHA256(key=secret, msg=string_to_sign)), URL-encoded and
appended as &timestamp=...&sign=... . The answer is {"errcode": 0, "errmsg": "ok"}; 130101
("send too fast, exceed 20 times per minute") throttles the robot for 10 minutes and is retried
after them; 310000 ("sign not match") is refused. Sources: PROTOCOL.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import ClassVar
from urllib.parse import quote_plus

from orderhub.domain.notifications import Notice
from orderhub.integrations.notifications.http import HttpNotifier, Post, json_body
from orderhub.integrations.notifications.render import fit_lines, markdown, subject
from orderhub.services.ports import OutboxMessage

# DingTalk documents no size for a custom robot's markdown; its message limits elsewhere are 5000
# characters of markdown and 64 of title (errcode 34016), which we keep to.
TEXT_MAX_CHARS = 5000
TITLE_MAX_CHARS = 64
OK = 0
TOO_FAST = 130101
SIGN_NOT_MATCH = 310000
THROTTLED_FOR_S = 600.0


def sign(secret: str, timestamp_ms: int) -> str:
    """The Base64 signature, before URL-encoding."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalkSender(HttpNotifier):
    provider = "DingTalk"
    code_fields = (("errcode", "errmsg"),)
    retry_codes: ClassVar[dict[int, float]] = {TOO_FAST: THROTTLED_FOR_S}

    def post(self, notice: Notice, message: OutboxMessage) -> Post:
        link = self.link(notice)
        lines = fit_lines(
            notice.lines, lambda some: len(markdown(notice, some, link)) <= TEXT_MAX_CHARS
        )
        body = {
            "msgtype": "markdown",
            "markdown": {
                "title": subject(notice)[:TITLE_MAX_CHARS],
                "text": markdown(notice, lines, link),
            },
        }
        return Post(self.signed_url(), json_body(body))

    def signed_url(self) -> str:
        secret = self.recipient.secret
        if not secret:
            return self.recipient.address
        timestamp = int(self.now().timestamp() * 1000)
        signature = quote_plus(sign(secret, timestamp))
        return f"{self.recipient.address}&timestamp={timestamp}&sign={signature}"
