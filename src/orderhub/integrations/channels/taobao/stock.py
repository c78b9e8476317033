"""A Taobao shop's listings and their stock over TOP.

Listings: `taobao.items.onsale.get` pages the items on sale (num_iid, title, outer_id, num; up to
200 a page, `total_results` says how many) and `taobao.items.inventory.get` those in the
warehouse (banner for_shelved, then sold_out: an item sold out is taken off sale and still needs
its stock), then `taobao.item.skus.get` reads their SKUs, 40 num_iids a call (sku_id, outer_id =
the SKU's merchant code, quantity, properties_name). An item without SKUs is one listing itself
(its outer_id and num). Stock: `taobao.item.quantity.update`
with num_iid, sku_id, quantity and type 1, a full update. TOP refuses a bad listing with error 15
and an isv.* sub_code (item gone, deleted, SKU not found), which becomes StockRefused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from orderhub.integrations.channels.taobao import protocol as top
from orderhub.services.ports import ChannelListing, StockRefused

Call = Callable[[str, dict[str, str]], dict[str, Any]]
_ITEM_FIELDS = "num_iid,title,outer_id,num"
_SKU_FIELDS = "sku_id,num_iid,outer_id,quantity,properties_name"


def listings(call: Call) -> list[ChannelListing]:
    items: dict[str, dict[str, Any]] = {}
    items.update(_items(call, top.ITEMS_ONSALE, {}))
    for banner in top.WAREHOUSE_BANNERS:
        items.update(_items(call, top.ITEMS_INVENTORY, {"banner": banner}))
    found: list[ChannelListing] = []
    for batch in _batches(list(items)):
        body = call(top.ITEM_SKUS, {"fields": _SKU_FIELDS, "num_iids": ",".join(batch)})
        skus = (body.get("skus") or {}).get("sku") or []
        with_skus = {str(sku.get("num_iid")) for sku in skus}
        for sku in skus:
            item = items.get(str(sku.get("num_iid")), {})
            found.append(
                ChannelListing(
                    channel_sku=str(sku.get("outer_id") or ""),
                    title=_title(item, str(sku.get("properties_name") or "")),
                    ids={"num_iid": str(sku.get("num_iid")), "sku_id": str(sku.get("sku_id"))},
                    quantity=int(sku.get("quantity") or 0),
                )
            )
        for num_iid in batch:
            if num_iid not in with_skus:  # an item without SKUs is sold (and stocked) as one
                item = items[num_iid]
                found.append(
                    ChannelListing(
                        channel_sku=str(item.get("outer_id") or ""),
                        title=str(item.get("title") or ""),
                        ids={"num_iid": num_iid},
                        quantity=int(item.get("num") or 0),
                    )
                )
    return found


def _items(call: Call, method: str, filters: dict[str, str]) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    page_no = 1
    while True:
        body = call(
            method,
            {
                **filters,
                "fields": _ITEM_FIELDS,
                "page_no": str(page_no),
                "page_size": str(top.MAX_ONSALE_PAGE_SIZE),
            },
        )
        page = (body.get("items") or {}).get("item") or []
        items.update((str(item.get("num_iid")), item) for item in page)
        if not page or page_no * top.MAX_ONSALE_PAGE_SIZE >= int(body.get("total_results") or 0):
            return items
        page_no += 1


def _batches(num_iids: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(num_iids), top.MAX_SKUS_NUM_IIDS):
        yield num_iids[i : i + top.MAX_SKUS_NUM_IIDS]


def _title(item: Mapping[str, Any], properties_name: str) -> str:
    """The SKU's own words: properties_name is `pid:vid:name:value;...`, the values kept."""
    values = [part.split(":")[-1] for part in properties_name.split(";") if part]
    return " ".join(values) or str(item.get("title") or "")


def set_stock(call: Call, ids: Mapping[str, str], quantity: int) -> None:
    if not ids.get("num_iid"):
        raise ValueError(f"a Taobao listing's ids need num_iid (and sku_id for a SKU); got {ids}")
    if quantity < 0:
        raise ValueError(
            f"stock for Taobao item {ids['num_iid']} must be 0 or more, not {quantity}"
        )
    params = {"num_iid": ids["num_iid"], "quantity": str(quantity), "type": top.FULL_UPDATE}
    if ids.get("sku_id"):
        params["sku_id"] = ids["sku_id"]
    try:
        call(top.QUANTITY_UPDATE, params)
    except top.TopError as error:
        if error.sub_code.startswith("isv."):
            raise StockRefused(
                f"taobao item {ids['num_iid']} sku {ids.get('sku_id', '-')}: "
                f"{error.sub_msg or error}",
                code=error.sub_code,
            ) from None
        raise
