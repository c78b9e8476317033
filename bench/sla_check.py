"""SLA checker benchmark: one pass of the SLA rules over 1,000,000 open orders.

Set-up (not timed): a fresh database (the project's migration; SQLite in a temporary directory,
or PostgreSQL with --database-url), 1,000,000 open orders written straight into it (raw
executemany on SQLite, COPY on PostgreSQL) with a spread of statuses, channels, shops, types,
tags and amounts, and `state_since` / `paid_at` spread over the hours before the bench's fixed
"now" (the checker reads a clock the bench controls). Four SLA rules, each with recipients:

  cross-border review 4h   order_type = cross_border, in pending_review > 4h (escalate 8h)
  picking 24h              channel in taobao/jd/pdd, in picking > 24h
  vip 2h after payment     tags contains vip, in approved/allocated/sent_to_warehouse, > 2h
                           counted from payment (the (status, paid_at) index)
  call back                tags contains urgent and buyer_note matches (?i)call: half of it
                           only Python can check (the orders SQL finds are loaded)

The spread keeps every order within its rules' thresholds except DUE orders (5,000; 500 with
--quick) placed past them, shared by the four rules. Measured, each as the median of REPEAT:

  quiet     a pass with nothing due: the state before the DUE orders are written.
  due       the pass that raises the DUE alerts (and their notification rows); the alerts are
            deleted between repeats so each repeat raises them again.
  steady    the pass after that: the DUE orders are alerted already, nothing new (what the
            worker does every ORDERHUB_SLA_CHECK_INTERVAL_S most of the time).
  notices   after the digest window: the alerts become notices per recipient (digests).
  raw       the same SELECT statements the checker sent in its look (captured from the
            driver, parameters and all), run bare on a DBAPI connection: what the indexes
            alone cost. `*_vs_raw` = pass / raw.

Progress goes to stderr; the last line of stdout is one JSON object. Exit 1 when a pass did not
raise exactly the DUE alerts, or the steady pass raised any. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import Engine, event, text

from channels import fresh_database
from orderhub.bootstrap import Hub, bootstrap
from orderhub.config import Settings
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.alerts import AlertPolicy
from orderhub.domain.rule_sets import RuleSetKind
from orderhub.domain.sla import sla_rules
from orderhub.permissions import permissions_of
from orderhub.services import notifications
from orderhub.services.rules import proposed, save_rules
from orderhub.services.sla import BATCH, _look, check_sla, send_notices
from orderhub.storage.tables import orders

FULL, QUICK = 1_000_000, 50_000
FULL_DUE, QUICK_DUE = 5_000, 500
NOW = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
ADMIN = Actor(
    id="bench",
    name="bench",
    kind=ActorKind.SYSTEM,
    role="admin",
    permissions=permissions_of("admin"),
)
RECIPIENTS = ("ops-lead", "wecom-ops", "boss")
RULES: list[dict[str, Any]] = [
    {
        "name": "cross-border review 4h",
        "condition": {"field": "order_type", "op": "eq", "value": "cross_border"},
        "outcome": {
            "state": "pending_review",
            "after": "4h",
            "severity": "critical",
            "recipients": ["ops-lead", "wecom-ops"],
            "escalate_after": "8h",
            "escalate_to": ["boss"],
        },
    },
    {
        "name": "picking 24h",
        "condition": {"field": "channel", "op": "in", "value": ["taobao", "jd", "pdd"]},
        "outcome": {"state": "picking", "after": "24h", "recipients": ["ops-lead"]},
    },
    {
        "name": "vip 2h after payment",
        "condition": {"field": "tags", "op": "contains", "value": "vip"},
        "outcome": {
            "state": ["approved", "allocated", "sent_to_warehouse"],
            "since": "paid",
            "after": "2h",
            "recipients": ["wecom-ops"],
        },
    },
    {
        "name": "call back",
        "condition": {
            "all": [
                {"field": "tags", "op": "contains", "value": "urgent"},
                {"field": "buyer_note", "op": "matches", "value": "(?i)call"},
            ]
        },
        "outcome": {"state": "pending_review", "after": "1h", "recipients": ["ops-lead"]},
    },
]
STATUSES = [
    ("pending_review", 25),
    ("approved", 10),
    ("allocated", 10),
    ("sent_to_warehouse", 20),
    ("picking", 15),
    ("shipped", 20),
]
CHANNELS = [("taobao", 40), ("jd", 25), ("pdd", 20), ("shopify", 10), ("manual", 5)]
BEFORE_SHIPPING = ("approved", "allocated", "sent_to_warehouse")
M, H = 60.0, 3600.0


def log(message: str) -> None:
    print(f"[sla_check] {message}", file=sys.stderr, flush=True)


# --- the orders ----------------------------------------------------------------------------------


def _base(rng: random.Random, n: int) -> dict[str, Any]:
    """An open order within every rule's threshold: how long it has been in its state (and since
    payment) is spread below the shortest threshold watching it."""
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
    tags = [
        t for t, share in (("vip", 0.05), ("urgent", 0.01), ("gift", 0.1)) if rng.random() < share
    ]
    in_state = {
        "pending_review": rng.uniform(0, 55 * M),
        "picking": rng.uniform(0, 20 * H),
        "shipped": rng.uniform(0, 72 * H),
    }.get(status, rng.uniform(0, 100 * M if "vip" in tags else 10 * H))
    since_payment = in_state + rng.uniform(0, 10 * M if "vip" in tags else 2 * H)
    return {
        "n": n,
        "status": status,
        "channel": channel,
        "order_type": "cross_border" if rng.random() < 0.1 else "normal",
        "tags": tags,
        "buyer_note": "please call before delivery" if "urgent" in tags else None,
        "paid_total": rng.randrange(1_000, 200_000),
        "in_state_s": in_state,
        "since_payment_s": since_payment,
    }


def _due(rng: random.Random, n: int, which: int) -> dict[str, Any]:
    """An order past one rule's threshold (rules taken in turn, 40/30/20/10 per cent)."""
    order = _base(rng, n)
    order["tags"] = [t for t in order["tags"] if t not in ("vip", "urgent")]
    order["buyer_note"] = None
    if which < 4:
        order.update(
            status="pending_review", order_type="cross_border", in_state_s=rng.uniform(4 * H, 7 * H)
        )
    elif which < 7:
        order.update(status="picking", channel="taobao", in_state_s=rng.uniform(24 * H, 30 * H))
    elif which < 9:
        order.update(status=rng.choice(BEFORE_SHIPPING), tags=["vip"], in_state_s=rng.uniform(0, H))
        order["since_payment_s"] = rng.uniform(2 * H + M, 5 * H)
        return order
    else:
        order.update(
            status="pending_review",
            order_type="normal",
            tags=["urgent"],
            buyer_note="URGENT: call the buyer",
            in_state_s=rng.uniform(H + M, 3 * H),
        )
    order["since_payment_s"] = order["in_state_s"] + rng.uniform(0, H)
    return order


