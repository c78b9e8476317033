"""Shopify webhook signatures: base64 HMAC-SHA256 of the raw body with the app secret."""

from __future__ import annotations

from orderhub.integrations.channels.shopify.signing import (
    auth_headers,
    verify_webhook,
    webhook_hmac,
    webhook_id,
)

# Known answer published in SQLPage's test files for its Shopify webhook example
# (sqlpage.hmac(body, 'test-webhook-secret', 'sha256-base64')); it matches Shopify's rule.
BODY = b'{"id":1234567890,"email":"customer@example.com","total_price":"123.45"}'
SECRET = "test-webhook-secret"
EXPECTED = "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw="


def _headers(signature: str, topic: str = "orders/create") -> dict[str, str]:
    return {
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "example.myshopify.com",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    }


def test_webhook_hmac_matches_the_published_known_answer() -> None:
    assert webhook_hmac(BODY, SECRET) == EXPECTED


def test_genuine_order_webhook_is_accepted_whatever_the_header_case() -> None:
    headers = {k.lower(): v for k, v in _headers(EXPECTED).items()}
    assert verify_webhook(headers, BODY, SECRET) is None


def test_webhook_signed_with_another_secret_is_refused() -> None:
    reason = verify_webhook(_headers(webhook_hmac(BODY, "other")), BODY, SECRET)
    assert reason is not None and "does not match" in reason


def test_webhook_whose_body_was_changed_after_signing_is_refused() -> None:
    tampered = BODY.replace(b"123.45", b"1.00")
    assert verify_webhook(_headers(EXPECTED), tampered, SECRET) is not None


def test_webhook_without_signature_header_is_refused_naming_the_header() -> None:
    headers = _headers(EXPECTED)
    del headers["X-Shopify-Hmac-Sha256"]
    reason = verify_webhook(headers, BODY, SECRET)
    assert reason is not None and "X-Shopify-Hmac-Sha256" in reason


def test_genuine_webhook_on_a_non_order_topic_is_refused() -> None:
    reason = verify_webhook(_headers(EXPECTED, "products/update"), BODY, SECRET)
    assert reason is not None and "products/update" in reason


def test_webhook_id_is_read_for_deduplication() -> None:
    assert webhook_id(_headers(EXPECTED)) == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


def test_admin_api_calls_carry_the_access_token_header() -> None:
    assert auth_headers("shpat_x") == {"X-Shopify-Access-Token": "shpat_x"}
