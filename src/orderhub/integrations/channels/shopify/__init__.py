"""Shopify (Admin REST API): pull changed orders by cursor pages, and receive signed webhooks."""

from __future__ import annotations

from pathlib import Path

from orderhub.integrations.channels.registry import ChannelSpec, ShopConnection, WebhookSpec
from orderhub.integrations.channels.shopify.client import CHANNEL_NAME, ShopifyClient
from orderhub.integrations.channels.shopify.payloads import webhook_payloads
from orderhub.integrations.channels.shopify.signing import verify_webhook
from orderhub.integrations.channels.shopify.simulator import create_app


def _client(connection: ShopConnection) -> ShopifyClient:
    return ShopifyClient(connection)


CHANNEL = ChannelSpec(
    name=CHANNEL_NAME,
    title="Shopify",
    mapping_file=Path(__file__).parent / "mapping.yaml",
    make_client=_client,
    make_simulator=create_app,
    webhook=WebhookSpec(verify=verify_webhook, payloads=webhook_payloads),
)
