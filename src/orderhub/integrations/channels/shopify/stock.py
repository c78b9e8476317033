"""A Shopify shop's variants and their stock at one location (Admin REST API).

Listings: `products.json` (fields id,title,variants) pages the products; each variant carries its
`sku` (the merchant's code) and `inventory_item_id`. What is available comes from
`inventory_levels.json?location_ids=<location>` (paged the same way), so a listing's quantity is
the location's, not the sum over locations. The location is the shop's `location_id` setting, else
the first active one of `locations.json`. Stock: `POST inventory_levels/set.json` with
location_id, inventory_item_id and available, a full update. A 404 (item or location unknown) or
422 (Shopify will not set it, e.g. the item is not stocked there) becomes StockRefused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from orderhub.services.ports import ChannelListing, ChannelUnavailable, StockRefused

Get = Callable[[str, dict[str, Any]], httpx.Response]
Post = Callable[[str, dict[str, Any]], httpx.Response]
MAX_PAGE = 250


def pages(
    get: Get, path: str, params: dict[str, Any], key: str, next_page: Callable[[str | None], Any]
) -> Iterator[list[dict[str, Any]]]:
    """Each page's `key` list, following the Link header (later pages: page_info and limit)."""
    asked = {**params, "limit": MAX_PAGE}
    while True:
        response = get(path, asked)
        if response.status_code == 404:
            raise ChannelUnavailable(f"shopify {path} was not found (check the API version)")
        yield list(response.json().get(key) or [])
        page_info = next_page(response.headers.get("link"))
        if page_info is None:
            return
        asked = {"page_info": page_info, "limit": MAX_PAGE}


def first_location(get: Get) -> str:
    response = get("locations.json", {})
    active = [x for x in response.json().get("locations") or [] if x.get("active", True)]
    if not active:
        raise ChannelUnavailable("shopify: the shop has no active location to stock from")
    return str(active[0]["id"])


def listings(
    get: Get, location_id: str, next_page: Callable[[str | None], Any]
) -> list[ChannelListing]:
    available: dict[str, int] = {}
    for page in pages(
        get, "inventory_levels.json", {"location_ids": location_id}, "inventory_levels", next_page
    ):
        for level in page:
            available[str(level.get("inventory_item_id"))] = int(level.get("available") or 0)
    found: list[ChannelListing] = []
    fields = {"fields": "id,title,variants"}
    for page in pages(get, "products.json", fields, "products", next_page):
        for product in page:
            for variant in product.get("variants") or []:
                item = str(variant.get("inventory_item_id"))
                found.append(
                    ChannelListing(
                        channel_sku=str(variant.get("sku") or ""),
                        title=_title(product, variant),
                        ids={
                            "inventory_item_id": item,
                            "location_id": location_id,
                            "variant_id": str(variant.get("id")),
                        },
                        quantity=available.get(item, 0),
                    )
                )
    return found


def _title(product: Mapping[str, Any], variant: Mapping[str, Any]) -> str:
    title, name = str(product.get("title") or ""), str(variant.get("title") or "")
    return title if name in ("", "Default Title") else name


def set_stock(post: Post, ids: Mapping[str, str], quantity: int, *, shop: str) -> None:
    if not ids.get("inventory_item_id") or not ids.get("location_id"):
        raise ValueError(
            f"a Shopify listing's ids need inventory_item_id and location_id; got {dict(ids)}"
        )
    if quantity < 0:
        raise ValueError(
            f"stock for Shopify item {ids['inventory_item_id']} must be >= 0, not {quantity}"
        )
    body = {
        "location_id": int(ids["location_id"]),
        "inventory_item_id": int(ids["inventory_item_id"]),
        "available": quantity,
    }
    response = post("inventory_levels/set.json", body)
    if response.is_success:
        return
    what = f"inventory item {ids['inventory_item_id']} at location {ids['location_id']}"
    if response.status_code in (404, 422):
        raise StockRefused(f"shopify {what}: {_errors(response)}", code=str(response.status_code))
    # 401 (bad token), 402 (shop frozen), 403 (missing scope), 400: retrying will not help.
    raise ChannelUnavailable(
        f"shopify shop {shop}: HTTP {response.status_code} setting {what}: {_errors(response)}"
    )


def _errors(response: httpx.Response) -> str:
    try:
        return str(response.json().get("errors", response.text))
    except ValueError:
        return response.text[:200]
