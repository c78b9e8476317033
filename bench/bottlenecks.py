"""Bottleneck report benchmark: the dwell report over 1,000,000 orders' stays, against a bare scan.

Set-up (not timed): a fresh database (the project's migration; SQLite in a temporary directory,
or PostgreSQL with --database-url) filled straight from Python (executemany on SQLite, COPY on
PostgreSQL; the report tables' indexes dropped for the load and built once after it) with ORDERS
orders placed over the WEEK before a fixed "now", each taken through the flow as far as its age
allows: a stay per state left (about 5.5 an order), a hop per system reached (payment ->
hand-off -> shipped -> delivered), a row per stay and tag, and the order row in the state it is
in now (status, state_since). Some orders are held or raise an exception on the way. The time at
the warehouse (sent_to_warehouse) is made the slowest step.

Measured, each the median of REPEAT runs:

  report    services.bottlenecks.report over the whole week, for every segmentation (none,
            channel, shop, warehouse, order_type, tag): counts, exact p50/p90/p99 and max per
            step and segment value, the waiting orders, the slowest orders. `report_ms` is the
            mean over the segmentations; `report_ms_by` has each, `report_1d_ms` the last day.
  raw       SELECT step, count(*) FROM state_stays WHERE left_at in the week GROUP BY step on a
            bare DBAPI connection: one scan of the same rows, no percentile.
            `ratio` = report_ms / raw_ms.

The report's figures for all orders are checked against exact percentiles worked out in Python
from the generated stays; the run exits 1 when one differs or the slowest step is not named.
Progress goes to stderr; the last line of stdout is one JSON object. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import Engine, text

from channels import fresh_database
from orderhub.bootstrap import bootstrap
from orderhub.config import Settings
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.bottlenecks import PERCENTILES, StepKind, bucket_of, percentile
from orderhub.permissions import permissions_of
from orderhub.services import bottlenecks
from orderhub.storage.tables import orders, state_stay_tags, state_stays

FULL, QUICK = 1_000_000, 50_000
REPEAT = 3
NOW = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
ADMIN = Actor(
    id="bench",
    name="bench",
    kind=ActorKind.SYSTEM,
    role="admin",
    permissions=permissions_of("admin"),
)
CHANNELS = [("taobao", 40), ("jd", 25), ("pdd", 20), ("shopify", 10), ("manual", 5)]
TYPES = [("normal", 80), ("cross_border", 10), ("presale", 5), ("live_stream", 5)]
WAREHOUSES = ["WH-HZ", "WH-SH", "WH-GZ", "WH-CD", "WH-BJ"]
SEGMENTS = (None, "channel", "shop", "warehouse", "order_type", "tag")
M, H = 60.0, 3600.0
# The way through the flow and the median stay in each state (log-normal around it); the
# warehouse is slow on purpose, and cross-border orders wait longer there.
FLOW = [
    ("pending_payment", 4 * M),
    ("paid", 0.0),
    ("pending_review", 15 * M),
    ("approved", 2 * M),
    ("allocated", 8 * M),
    ("sent_to_warehouse", 3 * H),
    ("picking", 35 * M),
    ("shipped", 30 * H),
    ("delivered", 40 * H),
]
# The hop each milestone ends, and the milestone it starts from.
START_OF = {"handoff": "paid", "shipped": "handoff", "delivered": "shipped"}
HOP_OF = {
    "handoff": "payment_to_handoff",
    "shipped": "handoff_to_shipped",
    "delivered": "shipped_to_delivered",
}


def log(message: str) -> None:
    print(f"[bottlenecks] {message}", file=sys.stderr, flush=True)


class FixedClock:
    def now(self) -> datetime:
        return NOW


# --- the data ------------------------------------------------------------------------------------


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _stay_s(rng: random.Random, state: str, median: float, order_type: str) -> float:
    if median == 0.0:
        return 0.0
    if state == "sent_to_warehouse" and order_type == "cross_border":
        median *= 3
    return round(median * math.exp(rng.gauss(0, 0.8)), 3)


def plan(rng: random.Random, n: int) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """One order taken through the flow from its creation to NOW: its row and its stays
    (kind, step, entered, left, seconds)."""
    channel = _pick(rng, CHANNELS)
    order_type = _pick(rng, TYPES)
    tags = [
        t for t, share in (("vip", 0.2), ("urgent", 0.05), ("gift", 0.1)) if rng.random() < share
    ]
    at = NOW - WEEK * rng.random()
    stays: list[tuple[Any, ...]] = []
    state, since = "pending_payment", at
    # The milestones the hops run between, as the order's paid_at, handed_off_at, shipped_at.
    reached: dict[str, datetime] = {}
    path = list(FLOW)
    if rng.random() < 0.03:  # held in review, then back to review
        path[3:3] = [("on_hold", 1 * H), ("pending_review", 10 * M)]
    elif rng.random() < 0.02:  # an exception at the warehouse, resolved back to it
        path[6:6] = [("exception", 1 * H), ("sent_to_warehouse", 30 * M)]
    for (state, median), (following, _) in zip(path, [*path[1:], ("completed", 0.0)], strict=True):
        left = since + timedelta(seconds=_stay_s(rng, state, median, order_type))
        if left > NOW:
            break
        stays.append(("state", state, since, left, (left - since).total_seconds()))
        # Only the actions reach a milestone (pay, send, ship, deliver), not a return to it.
        milestone = {"paid": "paid", "shipped": "shipped", "delivered": "delivered"}.get(following)
        if following == "sent_to_warehouse" and state != "exception":
            milestone = "handoff"
        start = START_OF.get(milestone or "")
        if milestone in HOP_OF and start in reached:
            begun = reached[start]
            stays.append(("hop", HOP_OF[milestone], begun, left, (left - begun).total_seconds()))
        if milestone:
            reached[milestone] = left
        state, since = following, left
    paid_at = reached.get("paid")
    row = {
        "id": n,
        "channel": channel,
        "channel_order_no": f"B{n:09d}",
        "shop": f"{channel}-{n % 10}",
        "order_type": order_type,
        "status": state,
        "payment_status": "paid" if paid_at else "unpaid",
        "currency": "CNY",
        "goods_total": 9900,
        "shipping_fee": 0,
        "discount": 0,
        "tax": 0,
        "paid_total": 9900,
        "receiver_name": "张三",
        "receiver_phone": "13800001234",
        "receiver_province": "浙江省",
        "receiver_city": "杭州市",
        "receiver_district": "西湖区",
        "receiver_address": "文三路 90 号",
        "receiver_masked": False,
        "tags": json.dumps(tags),
        "priority": 0,
        "never_merge": False,
        "custom_fields": "{}",
        "created_at": at,
        "paid_at": paid_at,
        "updated_at": since,
        "state_since": since,
        "version": 1,
        # What the report copies onto the stays; a warehouse from the allocation on.
        "_warehouse": WAREHOUSES[n % len(WAREHOUSES)],
        "_tags": tags,
    }
    return row, stays


def _columns(sample: dict[str, Any]) -> list[str]:
    """Every column of orders the bench fills; one NOT NULL without a value fails, named."""
    missing = [
        c.name
        for c in orders.c
        if c.name not in sample and not c.nullable and c.server_default is None
    ]
    if missing:
        raise SystemExit(f"orders has NOT NULL columns the bench does not fill: {missing}")
    return [c.name for c in orders.c if c.name in sample]


WAREHOUSE_FROM = {"allocated", "sent_to_warehouse", "picking", "shipped", "delivered", "exception"}
WAREHOUSE_FROM |= {"payment_to_handoff", "handoff_to_shipped", "shipped_to_delivered"}


class Loader:
    """Rows in batches, straight to the driver; the finished stays kept for the check."""

    def __init__(self, engine: Engine) -> None:
        self.postgres = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        self.cursor = self.raw.cursor()
        if not self.postgres:
            self.cursor.execute("PRAGMA synchronous=OFF")
            self.cursor.execute("BEGIN")
        self.batches: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self.columns: list[str] = []
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.stays = 0

    def add(self, row: dict[str, Any], stays: list[tuple[Any, ...]]) -> None:
        if not self.columns:
            self.columns = _columns({k: v for k, v in row.items() if not k.startswith("_")})
        self.batches["orders"].append(tuple(row[c] for c in self.columns))
        segments = (row["channel"], row["shop"], row["order_type"])
        channel, shop, order_type = segments
        for kind, step, entered, left, seconds in stays:
            warehouse = row["_warehouse"] if step in WAREHOUSE_FROM else None
            bucket = bucket_of(seconds)
            stay = (row["id"], kind, step, entered, left, seconds, channel, shop, warehouse)
            self.batches["state_stays"].append((*stay, order_type, bucket))
            for tag in row["_tags"]:
                self.batches["state_stay_tags"].append(
                    (row["id"], tag, step, left, seconds, bucket)
                )
            self.seconds[step].append(seconds)
        self.stays += len(stays)
        if len(self.batches["orders"]) >= 20_000:
            self.flush()

    def flush(self) -> None:
        names = {
            "orders": self.columns,
            "state_stays": [c.name for c in state_stays.c if c.name != "id"],
            "state_stay_tags": [c.name for c in state_stay_tags.c if c.name != "id"],
        }
        for table, rows in self.batches.items():
            if not rows:
                continue
            if self.postgres:
                with self.cursor.copy(f"COPY {table} ({', '.join(names[table])}) FROM STDIN") as cp:
                    for r in rows:
                        cp.write_row(r)
            else:
                marks = ", ".join("?" for _ in names[table])
                self.cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(names[table])}) VALUES ({marks})",
                    [tuple(_sqlite(v) for v in r) for r in rows],
                )
            rows.clear()

    def close(self) -> None:
        self.flush()
        self.raw.commit()
        self.raw.close()


def _sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return int(value) if isinstance(value, bool) else value


def _report_indexes() -> list[Any]:
    return [*state_stays.indexes, *state_stay_tags.indexes]


def load(engine: Engine, count: int, seed: int) -> Loader:
    with engine.begin() as conn:
        for index in _report_indexes():
            index.drop(conn)
    rng = random.Random(seed)
    loader = Loader(engine)
    started = time.perf_counter()
    for n in range(1, count + 1):
        loader.add(*plan(rng, n))
        if n % 200_000 == 0:
            log(f"  {n} orders, {loader.stays} stays ({time.perf_counter() - started:.0f} s)")
    loader.close()
    log(f"loaded {count} orders, {loader.stays} stays; building the report indexes")
    with engine.begin() as conn:
        for index in _report_indexes():
            index.create(conn)
    if engine.dialect.name == "postgresql":
        # Index-only scans need the visibility map; autovacuum does this in life.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE orders, state_stays, state_stay_tags"))
    return loader


# --- measuring -----------------------------------------------------------------------------------


def median_ms(run: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1), result


def raw_scan(engine: Engine) -> Callable[[], Any]:
    since, until = NOW - WEEK, NOW
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    sql = f"SELECT step, count(*) FROM state_stays WHERE left_at >= {mark} AND left_at < {mark}"
    sql += " GROUP BY step"
    params: Any = (since, until)
    if engine.dialect.name == "sqlite":
        params = (_sqlite(since), _sqlite(until))

    def run() -> Any:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            raw.close()

    return run


def check(report: bottlenecks.BottleneckReport, seconds: dict[str, list[float]]) -> list[str]:
    """The report's figures for all orders against exact percentiles worked out here."""
    problems = []
    got = {f.step: f for f in report.steps}
    for step, values in seconds.items():
        values.sort()
        want = [len(values), *(percentile(values, p) for p in PERCENTILES), values[-1]]
        f = got.get(step)
        have = [f.count, f.p50, f.p90, f.p99, f.max] if f else None
        if have != want:
            problems.append(f"{step}: report {have}, computed {want}")
    if report.slowest_step is None or report.slowest_step.step != "sent_to_warehouse":
        problems.append(f"slowest step named {report.slowest_step}, not sent_to_warehouse")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"CI size: {QUICK} orders")
    parser.add_argument("--orders", type=int, help=f"orders (default {FULL})")
    parser.add_argument("--database-url", help="a PostgreSQL server (a fresh database on it)")
    parser.add_argument("--seed", type=int, default=11)
    opts = parser.parse_args()
    count = opts.orders or (QUICK if opts.quick else FULL)
    with (
        tempfile.TemporaryDirectory(prefix="orderhub-bottlenecks-") as tmp,
        fresh_database(opts.database_url, Path(tmp), "bottlenecks") as url,
    ):
        settings = Settings(
            database_url=url,
            secret_key="bench",
            credentials_key=Fernet.generate_key().decode(),
            log_level="WARNING",
        )
        hub = bootstrap(settings, clock=FixedClock())
        try:
            started = time.perf_counter()
            loader = load(hub.engine, count, opts.seed)
            load_s = time.perf_counter() - started
            log(f"set-up took {load_s:.0f} s; measuring ({REPEAT} runs each)")
            raw_ms, _ = median_ms(raw_scan(hub.engine))
            by_ms: dict[str, float] = {}
            reports: dict[str, Any] = {}
            for by in SEGMENTS:
                name = by or "none"
                by_ms[name], reports[name] = median_ms(
                    lambda by=by: bottlenecks.report(hub.uow, actor=ADMIN, since="7d", by=by)
                )
                log(f"  by {name}: {by_ms[name]} ms")
            day_ms, _ = median_ms(lambda: bottlenecks.report(hub.uow, actor=ADMIN, since="1d"))
        finally:
            hub.close()
    problems = check(reports["none"], loader.seconds)
    for problem in problems:
        log(f"WRONG: {problem}")
    report_ms = round(statistics.fmean(by_ms.values()), 1)
    slowest = reports["none"].slowest_step
    result = {
        "bench": "bottlenecks",
        "database": "postgresql" if opts.database_url else "sqlite",
        "orders": count,
        "stays": loader.stays,
        "report_ms": report_ms,
        "raw_ms": raw_ms,
        "ratio": round(report_ms / raw_ms, 2) if raw_ms else None,
        "report_ms_by": by_ms,
        "report_1d_ms": day_ms,
        "slowest_step": slowest.step if slowest else None,
        "slowest_step_p90_s": slowest.p90 if slowest else None,
        "hops": {f.step: f.p90 for f in reports["none"].steps if f.kind is StepKind.HOP},
        "figures_match": not problems,
        "load_s": round(load_s, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
