"""The load's actors as Locust users: buyers ordering and paying at the channel simulators, the
warehouse's hands shipping at the WMS simulator and telling OrderHub, and a review desk.

Imports Locust (which monkey-patches sockets): only the load process imports this module.

Three streams follow the profile's schedule (`Pacer`), each worked by several concurrent users
so that one slow answer delays one user, not the schedule:
- orders: a buyer places an order at a channel simulator, unpaid (`POST /_sim/orders`); the
  order reaches OrderHub the way that channel sends it (Shopify's signed webhook at once; Taobao,
  JD and PDD through the server's own scheduled pulls).
- payments: `pay_after_s` later the buyer pays it (`POST /_sim/orders/{no}/pay`), which reaches
  OrderHub the same way (Shopify's orders/updated webhook, or the next pull).
- shipments: whatever OrderHub handed to the warehouse is shipped at the WMS simulator
  (`POST /_sim/ship` with callback false) and each shipment is told to OrderHub as a signed Qimen
  `deliveryorder.confirm` callback to `/api/v1/wms/{warehouse}/callbacks`. The warehouse works
  at up to `SHIP_CAPACITY` x the peak order rate, so it drains what queued while it waited.
The review desk, when on, approves the run's orders waiting in `pending_review` once a second.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import gevent
from locust import FastHttpUser, constant, constant_pacing, task

from orderhub.integrations.wms.qimen import protocol as qm
from orderhub.loadtest.plan import Plan, ShopTarget
from orderhub.loadtest.profiles import Pacer, Profile

SHIP_CAPACITY = 2.0  # x the peak order rate: how fast the warehouse can ship
LATE_AFTER_S = 1.0  # a slot started later than this counts as the generator falling behind
CALLBACK_TRIES = 3  # a refused shipment callback is sent again, as a WMS does
EXAMPLES_PER_ERROR = 3
ORDERHUB, WMS = "orderhub", "wms"


def request_target(name: str) -> str:
    """Which system a request (named '<system>: <what>') went to: 'orderhub', 'wms' or, for a
    channel's name, 'channel'."""
    system = name.split(":", 1)[0]
    return system if system in (ORDERHUB, WMS) else "channel"


@dataclass
class Shipment:
    payload: dict[str, Any]
    tries: int = 0


@dataclass
class Payment:
    due: float  # seconds from the run's start
    shop: ShopTarget
    no: str
    tries: int = 0


