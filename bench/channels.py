"""Channel pull benchmark: orders a second from the four channel simulators into the pool.

Each mode gets a fresh database (schema by the project's Alembic migration, the SKU catalogue
loaded, a shop per channel) and fresh simulators holding the orders, made before the clock starts:
  sequential  `services.channel_sync.pull_shop` for each shop in turn
  concurrent  the four shops' pulls at once, one thread each
After each mode the pool must hold exactly the orders the simulators show (per channel, none
twice, none quarantined), else the run exits 1. The simulators run in a subprocess of their own
(the channel is another machine in life; in-process, their rendering would share this
interpreter's GIL); `--in-process-simulators` serves them from threads here instead.
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
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Engine, event, func, make_url, select

from benchkit import simulators
from orderhub.bootstrap import Hub, bootstrap
from orderhub.config import Settings
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.shops import Credentials, Shop, SyncSettings
from orderhub.integrations.channels.registry import channels
from orderhub.integrations.channels.simkit import CATALOGUE, COMBOS
from orderhub.integrations.channels.simulate import (
    SIM_ACCESS_TOKEN,
    SIM_APP_KEY,
    SIM_APP_SECRET,
)
from orderhub.permissions import permissions_of
from orderhub.services import shops
from orderhub.services.channel_sync import PullReport, pull_shop
from orderhub.services.demo import load_catalogue
from orderhub.services.ports import ChannelClient, ChannelPage
from orderhub.storage.database import make_engine, migrate
from orderhub.storage.tables import orders, quarantine

FULL_ORDERS, QUICK_ORDERS = 10_000, 400  # in total, shared evenly by the channels
GOAL_ORDERS_PER_S = 1_000
# Far above any real shop's call limit (TOP's default is a few calls a second per shop): the
# pacer must not be what is measured. The shop's other settings are the test hub's.
SHOP_RATE_PER_S = 1_000.0
ADMIN = Actor(
    id="bench",
    name="bench",
    kind=ActorKind.SYSTEM,
    role="admin",
    permissions=permissions_of("admin"),
)
MODES = ("sequential", "concurrent")


def log(message: str) -> None:
    print(f"[channels] {message}", file=sys.stderr, flush=True)


# --- the simulators ------------------------------------------------------------------------------


def sim(url: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{url}/_sim/{path}", json=body, timeout=120)
    response.raise_for_status()
    return response.json()


def visible_orders(url: str) -> set[str]:
    """The orders the channel's API shows a seller's app (JD shows only paid ones)."""
    truth = sim(url, "GET", "orders")["orders"]
    return {no for no, order in truth.items() if order["visible"]}


# --- the hub -------------------------------------------------------------------------------------


@contextmanager
def fresh_database(base_url: str | None, directory: Path, name: str) -> Iterator[str]:
    """A new database with the schema by the project's Alembic migration, dropped afterwards:
    a SQLite file in `directory`, or a new database on the server of `base_url` (PostgreSQL)."""
    if base_url is None:
        url = f"sqlite:///{directory / f'{name}.db'}"
        engine = make_engine(url)
        try:
            migrate(engine)
        finally:
            engine.dispose()
        yield url
        return
    import psycopg

    server = make_url(base_url)
    db = f"orderhub_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    url = server.set(database=db).render_as_string(False)
    try:
        engine = make_engine(url)
        try:
            migrate(engine)
        finally:
            engine.dispose()
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def load_simulator_catalogue(hub: Hub) -> None:
    """The simulators' SKUs, SET-TEA-MUG a combo of the tea and the mug."""
    load_catalogue(
        hub.uow,
        actor=ADMIN,
        combos=COMBOS,
        products=[(sku, title) for sku, title, _, _ in CATALOGUE],
    )


def add_shops(hub: Hub, urls: Mapping[str, str]) -> dict[str, str]:
    """A shop per channel pointing at its simulator: {channel: shop code}."""
    codes = {}
    for name, url in sorted(urls.items()):
        code = f"{name}-bench"
        shops.create_shop(
            hub.uow(),
            hub.channels,
            actor=ADMIN,
            code=code,
            channel=name,
            name=code,
            base_url=url,
            credentials=Credentials(SIM_APP_KEY, SIM_APP_SECRET, SIM_ACCESS_TOKEN),
            settings=SyncSettings(
                overlap_s=60, initial_lookback_s=3600, max_attempts=3, rate_per_s=SHOP_RATE_PER_S
            ),
        )
        codes[name] = code
    return codes