def _row(o: dict[str, Any]) -> dict[str, Any]:
    state_since = NOW - timedelta(seconds=o["in_state_s"])
    paid_at = NOW - timedelta(seconds=o["since_payment_s"])
    return {
        "id": o["n"],
        "channel": o["channel"],
        "channel_order_no": f"B{o['n']:08d}",
        "shop": f"{o['channel']}-{o['n'] % 7}",
        "order_type": o["order_type"],
        "status": o["status"],
        "payment_status": "paid",
        "currency": "CNY",
        "goods_total": o["paid_total"],
        "shipping_fee": 0,
        "discount": 0,
        "tax": 0,
        "paid_total": o["paid_total"],
        "buyer_note": o["buyer_note"],
        "receiver_name": "张三",
        "receiver_phone": "13800001234",
        "receiver_province": "浙江省",
        "receiver_city": "杭州市",
        "receiver_district": "西湖区",
        "receiver_address": "文三路 90 号",
        "receiver_masked": False,
        "tags": json.dumps(o["tags"]),
        "priority": 0,
        "never_merge": False,
        "custom_fields": "{}",
        "created_at": paid_at,
        "paid_at": paid_at,
        "updated_at": state_since,
        "state_since": state_since,
        "version": 1,
    }


def _columns() -> list[str]:
    """Every column of orders: those _row leaves out must be nullable (a new NOT NULL column
    without a value here fails loudly, naming it)."""
    sample = _row(_base(random.Random(0), 1))
    missing = [c.name for c in orders.c if c.name not in sample and not c.nullable]
    if missing:
        raise SystemExit(f"orders has NOT NULL columns the bench does not fill: {missing}")
    return [c.name for c in orders.c]


