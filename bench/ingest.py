"""Ingest benchmark: how fast new orders get into the pool, against plain sqlite3 as the ceiling.

One run measures, each on its own fresh SQLite file:
  raw      plain `sqlite3`, the same schema and pragmas, exactly the rows `create_order` leaves
           (order, lines, tags, two timeline events, two outbox messages, the finished stay in
           paid), one BEGIN...COMMIT each
  service  `services.orders.create_order` in a loop, no HTTP; SQL statements counted per order
  http     POST /api/v1/orders through uvicorn (subprocess, one worker), driven by wrk; then wrk
           again, throttled to half that rate, for the p99 latency
Progress goes to stderr; the last line of stdout is one JSON object. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

import ingest_http
from ingest_http import log
from orderhub.api.order_models import OrderIn
from orderhub.bootstrap import Hub, bootstrap
from orderhub.config import Settings
from orderhub.domain.actors import Actor
from orderhub.domain.orders import Order
from orderhub.passwords import Argon2Hasher
from orderhub.services import accounts
from orderhub.services.orders import create_order
from orderhub.storage.database import make_engine, migrate
from orderhub.storage.tables import (
    order_events,
    order_lines,
    order_tags,
    orders,
    outbox,
    state_stays_pending,
)

FULL_ORDERS, QUICK_ORDERS = 20_000, 1_000
FULL_DURATION_S, QUICK_DURATION_S = 20.0, 3.0
WARMUP_ORDERS = 50
BLOCK = 500  # orders per alternating raw / service block
CHEAP_HASHER = Argon2Hasher(time_cost=1, memory_cost_kib=8192)


# --- the order every phase writes -------------------------------------------------------------


def order_body(no: str) -> dict[str, Any]:
    """A paid two-line channel order with tags: what a channel pull or push typically brings."""
    return {
        "channel": "taobao",
        "channel_order_no": no,
        "shop": "bench-shop",
        "status": "paid",
        "payment_method": "alipay",
        "transaction_no": "2026112522001400001",
        "paid_at": "2026-11-25T08:00:05+08:00",
        "created_at": "2026-11-25T08:00:00+08:00",
        "currency": "CNY",
        "amounts": {
            "goods_total": 25800,
            "shipping_fee": 1000,
            "discount": 800,
            "tax": 0,
            "paid_total": 26000,
        },
        "lines": [
            {"sku": "TEE-BLK-M", "title": "纯棉T恤 黑色 M", "quantity": 2, "unit_price": 9900},
            {"sku": "CAP-RED", "title": "棒球帽 红色", "quantity": 1, "unit_price": 6000},
        ],
        "receiver": {
            "name": "张三",
            "phone": "13800001234",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address": "文三路 1 号 2 单元 301",
            "postcode": "310012",
        },
        "buyer_id": "tb_2200001",
        "buyer_nick": "小明",
        "buyer_note": "请尽快发货",
        "tags": ["vip", "gift"],
    }


def fresh_database(directory: Path, name: str) -> str:
    """A new SQLite file with the schema made by the project's Alembic migration."""
    url = f"sqlite:///{directory / name}"
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return url


# --- raw sqlite3 ---------------------------------------------------------------------------------


def _insert(table: Any) -> str:
    names = [c.name for c in table.c if c.name != "id" or table is order_tags]
    return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