# --- what a pull spends where --------------------------------------------------------------------


@dataclass
class Spent:
    """Seconds and counts, summed over every thread (so above the wall time when concurrent)."""

    fetch_s: float = 0.0  # in the client's fetch_changed: HTTP, JSON, paging, signing
    fetch_s_by_channel: dict[str, float] = field(default_factory=dict)
    pages: int = 0
    sql_s: float = 0.0  # inside the driver's cursor.execute / executemany
    statements: int = 0  # cursor executions, an executemany counted once; BEGIN/COMMIT apart
    begins: int = 0
    commits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, channel: str | None = None, **amounts: float) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)
            if channel is not None:
                spent = self.fetch_s_by_channel.get(channel, 0.0) + amounts["fetch_s"]
                self.fetch_s_by_channel[channel] = spent


class TimedClient:
    """The shop's client, with the time spent in fetch_changed added to `spent`."""

    def __init__(self, inner: ChannelClient, spent: Spent) -> None:
        self.inner, self.spent, self.channel = inner, spent, inner.channel

    def fetch_changed(self, since: datetime, until: datetime, page: str | None) -> ChannelPage:
        start = time.perf_counter()
        try:
            return self.inner.fetch_changed(since, until, page)
        finally:
            self.spent.add(self.channel, fetch_s=time.perf_counter() - start, pages=1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class TimedConnector:
    """hub.channels, handing out TimedClients."""

    def __init__(self, hub: Hub, spent: Spent) -> None:
        self.hub, self.spent = hub, spent

    def client(self, shop: Shop) -> ChannelClient:
        return TimedClient(self.hub.channels.client(shop), self.spent)

    def mapping(self, channel: str) -> Mapping[str, Any]:
        return self.hub.channels.mapping(channel)

    def channels(self) -> frozenset[str]:
        return self.hub.channels.channels()


@contextmanager
def watch_sql(engine: Engine, spent: Spent) -> Iterator[None]:
    """Count the engine's statements and time their execution in the driver."""
    started = threading.local()

    def before(*_: Any) -> None:
        started.at = time.perf_counter()

    def after(*_: Any) -> None:
        spent.add(sql_s=time.perf_counter() - started.at, statements=1)

    # BEGIN goes straight to the driver (storage/database.py): counted by the transaction event.
    def on_begin(_conn: Any) -> None:
        spent.add(begins=1)

    def on_commit(_conn: Any) -> None:
        spent.add(commits=1)

    hooks: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", before),
        ("after_cursor_execute", after),
        ("begin", on_begin),
        ("commit", on_commit),
    ]
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


# --- one mode ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    mode: str
    wall_s: float
    cpu_s: float  # this process's CPU time (the pulls; the simulators' is apart unless in-process)
    per_channel_s: dict[str, float]
    per_channel_orders: dict[str, int]
    reports: dict[str, PullReport]
    spent: Spent
    problems: list[str]
    quarantined: int


def pull(hub: Hub, connector: TimedConnector, code: str) -> tuple[PullReport, float]:
    start = time.perf_counter()
    report = pull_shop(hub.uow, connector, code, review_required=hub.settings.review_required)
    return report, time.perf_counter() - start


def run_mode(mode: str, settings: Settings, per_channel: int, opts: argparse.Namespace) -> Outcome:
    with (
        fresh_database(opts.database_url, opts.directory, mode) as url,
        simulators(opts.in_process_simulators) as urls,
    ):
        hub = bootstrap(settings.model_copy(update={"database_url": url}))
        try:
            load_simulator_catalogue(hub)
            codes = add_shops(hub, urls)
            for sim_url in urls.values():
                sim(sim_url, "POST", "orders", {"count": per_channel})
            truth = {name: visible_orders(sim_url) for name, sim_url in urls.items()}
            log(f"{mode}: {sum(map(len, truth.values()))} orders visible in the simulators")
            spent = Spent()
            connector = TimedConnector(hub, spent)
            results: dict[str, tuple[PullReport, float]] = {}
            with watch_sql(hub.engine, spent):
                start, cpu = time.perf_counter(), time.process_time()
                if mode == "sequential":
                    for name, code in codes.items():
                        results[name] = pull(hub, connector, code)
                else:
                    threads = [
                        threading.Thread(
                            target=lambda n, c: results.__setitem__(n, pull(hub, connector, c)),
                            args=(name, code),
                            name=f"pull-{name}",
                        )
                        for name, code in codes.items()
                    ]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            problems, quarantined = check_pool(hub, codes, truth, results)
        finally:
            hub.close()
    return Outcome(
        mode=mode,
        wall_s=wall,
        cpu_s=cpu,
        per_channel_s={name: seconds for name, (_, seconds) in results.items()},
        per_channel_orders={name: len(numbers) for name, numbers in truth.items()},
        reports={name: report for name, (report, _) in results.items()},
        spent=spent,
        problems=problems,
        quarantined=quarantined,
    )


