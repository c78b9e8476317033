"""Runs one load test with Locust as a library and gathers its result (a JSON-ready dict).

Imports Locust: only the load process (`python -m orderhub.loadtest`) imports this module.

The run has two phases. Load: the three streams follow the profile for `load_s` seconds.
Drain: no new orders; payments already due are made, the warehouse keeps shipping and the desk
keeps approving, until OrderHub holds every order the run placed and none of them waits in a
state the chain moves on by itself, or `drain_s` runs out. Then the backlog is read once more.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import gevent
import httpx
from locust.env import Environment
from locust.stats import StatsEntry

from orderhub.loadtest.plan import Plan
from orderhub.loadtest.progress import Progress
from orderhub.loadtest.report import DONE_STATES, MOVING_STATES, SHIPPED_STATES
from orderhub.loadtest.users import ORDERHUB, Load, request_target, user_classes

COUNTS_EVERY_S = 2.0


class Monitor:
    """Reads the run's orders per state from OrderHub every few seconds (its own client, so
    these reads are not counted among the load's requests)."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.http = httpx.Client(
            base_url=load.plan.url,
            headers={"Authorization": f"Bearer {load.plan.token}"},
            timeout=30.0,
        )
        self.total = 0
        self.by_status: dict[str, int] = {}
        self.error: str | None = None
        # The run's orders: placed from its start to the end of the load phase, once known.
        self.until: datetime | None = None

    @property
    def since(self) -> datetime:
        return self.load.since

    def read(self) -> None:
        params = {"created_from": self.since.isoformat()}
        if self.until is not None:
            params["created_to"] = self.until.isoformat()
        try:
            response = self.http.get("/api/v1/orders/counts", params=params)
            response.raise_for_status()
        except httpx.HTTPError as error:
            self.error = f"GET /api/v1/orders/counts failed: {error}"
            return
        counts = response.json()
        self.total, self.by_status, self.error = counts["total"], counts["by_status"], None

    def outbox(self) -> list[dict[str, Any]]:
        try:
            response = self.http.get("/api/v1/outbox/counts")
            response.raise_for_status()
        except httpx.HTTPError:
            return []
        rows: list[dict[str, Any]] = response.json()
        return rows

    def quarantined(self) -> dict[str, Any]:
        """Payloads of the run OrderHub could not take in and kept aside (the newest 500 open
        ones are looked at); None when the token may not read the quarantine."""
        try:
            response = self.http.get("/api/v1/quarantine", params={"limit": 500})
            response.raise_for_status()
        except httpx.HTTPError:
            return {"count": None, "examples": []}
        since = self.since.isoformat()
        # received_at is ISO 8601 in UTC on both sides, so the strings compare as times
        ours = [q for q in response.json() if _utc(q["received_at"]) >= since]
        return {
            "count": len(ours),
            "examples": [
                f"{q['channel']} {q['channel_order_no']}: {q['reason'][:200]}" for q in ours[:3]
            ],
        }

    def run(self) -> None:
        while not self.load.stopping:
            self.read()
            gevent.sleep(COUNTS_EVERY_S)

    def moving(self) -> int:
        return sum(n for s, n in self.by_status.items() if s in MOVING_STATES)

    def close(self) -> None:
        self.http.close()


def _utc(text: str) -> str:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).isoformat()


def _drained(load: Load, monitor: Monitor) -> bool:
    if load.payments or load.confirmations:
        return False
    monitor.read()
    return monitor.error is None and monitor.total >= load.created and monitor.moving() == 0


def run(plan: Plan, *, live: bool) -> dict[str, Any]:
    load = Load(plan)
    classes = user_classes(load)
    env = Environment(user_classes=list(classes))
    env.events.request.add_listener(_examples(load))  # type: ignore[no-untyped-call]
    runner = env.create_local_runner()
    monitor = Monitor(load)
    progress = Progress(load, env.stats, monitor, live=live)
    users = sum(int(getattr(c, "fixed_count", 0)) for c in classes)
    load.started, load.started_at = time.monotonic(), datetime.now(UTC)
    # Locust warns above 100 users a second; more users than that start within a second or two
    # and meanwhile the ones started take the schedule's slots.
    runner.start(users, spawn_rate=min(users, 100))
    watchers = [gevent.spawn(monitor.run), gevent.spawn(progress.run)]
    try:
        gevent.sleep(plan.load_s)
        load.draining = True
        monitor.until = datetime.now(UTC) + timedelta(seconds=1)
        deadline = time.monotonic() + plan.drain_s
        drained = False
        while time.monotonic() < deadline:
            if _drained(load, monitor):
                drained = True
                break
            gevent.sleep(0.5)
        drain_s = load.now() - plan.load_s
        load.stopping = True
        runner.quit()
        gevent.joinall(watchers, timeout=5)
        monitor.read()
        outbox, quarantined = monitor.outbox(), monitor.quarantined()
    finally:
        load.stopping = True
        progress.close()
        monitor.close()
    return _result(plan, load, env, monitor, outbox, quarantined, drain_s=drain_s, drained=drained)


