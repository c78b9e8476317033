"""Shopify Admin REST API client for one shop: the orders changed in a window, one order, all ids,
shipping one (a fulfillment with tracking on the order's fulfillment orders, or of some of its
line items for a parcel of a split order), and the variants' stock at the shop's location
(stock.py).

GET /admin/api/<version>/orders.json?status=any&updated_at_min&updated_at_max&order=updated_at asc
&limit, then the `Link: <...page_info=...>; rel="next"` cursor (later pages take only page_info
and limit). Shopify's updated_at_max is inclusive and its times are whole seconds, so the window
is asked in whole seconds and orders at or after `until` are dropped here, keeping [since, until).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from orderhub.domain.fulfilment import Shipment
from orderhub.integrations.channels.http import ChannelHttp
from orderhub.integrations.channels.registry import ShopConnection
from orderhub.integrations.channels.shopify import stock
from orderhub.integrations.channels.shopify.carriers import tracking_company
from orderhub.integrations.channels.shopify.payloads import with_derived
from orderhub.integrations.channels.shopify.signing import auth_headers
from orderhub.services.ports import (
    ChannelListing,
    ChannelPage,
    ChannelUnavailable,
    ShipmentRefused,
)

CHANNEL_NAME = "shopify"
API_VERSION = "2025-01"
MAX_PAGE = 250
# Fulfillment order statuses that still take a fulfillment (closed, cancelled, on_hold... do not).
FULFILLABLE = frozenset({"open", "in_progress"})
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def next_page_info(link: str | None) -> str | None:
    """The page_info of the rel="next" link, if the answer has a next page."""
    for match in _NEXT.finditer(link or ""):
        values = parse_qs(urlsplit(match.group(1)).query).get("page_info")
        if values:
            return values[0]
    return None


def _whole_second(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError(f"{at!r} has no time zone; Shopify needs an offset")
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


class ShopifyClient:
    channel = CHANNEL_NAME

    def __init__(self, connection: ShopConnection, http: ChannelHttp | None = None) -> None:
        self.connection = connection
        self.http = http or ChannelHttp(connection, channel=CHANNEL_NAME)
        self.api_version = connection.extra.get("api_version", API_VERSION)
        self.page_size = min(int(connection.extra.get("page_size", str(MAX_PAGE))), MAX_PAGE)
        # Where the shop's stock is set; read from locations.json on first need when not set.
        self._location_id: str | None = connection.extra.get("location_id") or None

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        url = f"/admin/api/{self.api_version}/{path}"
        response = self.http.request(
            "GET", url, params=params, headers=auth_headers(self.connection.access_token)
        )
        if response.is_success or response.status_code == 404:
            return response
        # 401 (bad token), 402 (shop frozen), 403 (missing scope), 400: retrying will not help.
        raise ChannelUnavailable(
            f"shopify shop {self.connection.shop}: HTTP {response.status_code} from {url}: "
            f"{_errors(response)}"
        )

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        url = f"/admin/api/{self.api_version}/{path}"
        return self.http.request(
            "POST", url, json=body, headers=auth_headers(self.connection.access_token)
        )

    def fetch_changed(self, since: datetime, until: datetime, page: str | None) -> ChannelPage:
        if page is None:
            params: dict[str, Any] = {
                "status": "any",
                "updated_at_min": _whole_second(since),
                "updated_at_max": _whole_second(until),
                "order": "updated_at asc",
                "limit": self.page_size,
            }
        else:
            params = {"page_info": page, "limit": self.page_size}
        response = self._get("orders.json", params)
        if response.status_code == 404:
            raise ChannelUnavailable(f"shopify shop {self.connection.shop}: orders.json not found")
        orders = response.json().get("orders", [])
        kept = [with_derived(o) for o in orders if _updated(o) < until]
        return ChannelPage(kept, next_page_info(response.headers.get("link")))

    def fetch_order(self, channel_order_no: str) -> dict[str, Any] | None:
        response = self._get(f"orders/{channel_order_no}.json", {})
        if response.status_code == 404:
            return None
        order = response.json().get("order")
        return with_derived(order) if isinstance(order, dict) else None

    def list_order_numbers(self, since: datetime, until: datetime) -> list[str]:
        # Every order created in the window was also updated in it (updated_at >= created_at).
        seen: dict[str, None] = {}
        page: str | None = None
        while True:
            result = self.fetch_changed(since, until, page)
            seen.update((str(o["id"]), None) for o in result.payloads)
            if result.next_page is None:
                return list(seen)
            page = result.next_page

    # -- shipping ----------------------------------------------------------------------------
    def ship(self, shipment: Shipment) -> str | None:
        """A fulfillment with tracking on the order's fulfillment orders; its id.

        A parcel of a split order (`shipment.lines`) fulfils only those line items, in those
        quantities (`fulfillment_order_line_items`); the order is `partial` until all are
        fulfilled. Shopify refuses to fulfil what is no longer open (422), but would take the
        same parcel twice while quantities are left, so the order's fulfillments are read first
        and after a refusal: one with this tracking number is our earlier send (outbox delivery
        is at least once, and a POST retried after a timeout may have landed).
        """
        company = tracking_company(shipment.carrier)
        no = shipment.channel_order_no
        order: dict[str, Any] | None = None
        if shipment.lines:
            order = self.fetch_order(no)
            if order is None:
                raise ShipmentRefused(f"shopify order {no} is not known to the shop", code="404")
            if earlier := _fulfilled(order, shipment.tracking_no):
                return earlier
        response = self._get(f"orders/{no}/fulfillment_orders.json", {})
        if response.status_code == 404:
            raise ShipmentRefused(f"shopify order {no} is not known to the shop", code="404")
        orders = response.json().get("fulfillment_orders") or []
        fulfillable = [fo for fo in orders if fo.get("status") in FULFILLABLE]
        if not fulfillable and (earlier := self._fulfilled_with(no, shipment.tracking_no)):
            return earlier
        if not orders:
            raise ShipmentRefused(f"shopify order {no} has no fulfillment order", code="404")
        if order is not None:
            by_order = _parcel_items(shipment, order, fulfillable)
        else:
            by_order = [{"fulfillment_order_id": fo["id"]} for fo in fulfillable or orders]
        body = {
            "fulfillment": {
                "line_items_by_fulfillment_order": by_order,
                "tracking_info": {"number": shipment.tracking_no, "company": company},
                # the channel's own shipping mail would duplicate OrderHub's notifications
                "notify_customer": False,
            }
        }
        posted = self._post("fulfillments.json", body)
        if posted.is_success:
            return str((posted.json().get("fulfillment") or {}).get("id", "")) or None
        if posted.status_code == 422:
            if earlier := self._fulfilled_with(no, shipment.tracking_no):
                return earlier
            raise ShipmentRefused(f"shopify order {no}: {_errors(posted)}", code="422")
        raise ChannelUnavailable(
            f"shopify shop {self.connection.shop}: HTTP {posted.status_code} from "
            f"fulfillments.json: {_errors(posted)}"
        )

    def _fulfilled_with(self, no: str, tracking_no: str) -> str | None:
        """The id of the order's successful fulfillment carrying this tracking number, if any."""
        return _fulfilled(self.fetch_order(no) or {}, tracking_no)

    # -- listings and their stock -----------------------------------------------------------
    def location_id(self) -> str:
        if self._location_id is None:
            self._location_id = stock.first_location(self._get)
        return self._location_id

    def listings(self) -> list[ChannelListing]:
        """Every variant with its stock at the shop's location, ids {inventory_item_id,
        location_id, variant_id}."""
        return stock.listings(self._get, self.location_id(), next_page_info)

    def set_stock(self, ids: Mapping[str, str], quantity: int) -> None:
        """inventory_levels/set.json: `available` at the location becomes `quantity`."""
        stock.set_stock(self._post, ids, quantity, shop=self.connection.shop)

    def close(self) -> None:
        self.http.close()


