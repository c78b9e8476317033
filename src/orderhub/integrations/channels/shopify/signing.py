"""Shopify's request authentication and webhook signatures.

Admin API calls carry the shop's access token in `X-Shopify-Access-Token` (no per-request
signature). Webhooks carry `X-Shopify-Hmac-Sha256`: base64 of HMAC-SHA256 over the raw body,
keyed with the app's client secret. It must be checked on the bytes as received (re-serialised
JSON differs) and compared in constant time, so the check leaks nothing about the expected value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"
HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
SHOP_DOMAIN_HEADER = "X-Shopify-Shop-Domain"
# The same delivery retried keeps its id: receivers dedupe on it.
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})


def auth_headers(access_token: str) -> dict[str, str]:
    return {ACCESS_TOKEN_HEADER: access_token}


def webhook_hmac(body: bytes, secret: str) -> str:
    """The value Shopify puts in X-Shopify-Hmac-Sha256 for this raw body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name whatever its case (frameworks and proxies differ)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify_webhook(headers: Mapping[str, str], body: bytes, secret: str) -> str | None:
    """None when the webhook is genuine and about orders, else the reason it is refused."""
    if not secret:
        return "no app secret is configured for this shop"
    signature = header(headers, HMAC_HEADER)
    if not signature:
        return f"the {HMAC_HEADER} header is missing"
    expected = webhook_hmac(body, secret)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8")):
        return f"the {HMAC_HEADER} signature does not match the body"
    topic = header(headers, TOPIC_HEADER)
    if topic not in ORDER_TOPICS:
        return f"topic {topic!r} is not an order topic ({', '.join(sorted(ORDER_TOPICS))})"
    return None


def webhook_id(headers: Mapping[str, str]) -> str | None:
    """The delivery id to dedupe on (Shopify redelivers with the same id)."""
    return header(headers, WEBHOOK_ID_HEADER)