@dataclass
class Load:
    """What the users share in one run (one process, gevent: no locks needed)."""

    plan: Plan
    started: float = 0.0  # time.monotonic() at the start
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    draining: bool = False
    stopping: bool = False
    created: int = 0
    paid: int = 0
    shipped: int = 0  # shipment callbacks OrderHub took
    shipments_given_up: int = 0
    moved_by_others: int = 0  # orders of the run the simulators' own flow paid or cancelled
    late_slots: Counter[str] = field(default_factory=Counter)
    payments: deque[Payment] = field(default_factory=deque)
    placed: dict[str, list[str]] = field(default_factory=dict)  # shop code -> channel order nos
    confirmations: deque[Shipment] = field(default_factory=deque)
    error_examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _refilling: bool = False
    _wms_idle_until: float = 0.0

    def __post_init__(self) -> None:
        profile: Profile = self.plan.the_profile
        self.orders = Pacer(self.plan.base_per_s, self.plan.load_s, profile)
        # The warehouse keeps shipping while the run drains: its schedule never ends early.
        self.shipping = Pacer(
            self.plan.peak_per_s * SHIP_CAPACITY,
            float("inf"),
            Profile("warehouse", 1.0, "a constant rate"),
        )
        self.rng = random.Random(11)
        self.weights = [s.weight for s in self.plan.shops]

    def now(self) -> float:
        return time.monotonic() - self.started

    @property
    def since(self) -> datetime:
        """The earliest creation time an order of the run can carry: some channels keep whole
        seconds, so a second before the start."""
        return self.started_at.replace(microsecond=0) - timedelta(seconds=1)

    def wait_for(self, slot: float, stream: str) -> None:
        lag = self.now() - slot
        if lag > LATE_AFTER_S:
            self.late_slots[stream] += 1
        elif lag < 0:
            gevent.sleep(-lag)

    def pick_shop(self) -> ShopTarget:
        return self.rng.choices(self.plan.shops, weights=self.weights)[0]

    def due_payment(self) -> Payment | None:
        """The oldest order whose buyer pays now, waiting for it; None once nothing is left to
        pay and no more orders come."""
        while not self.stopping:
            if self.payments and self.payments[0].due <= self.now():
                return self.payments.popleft()
            if self.draining and not self.payments:
                return None
            gevent.sleep(0.02)
        return None

    def next_shipment(self, refill: Callable[[int], list[dict[str, Any]]]) -> Shipment | None:
        """A shipment to tell OrderHub: from the buffer, else shipped now at the WMS (one user
        asks at a time; after an empty answer the others skip for a moment)."""
        if self.confirmations:
            return self.confirmations.popleft()
        if self._refilling or self.now() < self._wms_idle_until:
            return None
        self._refilling = True
        try:
            batch = max(1, int(self.shipping.base_per_s * 0.25))
            fresh = refill(batch)
        finally:
            self._refilling = False
        if not fresh:
            self._wms_idle_until = self.now() + 0.2
            return None
        self.confirmations.extend(Shipment(p) for p in fresh)
        return self.confirmations.popleft() if self.confirmations else None

    def record_example(self, name: str, error: str, example: str) -> None:
        kept = self.error_examples.setdefault((name, error), [])
        if len(kept) < EXAMPLES_PER_ERROR:
            kept.append(example[:300])