def _ts(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text for an aware time: naive UTC with microseconds."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def raw_writer(
    url: str, settings: Settings, actor: Actor
) -> tuple[Callable[[str], None], sqlite3.Connection]:
    """Writes an order's rows with plain sqlite3, in one transaction, as the service leaves them."""
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
    conn.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys=ON")
    sql_order, sql_lines, sql_tags = _insert(orders), _insert(order_lines), _insert(order_tags)
    sql_events, sql_outbox = _insert(order_events), _insert(outbox)
    sql_stay = _insert(state_stays_pending)
    columns = [c.name for c in orders.c if c.name != "id"]
    body = order_body("{{NO}}")
    a, r = body["amounts"], body["receiver"]
    template = {
        **{name: None for name in columns},
        **{k: body[k] for k in ("channel", "shop", "currency", "payment_method", "tags")},
        **{k: body[k] for k in ("transaction_no", "buyer_id", "buyer_nick", "buyer_note")},
        **a,
        **{f"receiver_{k}": v for k, v in r.items()},
        "order_type": "normal",
        "status": "pending_review",  # paid, then the automatic submit_review
        "payment_status": "paid",
        "receiver_masked": 0,
        "never_merge": 0,
        "tags": json.dumps(body["tags"]),
        "priority": 0,
        "custom_fields": "{}",
        "created_at": _ts(datetime.fromisoformat(body["created_at"])),
        "paid_at": _ts(datetime.fromisoformat(body["paid_at"])),
        "version": 1,  # inserted already in review: one INSERT, no UPDATE
    }
    row = [template[name] for name in columns]
    tags = template["tags"]
    no_at, updated_at = columns.index("channel_order_no"), columns.index("updated_at")
    state_since = columns.index("state_since")
    lines = [
        (n, x["sku"], None, x["title"], x["quantity"], x["unit_price"], 0)
        for n, x in enumerate(body["lines"], start=1)
    ]
    cur = conn.cursor()

    def one(no: str) -> None:
        now = datetime.now(UTC)
        ts, at = _ts(now), now.isoformat()
        row[no_at], row[updated_at], row[state_since] = no, ts, ts
        cur.execute("BEGIN IMMEDIATE")
        cur.execute(sql_order, row)
        order_id = cur.lastrowid
        cur.executemany(sql_lines, [(order_id, *x) for x in lines])
        cur.executemany(sql_tags, [(t, order_id) for t in body["tags"]])
        events, messages = [], []
        for action, frm, to, (who_id, who), source, detail, event_type in (
            ("create", None, "paid", (actor.id, actor.name), "api", {
                "channel": body["channel"], "channel_order_no": no}, "order.created"),
            ("submit_review", "paid", "pending_review", ("system", "system"), "orderhub", {},
             "order.status_changed"),
        ):  # fmt: skip
            text = json.dumps(detail)
            events.append(
                (order_id, action, frm, to, ts, who_id, who, source, None, None, None, text)
            )
            payload = {
                "version": 1,
                "order_id": order_id,
                "channel": body["channel"],
                "shop": body["shop"],
                "channel_order_no": no,
                "action": action,
                "from_status": frm,
                "to_status": to,
                "at": at,
                "actor": who,
                "source": source,
                "reason_code": None,
                "correlation_id": None,
            }
            message = (str(uuid.uuid4()), event_type, str(order_id), json.dumps(payload))
            # Kept as the record (no broker configured): target, order, priority, its place in
            # the line (ranked_at: priority 0, so its own time), then the delivery columns a
            # relay would fill.
            messages.append(
                (*message, ts, "kept", 0, ts, "events", order_id, 0, ts, None, None, None)
            )
        cur.executemany(sql_events, events)
        cur.executemany(sql_outbox, messages)
        # The stay in paid that the automatic submit_review ended (0 s), for the dwell report.
        stay = ("state", "paid", ts, ts, 0.0, body["channel"], body["shop"], None, "normal", tags)
        cur.executemany(sql_stay, [(order_id, *stay)])
        cur.execute("COMMIT")

    return one, conn


# --- the service, no HTTP ------------------------------------------------------------------------


@dataclass
class StatementCount:
    statements: int = 0  # cursor executions, an executemany counted once; BEGIN not included
    begins: int = 0
    commits: int = 0


def operator(hub: Hub) -> tuple[Actor, str]:
    """An operator user and a bearer token for it."""
    user = accounts.create_user(
        hub.uow(), CHEAP_HASHER, username="bench", password="bench-password-1", role="operator"
    )
    actor = accounts.actor_for(user)
    token = accounts.issue_token(hub.uow(), actor=actor, user_id=user.id or 0, name="bench")
    return actor, token.token


def service_writer(hub: Hub, actor: Actor) -> Callable[[Order], None]:
    review = hub.settings.review_required

    def one(order: Order) -> None:
        create_order(hub.uow(), order, actor=actor, review_required=review)

    return one


def build_orders(hub: Hub, numbers: list[str]) -> list[Order]:
    currency = hub.settings.default_currency
    return [
        OrderIn.model_validate(order_body(no)).to_domain(default_currency=currency)
        for no in numbers
    ]


