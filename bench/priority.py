"""Priority benchmark: what scoring costs the paying path, and what aging costs the outbox claim.

  paying  paid orders created with `services.orders.create_order` (no HTTP), on two fresh SQLite
          files in alternating blocks: one with no priority rules saved (`raw`: the path as it
          was), one with five priority rules (VIP, expedited, presale, channel, amount), so half
          the orders change score and get a timeline entry. `paying_vs_raw` is the ratio.
  claim   one target with a due backlog of M messages (random priorities, written over an hour)
          and M delivered before them: the relay's claim query (limit 500, ORDERHUB_OUTBOX_BATCH's
          default) as it runs now (priority with aging, walking the partial index ix_outbox_due)
          beside the query as it was before aging (`priority DESC, id` over every due row, bound
          status parameters: `raw`), the median of R runs each. `claim_vs_raw` is the ratio.

Progress goes to stderr; the last line of stdout is one JSON object. See bench/README.md.
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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import Engine, bindparam, exists, select

from orderhub.bootstrap import Hub, bootstrap
from orderhub.config import Settings
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.orders import Amounts, Order, OrderLine, OrderType, PaymentStatus, Receiver
from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind
from orderhub.permissions import permissions_of
from orderhub.services import orders, rules
from orderhub.services.ports import Command
from orderhub.storage.database import make_engine, migrate

# The relay's claim query as the repository runs it per target (without the lease's UPDATE).
from orderhub.storage.outbox import _DUE, INSERT_MESSAGES, UNFINISHED, command_row
from orderhub.storage.tables import outbox

FULL_ORDERS, QUICK_ORDERS = 4000, 1000
earlier = outbox.alias("earlier")
FULL_BACKLOG, QUICK_BACKLOG = 50_000, 10_000
BLOCK, CLAIM_LIMIT, CLAIM_RUNS = 250, 500, 15
ADMIN = Actor(
    id="bench",
    name="bench",
    kind=ActorKind.SYSTEM,
    role="admin",
    permissions=permissions_of("admin"),
)
PRIORITY_RULES = RuleSet(
    RuleSetKind.PRIORITY,
    (
        Rule("VIP buyer", {"field": "tags", "op": "contains", "value": "VIP"}, {"weight": 50}),
        Rule(
            "expedited",
            {"field": "tags", "op": "contains_any", "value": ["加急", "expedited"]},
            {"weight": 30},
        ),
        Rule("presale", {"field": "order_type", "op": "eq", "value": "presale"}, {"weight": -10}),
        Rule("Taobao", {"field": "channel", "op": "eq", "value": "taobao"}, {"weight": 5}),
        Rule("above ¥1,000", {"field": "paid_total", "op": "gt", "value": 100000}, {"weight": 10}),
    ),
    {"base": 0},
)


def log(message: str) -> None:
    print(f"[priority] {message}", file=sys.stderr, flush=True)


def hub_at(directory: Path, name: str) -> Hub:
    url = f"sqlite:///{directory / name}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    settings = Settings(
        database_url=url,
        credentials_key=Fernet.generate_key().decode(),
        secret_key="bench",
        log_level="WARNING",
        reserve_stock=False,
        auto_allocate=False,
    )
    return bootstrap(settings)


def paid_order(n: int, rng: random.Random) -> Order:
    tags = rng.choice([(), (), ("VIP",), ("加急",), ("VIP", "加急")])
    line = OrderLine(
        sku="MUG-350", title="马克杯", quantity=1, unit_price=rng.choice([3900, 150000])
    )
    return Order(
        channel="manual",
        channel_order_no=f"B{n:07d}",
        shop="bench",
        currency="CNY",
        amounts=Amounts(goods_total=line.amount, paid_total=line.amount),
        lines=(line,),
        receiver=Receiver("张三", "13800001234", "浙江省", "杭州市", "西湖区", "文三路 90 号"),
        created_at=datetime.now(UTC),
        order_type=rng.choice([OrderType.NORMAL, OrderType.NORMAL, OrderType.PRESALE]),
        payment_status=PaymentStatus.PAID,
        tags=tags,
    )


def run_paying(directory: Path, count: int) -> dict[str, Any]:
    raw, scored = hub_at(directory, "raw.db"), hub_at(directory, "scored.db")
    try:
        rules.save_rules(scored.uow(), PRIORITY_RULES, actor=ADMIN)
        rng = random.Random(11)
        drafts = [paid_order(n, rng) for n in range(count)]
        spent = {"raw": 0.0, "scored": 0.0}
        sides = [("raw", raw), ("scored", scored)]
        for start in range(0, count, BLOCK):
            sides.reverse()  # each side goes first every other block
            for name, hub in sides:
                # A fresh copy for each side: creating an order fills it in.
                block = [replace(d) for d in drafts[start : start + BLOCK]]
                began = time.perf_counter()
                for draft in block:
                    orders.create_order(hub.uow(), draft, actor=ADMIN, review_required=True)
                spent[name] += time.perf_counter() - began
        with scored.uow.read_only() as uow:
            scored_orders = sum(1 for i in uow.orders.recent(count) if uow.orders.get(i).priority)
    finally:
        raw.close()
        scored.close()
    return {
        "raw_paying_orders_per_s": round(count / spent["raw"], 1),
        "paying_orders_per_s": round(count / spent["scored"], 1),
        "paying_vs_raw": round(spent["raw"] / spent["scored"], 3),
        "orders_with_a_score": scored_orders,
    }


def fill_backlog(engine: Engine, count: int) -> None:
    """`count` due messages for one target over the last hour, and as many delivered before
    them (the outbox keeps its history)."""
    rng, start = random.Random(5), datetime.now(UTC) - timedelta(hours=1)
    rows = []
    for n in range(2 * count):
        at = start + timedelta(seconds=3600 * (n - count) / count)
        priority = rng.randint(-10, 80)
        command = Command("wms:WH-BENCH", "wms.outbound.create", {"n": n}, n + 1, priority)
        row = command_row(command, at)
        if n < count:
            row.update(status="delivered", attempts=1, delivered_at=at)
        rows.append(row)
    with engine.begin() as conn:
        for chunk in range(0, len(rows), 5000):
            conn.execute(INSERT_MESSAGES, rows[chunk : chunk + 5000])


def run_claim(directory: Path, backlog: int) -> dict[str, Any]:
    url = f"sqlite:///{directory / 'claim.db'}"
    engine = make_engine(url)
    migrate(engine)
    fill_backlog(engine, backlog)
    target = outbox.c.target == bindparam("target")
    aged = _DUE.where(target)
    before_aging = (
        select(outbox.c.id)
        .where(
            outbox.c.status.in_(UNFINISHED),
            outbox.c.next_attempt_at <= bindparam("now"),
            ~exists().where(
                earlier.c.aggregate_id == outbox.c.aggregate_id,
                earlier.c.target == outbox.c.target,
                earlier.c.id < outbox.c.id,
                earlier.c.status.in_(UNFINISHED),
            ),
            target,
        )
        .order_by(outbox.c.priority.desc(), outbox.c.id)
        .limit(bindparam("limit"))
    )
    params = {"now": datetime.now(UTC), "limit": CLAIM_LIMIT, "target": "wms:WH-BENCH"}
    times: dict[str, list[float]] = {"aged": [], "raw": []}
    with engine.connect() as conn:
        for _ in range(CLAIM_RUNS):
            for name, query in (("raw", before_aging), ("aged", aged)):
                began = time.perf_counter()
                found = conn.execute(query, params).scalars().all()
                times[name].append(time.perf_counter() - began)
                assert len(found) == CLAIM_LIMIT
    engine.dispose()
    aged_ms, raw_ms = (statistics.median(times[k]) * 1000 for k in ("aged", "raw"))
    return {
        "backlog": backlog,
        "claim_ms": round(aged_ms, 2),
        "raw_claim_ms": round(raw_ms, 2),
        "claim_vs_raw": round(raw_ms / aged_ms, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--orders", type=int, help="paid orders per side")
    parser.add_argument("--backlog", type=int, help="due messages in the outbox")
    parser.add_argument("--dir", help="where the temporary databases go")
    args = parser.parse_args()
    count = args.orders or int(
        os.environ.get("ORDERHUB_BENCH_ORDERS", QUICK_ORDERS if args.quick else FULL_ORDERS)
    )
    backlog = args.backlog or (QUICK_BACKLOG if args.quick else FULL_BACKLOG)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        log(f"paying: {count} orders without and with priority rules")
        paying = run_paying(Path(tmp), count)
        log(f"claim: a backlog of {backlog} due messages")
        claim = run_claim(Path(tmp), backlog)
    result = {
        "orders": count,
        **paying,
        **claim,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
