"""The Shopify simulator's fulfillments.json: a fulfillment (a parcel) on the order's one
fulfillment order, of all it has left or of the line items and quantities named.

Each fulfillment is one parcel in the store; the fulfillment order is `in_progress` (and the
order's fulfillment_status `partial`) until every line item is fulfilled, then `closed`
(`fulfilled`). Shopify itself would take a second fulfillment with a tracking number it already
has, as long as quantities are left; the simulator refuses it (422) so a doubled parcel shows,
and the client checks the order's fulfillments before it posts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response

from orderhub.integrations.channels.shopify.carriers import carrier_of
from orderhub.integrations.channels.shopify.render import (
    FULFILLMENT_ORDER_SUFFIX,
    fulfillment_of,
    fulfillment_order_of,
)
from orderhub.integrations.channels.shopify.simwire import Wire, errors
from orderhub.integrations.channels.simkit import ShipOutcome, SimOrder, SimStore

# modelled wording (Shopify answers these with 422; the exact texts are not documented)
BAD_QUANTITY = "Invalid fulfillment order line item quantity requested."


@dataclass(frozen=True)
class FulfillmentAsked:
    """The parts of a fulfillments.json body the simulator acts on."""

    fulfillment_order_id: int
    number: str
    company: str
    # (fulfillment order line item id, quantity); empty: everything left
    line_items: tuple[tuple[int, int], ...] = ()

    @property
    def order_no(self) -> str:
        # fulfillment order ids are the order id * 10 + a suffix (render.py)
        if self.fulfillment_order_id % 10 != FULFILLMENT_ORDER_SUFFIX:
            return ""
        return str(self.fulfillment_order_id // 10)

    @classmethod
    def read(cls, body: bytes) -> FulfillmentAsked:
        try:
            fulfillment = json.loads(body)["fulfillment"]
            by_order = fulfillment["line_items_by_fulfillment_order"]
            fo_id = int(by_order[0]["fulfillment_order_id"])
            items = tuple(
                (int(x["id"]), int(x["quantity"]))
                for x in by_order[0].get("fulfillment_order_line_items") or []
            )
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise ValueError(
                "line_items_by_fulfillment_order needs a fulfillment_order_id (and each "
                "fulfillment_order_line_items entry an id and a quantity)"
            ) from None
        tracking = fulfillment.get("tracking_info") or {}
        number, company = str(tracking.get("number") or ""), str(tracking.get("company") or "")
        return cls(fo_id, number, company, items)


def _lines(order: SimOrder, asked: FulfillmentAsked) -> dict[str, int] | None:
    """{sku: quantity} of the named line items, None for "all that is left"; ValueError when one
    is not on the fulfillment order or asks more than it has left."""
    if not asked.line_items:
        return None
    by_id = {item["id"]: item for item in fulfillment_order_of(order)["line_items"]}
    lines: dict[str, int] = {}
    for item_id, quantity in asked.line_items:
        item = by_id.get(item_id)
        if item is None or not 0 < quantity <= item["fulfillable_quantity"]:
            raise ValueError(BAD_QUANTITY)
        sku = order.lines[item_id % 100 - 1].sku
        lines[sku] = lines.get(sku, 0) + quantity
    return lines


def mount_fulfillments(app: FastAPI, store: SimStore, wire: Wire) -> None:
    @app.post("/admin/api/{version}/fulfillments.json", status_code=201)
    async def fulfill(request: Request, version: str) -> Response:
        if (denied := wire.refused(request)) is not None:
            return denied
        try:
            wanted = FulfillmentAsked.read(await request.body())
        except ValueError as error:
            return errors(400, {"fulfillment": [str(error)]})
        order = store.orders.get(wanted.order_no)
        if order is None:
            return errors(404, "Not Found")
        status = fulfillment_order_of(order)["status"]
        fo_id = wanted.fulfillment_order_id
        if status in ("open", "in_progress"):
            try:
                lines = _lines(order, wanted)
            except ValueError as error:
                return errors(422, [str(error)])
            carrier = carrier_of(wanted.company) or wanted.company
            outcome, shipped = store.ship(
                order.no, carrier, wanted.number, lines=lines, ship_unpaid=True
            )
            if outcome is ShipOutcome.SHIPPED and shipped is not None:
                parcel = fulfillment_of(shipped, len(shipped.parcels) - 1)
                return wire.answer({"fulfillment": parcel}, status=201)
            if outcome is ShipOutcome.REPEAT:
                return errors(422, [f"Tracking number {wanted.number} is already fulfilled."])
            status = fulfillment_order_of(store.orders[order.no])["status"]
        return errors(422, [f"Fulfillment order {fo_id} has an unfulfillable status= {status}."])
