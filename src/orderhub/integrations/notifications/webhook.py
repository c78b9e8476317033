"""A generic webhook: POST the notice as JSON, signed with the recipient's secret.

Headers: X-OrderHub-Timestamp (Unix seconds), X-OrderHub-Signature: sha256=<hex
HMAC-SHA256(secret, f"{timestamp}.{body}")>, Idempotency-Key and X-OrderHub-Message-Id (the
outbox message id, the same on every retry: a receiver that keeps the ids it took answers a
repeat with 2xx and does nothing). 2xx is taken; 429, 5xx and timeouts are retried (at least its
Retry-After); any other 4xx is refused with its status. How a receiver verifies: `verify` below
and docs/notifications.md.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

from orderhub.domain.notifications import ALERT_NOTIFY, Notice, notice_payload
from orderhub.integrations.notifications.http import HttpNotifier, Post, json_body
from orderhub.services.ports import DeliveryResult, OutboxMessage, Outcome

TIMESTAMP_HEADER = "X-OrderHub-Timestamp"
SIGNATURE_HEADER = "X-OrderHub-Signature"
MESSAGE_ID_HEADER = "X-OrderHub-Message-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# How far a receiver should let a timestamp stray from its clock before refusing (replays).
TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, *, now_s: float) -> bool:
    """What a receiver checks: a fresh timestamp and the signature over it and the raw body."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now_s - sent) > TOLERANCE_S:
        return False
    return hmac.compare_digest(signature(secret, sent, body), header)


class WebhookSender(HttpNotifier):
    provider = "the webhook"

    def post(self, notice: Notice, message: OutboxMessage) -> Post:
        payload = notice_payload(notice)
        payload["link"] = self.link(notice)
        body = json_body({"id": message.message_id, "type": ALERT_NOTIFY, "notice": payload})
        timestamp = int(self.now().timestamp())
        headers = {
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(self.recipient.secret, timestamp, body),
            IDEMPOTENCY_HEADER: message.message_id,
            MESSAGE_ID_HEADER: message.message_id,
        }
        return Post(self.recipient.address, body, headers)

    def verdict(self, mid: str, response: httpx.Response) -> DeliveryResult:
        status = response.status_code
        if 200 <= status < 300:
            return DeliveryResult(mid, Outcome.DELIVERED, answer={"status": status})
        return DeliveryResult(
            mid,
            Outcome.REFUSED,
            f"the webhook answered HTTP {status}: {response.text.strip()[:300] or '(no body)'}",
            code=f"http_{status}",
        )
