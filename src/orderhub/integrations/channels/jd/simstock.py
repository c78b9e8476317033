"""The JOS simulator's SKU calls: the shop's SKUs (paged) and setting one SKU's stock.

SKUs are the catalogue's codes with the ids the orders show (render.sku_id, wareId its first
digits), so listings and orders agree. A refusal is JD's error envelope with a modelled code.
"""

from __future__ import annotations

from typing import Any

from orderhub.integrations.channels.jd import protocol as p
from orderhub.integrations.channels.jd.render import sku_id
from orderhub.integrations.channels.simkit import ListingBook, SimListing


class SkuRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sku_ids(sku: str) -> dict[str, str]:
    """JD's ids for a merchant SKU code, as render.py writes them on order lines."""
    return {"skuId": sku_id(sku), "wareId": sku_id(sku)[:-2]}


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _sku(listing: SimListing, fields: set[str]) -> dict[str, Any]:
    every = {
        "skuId": int(listing.ids["skuId"]),
        "wareId": int(listing.ids["wareId"]),
        "outerId": listing.channel_sku,
        "skuName": listing.title,
        "wareTitle": listing.title,
        "stockNum": listing.quantity,
        "status": 1,  # on sale
    }
    return {k: v for k, v in every.items() if not fields or k in fields}


def search_skus(book: ListingBook, business: dict[str, Any]) -> dict[str, Any]:
    page = max(_int(business.get("pageNo"), 1), 1)
    size = min(max(_int(business.get("page_size"), 20), 1), p.MAX_PAGE_SIZE)
    fields = {f.strip() for f in str(business.get("field") or "").split(",") if f.strip()}
    listed = book.listed()
    chunk = listed[(page - 1) * size : page * size]
    return {
        "page": {
            "data": [_sku(x, fields) for x in chunk],
            "pageNo": page,
            "pageSize": size,
            "totalItem": len(listed),
        }
    }


def update_stock(book: ListingBook, business: dict[str, Any]) -> dict[str, Any]:
    """SkuRefused(code) when JD would answer its error envelope."""
    book.counted()
    listing = book.find(skuId=str(business.get("skuId", "")))
    if listing is None or listing.removed:
        raise SkuRefused(p.ERR_SKU_NOT_FOUND)
    quantity = _int(business.get("stockNum"), -1)
    if quantity < 0:
        raise SkuRefused(p.ERR_STOCK_INVALID)
    book.set_quantity(listing.channel_sku, quantity)
    return {"success": True}
