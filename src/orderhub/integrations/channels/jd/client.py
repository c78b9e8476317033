"""One shop's JD connection: signed calls to the JOS router, paged order search, decrypt.

Incremental pulls use jingdong.pop.order.enSearch by modified time (dateType 0) in Beijing time,
with `page`/`page_size`; the page token is a keyset cursor (paging.py), not a bare page number.
The router answers gateway errors with HTTP 200 and `error_response`; "App Call Limited" is
retried like a 429, anything else raises JdApiError with JD's code and descriptions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from orderhub.domain.fulfilment import Shipment
from orderhub.integrations.channels.http import ChannelHttp
from orderhub.integrations.channels.jd import protocol as p
from orderhub.integrations.channels.jd import stock
from orderhub.integrations.channels.jd.carriers import logistics_id
from orderhub.integrations.channels.jd.paging import Cursor, step
from orderhub.integrations.channels.jd.protocol import JdApiError
from orderhub.integrations.channels.jd.signing import jd_time, sign
from orderhub.integrations.channels.registry import ShopConnection
from orderhub.services.ports import (
    ChannelListing,
    ChannelPage,
    ChannelUnavailable,
    ShipmentRefused,
)

PAGE_SIZE = p.MAX_PAGE_SIZE  # the router's maximum: fewer calls (and fewer commits) per pull


def _error_of(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error_response") if isinstance(body, dict) else None
    return error if isinstance(error, Mapping) else None


def throttled(response: httpx.Response) -> str | None:
    """A throttle the router reports inside a 200 body, so ChannelHttp retries it."""
    error = _error_of(response)
    if error is not None and str(error.get("code")) in p.THROTTLE_CODES:
        return f"JD error {error.get('code')} {error.get('en_desc', '')}"
    return None


def _floor_second(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def _ceil_second(at: datetime) -> datetime:
    # JD's window ends are whole seconds; rounding outwards can only repeat an order, not lose one.
    return at.replace(microsecond=0) + timedelta(seconds=1 if at.microsecond else 0)


class JdClient:
    channel = "jd"

    def __init__(self, connection: ShopConnection, *, page_size: int = PAGE_SIZE) -> None:
        self.connection = connection
        self.page_size = min(page_size, p.MAX_PAGE_SIZE)
        self.http = ChannelHttp(connection, channel=self.channel, retryable=throttled)

    def call(self, method: str, business: Mapping[str, Any]) -> dict[str, Any]:
        """The method's result object (inside `<method>_responce`), or JdApiError."""
        system = {
            "method": method,
            "app_key": self.connection.app_key,
            "access_token": self.connection.access_token,
            "timestamp": jd_time(datetime.now(UTC)),
            "v": p.API_VERSION,
            "format": "json",
            "sign_method": p.SIGN_METHOD,
        }
        business_json = json.dumps(business, ensure_ascii=False, separators=(",", ":"))
        system["sign"] = sign({**system, p.PARAM_JSON: business_json}, self.connection.app_secret)
        # As JD's SDK does: system parameters in the query, the business JSON in the form body
        # (it can be long, and a body has no URL length limit).
        response = self.http.request(
            "POST", p.ROUTER_PATH, params=system, data={p.PARAM_JSON: business_json}
        )
        error = _error_of(response)
        if error is not None:
            raise JdApiError(
                method,
                str(error.get("code", "")),
                str(error.get("zh_desc", "")),
                str(error.get("en_desc", "")),
            )
        try:
            result = response.json()[p.response_key(method)]
        except (ValueError, KeyError, TypeError):
            raise ChannelUnavailable(
                f"jd shop {self.connection.shop}: {method} answered without "
                f"{p.response_key(method)}: {response.text[:200]!r}"
            ) from None
        if not isinstance(result, dict):
            raise ChannelUnavailable(f"jd shop {self.connection.shop}: {method}: odd answer")
        return result

    def _search_page(
        self, cursor: Cursor, until: datetime, date_type: int
    ) -> tuple[list[dict[str, Any]], int]:
        result = (
            self.call(
                p.ORDER_EN_SEARCH,
                {
                    "start_date": cursor.start,
                    "end_date": jd_time(_ceil_second(until)),
                    "order_state": ",".join(p.ORDER_STATES),
                    "optional_fields": p.OPTIONAL_FIELDS,
                    "page": str(cursor.page),
                    "page_size": str(self.page_size),
                    "sortType": 0,  # oldest first
                    "dateType": date_type,
                },
            ).get("searchorderinfo_result")
            or {}
        )
        api_result = result.get("apiResult") or {}
        if not api_result.get("success", False):
            raise JdApiError(
                p.ORDER_EN_SEARCH,
                str(api_result.get("numberCode", "")),
                str(api_result.get("chineseErrCode", "")),
                str(api_result.get("englishErrCode", "")),
            )
        return list(result.get("orderInfoList") or []), int(result.get("orderTotal") or 0)

    def _page(
        self, since: datetime, until: datetime, token: str | None, date_type: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        cursor = Cursor.decode(token) if token else Cursor(jd_time(_floor_second(since)))
        orders, total = self._search_page(cursor, until, date_type)
        key = "orderStartTime" if date_type == p.DATE_TYPE_CREATED else "modified"
        fresh, following = step(cursor, orders, total, self.page_size, key)
        return fresh, following.encode() if following else None

    def fetch_changed(self, since: datetime, until: datetime, page: str | None) -> ChannelPage:
        payloads, following = self._page(since, until, page, p.DATE_TYPE_MODIFIED)
        return ChannelPage(payloads=payloads, next_page=following)

    def fetch_order(self, channel_order_no: str) -> dict[str, Any] | None:
        result = self.call(
            p.ORDER_GET,
            {
                "order_id": channel_order_no,
                "optional_fields": p.OPTIONAL_FIELDS,
                "order_state": ",".join(p.ORDER_STATES),
            },
        )
        info = (result.get("orderDetailInfo") or {}).get("orderInfo")
        return info if isinstance(info, dict) else None

    def list_order_numbers(self, since: datetime, until: datetime) -> list[str]:
        """Created or modified in the window: one pass by modified time, one by creation."""
        found: set[str] = set()
        for date_type in (p.DATE_TYPE_MODIFIED, p.DATE_TYPE_CREATED):
            token: str | None = None
            while True:
                orders, token = self._page(since, until, token, date_type)
                found.update(str(o["orderId"]) for o in orders if "orderId" in o)
                if token is None:
                    break
        return sorted(found)

    def decrypt_receivers(self, orders: Mapping[str, str]) -> dict[str, dict[str, str]]:
        """The real receivers of {order id: oaid}, from the platform's decrypt service.

        Call it when a waybill must be printed, not on every pull: JD audits each decrypt.
        """
        result = self.call(
            p.OAID_DECRYPT,
            {
                "getReceiverInfoListReqVO": {
                    "orderType": "POP",
                    "scenesType": "1001",
                    "appName": "OrderHub",
                    "orderInfos": [{"orderId": no, "oaid": oaid} for no, oaid in orders.items()],
                }
            },
        )
        data = (result.get("response") or {}).get("data") or {}
        return {str(r["orderId"]): r for r in data.get("receiverInfoList") or []}

    def ship(self, shipment: Shipment) -> str | None:
        """jingdong.pop.order.shipment. JD answers success or its refusal inside a 200 body
        (`sopjosshipment_result`) and gives no reference of its own, so None.

        JD ships per order: one call carries all of an order's waybills (logiNo "a,b" for one
        carrier) and moves the whole order to WAIT_GOODS_RECEIVE_CONFIRM; JOS has no call to add
        a waybill afterwards. So the first parcel of a split order is sent as the order's
        shipment (JD then shows the order shipped, with that waybill), and a later parcel is not
        sent: ship answers a note saying so, or None when JD already has this waybill.
        """
        logi_copr_id = logistics_id(shipment.carrier)
        if shipment.lines and (told := self._order_left(shipment)) is not None:
            return told or None
        result = self.call(
            p.ORDER_SHIPMENT,
            {
                "orderId": shipment.channel_order_no,
                "logiCoprId": logi_copr_id,
                "logiNo": shipment.tracking_no,
            },
        ).get(p.SHIPMENT_RESULT)
        if not isinstance(result, dict):
            raise ChannelUnavailable(
                f"jd shop {self.connection.shop}: {p.ORDER_SHIPMENT} answered without "
                f"{p.SHIPMENT_RESULT}"
            )
        # The SDK types `success` as a boolean; some answers carry it as text.
        if str(result.get("success")).lower() == "true":
            return None
        code = str(result.get("errorCode") or result.get("englishErrCode") or "")
        raise ShipmentRefused(
            f"jd order {shipment.channel_order_no}: {result.get('englishErrCode', '')} "
            f"({result.get('chineseErrCode', '')})",
            code=code or "shipment_refused",
        )

    def _order_left(self, shipment: Shipment) -> str | None:
        """For a parcel of a split order: None while the order has not left (send it), "" when
        JD already has this waybill (a repeat), else the note that it cannot be added."""
        info = self.fetch_order(shipment.channel_order_no)
        if info is None or info.get("orderState") not in p.SHIPPED_STATES:
            return None
        told = str(info.get("waybill") or "")
        if shipment.tracking_no in {w for part in told.split("|") for w in part.split(",")}:
            return ""
        skus = ", ".join(sorted({line.channel_sku for line in shipment.lines}))
        return (
            f"not sent to jd: order {shipment.channel_order_no} already left with waybill "
            f"{told}; JD takes an order's waybills in its one shipment call, so waybill "
            f"{shipment.tracking_no} ({skus}) cannot be added"
        )

    # -- listings and their stock -----------------------------------------------------------
    def listings(self) -> list[ChannelListing]:
        """The shop's SKUs (on sale and off shelf), ids {skuId, wareId}."""
        return stock.listings(self.call)

    def set_stock(self, ids: Mapping[str, str], quantity: int) -> None:
        """jingdong.stock.write.updateSkuStock: the SKU's stockNum becomes `quantity`."""
        stock.set_stock(self.call, ids, quantity, shop=self.connection.shop)

    def close(self) -> None:
        self.http.close()
