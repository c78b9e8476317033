"""A JD shop's SKUs and their stock over JOS.

Listings: `jingdong.sku.read.searchSkuList` pages the shop's SKUs (pageNo, page_size; the
answer's `page.totalItem` says how many) with the fields asked (`field`): skuId, wareId,
outerId (the merchant's SKU code), skuName, stockNum. Stock: `jingdong.stock.write.updateSkuStock`
with skuId and stockNum, a full update; it answers `success`. A refusal comes in JD's
error_response; the codes JD uses for a bad SKU are not public, so the simulator's modelled ones
(protocol.STOCK_REFUSALS) are read as StockRefused, every other stays JdApiError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from orderhub.integrations.channels.jd import protocol as p
from orderhub.services.ports import ChannelListing, StockRefused

Call = Callable[[str, Mapping[str, Any]], dict[str, Any]]


def listings(call: Call) -> list[ChannelListing]:
    found: list[ChannelListing] = []
    page_no = 1
    while True:
        page = (
            call(
                p.SKU_SEARCH,
                {
                    "skuStatuValue": p.SKU_LISTED_STATUSES,
                    "pageNo": page_no,
                    "page_size": p.SKU_PAGE_SIZE,
                    "field": p.SKU_FIELDS,
                },
            ).get("page")
            or {}
        )
        data = page.get("data") or []
        found.extend(
            ChannelListing(
                channel_sku=str(sku.get("outerId") or ""),
                title=str(sku.get("skuName") or sku.get("wareTitle") or ""),
                ids={"skuId": str(sku.get("skuId")), "wareId": str(sku.get("wareId"))},
                quantity=int(sku.get("stockNum") or 0),
            )
            for sku in data
        )
        if not data or page_no * p.SKU_PAGE_SIZE >= int(page.get("totalItem") or 0):
            return found
        page_no += 1


def set_stock(call: Call, ids: Mapping[str, str], quantity: int, *, shop: str) -> None:
    if not ids.get("skuId"):
        raise ValueError(f"a JD listing's ids need skuId; got {dict(ids)}")
    if quantity < 0:
        raise ValueError(f"stock for JD sku {ids['skuId']} must be >= 0, not {quantity}")
    try:
        result = call(p.STOCK_UPDATE, {"skuId": int(ids["skuId"]), "stockNum": quantity})
    except p.JdApiError as error:
        if error.code in p.STOCK_REFUSALS:
            raise StockRefused(
                f"jd sku {ids['skuId']}: {error.en_desc} ({error.zh_desc})", code=error.code
            ) from None
        raise
    # The SDK types `success` as a boolean; some answers carry it as text.
    if str(result.get("success")).lower() != "true":
        raise StockRefused(
            f"jd shop {shop}: {p.STOCK_UPDATE} for sku {ids['skuId']} answered success false",
            code="success_false",
        )
