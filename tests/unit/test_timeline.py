from __future__ import annotations

from datetime import timedelta

from orderhub.domain.timeline import OrderEvent, stays, time_in_states
from orderhub.domain.transitions import OrderStatus as S
from tests.factories import T0


def _move(frm: S | None, to: S, minutes: int, action: str = "x") -> OrderEvent:
    return OrderEvent(
        action=action,
        from_status=frm,
        to_status=to,
        at=T0 + timedelta(minutes=minutes),
        actor_id="a",
        actor_name="a",
    )


def test_time_in_each_state_comes_from_the_timeline() -> None:
    events = [
        _move(None, S.PENDING_PAYMENT, 0),
        _move(S.PENDING_PAYMENT, S.PAID, 10),
        _move(S.PAID, S.PENDING_REVIEW, 10),
        _move(S.PENDING_REVIEW, S.PENDING_REVIEW, 20, action="edit"),
        _move(S.PENDING_REVIEW, S.ON_HOLD, 30),
        _move(S.ON_HOLD, S.PENDING_REVIEW, 90),
    ]
    totals = time_in_states(events, now=T0 + timedelta(minutes=100))
    assert totals == {
        S.PENDING_PAYMENT: timedelta(minutes=10),
        S.PAID: timedelta(0),
        S.PENDING_REVIEW: timedelta(minutes=30),  # 20 before the hold, 10 after
        S.ON_HOLD: timedelta(minutes=60),
    }


def test_the_current_stay_is_open_and_runs_to_now() -> None:
    events = [_move(None, S.PENDING_PAYMENT, 0), _move(S.PENDING_PAYMENT, S.PAID, 5)]
    last = stays(events, now=T0 + timedelta(minutes=8))[-1]
    assert last.status is S.PAID and last.left_at is None
    assert last.duration == timedelta(minutes=3)
