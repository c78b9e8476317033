"""A local Shopify Admin REST API: orders.json with cursor paging, orders/{id}.json, an order's
fulfillment_orders.json, fulfillments.json (shipping with tracking), webhooks.

Speaks what a real shop does: `X-Shopify-Access-Token` or 401 with Shopify's error text;
`{"errors": ...}` bodies for 400/401/404/429/500; `X-Shopify-Shop-Api-Call-Limit` on answers
(reported from a leaky bucket of 40 calls draining 2 a second, not enforced: the fault settings
decide the 429s); cursor pages through the `Link` header, later pages taking only `page_info`
and `limit`. When `webhook_url` is set, every change is POSTed as orders/create, orders/updated
or orders/cancelled, signed with the app secret; `drop_webhook` loses one.
"""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from fastapi import FastAPI, Request, Response

from orderhub.domain.mapping import ChannelState
from orderhub.integrations.channels.registry import SimulatorOptions
from orderhub.integrations.channels.shopify import signing
from orderhub.integrations.channels.shopify.render import (
    ID_PREFIX,
    SHOP_DOMAIN,
    SHOP_ZONE,
    fulfillment_order_of,
    render_order,
    variant_ids,
)
from orderhub.integrations.channels.shopify.simfulfil import mount_fulfillments
from orderhub.integrations.channels.shopify.simstock import mount_inventory
from orderhub.integrations.channels.shopify.simwire import BAD_TOKEN, Wire, error_body, errors
from orderhub.integrations.channels.simkit import (
    ListingBook,
    OrderFactory,
    SimOrder,
    SimStore,
    control_router,
    fault_middleware,
    listing_router,
)

__all__ = ["BAD_TOKEN", "create_app"]

log = structlog.get_logger()

MAX_LIMIT = 250
FILTERS = ("status", "updated_at_min", "updated_at_max", "order", "created_at_min")


@dataclass(frozen=True)
class _Cursor:
    """What page_info stands for: the window and the last order served (opaque to clients)."""

    since: datetime
    until: datetime
    after: tuple[str, str] | None

    def encode(self) -> str:
        raw = json.dumps([self.since.isoformat(), self.until.isoformat(), self.after])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> _Cursor:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        since, until, after = json.loads(raw)
        return cls(
            datetime.fromisoformat(since),
            datetime.fromisoformat(until),
            tuple(after) if after else None,
        )


def _stamp(at: datetime) -> str:
    """A sortable text form of a time (isoformat drops zero microseconds unless told)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    # Shopify reads a time without an offset in the shop's zone.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHOP_ZONE)


class _Webhooks:
    """Delivers in order from one thread, so a slow receiver never blocks the store's lock."""

    def __init__(self, options: SimulatorOptions) -> None:
        self.url, self.secret, self.faults = options.webhook_url, options.app_secret, options.faults
        self._queue: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._thread: threading.Thread | None = None

    def __call__(self, order: SimOrder, change: str) -> None:
        if self.url is None:
            return
        if self.faults.roll("drop_webhook"):
            log.info("webhook dropped by fault", order=order.no)
            return
        body = json.dumps(render_order(order)).encode()
        if change == "create":
            self._queue.put(("orders/create", body))
        else:
            # A cancellation is also an update: Shopify sends both topics for it.
            self._queue.put(("orders/updated", body))
            if order.state is ChannelState.CANCELLED:
                self._queue.put(("orders/cancelled", body))
        if self._thread is None:
            self._thread = threading.Thread(target=self._deliver, daemon=True)
            self._thread.start()

    def _deliver(self) -> None:
        assert self.url is not None
        with httpx.Client(timeout=5.0) as client:
            while True:
                topic, body = self._queue.get()
                headers = {
                    "Content-Type": "application/json",
                    signing.TOPIC_HEADER: topic,
                    signing.HMAC_HEADER: signing.webhook_hmac(body, self.secret),
                    signing.SHOP_DOMAIN_HEADER: SHOP_DOMAIN,
                    signing.WEBHOOK_ID_HEADER: str(uuid.uuid4()),
                    "X-Shopify-API-Version": "2025-01",
                }
                # Shopify retries a failed delivery (with the same webhook id) for a while.
                for attempt in range(1, 4):
                    try:
                        if client.post(self.url, content=body, headers=headers).is_success:
                            break
                    except httpx.HTTPError as error:
                        log.warning("webhook delivery failed", attempt=attempt, error=str(error))
                    time.sleep(0.2 * attempt)


def create_app(options: SimulatorOptions) -> FastAPI:
    app = FastAPI(title="Shopify Admin REST API (simulator)")
    store = SimStore(
        OrderFactory(options.seed, english=True, currency="USD"),
        prefix=ID_PREFIX,
        faults=options.faults,
    )
    store.listeners.append(_Webhooks(options))
    book = ListingBook(variant_ids, english=True)
    wire = Wire(options.access_token)
    refused, answer = wire.refused, wire.answer
    fault_middleware(app, options.faults, error_body=error_body)
    app.include_router(control_router(store))
    app.include_router(listing_router(book))
    app.state.store, app.state.listings = store, book

    @app.get("/admin/api/{version}/orders.json")
    def orders(request: Request, version: str) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        query = request.query_params
        try:
            limit = min(int(query.get("limit", "50")), MAX_LIMIT)
        except ValueError:
            return errors(400, {"limit": ["is not a number"]})
        if "page_info" in query:
            extra = [name for name in FILTERS if name in query]
            if extra:
                return errors(
                    400, {extra[0]: f"{extra[0]} cannot be passed when page_info is present."}
                )
            try:
                cursor = _Cursor.decode(query["page_info"])
            except ValueError:
                return errors(400, {"page_info": "Invalid value."})
        else:
            try:
                since = _parse_time(query.get("updated_at_min", "1970-01-01T00:00:00+00:00"))
                # updated_at_max is inclusive and Shopify's times are whole seconds.
                until = _parse_time(query.get("updated_at_max", "2999-01-01T00:00:00+00:00"))
            except ValueError:
                return errors(400, {"updated_at": ["must be an ISO 8601 time"]})
            cursor = _Cursor(since, until + timedelta(seconds=1), None)
        window = store.changed(cursor.since, cursor.until)
        if cursor.after is not None:
            after = cursor.after
            window = [o for o in window if (_stamp(o.modified_at), o.no) > after]
        page, rest = window[:limit], window[limit:]
        link = None
        if rest:
            last = page[-1]
            token = _Cursor(cursor.since, cursor.until, (_stamp(last.modified_at), last.no))
            url = request.url_for("orders", version=version)
            link = f'<{url}?limit={limit}&page_info={token.encode()}>; rel="next"'
        return answer({"orders": [render_order(o) for o in store.with_faults(page)]}, link)

    @app.get("/admin/api/{version}/orders/{order_id}.json")
    def order(request: Request, version: str, order_id: str) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        found = store.orders.get(order_id)
        if found is None:
            return errors(404, "Not Found")
        return answer({"order": render_order(found)})

    @app.get("/admin/api/{version}/orders/{order_id}/fulfillment_orders.json")
    def fulfillment_orders(request: Request, version: str, order_id: str) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        found = store.orders.get(order_id)
        if found is None:
            return errors(404, "Not Found")
        return answer({"fulfillment_orders": [fulfillment_order_of(found)]})

    mount_fulfillments(app, store, wire)
    mount_inventory(app, book, wire)
    return app
