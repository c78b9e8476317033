"""OrderHub's client for one shop on the PDD open platform (POP gateway, signed calls).

The incremental pull is pdd.order.number.list.increment.get: orders updated in a window of at
most 30 minutes (unix seconds), whose items are full orders, so no detail call follows. PDD asks
that the pages of a window be read from the last one back to the first: an order updated while we
page then leaves a page we have already read, and at worst repeats one, instead of pushing an
unread order onto a page we have passed. So the first call of a window counts, and the pages are
read last to first; the hub drops stale versions by `updated_at`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from orderhub.domain.fulfilment import Shipment
from orderhub.integrations.channels.http import ChannelHttp
from orderhub.integrations.channels.pdd import stock
from orderhub.integrations.channels.pdd.carriers import logistics_id
from orderhub.integrations.channels.pdd.errors import BUSINESS_ERROR, PddApiError
from orderhub.integrations.channels.pdd.signing import signed
from orderhub.integrations.channels.registry import ShopConnection
from orderhub.services.ports import ChannelListing, ChannelPage, ShipmentRefused

GATEWAY_PATH = "/api/router"
WINDOW_S = 30 * 60
PAGE_SIZE = 100  # the gateway's maximum: fewer calls (and fewer commits) per pull
CONFIRM_WINDOW_S = 24 * 3600  # pdd.order.list.get: confirm-time windows of at most a day
# Over the limit or briefly down, reported inside an HTTP 200 body: worth another try.
THROTTLE_CODES = frozenset({52101, 52102, 52103, 70031, 70032})
_ALL = 5  # order_status / refund_status: every value
_ENCRYPTED = ("receiver_name", "receiver_phone", "address", "receiver_address")
SHIPPED_STATUSES = (2, 3)  # order_status: shipped, signed for
EXTRA_TRACK_SPLIT = 1  # extra_track_type: 1 分包发货 (a parcel of a split order)


def throttled(response: httpx.Response) -> str | None:
    """The reason to retry an HTTP 200 whose body is PDD's throttle or busy answer, else None."""
    if b'"error_response"' not in response.content[:200]:
        return None
    try:
        error = response.json().get("error_response") or {}
    except ValueError:
        return None
    code = error.get("error_code")
    if code in THROTTLE_CODES:
        return f"PDD error {code} {error.get('error_msg', '')}".strip()
    return None