def write_orders(engine: Engine, plan: Iterator[dict[str, Any]], first: int, count: int) -> None:
    """`count` orders from `plan`, ids from `first`, straight into the tables (no service)."""
    columns = _columns()
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if not postgres:
            cursor.execute("BEGIN")  # the app's SQLite connections autocommit by default
        batch: list[dict[str, Any]] = []
        tags: list[tuple[str, int]] = []

        def flush() -> None:
            if postgres:
                _copy(cursor, columns, batch, tags)
            else:
                _insert(cursor, columns, batch, tags)
            batch.clear()
            tags.clear()

        for _ in range(count):
            o = next(plan)
            o["n"] = first
            first += 1
            batch.append(_row(o))
            tags.extend((t, o["n"]) for t in o["tags"])
            if len(batch) == 20_000:
                flush()
        flush()
        raw.commit()
    finally:
        raw.close()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return int(value) if isinstance(value, bool) else value


def _insert(cursor: Any, columns: list[str], rows: list[dict[str, Any]], tags: list[Any]) -> None:
    marks = ", ".join("?" for _ in columns)
    cursor.executemany(
        f"INSERT INTO orders ({', '.join(columns)}) VALUES ({marks})",
        [tuple(_sqlite_value(r.get(c)) for c in columns) for r in rows],
    )
    cursor.executemany("INSERT INTO order_tags (tag, order_id) VALUES (?, ?)", tags)


def _copy(cursor: Any, columns: list[str], rows: list[dict[str, Any]], tags: list[Any]) -> None:
    with cursor.copy(f"COPY orders ({', '.join(columns)}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(tuple(r.get(c) for c in columns))
    with cursor.copy("COPY order_tags (tag, order_id) FROM STDIN") as copy:
        for row in tags:
            copy.write_row(row)


def plan_orders(seed: int, due: int) -> tuple[Iterator[dict[str, Any]], Iterator[dict[str, Any]]]:
    rng = random.Random(seed)

    def base() -> Iterator[dict[str, Any]]:
        while True:
            yield _base(rng, 0)

    def late() -> Iterator[dict[str, Any]]:
        for k in range(due):
            yield _due(rng, 0, k % 10)

    return base(), late()


# --- the checker ---------------------------------------------------------------------------------


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def prepare(hub: Hub) -> None:
    for code in RECIPIENTS:
        notifications.add_recipient(
            hub.uow(), actor=ADMIN, code=code, name=code, kind="email", address=f"{code}@x.cn"
        )
    save_rules(hub.uow(), proposed("sla", RULES, {}), actor=ADMIN)


def captured_selects(hub: Hub) -> list[tuple[str, Any]]:
    """The statements (with their driver parameters) the checker's look sends: its SELECTs,
    and on PostgreSQL the SET LOCAL that keeps the planner on the indexes."""
    sent: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "SET")):
            sent.append((statement, params))

    event.listen(hub.engine, "before_cursor_execute", keep)
    try:
        with hub.uow.read_only() as uow:
            rule_set = uow.rules.current(RuleSetKind.SLA)
            assert rule_set is not None
            _look(uow, sla_rules(rule_set), uow.clock.now(), BATCH)
    finally:
        event.remove(hub.engine, "before_cursor_execute", keep)
    # The rule set read is cached after the first look; the checker's own statements remain.
    return [(s, p) for s, p in sent if "rule_sets" not in s]


SLOWEST: dict[str, float] = {}


