"""The simulated channel's orders with every version kept, and the faults it injects."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from orderhub.domain.mapping import ChannelState
from orderhub.integrations.channels.simkit.orders import OrderFactory, SimOrder, SimParcel


@dataclass
class Faults:
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_timeout: float = 0.0
    timeout_s: float = 3.0
    duplicate: float = 0.0
    out_of_order: float = 0.0
    drop_webhook: float = 0.0
    late_commit: float = 0.0
    late_commit_s: float = 20.0
    seed: int = 11

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        # How often each fault was injected, so a test can prove it met every one.
        self.hits: dict[str, int] = {}

    def roll(self, name: str) -> bool:
        rate = float(getattr(self, name))
        with self._lock:
            hit = rate > 0 and self._rng.random() < rate
            if hit:
                self.hits[name] = self.hits.get(name, 0) + 1
            return hit

    def update(self, values: dict[str, float]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {sorted(known)}")
        for name, value in values.items():
            setattr(self, name, value)


class ShipOutcome(StrEnum):
    """What a merchant's "it shipped" call finds; each simulator answers it in its own words."""

    SHIPPED = "shipped"  # moved to shipped now, as a new version
    REPEAT = "repeat"  # already shipped with this very tracking no
    SHIPPED_OTHER = "shipped_other"  # already shipped with another tracking no
    NOT_FOUND = "not_found"
    NOT_PAID = "not_paid"
    CLOSED = "closed"  # cancelled or refunded
    REFUND_PENDING = "refund_pending"  # paid, but the buyer asked for the money back
    NOT_IN_ORDER = "not_in_order"  # the parcel names a SKU or quantity that is not left to ship
    NOT_SHIPPED = "not_shipped"  # an extra waybill for an order that has not shipped yet


_SHIPPED_STATES = (ChannelState.PARTLY_SHIPPED, ChannelState.SHIPPED, ChannelState.COMPLETED)