def user_classes(load: Load) -> list[type[FastHttpUser]]:
    """The user classes of one run, bound to `load`, each with its fixed number of users."""
    plan = load.plan
    auth = {"Authorization": f"Bearer {plan.token}"}
    warehouse = plan.warehouse
    callback_path = f"/api/v1/wms/{warehouse.code}/callbacks"

    class Client(FastHttpUser):
        """What every user shares: OrderHub's address. (The client retries no POST by itself,
        RFC 9110's rule for methods that are not idempotent; the streams decide what to send
        again.)"""

        abstract = True
        host = plan.url

    class Buyer(Client):
        fixed_count = plan.users
        wait_time = constant(0)

        @task
        def place_order(self) -> None:
            slot = load.orders.take()
            if slot is None:
                gevent.sleep(0.2)  # the run is draining: no more orders
                return
            load.wait_for(slot, "orders")
            shop = load.pick_shop()
            with self.client.post(
                f"{shop.url}/_sim/orders",
                json={"count": 1, "paid": False},
                name=f"{shop.channel}: new order",
                catch_response=True,
            ) as answer:
                if answer.ok:
                    no = answer.json()["created"][0]
                    load.created += 1
                    load.placed.setdefault(shop.code, []).append(no)
                    due = load.now() + plan.the_profile.pay_after_s
                    load.payments.append(Payment(due, shop, no))

    class Payer(Client):
        fixed_count = plan.users
        wait_time = constant(0)

        @task
        def pay(self) -> None:
            payment = load.due_payment()
            if payment is None:
                gevent.sleep(0.2)
                return
            shop = payment.shop
            with self.client.post(
                f"{shop.url}/_sim/orders/{payment.no}/pay",
                name=f"{shop.channel}: payment",
                catch_response=True,
            ) as answer:
                if answer.ok:
                    load.paid += 1
                elif answer.status_code == 0 and payment.tries < CALLBACK_TRIES - 1:
                    # No answer at all (a keep-alive connection closed under the request; POSTs
                    # are not retried by the client): the buyer tries again, which is safe, as
                    # a second payment of a paid order answers 409. The failure still counts.
                    payment.tries += 1
                    load.payments.appendleft(payment)
                elif answer.status_code == 409:
                    # Not waiting for a payment any more: our own first try went through after
                    # all, or the simulator's own buyers (its background flow,
                    # ORDERHUB_SIMULATOR_RATE) paid or cancelled it first.
                    answer.success()
                    if payment.tries:
                        load.paid += 1
                    else:
                        load.moved_by_others += 1

    class WarehouseHand(Client):
        # it works at SHIP_CAPACITY x the order rate, so it gets as many more hands
        fixed_count = round(plan.users * SHIP_CAPACITY)
        wait_time = constant(0)

        def _ship_now(self, count: int) -> list[dict[str, Any]]:
            with self.client.post(
                f"{warehouse.wms_url}/_sim/ship",
                json={"count": count, "callback": False},
                name=f"{WMS}: ship",
                catch_response=True,
            ) as answer:
                if not answer.ok:
                    return []
                confirmations: list[dict[str, Any]] = answer.json()["confirmations"]
                return confirmations

        @task
        def ship(self) -> None:
            slot = load.shipping.take()
            assert slot is not None  # an endless schedule
            load.wait_for(slot, "shipments")
            shipment = load.next_shipment(self._ship_now)
            if shipment is None:
                return
            body = qm.encode(shipment.payload)
            query = qm.signed_query(qm.CONFIRM, body, warehouse.credentials, datetime.now(UTC))
            name = f"{ORDERHUB}: deliveryorder.confirm"
            with self.client.post(
                callback_path,
                params=query,
                data=body,  # type: ignore[arg-type]  # bytes go out as they are: signed so
                headers={"Content-Type": qm.CONTENT_TYPE},
                name=name,
                catch_response=True,
            ) as answer:
                refused = _qimen_refusal(answer.content) if answer.ok else None
                if answer.ok and refused is None:
                    load.shipped += 1
                    return
                if refused is not None:
                    answer.failure(f"flag=failure: {refused}")
                shipment.tries += 1
                if shipment.tries < CALLBACK_TRIES:
                    load.confirmations.append(shipment)  # sent again, as the WMS would
                else:
                    load.shipments_given_up += 1

    classes: list[type[FastHttpUser]] = [Buyer, Payer, WarehouseHand]
    if plan.approve:
        classes.append(_review_desk(load, auth))
    return classes


def _review_desk(load: Load, auth: dict[str, str]) -> type[FastHttpUser]:
    plan = load.plan

    class ReviewDesk(FastHttpUser):
        """Approves the run's orders waiting in review, up to 500 at a time, once a second."""

        host = plan.url
        fixed_count = 1
        wait_time = constant_pacing(1.0)

        @task
        def approve(self) -> None:
            since = load.since.isoformat()
            with self.client.get(
                "/api/v1/orders",
                params={"status": "pending_review", "created_from": since, "limit": 500},
                headers=auth,
                name=f"{ORDERHUB}: list in review",
                catch_response=True,
            ) as listed:
                if not listed.ok:
                    return
                ids = [o["id"] for o in listed.json()["items"]]
            if not ids:
                return
            with self.client.post(
                "/api/v1/orders/actions/approve",
                json={"order_ids": ids},
                headers=auth,
                name=f"{ORDERHUB}: approve batch",
                catch_response=True,
            ) as approved:
                if not approved.ok:
                    return
                refused = [r for r in approved.json()["results"] if not r["ok"]]
                if refused:
                    first = refused[0]
                    approved.failure(
                        f"{len(refused)} of {len(ids)} refused, e.g. order {first['order_id']}: "
                        f"{first.get('error_code')}"
                    )

    return ReviewDesk


def _qimen_refusal(content: bytes | None) -> str | None:
    """None when OrderHub answered success, else its message."""
    try:
        fields = qm.read_response(content or b"")
    except (ValueError, json.JSONDecodeError):
        return "the answer is not Qimen JSON"
    if str(fields.get("flag")) == "success":
        return None
    return str(fields.get("message") or fields.get("code") or "failure")
