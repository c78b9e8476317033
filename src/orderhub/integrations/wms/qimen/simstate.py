"""The simulated warehouse's books: outbound orders (deduped), their steps, stock per SKU."""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orderhub.integrations.channels.simkit import Faults
from orderhub.integrations.wms.qimen import protocol as qm
from orderhub.integrations.wms.qimen.simqueue import paid_at, urgency


@dataclass
class WmsSimOptions:
    """How the simulated WMS behaves. Each delay counts from the step before: picking after
    acceptance, shipping after picking, proof of delivery after shipping (None: never)."""

    pick_after_s: float = 0.0
    ship_after_s: float = 0.0
    deliver_after_s: float | None = None
    report_progress: bool = False  # an orderprocess.report PICK before the shipment
    confirm_batch: int = 50  # orders per deliveryorder.batchconfirm; 1 sends deliveryorder.confirm
    seed: int = 7
    app_key: str = "wms-app"
    secret: str = "wms-secret"
    customer_id: str = "OWNER-1"
    warehouse_code: str = "WH-MAIN"
    callback_url: str = ""  # where callbacks go (full URL, no query string)
    callback_retry_s: float = 0.05  # first wait after a failed callback, doubling
    callback_retry_max_s: float = 2.0
    faults: Faults = field(default_factory=Faults)
    # Pick waves (simqueue.py): 0 picks every order `pick_after_s` after it is accepted; N > 0
    # keeps accepted orders in a pick queue and each wave picks the N most urgent (priority with
    # aging from payTime), every `pick_wave_s` seconds (0: only on POST /_sim/pick).
    pick_wave: int = 0
    pick_wave_s: float = 0.0
    pick_aging_per_min: float = 2.0


# (logisticsCode, logisticsName, tracking prefix, digits after the prefix)
CARRIERS = (
    ("SF", "顺丰速运", "SF", 13),
    ("YTO", "圆通速递", "YT", 13),
    ("ZTO", "中通快递", "75", 12),
    ("STO", "申通快递", "77", 11),
    ("YUNDA", "韵达快递", "43", 13),
)
ACCEPTED, PICKED, SHIPPED, SIGNED, CANCELED = "ACCEPT", "PICK", "DELIVERED", "SIGN", "CANCELED"


@dataclass
class SimOutbound:
    code: str
    wms_id: str
    message_id: str
    lines: list[tuple[str, int]]
    accepted_at: datetime
    status: str = ACCEPTED
    carrier: str | None = None
    carrier_name: str | None = None
    tracking_no: str | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    creates: int = 1  # create calls that named this order, repeats included
    priority: int = 0  # extendProps.priority (or isUrgency Y: 1)
    paid_at: datetime | None = None  # payTime
    pick_turn: int | None = None  # its place among the orders picked by waves (1: first)

    def view(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "priority": self.priority,
            "pick_turn": self.pick_turn,
            "wms_order_id": self.wms_id,
            "message_id": self.message_id,
            "carrier": self.carrier,
            "tracking_no": self.tracking_no,
            "creates": self.creates,
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in self.lines],
        }


class InvalidOrder(ValueError):
    pass


def _lines(request: dict[str, Any]) -> list[tuple[str, int]]:
    lines = []
    for line in qm.many(request.get("orderLines"), "orderLine"):
        sku = str(line.get("itemCode") or "")
        try:
            qty = int(line.get("planQty") or 0)
        except (TypeError, ValueError):
            qty = 0
        if not sku or qty <= 0:
            raise InvalidOrder("every orderLine needs an itemCode and a planQty above 0")
        lines.append((sku, qty))
    if not lines:
        raise InvalidOrder("orderLines.orderLine is empty")
    return lines


