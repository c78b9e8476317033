"""The TOP simulator's item calls: the shop's items on sale (and its empty warehouse), their SKUs,
and SKU stock updates.

Items are the catalogue's SKU codes grouped by prefix (`TS-WHITE-L` and `TS-BLACK-M` are two SKUs
of item `TS`), with the ids the trades show (render.item_ids), so listings and orders agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from orderhub.integrations.channels.simkit import ListingBook, SimListing
from orderhub.integrations.channels.taobao import protocol as top
from orderhub.integrations.channels.taobao.simwire import Refused, paging, required


def _refused(sub_code: str, sub_msg: str) -> Refused:
    """TOP's business refusal: error 15 "Remote service error" with an isv.* sub_code."""
    return Refused(top.REMOTE_SERVICE_ERROR, "Remote service error", sub_code, sub_msg)


def _modified(listings: list[SimListing]) -> str:
    stamps = [x.updated_at for x in listings if x.updated_at is not None]
    at = datetime.fromtimestamp(max(stamps), UTC) if stamps else datetime(2026, 1, 1, tzinfo=UTC)
    return top.top_time(at)


def _wanted(params: dict[str, str]) -> set[str]:
    return {f.strip() for f in required(params, "fields").split(",") if f.strip()}


def _int(params: dict[str, str], name: str) -> int:
    try:
        return int(params[name])
    except (KeyError, ValueError):
        raise Refused(top.INVALID_ARGUMENTS, f"Invalid arguments:{name}") from None


class ItemCalls:
    """taobao.items.onsale.get, taobao.item.skus.get and taobao.item.quantity.update."""

    def __init__(self, book: ListingBook) -> None:
        self.book = book

    def methods(self) -> dict[str, Callable[[dict[str, str]], dict[str, Any]]]:
        return {
            top.ITEMS_ONSALE: self.onsale,
            top.ITEMS_INVENTORY: self.warehouse,
            top.ITEM_SKUS: self.skus,
            top.QUANTITY_UPDATE: self.quantity_update,
        }

    def _items(self) -> dict[str, list[SimListing]]:
        items: dict[str, list[SimListing]] = {}
        for listing in self.book.listed():
            items.setdefault(listing.ids["num_iid"], []).append(listing)
        return items

    def onsale(self, params: dict[str, str]) -> dict[str, Any]:
        wanted = _wanted(params)
        page_no, size, _ = paging(params, top.MAX_ONSALE_PAGE_SIZE)
        items = list(self._items().items())
        chunk = items[(page_no - 1) * size : page_no * size]
        found = [
            {
                k: v
                for k, v in {
                    "num_iid": int(num_iid),
                    "title": skus[0].title,
                    "outer_id": skus[0].group,
                    "num": sum(x.quantity for x in skus),
                    "approve_status": "onsale",
                    "modified": _modified(skus),
                }.items()
                if k in wanted
            }
            for num_iid, skus in chunk
        ]
        body: dict[str, Any] = {"total_results": len(items)}
        if found:  # TOP leaves an empty list out
            body["items"] = {"item": found}
        return body

    def warehouse(self, params: dict[str, str]) -> dict[str, Any]:
        """taobao.items.inventory.get: the simulated shop keeps every item on sale (modelled;
        a real one takes an item off when it sells out), so its warehouse is empty."""
        _wanted(params)
        paging(params, top.MAX_ONSALE_PAGE_SIZE)
        return {"total_results": 0}

    def skus(self, params: dict[str, str]) -> dict[str, Any]:
        wanted = _wanted(params)
        asked = [x.strip() for x in required(params, "num_iids").split(",") if x.strip()]
        if len(asked) > top.MAX_SKUS_NUM_IIDS:
            raise Refused(
                top.INVALID_ARGUMENTS,
                "Invalid arguments:num_iids",
                sub_msg=f"at most {top.MAX_SKUS_NUM_IIDS} num_iids",
            )
        items = self._items()
        found = [
            {k: v for k, v in self._sku(x).items() if k in wanted}
            for num_iid in asked
            for x in items.get(num_iid, [])
        ]
        return {"skus": {"sku": found}} if found else {}

    @staticmethod
    def _sku(listing: SimListing) -> dict[str, Any]:
        return {
            "sku_id": int(listing.ids["sku_id"]),
            "num_iid": int(listing.ids["num_iid"]),
            "outer_id": listing.channel_sku,
            # pid:vid:property name:value name, one pair per sales property (modelled ids)
            "properties_name": f"1627207:{listing.ids['sku_id']}:规格:{listing.title}",
            "quantity": listing.quantity,
            "status": "normal",
            "modified": _modified([listing]),
        }

    def quantity_update(self, params: dict[str, str]) -> dict[str, Any]:
        self.book.counted()
        num_iid = str(_int(params, "num_iid"))
        quantity = _int(params, "quantity")
        item = [x for x in self.book.every() if x.ids["num_iid"] == num_iid]
        if not item:
            raise _refused(top.ITEM_NOT_EXIST, "商品id对应的商品不存在")
        if all(x.removed for x in item):
            raise _refused(top.ITEM_DELETED, "商品id对应的商品已经被删除")
        sku_id, outer_id = params.get("sku_id", ""), params.get("outer_id", "")
        # sku_id wins over outer_id when both are given (as TOP documents)
        match = [
            x for x in item if (x.ids["sku_id"] == sku_id if sku_id else x.channel_sku == outer_id)
        ]
        if not match or match[0].removed:
            raise _refused(top.SKU_NOT_FOUND, "传入的sku找不到对应的sku记录")
        listing = match[0]
        full = params.get("type", top.FULL_UPDATE) == top.FULL_UPDATE
        new = quantity if full else listing.quantity + quantity
        if new < 0:
            raise _refused(top.BAD_QUANTITY, "库存数量不能为负数")
        updated = self.book.set_quantity(listing.channel_sku, new)
        skus = [x for x in self.book.listed() if x.ids["num_iid"] == num_iid]
        return {
            "item": {
                "num_iid": int(num_iid),
                "num": sum(x.quantity for x in skus),
                "modified": _modified([updated]),
                "skus": {
                    "sku": [
                        {
                            "sku_id": int(updated.ids["sku_id"]),
                            "quantity": updated.quantity,
                            "modified": _modified([updated]),
                        }
                    ]
                },
            }
        }