class SimStore:
    """The channel's orders, every version kept, thread-safe. Times come from `now`."""

    def __init__(
        self,
        factory: OrderFactory,
        *,
        prefix: str,
        faults: Faults,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.factory, self.prefix, self.faults = factory, prefix, faults
        self.now = now or (lambda: datetime.now(UTC))
        self.orders: dict[str, SimOrder] = {}
        self.history: dict[str, list[SimOrder]] = {}
        self.listeners: list[Callable[[SimOrder, str], None]] = []
        self._lock = threading.RLock()
        self._serial = 0

    def _save(self, order: SimOrder, topic: str) -> SimOrder:
        with self._lock:
            self.orders[order.no] = order
            self.history.setdefault(order.no, []).append(order)
        for listener in self.listeners:
            listener(order, topic)
        return order

    def number_from(self, serial: int) -> None:
        """Number new orders after `serial`: a simulator started again beside the same database
        must not hand out the numbers of the orders its last run left there."""
        with self._lock:
            self._serial = max(self._serial, serial)

    def create(self, count: int, *, paid: bool | None = None) -> list[SimOrder]:
        """`paid` None: most buyers pay at once, as on an ordinary day; False: every order waits
        for its payment (`pay`), True: every order is paid as it is placed."""
        made = []
        for _ in range(count):
            with self._lock:
                self._serial += 1
                no = f"{self.prefix}{self._serial:09d}"
            at = self.now()
            if self.faults.roll("late_commit"):
                at -= timedelta(seconds=self.faults.late_commit_s)
            order = self.factory.make(no, at)
            pays_now = self.factory.rng.random() < 0.85 if paid is None else paid
            if pays_now:
                order = replace(order, state=ChannelState.PAID, paid_at=at)
            made.append(self._save(order, "create"))
        return made

    def pay(self, no: str) -> SimOrder | None:
        """The buyer pays `no` now; None when it is not waiting for a payment."""
        with self._lock:
            order = self.orders.get(no)
            if order is None or order.state is not ChannelState.AWAITING_PAYMENT:
                return None
            return self.change(no, state=ChannelState.PAID, paid_at=self.now())

    def change(self, no: str, **changes: Any) -> SimOrder:
        with self._lock:
            current = self.orders[no]
            at = max(self.now(), current.modified_at + timedelta(seconds=1))
            return self._save(
                replace(current, modified_at=at, version=current.version + 1, **changes), "update"
            )

    def ship(
        self,
        no: str,
        carrier: str,
        tracking_no: str,
        *,
        lines: Mapping[str, int] | None = None,
        ship_unpaid: bool = False,
        refund_blocks: bool = False,
    ) -> tuple[ShipOutcome, SimOrder | None]:
        """The merchant says a parcel of `no` left with `carrier` / `tracking_no`; checked and
        applied at once, so two concurrent calls cannot both ship.

        `lines` ({sku: quantity}) is what the parcel carried; None means everything still to
        ship. The order is shipped once nothing is left, partly shipped before. A parcel whose
        tracking no the order already has is a repeat. `ship_unpaid`: the channel lets a
        merchant ship before payment (Shopify's net terms); `refund_blocks`: a pending refund
        request stops it.
        """
        with self._lock:
            order = self.orders.get(no)
            if order is None:
                return ShipOutcome.NOT_FOUND, None
            if order.state is ChannelState.CANCELLED:
                return ShipOutcome.CLOSED, order
            if order.has_parcel(tracking_no) or (
                order.state in _SHIPPED_STATES and order.tracking_no == tracking_no
            ):
                return ShipOutcome.REPEAT, order
            if order.state in (ChannelState.SHIPPED, ChannelState.COMPLETED):
                return ShipOutcome.SHIPPED_OTHER, order
            if order.state is ChannelState.AWAITING_PAYMENT and not ship_unpaid:
                return ShipOutcome.NOT_PAID, order
            if order.refund_requested and refund_blocks:
                return ShipOutcome.REFUND_PENDING, order
            left = order.remaining()
            wanted = dict(lines) if lines else left
            if not wanted or any(not 0 < q <= left.get(sku, 0) for sku, q in wanted.items()):
                return ShipOutcome.NOT_IN_ORDER, order
            return ShipOutcome.SHIPPED, self._add_parcel(order, carrier, tracking_no, wanted)

    def _add_parcel(
        self, order: SimOrder, carrier: str, tracking_no: str, lines: Mapping[str, int]
    ) -> SimOrder:
        parcel = SimParcel(carrier, tracking_no, tuple(sorted(lines.items())))
        done = all(q <= lines.get(sku, 0) for sku, q in order.remaining().items())
        first = order.parcels[0] if order.parcels else parcel
        return self.change(
            order.no,
            state=ChannelState.SHIPPED if done else ChannelState.PARTLY_SHIPPED,
            carrier=first.carrier,
            tracking_no=first.tracking_no,
            parcels=(*order.parcels, parcel),
        )

    def extra_parcel(self, no: str, carrier: str, tracking_no: str) -> ShipOutcome:
        """A waybill told beside an order that already shipped (PDD's extra waybills): kept as a
        parcel without contents; the order's state does not change. A repeat adds nothing."""
        with self._lock:
            order = self.orders.get(no)
            if order is None:
                return ShipOutcome.NOT_FOUND
            if order.state is ChannelState.CANCELLED:
                return ShipOutcome.CLOSED
            if order.state not in _SHIPPED_STATES:
                return ShipOutcome.NOT_SHIPPED
            if order.has_parcel(tracking_no) or order.tracking_no == tracking_no:
                return ShipOutcome.REPEAT
            extra = SimParcel(carrier, tracking_no, extra=True)
            self.change(no, parcels=(*order.parcels, extra))
            return ShipOutcome.SHIPPED

    def refund(self, no: str) -> SimOrder:
        """The buyer is refunded in full before shipping (or an unpaid order is closed)."""
        with self._lock:
            order = self.orders[no]
            return self.change(
                no, state=ChannelState.CANCELLED, refund_requested=order.paid_at is not None
            )

    def advance(self, count: int, *, ship: bool = True) -> list[SimOrder]:
        """Move `count` open orders one step on, as buyers and the platform would.

        `ship=False` leaves shipping to the merchant (OrderHub): a platform that ships on its own
        is the "platform already shipped" case, worth testing but not the everyday flow.
        """
        rng = self.factory.rng
        with self._lock:
            open_orders = [
                o
                for o in self.orders.values()
                if o.state not in (ChannelState.COMPLETED, ChannelState.CANCELLED)
            ]
        moved = []
        for order in rng.sample(open_orders, min(count, len(open_orders))):
            if order.state is ChannelState.AWAITING_PAYMENT:
                if rng.random() < 0.2:
                    moved.append(self.change(order.no, state=ChannelState.CANCELLED))
                else:
                    moved.append(self.change(order.no, state=ChannelState.PAID, paid_at=self.now()))
            elif order.state is ChannelState.PAID and rng.random() < 0.1:
                moved.append(self.change(order.no, refund_requested=True))
            elif order.state in (ChannelState.PAID, ChannelState.PARTLY_SHIPPED) and not ship:
                continue
            elif order.state in (ChannelState.PAID, ChannelState.PARTLY_SHIPPED):
                tracking_no = f"SF{rng.randrange(10**12):012d}"
                with self._lock:
                    current = self.orders[order.no]
                    if current.state in (ChannelState.PAID, ChannelState.PARTLY_SHIPPED):
                        rest = current.remaining()
                        moved.append(self._add_parcel(current, "SF", tracking_no, rest))
            else:
                moved.append(self.change(order.no, state=ChannelState.COMPLETED))
        return moved

    def changed(self, since: datetime, until: datetime) -> list[SimOrder]:
        """Current versions modified in [since, until), oldest first (the channel's list call)."""
        with self._lock:
            found = [o for o in self.orders.values() if since <= o.modified_at < until]
        return sorted(found, key=lambda o: (o.modified_at, o.no))

    def with_faults(self, page: list[SimOrder]) -> list[SimOrder]:
        """The page as a flaky channel serves it: repeats and stale versions mixed in."""
        served: list[SimOrder] = []
        for order in page:
            served.append(order)
            older = self.history.get(order.no, [])[:-1]
            if older and self.faults.roll("out_of_order"):
                served.append(older[-1])  # an older version after the newer one
            if self.faults.roll("duplicate"):
                served.append(order)
        return served