def count_statements(engine: Engine, count: StatementCount) -> Callable[[], None]:
    """Count the SQL the engine sends until the returned function is called."""

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        count.statements += 1

    # BEGIN goes straight to the driver (storage/database.py), so it is counted by the
    # transaction event, not as a cursor execution.
    def on_begin(_conn: Any) -> None:
        count.begins += 1

    def on_commit(_conn: Any) -> None:
        count.commits += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "begin", on_begin)
    event.listen(engine, "commit", on_commit)

    def stop() -> None:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "begin", on_begin)
        event.remove(engine, "commit", on_commit)

    return stop


@dataclass
class Timing:
    raw_s: float = 0.0
    service_s: float = 0.0
    build_s: float = 0.0
    statements: StatementCount = field(default_factory=StatementCount)


def run_writers(
    raw: Callable[[str], None] | None,
    hub: Hub,
    actor: Actor,
    numbers: list[str],
    *,
    service: bool,
) -> Timing:
    """Raw and service in alternating blocks, so both meet the same disk and machine load.

    The service's domain Orders are built before its clock starts (timed apart as build_s).
    """
    timing = Timing()
    write = service_writer(hub, actor)
    warm = [f"warm-{n}" for n in range(WARMUP_ORDERS)]
    for order, no in zip(build_orders(hub, warm), warm, strict=True):
        if raw is not None:
            raw(no)
        if service:
            write(order)
    start = time.perf_counter()
    built = build_orders(hub, numbers) if service else []
    timing.build_s = time.perf_counter() - start
    for first in range(0, len(numbers), BLOCK):
        if raw is not None:
            start = time.perf_counter()
            for no in numbers[first : first + BLOCK]:
                raw(no)
            timing.raw_s += time.perf_counter() - start
        if service:
            stop = count_statements(hub.engine, timing.statements)
            start = time.perf_counter()
            for order in built[first : first + BLOCK]:
                write(order)
            timing.service_s += time.perf_counter() - start
            stop()
    return timing


def compare_rows(raw_url: str, service_url: str) -> list[str]:
    """Differences between what raw and the service stored (ids, times, message ids masked)."""
    volatile = {"id", "order_id", "updated_at", "at", "message_id", "aggregate_id"}
    volatile |= {"created_at", "next_attempt_at", "state_since", "entered_at", "left_at"}
    volatile.add("ranked_at")  # the outbox's place in the line: a time
    problems: list[str] = []
    snapshots = []
    for url in (raw_url, service_url):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.row_factory = sqlite3.Row
        snap: dict[str, Any] = {}
        tables = ("orders", "order_lines", "order_tags", "order_events", "outbox")
        for table in (*tables, "state_stays_pending"):
            rows = [dict(x) for x in conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]
            for x in rows:
                for key in volatile & x.keys():
                    if not (table == "orders" and key == "created_at"):
                        x[key] = "*"
                for key in ("tags", "custom_fields", "detail", "payload"):
                    if key in x:
                        x[key] = json.loads(x[key])
                if table == "outbox":
                    x["payload"].update(order_id="*", at="*")
            snap[table] = rows
        snapshots.append(snap)
        conn.close()
    raw, service = snapshots
    for table, rows in raw.items():
        if len(rows) != len(service[table]):
            problems.append(f"{table}: raw {len(rows)} rows, service {len(service[table])}")
        elif rows != service[table]:
            problems.append(f"{table}: raw {rows[0]} != service {service[table][0]}")
    return problems


def count_orders(url: str) -> int:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])
    finally:
        conn.close()


# --- the run -------------------------------------------------------------------------------------


