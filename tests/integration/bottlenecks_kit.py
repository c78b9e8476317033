"""A known data set for the bottleneck report, made through the real services with a fake clock.

Ten paid orders wait i x 10 minutes in review and i hours at the warehouse (i = 1..10), so every
percentile is known by hand (nearest rank: p50 of ten is the 5th, p90 the 9th, p99 the 10th);
order 11 is held for an hour and released, order 12 is in exception for half an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orderhub.bootstrap import Hub
from orderhub.domain.orders import PaymentStatus
from orderhub.domain.transitions import Action
from orderhub.services import orders
from tests.conftest import SETUP_ADMIN
from tests.factories import T0, an_order
from tests.unit.fakes import FakeClock

H = 3600.0


@dataclass
class Flow:
    hub: Hub
    clock: FakeClock
    ids: dict[int, int]


def _create(hub: Hub, no: int, **changes: Any) -> int:
    order = an_order(channel_order_no=f"B-{no}", payment_status=PaymentStatus.PAID, **changes)
    created = orders.create_order(hub.uow(), order, actor=SETUP_ADMIN, review_required=True)
    assert created.order.id is not None
    return created.order.id


def _act(hub: Hub, order_id: int, action: Action, **kwargs: Any) -> None:
    orders.apply_action(
        hub.uow(), order_id, action, actor=SETUP_ADMIN, review_required=True, **kwargs
    )


def _run(
    hub: Hub, clock: FakeClock, steps: list[tuple[datetime, int, Action, dict[str, Any]]]
) -> None:
    for at, order_id, action, kwargs in sorted(steps, key=lambda s: s[0]):
        clock.at = at
        _act(hub, order_id, action, **kwargs)


def make_flow(hub: Hub) -> Flow:
    """Orders 1..10 through review and the warehouse; 11 held and released; 12 in exception;
    the clock then stands at T0 + 12 hours."""
    clock = FakeClock(T0)
    hub.uow.clock = clock
    ids = {
        i: _create(
            hub,
            i,
            shop="east" if i % 2 else "west",
            tags=("vip",) if i % 2 == 0 else (),
        )
        for i in range(1, 13)
    }
    steps: list[tuple[datetime, int, Action, dict[str, Any]]] = []
    for i in range(1, 11):
        approved = T0 + timedelta(minutes=10 * i)
        handed = approved + timedelta(minutes=2)
        warehouse = "WH1" if i <= 5 else "WH2"
        steps += [
            (approved, ids[i], Action.APPROVE, {}),
            (
                approved + timedelta(minutes=1),
                ids[i],
                Action.ALLOCATE,
                {"params": {"warehouse": warehouse}},
            ),
            (handed, ids[i], Action.SEND_TO_WAREHOUSE, {}),
            (
                handed + timedelta(hours=i),
                ids[i],
                Action.SHIP,
                {"params": {"carrier": "SF", "tracking_no": f"SF{i}"}},
            ),
        ]
    steps += [
        (T0 + timedelta(minutes=5), ids[11], Action.HOLD, {"reason_code": "risk"}),
        (T0 + timedelta(minutes=65), ids[11], Action.RELEASE, {}),
        (T0 + timedelta(minutes=10), ids[12], Action.RAISE_EXCEPTION, {"reason_code": "other"}),
        (T0 + timedelta(minutes=40), ids[12], Action.RESOLVE, {}),
    ]
    _run(hub, clock, steps)
    clock.at = T0 + timedelta(hours=12)
    return Flow(hub, clock, ids)