def check_pool(
    hub: Hub,
    codes: Mapping[str, str],
    truth: Mapping[str, set[str]],
    results: Mapping[str, tuple[PullReport, float]],
) -> tuple[list[str], int]:
    """What differs between the pool and the simulators; and how many entries are quarantined."""
    problems = []
    with hub.engine.connect() as conn:
        for name, code in codes.items():
            report = results[name][0] if name in results else None
            if report is None or report.error:
                problems.append(f"{name}: the pull failed: {report.error if report else 'no'}")
            rows = conn.execute(
                select(orders.c.channel_order_no).where(
                    orders.c.channel == name, orders.c.shop == code
                )
            ).scalars()
            held = Counter(str(no) for no in rows)
            twice = sorted(no for no, n in held.items() if n > 1)
            missing, extra = truth[name] - set(held), set(held) - truth[name]
            for what, numbers in (("twice", twice), ("missing", missing), ("not in sim", extra)):
                if numbers:
                    problems.append(f"{name}: {len(numbers)} {what}, e.g. {sorted(numbers)[:3]}")
        quarantined = int(conn.execute(select(func.count()).select_from(quarantine)).scalar_one())
    if quarantined:
        problems.append(f"{quarantined} payloads quarantined")
    return problems, quarantined


# --- the run -------------------------------------------------------------------------------------


def options(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"CI size: {QUICK_ORDERS} orders")
    p.add_argument("--orders", type=int, help=f"orders in total (default {FULL_ORDERS})")
    p.add_argument("--only", default=",".join(MODES), help="modes to run, comma-separated")
    p.add_argument("--database-url", help="a PostgreSQL server URL (a fresh database is made)")
    p.add_argument("--dir", type=Path, help="parent of the temporary database directory")
    p.add_argument(
        "--in-process-simulators", action="store_true", help="serve the simulators from threads"
    )
    opts = p.parse_args(argv)
    env_orders = os.environ.get("ORDERHUB_BENCH_CHANNEL_ORDERS")
    opts.orders = opts.orders or (int(env_orders) if env_orders else None)
    opts.orders = opts.orders or (QUICK_ORDERS if opts.quick else FULL_ORDERS)
    opts.modes = [m for m in MODES if m in {x.strip() for x in opts.only.split(",")}]
    return opts


