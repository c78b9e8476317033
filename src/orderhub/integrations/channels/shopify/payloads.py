"""What the mapping language cannot read from a Shopify order by itself, added beside it.

Two facts need more than one path: Shopify's `tags` is one comma-separated string (the mapping's
`list` type takes a list and cannot split), and where the order stands is spread over
`cancelled_at`, `closed_at`, `financial_status` and `fulfillment_status` (a `map` reads one
value). The client and the webhook both add `_orderhub: {tags, state}` to every payload before
returning it; Shopify's own fields stay untouched, so the mapping still translates Shopify's words.
"""

from __future__ import annotations

import json
from typing import Any

DERIVED_KEY = "_orderhub"


def split_tags(tags: Any) -> list[str]:
    if isinstance(tags, list):
        return [str(t).strip() for t in tags if str(t).strip()]
    if not isinstance(tags, str):
        return []
    return [t.strip() for t in tags.split(",") if t.strip()]


def state_word(order: dict[str, Any]) -> str:
    """`cancelled`, `closed` (archived), else `<financial_status>/<fulfillment_status>`.

    The words are Shopify's (the status filter of orders.json is open/closed/cancelled); an
    unfulfilled order has fulfillment_status null, written `unfulfilled` as Shopify's admin does.
    """
    if order.get("cancelled_at"):
        return "cancelled"
    if order.get("closed_at"):
        return "closed"
    financial = order.get("financial_status")
    fulfillment = order.get("fulfillment_status") or "unfulfilled"
    return f"{financial}/{fulfillment}"


def with_derived(order: dict[str, Any]) -> dict[str, Any]:
    """The order as Shopify sent it, plus `_orderhub` for the mapping."""
    return {
        **order,
        DERIVED_KEY: {"tags": split_tags(order.get("tags")), "state": state_word(order)},
    }


def webhook_payloads(body: bytes) -> list[dict[str, Any]]:
    """An orders/* webhook body is one order object, the same shape as orders/{id}.json's."""
    order = json.loads(body)
    if not isinstance(order, dict):
        raise ValueError(f"a Shopify order webhook carries one JSON object, got {type(order)}")
    return [with_derived(order)]