def _fulfilled(order: dict[str, Any], tracking_no: str) -> str | None:
    for fulfillment in order.get("fulfillments") or []:
        numbers = {fulfillment.get("tracking_number"), *fulfillment.get("tracking_numbers", [])}
        if fulfillment.get("status") == "success" and tracking_no in numbers:
            return str(fulfillment.get("id"))
    return None


def _parcel_items(
    shipment: Shipment, order: dict[str, Any], fulfillable: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """line_items_by_fulfillment_order for the parcel's lines: each SKU's order line items, on
    the open fulfillment orders, up to the quantity the parcel carries."""
    line_ids: dict[str, set[int]] = {}
    for item in order.get("line_items") or []:
        line_ids.setdefault(str(item.get("sku") or ""), set()).add(int(item["id"]))
    chosen: dict[int, list[dict[str, int]]] = {}
    for line in shipment.lines:
        wanted = line.quantity
        for fo in fulfillable:
            for item in fo.get("line_items") or []:
                take = min(wanted, int(item.get("fulfillable_quantity") or 0))
                if take > 0 and int(item.get("line_item_id", 0)) in line_ids.get(
                    line.channel_sku, ()
                ):
                    chosen.setdefault(int(fo["id"]), []).append(
                        {"id": int(item["id"]), "quantity": take}
                    )
                    wanted -= take
        if wanted:
            raise ShipmentRefused(
                f"shopify order {shipment.channel_order_no}: {wanted} of {line.channel_sku} "
                "are not open to fulfil (not on the order, or already fulfilled)",
                code="line_not_open",
            )
    return [
        {"fulfillment_order_id": fo_id, "fulfillment_order_line_items": items}
        for fo_id, items in chosen.items()
    ]


def _updated(order: dict[str, Any]) -> datetime:
    """An order without a readable updated_at is kept (the mapping will say what is wrong)."""
    try:
        parsed = datetime.fromisoformat(str(order["updated_at"]))
    except (KeyError, ValueError):
        return datetime.min.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else datetime.min.replace(tzinfo=UTC)


def _errors(response: httpx.Response) -> str:
    try:
        return str(response.json().get("errors", response.text))
    except ValueError:
        return response.text[:200]