def per_s(orders: int, seconds: float | None) -> float | None:
    return round(orders / seconds, 1) if seconds else None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    opts = options(argv)
    began = time.perf_counter()
    opts.directory = Path(tempfile.mkdtemp(prefix="orderhub-bench-", dir=opts.dir))
    names = sorted(channels())
    per_channel = max(1, opts.orders // len(names))
    settings = Settings(
        database_url="sqlite://",
        secret_key="bench",
        credentials_key=Fernet.generate_key().decode(),
        log_level="error",  # the pulls' retry warnings would drown the progress lines
        # The pull into the pool is measured here; reserving stock (paying) in fulfilment.py.
        reserve_stock=False,
        auto_allocate=False,
    )
    database = "postgresql" if opts.database_url else "sqlite"
    log(
        f"{per_channel * len(names)} orders ({per_channel} per channel), {database}"
        + (f", synchronous={settings.sqlite_synchronous}" if database == "sqlite" else "")
        + f", modes: {', '.join(opts.modes)}"
    )
    outcomes: dict[str, Outcome] = {}
    try:
        for mode in opts.modes:
            outcome = run_mode(mode, settings, per_channel, opts)
            outcomes[mode] = outcome
            total = sum(outcome.per_channel_orders.values())
            log(
                f"{mode}: {total} orders in {outcome.wall_s:.2f} s = "
                f"{per_s(total, outcome.wall_s)} orders/s; "
                + ", ".join(
                    f"{n} {per_s(outcome.per_channel_orders[n], s)}"
                    for n, s in sorted(outcome.per_channel_s.items())
                )
            )
            for problem in outcome.problems:
                log(f"MISMATCH {mode}: {problem}")
    finally:
        shutil.rmtree(opts.directory, ignore_errors=True)
    result = summary(outcomes, settings, opts, names, database)
    result["seconds"] = round(time.perf_counter() - began, 1)
    print(json.dumps(result), flush=True)
    return result


def summary(
    outcomes: Mapping[str, Outcome],
    settings: Settings,
    opts: argparse.Namespace,
    names: list[str],
    database: str,
) -> dict[str, Any]:
    rates = {
        mode: per_s(sum(o.per_channel_orders.values()), o.wall_s) for mode, o in outcomes.items()
    }
    best = max(rates, key=lambda m: rates[m] or 0.0) if rates else None
    main_outcome = outcomes.get("sequential") or (outcomes[best] if best else None)
    result: dict[str, Any] = {
        "orders_per_s": rates[best] if best else None,
        "orders_per_s_from": best,
        "orders_per_s_sequential": rates.get("sequential"),
        "orders_per_s_concurrent": rates.get("concurrent"),
        "goal_orders_per_s": GOAL_ORDERS_PER_S,
    }
    if main_outcome is not None:
        o, spent = main_outcome, main_outcome.spent
        n = sum(o.per_channel_orders.values())
        for name in names:
            result[f"{name}_orders_per_s"] = per_s(
                o.per_channel_orders.get(name, 0), o.per_channel_s.get(name)
            )
        result["per_channel_from"] = o.mode
        result |= {
            "orders": n,
            "pages": spent.pages,
            "statements_per_order": round(spent.statements / n, 2),
            "commits_per_order": round(spent.commits / n, 3),
            # Shares of the pulls' time (summed over channels) in: the client's fetch_changed
            # (HTTP round trip, the simulator rendering, JSON, paging, signing); the driver
            # executing SQL (without COMMIT); the rest (mapping, domain, SQLAlchemy, commits).
            "fetch_share": round(spent.fetch_s / sum(o.per_channel_s.values()), 3),
            "sql_share": round(spent.sql_s / sum(o.per_channel_s.values()), 3),
            "fetch_ms_per_order": round(spent.fetch_s / n * 1000, 3),
            "sql_ms_per_order": round(spent.sql_s / n * 1000, 3),
            "ingest_ms_per_order": round(
                (sum(o.per_channel_s.values()) - spent.fetch_s) / n * 1000, 3
            ),
            "orderhub_cpu_ms_per_order": round(o.cpu_s / n * 1000, 3),
            "fetch_ms_per_order_by_channel": {
                name: round(s / max(1, o.per_channel_orders.get(name, 0)) * 1000, 3)
                for name, s in sorted(spent.fetch_s_by_channel.items())
            },
        }
    if "concurrent" in outcomes:
        o = outcomes["concurrent"]
        result["concurrent_per_channel_orders_per_s"] = {
            name: per_s(o.per_channel_orders[name], s)
            for name, s in sorted(o.per_channel_s.items())
        }
    problems = [f"{mode}: {p}" for mode, o in outcomes.items() for p in o.problems]
    result |= {
        "pool_matches_simulators": not problems and bool(outcomes),
        "problems": problems[:10],
        "quick": opts.quick,
        "database": database,
        "sqlite_synchronous": settings.sqlite_synchronous if database == "sqlite" else None,
        "review_required": settings.review_required,
        "simulators": "in this process" if opts.in_process_simulators else "a subprocess",
        "shop_rate_per_s": SHOP_RATE_PER_S,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    return result


if __name__ == "__main__":
    outcome = main()
    if outcome:
        # A pool that differs from the channels makes the figures meaningless: fail the run (CI).
        sys.exit(0 if outcome.get("pool_matches_simulators") else 1)