def _examples(load: Load) -> Any:
    def on_request(
        request_type: str,
        name: str,
        response: Any,
        exception: BaseException | None,
        **_: Any,
    ) -> None:
        if exception is None:
            return
        body = getattr(response, "text", None) or ""
        status = getattr(response, "status_code", None)
        load.record_example(name, str(exception), f"HTTP {status}: {body}".strip())

    return on_request


def _entry(entry: StatsEntry, seconds: float) -> dict[str, Any]:
    count = entry.num_requests
    return {
        "name": entry.name,
        "target": request_target(entry.name),
        "requests": count,
        "failures": entry.num_failures,
        "requests_per_s": round(count / seconds, 2) if seconds else 0.0,
        "p50_ms": entry.get_response_time_percentile(0.5) if count else None,
        "p99_ms": entry.get_response_time_percentile(0.99) if count else None,
        "max_ms": round(entry.max_response_time, 1) if count else None,
    }


def _overall(env: Environment, name: str, entries: list[StatsEntry], seconds: float) -> Any:
    total = StatsEntry(env.stats, name, "", use_response_times_cache=False)
    for entry in entries:
        total.extend(entry)
    return _entry(total, seconds)


def _result(
    plan: Plan,
    load: Load,
    env: Environment,
    monitor: Monitor,
    outbox: list[dict[str, Any]],
    quarantined: dict[str, Any],
    *,
    drain_s: float,
    drained: bool,
) -> dict[str, Any]:
    seconds = plan.load_s + drain_s
    entries = sorted(env.stats.entries.values(), key=lambda e: e.name)
    ours = [e for e in entries if request_target(e.name) == ORDERHUB]
    errors = [
        {
            "request": e.name,
            "error": str(e.error),
            "count": e.occurrences,
            "examples": load.error_examples.get((e.name, str(e.error)), []),
        }
        for e in sorted(env.stats.errors.values(), key=lambda e: -e.occurrences)
    ]
    by_status = dict(sorted(monitor.by_status.items()))
    shipped_in_orderhub = sum(n for s, n in by_status.items() if s in SHIPPED_STATES)
    return {
        "profile": plan.profile,
        "multiplier": plan.the_profile.multiplier,
        "daily_orders": plan.daily_orders,
        "offered_orders_per_s": round(plan.offered_per_s, 3),
        "peak_orders_per_s": round(plan.peak_per_s, 3),
        "url": plan.url,
        "shops": [asdict(s) for s in plan.shops],
        "warehouse": plan.warehouse.code,
        "restocked": plan.restocked,
        "started_at": load.started_at.isoformat(),
        "load_s": plan.load_s,
        "drain_s": round(drain_s, 1),
        "drained": drained,
        "users_per_stream": plan.users,
        "orders": {
            "created": load.created,
            "paid": load.paid,
            "shipment_callbacks": load.shipped,
            "shipments_given_up": load.shipments_given_up,
            "moved_by_simulators": load.moved_by_others,
            "in_orderhub": monitor.total,
            "shipped_in_orderhub": shipped_in_orderhub,
        },
        "requests": [_entry(e, seconds) for e in entries],
        "orderhub_requests": _overall(env, "orderhub (all)", ours, seconds),
        "all_requests": _overall(env, "all", entries, seconds),
        "errors": errors,
        "backlog": {
            "by_status": by_status,
            "waiting": sum(n for s, n in by_status.items() if s not in DONE_STATES),
            "outbox_pending": [
                r for r in outbox if r.get("status") not in ("delivered", "superseded")
            ],
            "quarantined": quarantined,
            "read_error": monitor.error,
        },
        "generator": {
            "late_slots": dict(load.late_slots),
            "order_slots": load.orders.handed,
        },
    }
