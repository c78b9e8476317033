"""The simulated WMS's two threads: one moves accepted orders on (pick, ship, sign) when their
delays run out, one delivers the resulting callbacks in order, retrying until each is taken.

Neither sleeps per order: the mover takes every step that is due in one pass and groups the
shipments into batchconfirm callbacks; the sender posts over one keep-alive connection.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from orderhub.domain.warehouses import WmsCredentials
from orderhub.integrations.wms.qimen import protocol as qm
from orderhub.integrations.wms.qimen.simqueue import PickQueue
from orderhub.integrations.wms.qimen.simstate import (
    PICKED,
    SIGNED,
    SimOutbound,
    WarehouseBooks,
    WmsSimOptions,
)

PICK, SHIP, SIGN, WAVE = "pick", "ship", "sign", "wave"


def confirmation(order: SimOutbound, warehouse: str) -> dict[str, Any]:
    """The deliveryorder.confirm payload of a shipped order."""
    assert order.shipped_at is not None
    shipped = qm.qimen_time(order.shipped_at)
    return {
        "deliveryOrder": {
            "deliveryOrderCode": order.code,
            "deliveryOrderId": order.wms_id,
            "warehouseCode": warehouse,
            "orderType": qm.ORDER_TYPE_SALE,
            "status": "DELIVERED",
            "outBizCode": f"{order.wms_id}-DELIVERED",
            "confirmType": 0,
            "orderConfirmTime": shipped,
            "operateTime": shipped,
            "logisticsCode": order.carrier,
            "logisticsName": order.carrier_name,
            "expressCode": order.tracking_no,
        },
        "packages": {
            "package": [
                {
                    "logisticsCode": order.carrier,
                    "logisticsName": order.carrier_name,
                    "expressCode": order.tracking_no,
                    "packageCode": f"{order.wms_id}-1",
                    "items": {"item": [{"itemCode": s, "quantity": q} for s, q in order.lines]},
                }
            ]
        },
        "orderLines": {
            "orderLine": [
                {"orderLineNo": str(n), "itemCode": s, "planQty": q, "actualQty": q}
                for n, (s, q) in enumerate(order.lines, start=1)
            ]
        },
    }


def _process(order: SimOutbound, status: str, warehouse: str) -> dict[str, Any]:
    process: dict[str, Any] = {
        "processStatus": status,
        "operatorCode": "SIM",
        "operatorName": "simulator",
        "operateTime": qm.qimen_time(datetime.now(UTC)),
    }
    if status == SIGNED:
        process["expressCode"] = order.tracking_no
    return {
        "order": {
            "orderCode": order.code,
            "orderId": order.wms_id,
            "orderType": qm.ORDER_TYPE_SALE,
            "warehouseCode": warehouse,
            "outBizCode": f"{order.wms_id}-{status}",
        },
        "process": process,
    }


class CallbackSender:
    """Posts signed callbacks in the order they were made; the head is retried with backoff
    until the receiver takes it (2xx and flag=success), so no fact is dropped or reordered."""

    def __init__(self, options: WmsSimOptions) -> None:
        self.options = options
        self.credentials = WmsCredentials(options.app_key, options.secret, options.customer_id)
        self._queue: deque[tuple[str, bytes]] = deque()
        self._cond = threading.Condition()
        self._in_flight = False
        self._stopped = False
        self.delivered = self.failed_attempts = self.duplicates_sent = 0
        self._http = httpx.Client(timeout=5.0)

    def enqueue(self, method: str, payload: dict[str, Any]) -> None:
        with self._cond:
            self._queue.append((method, qm.encode(payload)))
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + (1 if self._in_flight else 0)

    def stats(self) -> dict[str, int]:
        return {
            "pending": self.pending(),
            "delivered": self.delivered,
            "failed_attempts": self.failed_attempts,
            "duplicates_sent": self.duplicates_sent,
        }

    def _post(self, method: str, body: bytes) -> str | None:
        """None when taken, else why not."""
        params = qm.signed_query(method, body, self.credentials, datetime.now(UTC))
        try:
            response = self._http.post(
                self.options.callback_url,
                params=params,
                content=body,
                headers={"Content-Type": qm.CONTENT_TYPE},
            )
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"
        if not response.is_success:
            return f"HTTP {response.status_code}"
        try:
            fields = qm.read_response(response.content)
        except ValueError:
            return "the answer is not Qimen JSON"
        return None if str(fields.get("flag")) == "success" else str(fields.get("message"))

    def run(self) -> None:
        wait = self.options.callback_retry_s
        while True:
            with self._cond:
                while not self._stopped and not (self._queue and self.options.callback_url):
                    self._cond.wait(0.5)
                if self._stopped:
                    self._http.close()
                    return
                method, body = self._queue[0]
                self._in_flight = True
            problem = self._post(method, body)
            with self._cond:
                if problem is None:
                    self._queue.popleft()
                    self.delivered += 1
                    wait = self.options.callback_retry_s
                else:
                    self.failed_attempts += 1
                self._in_flight = False
                self._cond.notify_all()
            if problem is None and self.options.faults.roll("duplicate"):
                self.duplicates_sent += 1
                self._post(method, body)  # the receiver dedupes by message id
            elif problem is not None:
                with self._cond:
                    self._cond.wait_for(lambda: self._stopped, timeout=wait)
                wait = min(wait * 2, self.options.callback_retry_max_s)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()


class OrderMover:
    """Takes each accepted order through its steps when their delays run out."""

    def __init__(self, books: WarehouseBooks, sender: CallbackSender) -> None:
        self.books, self.sender, self.options = books, sender, books.options
        self._due: list[tuple[float, int, str, str]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = False
        self._stopped = False
        self.pick_queue = PickQueue(books.options.pick_aging_per_min)
        self._wave_due = False

    def accepted(self, codes: list[str]) -> None:
        if self.options.pick_wave > 0:
            self._queue_for_picking(codes)
            return
        self._start(codes)

    def _queue_for_picking(self, codes: list[str]) -> None:
        for code in codes:
            waiting = self.books.waiting_to_pick(code)
            if waiting is not None:
                self.pick_queue.add(code, *waiting)
        if self.options.pick_wave_s > 0:
            with self._cond:
                if self._wave_due:
                    return
                self._wave_due = True
            self._schedule([("", WAVE)], self.options.pick_wave_s)

    def wave(self, count: int | None = None) -> list[str]:
        """Pick the most urgent `count` (default `pick_wave`) orders of the pick queue now."""
        codes = self.pick_queue.take(count or self.options.pick_wave)
        self.books.pick_turns(codes)
        self._start(codes, waited=True)
        return codes

    def _start(self, codes: list[str], *, waited: bool = False) -> None:
        """Schedule the first step of these orders: picking after `pick_after_s` (at once for
        orders a wave took), then shipping."""
        first = PICK if self.options.report_progress else SHIP
        delay = 0.0 if waited else self.options.pick_after_s
        if first == SHIP:
            delay += self.options.ship_after_s
        self._schedule([(code, first) for code in codes], delay)

    def _schedule(self, steps: list[tuple[str, str]], delay: float) -> None:
        at = time.monotonic() + max(delay, 0.0)
        with self._cond:
            for code, step in steps:
                heapq.heappush(self._due, (at, next(self._seq), step, code))
            self._cond.notify_all()

    def idle(self) -> bool:
        """Nothing due now and nothing being moved (later steps may still wait their delay)."""
        with self._cond:
            return not self._busy and not (self._due and self._due[0][0] <= time.monotonic())

    def run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and not (self._due and self._due[0][0] <= time.monotonic()):
                    gap = self._due[0][0] - time.monotonic() if self._due else 0.5
                    self._cond.wait(min(max(gap, 0.001), 0.5))
                if self._stopped:
                    return
                now, taken = time.monotonic(), []
                while self._due and self._due[0][0] <= now:
                    taken.append(heapq.heappop(self._due))
                self._busy = True
            try:
                self._move([(step, code) for _, _, step, code in taken])
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _move(self, steps: list[tuple[str, str]]) -> None:
        warehouse, options = self.options.warehouse_code, self.options
        if any(step == WAVE for step, _ in steps):
            with self._cond:
                self._wave_due = False
            self.wave()
            if len(self.pick_queue):
                self._queue_for_picking([])  # the next wave
        picked = self._each(steps, PICK, self.books.pick)
        for order in picked:
            self.sender.enqueue(qm.PROCESS_REPORT, _process(order, PICKED, warehouse))
        self._schedule([(o.code, SHIP) for o in picked], options.ship_after_s)
        shipped = self._each(steps, SHIP, self.books.ship)
        size = max(options.confirm_batch, 1)
        for start in range(0, len(shipped), size):
            chunk = [confirmation(o, warehouse) for o in shipped[start : start + size]]
            if size == 1:
                self.sender.enqueue(qm.CONFIRM, chunk[0])
            else:
                self.sender.enqueue(qm.BATCH_CONFIRM, {"orders": {"order": chunk}})
        if options.deliver_after_s is not None:
            self._schedule([(o.code, SIGN) for o in shipped], options.deliver_after_s)
        for order in self._each(steps, SIGN, self.books.deliver):
            self.sender.enqueue(qm.PROCESS_REPORT, _process(order, SIGNED, warehouse))

    @staticmethod
    def _each(
        steps: list[tuple[str, str]], step: str, apply: Callable[[str], SimOutbound | None]
    ) -> list[SimOutbound]:
        return [order for s, code in steps if s == step and (order := apply(code)) is not None]

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
