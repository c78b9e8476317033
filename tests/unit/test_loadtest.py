"""The load test's profiles, schedule and verdict: pure parts, no Locust and no server."""

from __future__ import annotations

from typing import Any

import pytest

from orderhub.loadtest.plan import Plan, ShopTarget, Targets, WarehouseTarget, users_for
from orderhub.loadtest.profiles import PROFILES, Pacer, daily_rate
from orderhub.loadtest.report import verdict

TARGETS = {"orders_per_s": 5.0, "p99_ms": 500.0, "max_error_rate": 0.001}


def _slots(pacer: Pacer) -> list[float]:
    slots = []
    while (slot := pacer.take()) is not None:
        slots.append(slot)
    return slots


def test_double11_offers_five_times_the_daily_averages_rate() -> None:
    pacer = Pacer(daily_rate(86_400), 60.0, PROFILES["double11"])
    slots = _slots(pacer)
    assert len(slots) == 300  # 1 order/s on average, x5, for 60 s
    assert slots[1] - slots[0] == pytest.approx(0.2)
    assert pacer.expected() == pytest.approx(300)


def test_normal_offers_the_daily_average() -> None:
    slots = _slots(Pacer(daily_rate(172_800), 10.0, PROFILES["normal"]))
    assert len(slots) == 20


def test_the_midnight_rush_doubles_the_peak_for_the_first_tenth_of_the_run() -> None:
    profile = PROFILES["double11-midnight"]
    assert profile.factor_at(0.05) == 10.0 and profile.factor_at(0.5) == 5.0
    assert profile.mean_factor() == pytest.approx(5.5)
    slots = _slots(Pacer(daily_rate(86_400), 100.0, profile))
    assert sum(1 for s in slots if s < 10) == pytest.approx(100, abs=1)
    assert len(slots) == pytest.approx(550, abs=1)


def _result(*, shipped: int, p99: float | None, failures: int, requests: int = 1000) -> Any:
    return {
        "load_s": 100.0,
        "orders": {"shipped_in_orderhub": shipped},
        "requests": [
            {"name": "orderhub: deliveryorder.confirm", "target": "orderhub", "p99_ms": 90.0},
            {"name": "orderhub: approve batch", "target": "orderhub", "p99_ms": p99},
            {"name": "wms: ship", "target": "wms", "p99_ms": 9000.0},
        ],
        "all_requests": {"requests": requests, "failures": failures},
    }


def test_a_run_that_meets_every_target_passes() -> None:
    decided = verdict(_result(shipped=500, p99=120.0, failures=1), TARGETS)
    assert decided["passed"] is True
    assert [c["measured"] for c in decided["checks"]] == [5.0, 120.0, 0.001]


def test_the_latency_target_holds_for_the_slowest_kind_of_orderhub_request() -> None:
    decided = verdict(_result(shipped=500, p99=700.0, failures=0), TARGETS)
    latency = next(c for c in decided["checks"] if c["name"] == "OrderHub p99")
    assert latency["passed"] is False and latency["measured"] == 700.0
    assert latency["detail"] == "slowest: orderhub: approve batch"


def test_a_run_in_which_no_request_reached_orderhub_fails_the_latency_target() -> None:
    result = _result(shipped=500, p99=None, failures=0)
    result["requests"] = [r for r in result["requests"] if r["target"] != "orderhub"]
    latency = next(c for c in verdict(result, TARGETS)["checks"] if c["name"] == "OrderHub p99")
    assert latency["passed"] is False and latency["measured"] is None


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        (_result(shipped=499, p99=120.0, failures=0), "throughput"),
        (_result(shipped=500, p99=510.0, failures=0), "OrderHub p99"),
        (_result(shipped=500, p99=120.0, failures=2), "error rate"),
    ],
)
def test_a_run_that_misses_one_target_fails_naming_it(result: Any, failed: str) -> None:
    decided = verdict(result, TARGETS)
    assert decided["passed"] is False
    assert [c["name"] for c in decided["checks"] if not c["passed"]] == [failed]


def test_the_plan_survives_the_trip_to_the_load_process() -> None:
    plan = Plan(
        url="http://127.0.0.1:8000",
        token="oh_x",
        profile="double11",
        daily_orders=100_000,
        load_s=600,
        drain_s=60,
        users=users_for(5.8),
        approve=True,
        targets=Targets(5.5, 1000, 0.001),
        shops=(ShopTarget("taobao-demo", "taobao", "http://127.0.0.1:9104", 45.0),),
        warehouse=WarehouseTarget("WH-MAIN", "http://127.0.0.1:9109", "k", "c", "s"),
        restocked={"MUG-350": 20_000},
    )
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert again.offered_per_s == pytest.approx(100_000 / 86_400 * 5)
    assert again.warehouse.credentials.secret == "s"
