"""The PDD simulator's goods calls and extra waybills.

pdd.goods.list.get lists the catalogue as goods (one per SKU code prefix) with their SKUs, with
the ids order items show (render.goods_ids), so listings and orders agree;
pdd.goods.quantity.update sets a SKU's stock; pdd.order.upload.extra.logistics adds the waybills
of further parcels to an order that shipped. Refusals are PDD's 50001 with modelled sub_codes.
"""

from __future__ import annotations

import json
from typing import Any

from orderhub.integrations.channels.pdd.carriers import carrier_of
from orderhub.integrations.channels.pdd.simwire import E_BUSINESS, E_PARAM, PddError, integer
from orderhub.integrations.channels.simkit import ListingBook, ShipOutcome, SimListing, SimStore

PAGE_SIZE_MAX = 100
FULL_UPDATE = 1


def _goods(skus: list[SimListing]) -> dict[str, Any]:
    return {
        "goods_id": int(skus[0].ids["goods_id"]),
        "goods_name": skus[0].title,
        "thumb_url": "",
        "image_url": "",
        "is_more_sku": 1 if len(skus) > 1 else 0,
        "goods_quantity": sum(x.quantity for x in skus),
        "goods_reserve_quantity": 0,
        "is_onsale": 1,
        "sku_list": [
            {
                "sku_id": int(x.ids["sku_id"]),
                "spec": x.title,
                "sku_quantity": x.quantity,
                "outer_id": x.channel_sku,
                "outer_goods_id": x.group,
                "is_sku_onsale": 1,
                "reserve_quantity": 0,
            }
            for x in skus
        ],
    }


def goods_list(book: ListingBook, params: dict[str, str]) -> dict[str, Any]:
    page = integer(params, "page", 1)
    size = integer(params, "page_size", PAGE_SIZE_MAX)
    if page < 1 or not 1 <= size <= PAGE_SIZE_MAX:
        raise PddError(E_PARAM, "page 从 1 开始，page_size 最大 100")
    goods: dict[str, list[SimListing]] = {}
    for listing in book.listed():
        if params.get("outer_id") in (None, "", listing.channel_sku):
            goods.setdefault(listing.ids["goods_id"], []).append(listing)
    # every listing here is on sale: asking for goods off the shelf finds none
    rows = [] if params.get("is_onsale") == "0" else list(goods.values())
    return {
        "goods_list_get_response": {
            "total_count": len(rows),
            "goods_list": [_goods(skus) for skus in rows[(page - 1) * size : page * size]],
        }
    }


def quantity_update(book: ListingBook, params: dict[str, str]) -> dict[str, Any]:
    book.counted()
    goods_id = str(integer(params, "goods_id"))
    quantity = integer(params, "quantity")
    sku_id, outer_id = params.get("sku_id") or "", params.get("outer_id") or ""
    goods = [x for x in book.every() if x.ids["goods_id"] == goods_id and not x.removed]
    if not goods:
        raise PddError(E_BUSINESS, "商品不存在", "goods_not_exist")
    match = [
        x for x in goods if (x.ids["sku_id"] == sku_id if sku_id else x.channel_sku == outer_id)
    ]
    if not match:
        raise PddError(E_BUSINESS, "sku不存在", "sku_not_exist")
    listing = match[0]
    full = integer(params, "update_type", FULL_UPDATE) == FULL_UPDATE
    new = quantity if full else listing.quantity + quantity
    if new < 0:
        raise PddError(E_PARAM, "库存不能小于0")
    book.set_quantity(listing.channel_sku, new)
    return {"goods_quantity_update_response": {"is_success": True}}


# Modelled: the sub_code / sub_msg of each refusal (the public SDKs do not list them).
_EXTRA_REFUSALS = {
    ShipOutcome.NOT_FOUND: ("订单不存在", "order_not_exist"),
    ShipOutcome.CLOSED: ("订单已取消或已全额退款", "order_closed"),
    ShipOutcome.NOT_SHIPPED: ("订单未发货，请先调用发货接口", "order_not_shipped"),
}


def extra_logistics(store: SimStore, params: dict[str, str]) -> dict[str, Any]:
    order_sn = params.get("order_sn") or ""
    try:
        tracks = json.loads(params.get("extra_track_list") or "")
    except ValueError:
        raise PddError(E_PARAM, "extra_track_list 不是合法的 JSON") from None
    if not order_sn or not isinstance(tracks, list) or not tracks:
        raise PddError(E_PARAM, "order_sn 和 extra_track_list 必填")
    for track in tracks:
        if not isinstance(track, dict):
            raise PddError(E_PARAM, "extra_track_list 的每一项需要 shipping_id 和 tracking_number")
        number = str(track.get("tracking_number") or "").strip()
        carrier = carrier_of(integer({"id": str(track.get("shipping_id", ""))}, "id", 0))
        if carrier is None or not number:
            raise PddError(E_BUSINESS, "快递公司或运单号错误", "logistics_company_not_exist")
        outcome = store.extra_parcel(order_sn, carrier, number)
        if outcome in _EXTRA_REFUSALS:
            sub_msg, sub_code = _EXTRA_REFUSALS[outcome]
            raise PddError(E_BUSINESS, sub_msg, sub_code)
    return {"upload_extra_logistics_response": {"success": True}}
