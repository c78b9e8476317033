"""Feishu/Lark (飞书) custom bot: POST {"msg_type": "post", "content": {"post": ...}} to the bot's
webhook URL, with "timestamp" and "sign" in the body when the bot has a secret (签名校验).

Signing: key = f"{timestamp}\\n{secret}" (timestamp in seconds, within an hour of Feishu's clock);
sign = Base64(HMAC-SHA256(key=key, msg=b"")): the secret is in the key and the message is empty,
unlike DingTalk. The answer is {"code": 0, "msg": "success", ...} (older bots also, or only,
send "StatusCode"/"StatusMessage"); 11232 is the rate limit (100 a minute, 5 a second per bot)
and is retried after a minute; 19021 (bad sign or stale timestamp) and 9499 (bad request) are
refused. A request body may hold 20 KB. Sources: PROTOCOL.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, ClassVar

from orderhub.domain.notifications import Notice
from orderhub.integrations.notifications.http import HttpNotifier, Post, json_body
from orderhub.integrations.notifications.render import LINK_TEXT, fit_lines, subject
from orderhub.services.ports import OutboxMessage

BODY_MAX_BYTES = 20_000
OK = 0
RATE_LIMITED = 11232
SIGN_MISMATCH = 19021
BAD_REQUEST = 9499
# A bot's limit is per second and per minute: waiting a minute clears both.
RATE_LIMIT_WAIT_S = 60.0


def sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def post_content(title: str, lines: list[str], link: str) -> dict[str, Any]:
    """A rich-text ("post") message: a title, one paragraph per line, the link last."""
    paragraphs: list[list[dict[str, str]]] = [[{"tag": "text", "text": line}] for line in lines]
    paragraphs.append([{"tag": "a", "text": LINK_TEXT, "href": link}])
    return {"post": {"zh_cn": {"title": title, "content": paragraphs}}}


class FeishuSender(HttpNotifier):
    provider = "Feishu"
    code_fields = (("code", "msg"), ("StatusCode", "StatusMessage"))
    retry_codes: ClassVar[dict[int, float]] = {RATE_LIMITED: RATE_LIMIT_WAIT_S}

    def post(self, notice: Notice, message: OutboxMessage) -> Post:
        link, title = self.link(notice), subject(notice)
        signing = self.signing()
        note = [f"{notice.count} alert(s), digested"] if notice.digest else []

        def document(lines: list[str]) -> dict[str, Any]:
            content = post_content(title, [*note, *lines], link)
            return {**signing, "msg_type": "post", "content": content}

        lines = fit_lines(
            notice.lines, lambda some: len(json_body(document(some))) <= BODY_MAX_BYTES
        )
        return Post(self.recipient.address, json_body(document(lines)))

    def signing(self) -> dict[str, str]:
        if not self.recipient.secret:
            return {}
        timestamp = int(self.now().timestamp())
        return {"timestamp": str(timestamp), "sign": sign(self.recipient.secret, timestamp)}