def run_raw(engine: Engine, statements: list[tuple[str, Any]], label: str = "") -> float:
    """The statements run bare, in one transaction; ms in all (the slowest kept by label)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")  # as the checker's read transaction
        each = []
        for statement, params in statements:
            started = time.perf_counter()
            cursor.execute(statement, params)
            if cursor.description is not None:
                cursor.fetchall()
            each.append(time.perf_counter() - started)
        raw.rollback()
    finally:
        raw.close()
    if label:
        SLOWEST[label] = max(each, default=0.0) * 1000
    return sum(each) * 1000


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return (time.perf_counter() - started) * 1000, result


def clear_alerts(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("alert_notifications", "alert_notices", "alerts"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM outbox WHERE event_type = 'alert.notify'"))


def measure(hub: Hub, repeat: int, label: str) -> tuple[float, float, int]:
    """(median pass ms, median raw ms, statements) of a pass that changes nothing."""
    policy = AlertPolicy(digest_window_s=60, digest_threshold=3)
    statements = captured_selects(hub)
    raws = [run_raw(hub.engine, statements, label) for _ in range(repeat)]
    passes = []
    for _ in range(repeat):
        ms, report = timed(lambda: check_sla(hub.uow, policy=policy))
        if report.raised:
            raise SystemExit(f"a pass with nothing due raised {report.raised} alerts")
        passes.append(ms)
    return statistics.median(passes), statistics.median(raws), len(statements)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"CI size: {QUICK} orders")
    parser.add_argument("--orders", type=int, help=f"open orders (default {FULL})")
    parser.add_argument("--due", type=int, help=f"orders past a threshold (default {FULL_DUE})")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement")
    parser.add_argument("--database-url", help="a PostgreSQL server (a fresh database on it)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    opts = parser.parse_args()
    total = opts.orders or (QUICK if opts.quick else FULL)
    due = opts.due if opts.due is not None else (QUICK_DUE if opts.quick else FULL_DUE)
    policy = AlertPolicy(digest_window_s=60, digest_threshold=3)
    with (
        tempfile.TemporaryDirectory(prefix="orderhub-sla-", dir=opts.dir) as tmp,
        fresh_database(opts.database_url, Path(tmp), "sla") as url,
    ):
        clock = FixedClock(NOW)
        settings = Settings(
            database_url=url,
            credentials_key=Fernet.generate_key().decode(),
            secret_key="bench",
            log_level="WARNING",
        )
        hub = bootstrap(settings, clock=clock)
        try:
            base, late = plan_orders(seed=11, due=due)
            log(f"writing {total - due} orders within their thresholds ({hub.engine.dialect.name})")
            ms, _ = timed(lambda: write_orders(hub.engine, base, 1, total - due))
            log(f"written in {ms / 1000:.1f} s; analysing")
            with hub.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            prepare(hub)
            quiet, quiet_raw, statements = measure(hub, opts.repeat, "quiet")
            log(f"quiet pass {quiet:.1f} ms (raw {quiet_raw:.1f} ms, {statements} statements)")
            write_orders(hub.engine, late, total - due + 1, due)
            due_raw = run_raw(hub.engine, captured_selects(hub), "due")
            passes, raised, loaded = [], 0, 0
            for n in range(opts.repeat):
                if n:
                    clear_alerts(hub.engine)
                ms, report = timed(lambda: check_sla(hub.uow, policy=policy))
                passes.append(ms)
                raised, loaded = report.raised, report.loaded
                if raised != due:
                    log(f"the pass raised {raised} alerts, not {due}")
                    return 1
            due_ms = statistics.median(passes)
            log(f"due pass {due_ms:.1f} ms: {raised} alerts raised ({loaded} orders loaded)")
            steady, steady_raw, _ = measure(hub, opts.repeat, "steady")
            log(f"steady pass {steady:.1f} ms (raw {steady_raw:.1f} ms)")
            clock.at = NOW + timedelta(seconds=61)
            notices_ms, told = timed(lambda: send_notices(hub.uow, policy=policy))
            log(f"{told.notices} notices for {raised} alerts in {notices_ms:.1f} ms")
        finally:
            hub.close()
    result = {
        "bench": "sla_check",
        "database": "postgresql" if opts.database_url else "sqlite",
        "open_orders": total,
        "rules": len(RULES),
        "due": due,
        "quiet_pass_ms": round(quiet, 1),
        "quiet_raw_ms": round(quiet_raw, 1),
        "quiet_vs_raw": round(quiet / quiet_raw, 2) if quiet_raw else None,
        "due_pass_ms": round(due_ms, 1),
        "due_raw_ms": round(due_raw, 1),
        "due_vs_raw": round(due_ms / due_raw, 2) if due_raw else None,
        "alerts_raised": raised,
        "orders_loaded_for_python_conditions": loaded,
        "steady_pass_ms": round(steady, 1),
        "steady_raw_ms": round(steady_raw, 1),
        "steady_vs_raw": round(steady / steady_raw, 2) if steady_raw else None,
        "notices": told.notices,
        "notices_ms": round(notices_ms, 1),
        "statements_per_look": statements,
        "quiet_raw_slowest_statement_ms": round(SLOWEST.get("quiet", 0.0), 1),
        "repeat": opts.repeat,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