def _seconds(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError(f"{at!r} has no time zone; PDD windows are unix seconds")
    return math.floor(at.timestamp())


def _seconds_up(at: datetime) -> int:
    """A window's end, rounded outwards: the pull's cursor moves to `until`, so the window must
    reach it (an order of the last partial second comes now, and maybe again: a repeat)."""
    whole = _seconds(at)
    return whole if whole == at.timestamp() else whole + 1


class PddClient:
    channel = "pdd"

    def __init__(
        self,
        connection: ShopConnection,
        *,
        page_size: int = PAGE_SIZE,
        now: Callable[[], float] = time.time,
        backoff_initial_s: float = 0.2,
    ) -> None:
        self.connection, self.page_size, self._now = connection, page_size, now
        self._http = ChannelHttp(
            connection, channel="pdd", retryable=throttled, backoff_initial_s=backoff_initial_s
        )

    def call(self, api: str, **params: Any) -> dict[str, Any]:
        """One signed gateway call; its response object, or PddApiError."""
        common = {
            "type": api,
            "client_id": self.connection.app_key,
            "access_token": self.connection.access_token,
            "timestamp": int(self._now()),
            "data_type": "JSON",
            "version": "V1",
        }
        body = signed({**common, **params}, self.connection.app_secret)
        response = self._http.request("POST", GATEWAY_PATH, json=body)
        try:
            data = response.json()
        except ValueError:
            raise PddApiError(api, {"error_msg": f"not JSON: {response.text[:200]!r}"}) from None
        if not isinstance(data, dict):
            raise PddApiError(api, {"error_msg": f"unexpected answer {data!r:.200}"})
        if "error_response" in data:
            raise PddApiError(api, data["error_response"] or {})
        return data

    def _increment(self, start: int, end: int, page: int) -> dict[str, Any]:
        data = self.call(
            "pdd.order.number.list.increment.get",
            start_updated_at=start,
            end_updated_at=end,
            is_lucky_flag=0,
            order_status=_ALL,
            refund_status=_ALL,
            page=page,
            page_size=self.page_size,
        )
        body: dict[str, Any] = data.get("order_sn_increment_get_response") or {}
        return body

    def fetch_changed(self, since: datetime, until: datetime, page: str | None) -> ChannelPage:
        """One page of the orders updated in [since, until), in whole seconds rounded outwards.
        The token is `<window start>:<page>`, page 0 meaning "count this window first"."""
        end = _seconds_up(until)
        window, number = (_seconds(since), 0) if page is None else map(int, page.split(":"))
        if window >= end:
            return ChannelPage([], None)
        window_end = min(window + WINDOW_S, end)
        if number == 0:
            first = self._increment(window, window_end, 1)
            last = max(1, math.ceil(int(first.get("total_count") or 0) / self.page_size))
            body = first if last == 1 else self._increment(window, window_end, last)
            number = last
        else:
            body = self._increment(window, window_end, number)
        payloads = [p for p in body.get("order_sn_list") or [] if isinstance(p, dict)]
        if number > 1:
            following: str | None = f"{window}:{number - 1}"
        else:
            following = f"{window_end}:0" if window_end < end else None
        return ChannelPage(payloads, following)

    def fetch_order(self, channel_order_no: str) -> dict[str, Any] | None:
        try:
            data = self.call("pdd.order.information.get", order_sn=channel_order_no)
        except PddApiError as error:
            if error.code == 50001 and "不存在" in error.sub_msg:
                return None
            raise
        info = (data.get("order_info_get_response") or {}).get("order_info")
        return info if isinstance(info, dict) and info else None

    def list_order_numbers(self, since: datetime, until: datetime) -> list[str]:
        """Orders updated in the range (the increment call), plus those that became a deal in it
        (pdd.order.list.get by confirm time) though updated since: PDD lists by no creation time,
        and a deal is confirmed within moments of its creation. A confirm time never changes, so
        those pages may be read first to last."""
        found: set[str] = set()
        page: str | None = None
        while True:
            result = self.fetch_changed(since, until, page)
            found.update(str(p["order_sn"]) for p in result.payloads if p.get("order_sn"))
            if result.next_page is None:
                break
            page = result.next_page
        start, end = _seconds(since), _seconds(until)
        for window in range(start, end, CONFIRM_WINDOW_S):
            number, more = 1, True
            while more:
                body = (
                    self.call(
                        "pdd.order.list.get",
                        start_confirm_at=window,
                        end_confirm_at=min(window + CONFIRM_WINDOW_S, end),
                        order_status=_ALL,
                        refund_status=_ALL,
                        page=number,
                        page_size=self.page_size,
                        use_has_next=True,
                    ).get("order_list_get_response")
                    or {}
                )
                orders = body.get("order_list") or []
                found.update(str(o["order_sn"]) for o in orders if o.get("order_sn"))
                number, more = number + 1, bool(body.get("has_next"))
        return sorted(found)

    def decrypt(self, payload: dict[str, Any]) -> dict[str, str]:
        """The receiver in clear text, by pdd.open.decrypt.batch (field name -> text); only for
        printing a waybill, as PDD's rules allow. Fields PDD sent empty are left out."""
        order_sn = str(payload.get("order_sn", ""))
        wanted = {name: str(payload[name]) for name in _ENCRYPTED if payload.get(name)}
        if not wanted:
            return {}
        data = self.call(
            "pdd.open.decrypt.batch",
            data_list=json.dumps(
                [{"data_tag": order_sn, "encrypted_data": v} for v in wanted.values()],
                ensure_ascii=False,
            ),
        )
        answers = (data.get("open_decrypt_batch_response") or {}).get("data_decrypt_list") or []
        clear = {
            str(a.get("encrypted_data")): str(a.get("decrypted_data"))
            for a in answers
            if a.get("error_code") == 0
        }
        return {name: clear[token] for name, token in wanted.items() if token in clear}

    def ship(self, shipment: Shipment) -> str | None:
        """pdd.logistics.online.send; PDD gives no reference of its own, so None.

        PDD ships per order: online.send moves the whole order to shipped (order_status 2). So
        the first parcel of a split order is sent that way, and each later parcel's waybill goes
        to pdd.order.upload.extra.logistics (extra_track_type 1, 分包发货), which PDD keeps
        beside the order for the buyer to see (not as a shipment of particular lines).
        """
        shipping_id = logistics_id(shipment.carrier)
        if shipment.lines:
            info = self.fetch_order(shipment.channel_order_no)
            if info is not None and info.get("order_status") in SHIPPED_STATUSES:
                if str(info.get("tracking_number") or "") != shipment.tracking_no:
                    self._extra_parcel(shipment, shipping_id)
                return None
        try:
            data = self.call(
                "pdd.logistics.online.send",
                order_sn=shipment.channel_order_no,
                logistics_id=shipping_id,
                tracking_number=shipment.tracking_no,
            )
        except PddApiError as error:
            raise _refusal(shipment, error) from None
        answer = data.get("logistics_online_send_response") or {}
        if not answer.get("is_success"):
            raise ShipmentRefused(
                f"pdd order {shipment.channel_order_no}: the send answered is_success false",
                code="is_success_false",
            )
        return None

    def _extra_parcel(self, shipment: Shipment, shipping_id: int) -> None:
        track = {"shipping_id": shipping_id, "tracking_number": shipment.tracking_no}
        try:
            data = self.call(
                "pdd.order.upload.extra.logistics",
                order_sn=shipment.channel_order_no,
                extra_track_list=[track],
                extra_track_type=EXTRA_TRACK_SPLIT,
            )
        except PddApiError as error:
            raise _refusal(shipment, error) from None
        if not (data.get("upload_extra_logistics_response") or {}).get("success"):
            raise ShipmentRefused(
                f"pdd order {shipment.channel_order_no}: the extra waybill "
                f"{shipment.tracking_no} answered success false",
                code="success_false",
            )

    # -- listings and their stock -----------------------------------------------------------
    def listings(self) -> list[ChannelListing]:
        """The shop's goods and their SKUs, ids {goods_id, sku_id}."""
        return stock.listings(self.call)

    def set_stock(self, ids: Mapping[str, str], quantity: int) -> None:
        """pdd.goods.quantity.update, a full update (update_type 1)."""
        stock.set_stock(self.call, ids, quantity)

    def close(self) -> None:
        self._http.close()


def _refusal(shipment: Shipment, error: PddApiError) -> Exception:
    """50001 is the order's refusal (final); sign, token, parameters stay PddApiError."""
    if error.code != BUSINESS_ERROR:
        return error
    return ShipmentRefused(
        f"pdd order {shipment.channel_order_no}: {error.sub_msg or error.error_msg}",
        code=str(error.sub_code or error.code),
    )
