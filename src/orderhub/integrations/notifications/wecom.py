"""WeCom (企业微信) group robot: POST {"msgtype": "markdown", ...} to the robot's webhook URL.

The URL's `key` is the robot's only credential (no signing). The answer is HTTP 200 with
{"errcode": 0, "errmsg": "ok"}; 45009 means over the limit (20 messages a minute per robot) and
is retried after a minute. markdown.content may hold 4096 bytes (40058 beyond): a longer digest
is cut line by line and says so. Sources: PROTOCOL.md.
"""

from __future__ import annotations

from typing import ClassVar

from orderhub.domain.notifications import Notice
from orderhub.integrations.notifications.http import HttpNotifier, Post, json_body
from orderhub.integrations.notifications.render import fit_lines, markdown
from orderhub.services.ports import OutboxMessage

MARKDOWN_MAX_BYTES = 4096
OK = 0
RATE_LIMITED = 45009  # "api freq out of limit"
CONTENT_TOO_LONG = 40058  # "markdown.content exceed max length 4096"
INVALID_WEBHOOK = 93000  # "invalid webhook url": a wrong or deleted key


class WecomSender(HttpNotifier):
    provider = "WeCom"
    code_fields = (("errcode", "errmsg"),)
    # The limit is per minute, so a minute's wait is the shortest that can succeed.
    retry_codes: ClassVar[dict[int, float]] = {RATE_LIMITED: 60.0}

    def post(self, notice: Notice, message: OutboxMessage) -> Post:
        content = self.content(notice)
        body = {"msgtype": "markdown", "markdown": {"content": content}}
        return Post(self.recipient.address, json_body(body))

    def content(self, notice: Notice) -> str:
        link = self.link(notice)
        lines = fit_lines(
            notice.lines,
            lambda some: len(markdown(notice, some, link).encode()) <= MARKDOWN_MAX_BYTES,
        )
        return markdown(notice, lines, link)
