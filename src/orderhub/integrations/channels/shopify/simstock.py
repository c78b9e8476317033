"""The Shopify simulator's catalogue and inventory: products.json (products and their variants,
each with its inventory_item_id), locations.json (the shop's one location), inventory_levels.json
(what is available per item and location) and inventory_levels/set.json (set it outright).

Ids come from render.variant_ids, so the variants listed and the orders' line items agree. Lists
page with the `Link` header as orders.json does: later pages take only page_info and limit.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response

from orderhub.integrations.channels.shopify.render import LOCATION_ID, shop_time
from orderhub.integrations.channels.shopify.simwire import Wire, errors
from orderhub.integrations.channels.simkit import ListingBook, SimListing

MAX_LIMIT = 250


def _token(offset: int, query: dict[str, str]) -> str:
    raw = json.dumps({"o": offset, "q": query})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _untoken(token: str) -> tuple[int, dict[str, str]]:
    raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    return int(raw["o"]), {str(k): str(v) for k, v in raw["q"].items()}


def _page(
    request: Request, route: str, rows: list[Any], filters: tuple[str, ...]
) -> tuple[list[Any], str | None] | Response:
    """This page of `rows` (filtered by the caller from `query`) and its Link header."""
    query = request.query_params
    try:
        limit = min(int(query.get("limit", "50")), MAX_LIMIT)
        offset = _untoken(query["page_info"])[0] if "page_info" in query else 0
    except (ValueError, KeyError):
        return errors(400, {"page_info": "Invalid value."})
    chunk = rows[offset : offset + limit]
    if offset + limit >= len(rows):
        return chunk, None
    kept = {k: v for k, v in _query(request, filters).items()}
    url = request.url_for(route, version=request.path_params["version"])
    return chunk, f'<{url}?limit={limit}&page_info={_token(offset + limit, kept)}>; rel="next"'


def _query(request: Request, filters: tuple[str, ...]) -> dict[str, str]:
    """The filters in force: from page_info on later pages (Shopify keeps them there)."""
    query = request.query_params
    if "page_info" in query:
        try:
            return _untoken(query["page_info"])[1]
        except (ValueError, KeyError):
            return {}
    return {name: query[name] for name in filters if name in query}


def _updated(listing: SimListing) -> str | None:
    at = listing.updated_at or datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    return shop_time(datetime.fromtimestamp(at, UTC))


def _product(variants: list[SimListing], fields: set[str]) -> dict[str, Any]:
    product = {
        "id": int(variants[0].ids["product_id"]),
        "title": variants[0].title,
        "status": "active",
        "variants": [
            {
                "id": int(x.ids["variant_id"]),
                "product_id": int(x.ids["product_id"]),
                "title": x.title if len(variants) > 1 else "Default Title",
                "sku": x.channel_sku,
                "inventory_item_id": int(x.ids["inventory_item_id"]),
                "inventory_management": "shopify",
                "inventory_quantity": x.quantity,
            }
            for x in variants
        ],
    }
    return {k: v for k, v in product.items() if not fields or k in fields}


def _level(listing: SimListing) -> dict[str, Any]:
    item = int(listing.ids["inventory_item_id"])
    return {
        "inventory_item_id": item,
        "location_id": LOCATION_ID,
        "available": listing.quantity,
        "updated_at": _updated(listing),
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{LOCATION_ID}?inventory_item_id={item}",
    }


def mount_inventory(app: FastAPI, book: ListingBook, wire: Wire) -> None:
    @app.get("/admin/api/{version}/products.json")
    def products(request: Request, version: str) -> Response:
        if (denied := wire.refused(request)) is not None:
            return denied
        query = _query(request, ("fields",))
        fields = {f.strip() for f in query.get("fields", "").split(",") if f.strip()}
        grouped: dict[str, list[SimListing]] = {}
        for listing in book.listed():
            grouped.setdefault(listing.ids["product_id"], []).append(listing)
        page = _page(request, "products", list(grouped.values()), ("fields",))
        if isinstance(page, Response):
            return page
        chunk, link = page
        return wire.answer({"products": [_product(x, fields) for x in chunk]}, link)

    @app.get("/admin/api/{version}/locations.json")
    def locations(request: Request, version: str) -> Response:
        if (denied := wire.refused(request)) is not None:
            return denied
        shop = {"id": LOCATION_ID, "name": "Shop location", "active": True, "legacy": False}
        return wire.answer({"locations": [shop]})

    @app.get("/admin/api/{version}/inventory_levels.json")
    def inventory_levels(request: Request, version: str) -> Response:
        if (denied := wire.refused(request)) is not None:
            return denied
        query = _query(request, ("location_ids", "inventory_item_ids"))
        if not query:  # modelled wording: Shopify needs one of the two filters
            return errors(422, {"base": ["location_ids or inventory_item_ids is required"]})
        locations = set(query.get("location_ids", str(LOCATION_ID)).split(","))
        items = {x for x in query.get("inventory_item_ids", "").split(",") if x}
        rows = [
            _level(x)
            for x in book.listed()
            if str(LOCATION_ID) in locations and (not items or x.ids["inventory_item_id"] in items)
        ]
        page = _page(request, "inventory_levels", rows, ("location_ids", "inventory_item_ids"))
        if isinstance(page, Response):
            return page
        chunk, link = page
        return wire.answer({"inventory_levels": chunk}, link)

    @app.post("/admin/api/{version}/inventory_levels/set.json")
    async def set_level(request: Request, version: str) -> Response:
        if (denied := wire.refused(request)) is not None:
            return denied
        book.counted()
        try:
            body = json.loads(await request.body())
            location, item = str(int(body["location_id"])), str(int(body["inventory_item_id"]))
            available = int(body["available"])
        except (ValueError, KeyError, TypeError):
            return errors(
                422, {"base": ["location_id, inventory_item_id and available are required"]}
            )
        listing = book.find(inventory_item_id=item)
        # modelled: an inventory item or location the shop does not have is not found
        if listing is None or listing.removed or location != str(LOCATION_ID):
            return errors(404, "Not Found")
        updated = book.set_quantity(listing.channel_sku, available)
        return wire.answer({"inventory_level": _level(updated)})