class WarehouseBooks:
    def __init__(self, options: WmsSimOptions) -> None:
        self.options = options
        self.lock = threading.Lock()
        self.orders: dict[str, SimOutbound] = {}
        self.by_message: dict[str, str] = {}
        self.stock: dict[str, int] = {}
        # Accepted orders oldest first, for `ship_next`; ones gone on meanwhile are skipped.
        self.waiting: deque[str] = deque()
        self.creates_received = self.creates_applied = self.duplicates_ignored = 0
        self._rng = random.Random(options.seed)
        self._serial = 0
        self._turns = 0  # orders picked by waves so far

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def create(self, request: dict[str, Any], message_id: str) -> tuple[dict[str, Any], bool]:
        """(the order's answer fields, whether it is new). A repeat, by message id or by
        deliveryOrderCode, answers success with the order already held."""
        order = request.get("deliveryOrder")
        if not isinstance(order, dict) or not order.get("deliveryOrderCode"):
            missing = "deliveryOrder.deliveryOrderCode is missing"
            return _failed("", qm.INVALID_ARGUMENT, missing), False
        code = str(order["deliveryOrderCode"])
        if str(order.get("warehouseCode") or "") != self.options.warehouse_code:
            message = f"warehouseCode must be {self.options.warehouse_code}"
            return _failed(code, qm.INVALID_ARGUMENT, message), False
        try:
            lines = _lines(request)
        except InvalidOrder as error:
            return _failed(code, qm.INVALID_ARGUMENT, str(error)), False
        with self.lock:
            self.creates_received += 1
            known = self.orders.get(self.by_message.get(message_id, code))
            if known is not None:
                known.creates += 1
                self.duplicates_ignored += 1
                if message_id:
                    self.by_message.setdefault(message_id, known.code)
                return _done(known, "duplicate ignored: the order is already held"), False
            outbound = SimOutbound(
                code,
                f"WMS{self._next():010d}",
                message_id,
                lines,
                datetime.now(UTC),
                priority=urgency(request),
                paid_at=paid_at(request),
            )
            self.orders[code] = outbound
            self.waiting.append(code)
            if message_id:
                self.by_message[message_id] = code
            self.creates_applied += 1
            return _done(outbound, "accepted"), True

    def cancel(self, code: str) -> tuple[str, str, str]:
        """(flag, code, message) of order.cancel: an order not yet shipped is stopped for good."""
        with self.lock:
            order = self.orders.get(code)
            if order is None:
                return "failure", qm.ORDER_NOT_FOUND, f"no outbound order {code}"
            if order.status in (SHIPPED, SIGNED):
                return "failure", qm.ORDER_SHIPPED, f"{code} shipped as {order.tracking_no}"
            order.status = CANCELED
            return "success", qm.OK, f"{code} intercepted"

    def pick(self, code: str) -> SimOutbound | None:
        with self.lock:
            order = self.orders.get(code)
            if order is None or order.status != ACCEPTED:
                return None
            order.status = PICKED
            return order

    def ship(self, code: str) -> SimOutbound | None:
        with self.lock:
            order = self.orders.get(code)
            if order is None or order.status not in (ACCEPTED, PICKED):
                return None  # intercepted in the meantime: it never ships
            carrier, name, prefix, digits = self._rng.choice(CARRIERS)
            serial = f"{self._next():07d}"  # unique within this warehouse
            filler = self._rng.randrange(10 ** (digits - len(serial)))
            order.carrier, order.carrier_name = carrier, name
            order.tracking_no = f"{prefix}{filler:0{digits - len(serial)}d}{serial}"
            order.status, order.shipped_at = SHIPPED, datetime.now(UTC)
            for sku, qty in order.lines:
                # The simulator never refuses for stock: it counts down, not below zero.
                self.stock[sku] = max(self.stock.get(sku, 0) - qty, 0)
            return order

    def ship_next(self, count: int) -> list[SimOutbound]:
        """Ship the `count` orders waiting longest now (fewer when fewer wait)."""
        shipped: list[SimOutbound] = []
        while len(shipped) < count:
            with self.lock:
                if not self.waiting:
                    break
                code = self.waiting.popleft()
            order = self.ship(code)
            if order is not None:
                shipped.append(order)
        return shipped

    def deliver(self, code: str) -> SimOutbound | None:
        with self.lock:
            order = self.orders.get(code)
            if order is None or order.status != SHIPPED:
                return None
            order.status, order.delivered_at = SIGNED, datetime.now(UTC)
            return order

    def set_stock(self, counts: dict[str, int]) -> list[tuple[str, int, int]]:
        """Set on-hand counts; (sku, change, on hand) for each, as a stock count reports them."""
        with self.lock:
            changes = [(sku, qty - self.stock.get(sku, 0), qty) for sku, qty in counts.items()]
            self.stock.update(counts)
            return changes

    def stock_page(self, page: int, size: int) -> tuple[list[tuple[str, int]], int]:
        with self.lock:
            ordered = sorted(self.stock.items())
        return ordered[(page - 1) * size : page * size], len(ordered)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "orders": {code: o.view() for code, o in self.orders.items()},
                "creates_received": self.creates_received,
                "creates_applied": self.creates_applied,
                "duplicates_ignored": self.duplicates_ignored,
            }

    def next_serial(self) -> int:
        with self.lock:
            return self._next()

    def number_from(self, serial: int) -> None:
        """Number WMS ids (and the message ids of their callbacks) after `serial`: a WMS started
        again beside the same OrderHub must not send message ids OrderHub already applied."""
        with self.lock:
            self._serial = max(self._serial, serial)

    def waiting_to_pick(self, code: str) -> tuple[int, datetime] | None:
        """(priority, waiting since) of an accepted order, for the pick queue."""
        with self.lock:
            order = self.orders.get(code)
            if order is None or order.status != ACCEPTED:
                return None
            return order.priority, order.paid_at or order.accepted_at

    def pick_turns(self, codes: list[str]) -> None:
        """Number the orders a wave picks, in the order it picks them."""
        with self.lock:
            for code in codes:
                self._turns += 1
                self.orders[code].pick_turn = self._turns


def _failed(code: str, error: str, message: str) -> dict[str, Any]:
    return {"deliveryOrderCode": code, "flag": "failure", "code": error, "message": message}


def _done(order: SimOutbound, message: str) -> dict[str, Any]:
    return {
        "deliveryOrderCode": order.code,
        "deliveryOrderId": order.wms_id,
        "createTime": qm.qimen_time(order.accepted_at),
        "flag": "success",
        "code": qm.OK,
        "message": message,
    }