def options(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CI size: 1000 orders, 3 s of wrk")
    p.add_argument("--orders", type=int, help="orders for raw and service (default 20000)")
    p.add_argument("--duration", type=float, help="seconds of each wrk run (default 20)")
    p.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--only", default="raw,service,http", help="phases to run, comma-separated")
    p.add_argument("--dir", type=Path, help="parent of the temporary database directory")
    opts = p.parse_args(argv)
    env_orders = os.environ.get("ORDERHUB_BENCH_ORDERS")
    opts.orders = opts.orders or (int(env_orders) if env_orders else None)
    opts.orders = opts.orders or (QUICK_ORDERS if opts.quick else FULL_ORDERS)
    env_duration = os.environ.get("ORDERHUB_BENCH_DURATION")
    opts.duration = opts.duration or (float(env_duration) if env_duration else None)
    opts.duration = opts.duration or (QUICK_DURATION_S if opts.quick else FULL_DURATION_S)
    opts.phases = {x.strip() for x in opts.only.split(",") if x.strip()}
    return opts


def per_s(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a / b, 3)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    opts = options(argv)
    began = time.perf_counter()
    directory = Path(tempfile.mkdtemp(prefix="orderhub-bench-", dir=opts.dir))
    result: dict[str, Any] = {}
    try:
        # Taking orders in is measured here; reserving their stock (paying) in fulfilment.py.
        settings = Settings(
            database_url="sqlite://", secret_key="bench", reserve_stock=False, auto_allocate=False
        )
        numbers = [f"B{n:08d}" for n in range(opts.orders)]
        log(f"{opts.orders} orders, synchronous={settings.sqlite_synchronous}, in {directory}")
        raw = service = http = None
        stmts = StatementCount()
        build_us = None
        problems: list[str] = []

        service_url = fresh_database(directory, "service.db")
        hub = bootstrap(settings.model_copy(update={"database_url": service_url}))
        try:
            actor, _ = operator(hub)
            if opts.phases & {"raw", "service"}:
                writer = raw_conn = None
                if "raw" in opts.phases:
                    raw_url = fresh_database(directory, "raw.db")
                    writer, raw_conn = raw_writer(raw_url, settings, actor)
                log(f"{' and '.join(sorted(opts.phases - {'http'}))}, blocks of {BLOCK} ...")
                timing = run_writers(writer, hub, actor, numbers, service="service" in opts.phases)
                if raw_conn is not None:
                    raw_conn.close()
                stmts = timing.statements
                raw = opts.orders / timing.raw_s if writer else None
                service = opts.orders / timing.service_s if timing.service_s else None
                build_us = timing.build_s / opts.orders * 1e6 if service else None
                log(f"raw: {per_s(raw)} orders/s; service: {per_s(service)} orders/s")
        finally:
            hub.close()
        if raw is not None and service is not None:
            problems = compare_rows(raw_url, service_url)
            for problem in problems:
                log(f"MISMATCH {problem}")
        if "http" in opts.phases:
            http_url = fresh_database(directory, "http.db")
            hub = bootstrap(settings.model_copy(update={"database_url": http_url}))
            try:
                _, token = operator(hub)
            finally:
                hub.close()
            http = ingest_http.run(http_url, token, order_body("{{NO}}"), directory, opts)
            http["orders_in_db"] = count_orders(http_url)

        n = opts.orders
        result = {
            "orders_per_s": per_s(http["full"]["rate"]) if http else None,
            "service_orders_per_s": per_s(service),
            "raw_orders_per_s": per_s(raw),
            "ratio": ratio(http["full"]["rate"] if http else None, raw),
            "service_ratio": ratio(service, raw),
            "p99_ms": round(http["half"]["p99_us"] / 1000, 2) if http else None,
            "statements_per_order": round(stmts.statements / n, 2) if service else None,
            "statements_per_order_with_tx": (
                round((stmts.statements + stmts.begins + stmts.commits) / n, 2) if service else None
            ),
            "orders": n,
            "quick": opts.quick,
            "sqlite_synchronous": settings.sqlite_synchronous,
            "review_required": settings.review_required,
            "rows_match_raw": not problems if raw and service else None,
            # Domain Orders for the service run are built before its clock starts; this is what
            # building one (OrderIn validation + to_domain) costs, untimed above.
            "service_build_us_per_order": round(build_us, 1) if build_us else None,
            "statements_counted": "cursor executions, executemany once, BEGIN/COMMIT apart",
        }
        if http:
            full, half = http["full"], http["half"]
            result |= {
                "http_requests": full["requests"],
                "http_failed": full["failed"] + half["failed"],
                "http_orders_in_db": http["orders_in_db"],
                "http_duration_s": opts.duration,
                "wrk": f"-t{opts.threads} -c{opts.connections}",
                "full_load_p99_ms": round(full["p99_us"] / 1000, 2),
                "p99_at_orders_per_s": per_s(half["rate"]),
                "p99_target_orders_per_s": per_s(http["target"]),
                "p99_load": "wrk delay() with exponential pauses, calibrated to half the rate",
                "p50_ms": round(half["p50_us"] / 1000, 2),
            }
        result |= {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "seconds": round(time.perf_counter() - began, 1),
        }
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    outcome = main()
    # Wrong rows or failed requests make the figures meaningless: fail the run (and CI).
    sys.exit(1 if outcome.get("rows_match_raw") is False or outcome.get("http_failed") else 0)
