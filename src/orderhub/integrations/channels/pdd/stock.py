"""A PDD shop's goods and their stock over the POP gateway.

Listings: `pdd.goods.list.get` pages the shop's goods (page, page_size up to 100; `total_count`
says how many), each with its `sku_list`: sku_id, outer_id (the merchant's SKU code), spec,
sku_quantity. Stock: `pdd.goods.quantity.update` with goods_id, sku_id, quantity and update_type
1, a full update; it answers `is_success`. PDD refuses a bad goods or SKU with 50001 (业务服务错误)
and a sub_code, which becomes StockRefused; sign, token and parameter errors stay PddApiError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from orderhub.integrations.channels.pdd.errors import BUSINESS_ERROR, PddApiError
from orderhub.services.ports import ChannelListing, StockRefused

Call = Callable[..., dict[str, Any]]
PAGE_SIZE = 100
FULL_UPDATE = 1


def listings(call: Call) -> list[ChannelListing]:
    found: list[ChannelListing] = []
    page = 1
    while True:
        body = (
            call("pdd.goods.list.get", page=page, page_size=PAGE_SIZE).get(
                "goods_list_get_response"
            )
            or {}
        )
        goods_list = body.get("goods_list") or []
        for goods in goods_list:
            found.extend(
                ChannelListing(
                    channel_sku=str(sku.get("outer_id") or ""),
                    title=_title(goods, sku),
                    ids={"goods_id": str(goods.get("goods_id")), "sku_id": str(sku.get("sku_id"))},
                    quantity=int(sku.get("sku_quantity") or 0),
                )
                for sku in goods.get("sku_list") or []
            )
        if not goods_list or page * PAGE_SIZE >= int(body.get("total_count") or 0):
            return found
        page += 1


def _title(goods: Mapping[str, Any], sku: Mapping[str, Any]) -> str:
    name, spec = str(goods.get("goods_name") or ""), str(sku.get("spec") or "")
    return spec if spec and (not name or name in spec) else f"{name} {spec}".strip()


def set_stock(call: Call, ids: Mapping[str, str], quantity: int) -> None:
    if not ids.get("goods_id") or not ids.get("sku_id"):
        raise ValueError(f"a PDD listing's ids need goods_id and sku_id; got {dict(ids)}")
    if quantity < 0:
        raise ValueError(f"stock for PDD sku {ids['sku_id']} must be >= 0, not {quantity}")
    try:
        data = call(
            "pdd.goods.quantity.update",
            goods_id=int(ids["goods_id"]),
            sku_id=int(ids["sku_id"]),
            quantity=quantity,
            update_type=FULL_UPDATE,
        )
    except PddApiError as error:
        if error.code != BUSINESS_ERROR:
            raise
        raise StockRefused(
            f"pdd goods {ids['goods_id']} sku {ids['sku_id']}: {error.sub_msg or error.error_msg}",
            code=str(error.sub_code or error.code),
        ) from None
    if not (data.get("goods_quantity_update_response") or {}).get("is_success"):
        raise StockRefused(
            f"pdd goods {ids['goods_id']} sku {ids['sku_id']}: the update answered is_success "
            "false",
            code="is_success_false",
        )
