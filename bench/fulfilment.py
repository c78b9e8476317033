"""Fulfilment benchmark: paid orders to shipped through the outbox and the simulated WMS.

Before the clock, a fresh SQLite database (the project's migration) gets the catalogue, a
warehouse run by the Qimen WMS simulator, stock, and N paid orders (each reserved, allocated and
its wms.outbound.create written to the outbox, as paying does). Then `orderhub serve` starts in
its own process, as in production: the API takes the WMS callbacks and the in-process worker
relays the outbox. The WMS simulator (its own process) picks and ships at once.

  service   N orders from paid to shipped: from the first delivery attempt to the last shipped
            event, by the database's own timestamps; and outbox deliveries a second.
  raw       the same WMS and HTTP with no OrderHub: N outbound orders pushed in the same batches
            by plain Qimen calls, and a receiver that reads each signed callback and does nothing
            else. Its rate is the ceiling the simulator and HTTP set; `service_vs_raw` is the share
            of it OrderHub keeps.

Progress goes to stderr; the last line of stdout is one JSON object. Exit 1 when an order did not
ship or stock does not balance. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from benchkit import free_port
from orderhub.bootstrap import bootstrap
from orderhub.config import Settings
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.orders import Amounts, Order, OrderLine, PaymentStatus, Receiver
from orderhub.domain.warehouses import Warehouse, WmsCredentials
from orderhub.integrations.channels.simkit import CATALOGUE, COMBOS, RunningServer
from orderhub.integrations.wms.connect import Wms
from orderhub.integrations.wms.qimen.simulator import WmsSimOptions, start_wms_simulator
from orderhub.permissions import permissions_of
from orderhub.services import orders
from orderhub.services.demo import load_catalogue, load_demo_warehouse
from orderhub.services.ports import OutboxMessage
from orderhub.storage.database import make_engine, migrate
from orderhub.storage.tables import inbox, outbox, outbox_attempts
from orderhub.storage.tables import orders as orders_table

FULL_ORDERS, QUICK_ORDERS = 10_000, 600
GOAL_ORDERS_PER_S = 1_000
WAREHOUSE = "WH-BENCH"
CREDENTIALS = WmsCredentials(app_key="bench", secret="bench-secret", customer_id="BENCH")
ADMIN = Actor(
    id="bench",
    name="bench",
    kind=ActorKind.SYSTEM,
    role="admin",
    permissions=permissions_of("admin"),
)
SKUS = [sku for sku, _, _, _ in CATALOGUE if sku not in COMBOS]


def log(message: str) -> None:
    print(f"[fulfilment] {message}", file=sys.stderr, flush=True)


# --- the WMS simulator, in a process of its own ----------------------------------------------


def serve_wms(callback_url: str) -> None:
    """Run as `fulfilment.py --serve-wms URL`: print the simulator's URL, serve until stdin ends."""
    server = start_wms_simulator(
        callback_url=callback_url,
        credentials=CREDENTIALS,
        options=WmsSimOptions(warehouse_code=WAREHOUSE, confirm_batch=100),
    )
    print(server.url, flush=True)
    sys.stdin.read()


@contextmanager
def wms_process(callback_url: str) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-wms", callback_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip()
        if not url:
            raise RuntimeError(f"the WMS simulator exited with {process.wait()}")
        yield url
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# --- service: OrderHub end to end --------------------------------------------------------------


def settings_for(database: Path, key: str) -> Settings:
    return Settings(
        database_url=f"sqlite:///{database}",
        credentials_key=key,
        secret_key="bench",
        log_level="WARNING",
        review_required=False,
        default_warehouse=WAREHOUSE,
        stock_pull_interval_s=0,
    )


def prepare(settings: Settings, wms_url: str, count: int) -> float:
    """Catalogue, warehouse, stock and `count` paid orders; returns paying's orders a second."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    hub = bootstrap(settings)
    try:
        load_catalogue(
            hub.uow, actor=ADMIN, combos=COMBOS, products=[(s, t) for s, t, _, _ in CATALOGUE]
        )
        load_demo_warehouse(
            hub.uow,
            hub.wms,
            actor=ADMIN,
            code=WAREHOUSE,
            base_url=wms_url,
            credentials=CREDENTIALS,
            stock={sku: 3 * count for sku in SKUS},
            name="bench",
            rate_per_s=1_000_000,
        )
        started = time.perf_counter()
        for n in range(count):
            orders.create_order(hub.uow(), paid_order(n), actor=ADMIN, review_required=False)
        return count / (time.perf_counter() - started)
    finally:
        hub.close()


def paid_order(n: int) -> Order:
    sku = SKUS[n % len(SKUS)]
    line = OrderLine(sku=sku, title=sku, quantity=1 + n % 2, unit_price=2990)
    return Order(
        channel="manual",
        channel_order_no=f"B{n:08d}",
        shop="bench",
        currency="CNY",
        amounts=Amounts(goods_total=line.amount, paid_total=line.amount),
        lines=(line,),
        receiver=Receiver("张三", "13800001234", "浙江省", "杭州市", "西湖区", "文三路 90 号"),
        created_at=datetime.now(UTC),
        payment_status=PaymentStatus.PAID,
    )


def run_service(settings: Settings, port: int, count: int, directory: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        **{
            f"ORDERHUB_{k.upper()}": str(v)
            for k, v in settings.model_dump().items()
            if v is not None
        },
    }
    env["ORDERHUB_REVIEW_REQUIRED"] = "false"
    log_file = (directory / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "orderhub"), "serve", "--port", str(port)],
        env=env,
        stdout=log_file,
        stderr=log_file,
    )
    engine = make_engine(settings.database_url)
    try:
        deadline = time.monotonic() + 60 + count / 50
        shipped = 0
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                shipped = conn.execute(
                    select(func.count()).where(orders_table.c.status == "shipped")
                ).scalar_one()
            if shipped == count:
                break
            if server.poll() is not None:
                raise RuntimeError(f"orderhub serve exited; see {directory / 'serve.log'}")
            time.sleep(0.2)
        with engine.connect() as conn:
            first = conn.execute(select(func.min(outbox_attempts.c.at))).scalar_one()
            # When OrderHub took the last shipped callback (its own clock, like the attempts).
            last_ship = conn.execute(
                select(func.max(inbox.c.received_at)).where(inbox.c.kind == "shipped")
            ).scalar_one()
            delivered, last_delivery = conn.execute(
                select(func.count(), func.max(outbox.c.delivered_at)).where(
                    outbox.c.status == "delivered"
                )
            ).one()
    finally:
        server.terminate()
        server.wait(20)
        engine.dispose()
    if shipped != count:
        raise SystemExit(f"only {shipped} of {count} orders shipped; see {directory / 'serve.log'}")
    elapsed = (_aware(last_ship) - _aware(first)).total_seconds()
    relay_s = (_aware(last_delivery) - _aware(first)).total_seconds()
    return {
        "orders_per_s": round(count / elapsed, 1),
        "deliveries_per_s": round(delivered / relay_s, 1),
        "elapsed_s": round(elapsed, 2),
        "deliveries": delivered,
    }


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# --- raw: the same WMS and HTTP, no OrderHub ---------------------------------------------------


def run_raw(count: int) -> dict[str, Any]:
    wms = Wms()
    warehouse = Warehouse(
        code=WAREHOUSE,
        name="raw",
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
        wms="qimen",
        credentials=CREDENTIALS,
    )
    seen: set[str] = set()
    done = threading.Event()
    receiver = FastAPI()

    @receiver.post("/callbacks")
    async def callback(request: Request) -> Response:
        reports = wms.parse_callback(warehouse, dict(request.query_params), await request.body())
        seen.update(r.outbound_no or "" for r in reports if r.kind == "shipped")
        if len(seen) >= count:
            done.set()
        content_type, body = wms.answer(warehouse, None)
        return Response(body, media_type=content_type)

    server = RunningServer(receiver).start()
    try:
        with wms_process(f"{server.url}/callbacks") as wms_url:
            warehouse.base_url = wms_url
            client = wms.client(warehouse)
            messages = [_raw_message(n) for n in range(count)]
            started = time.perf_counter()
            for start in range(0, count, client.batch_size):
                client.send(messages[start : start + client.batch_size])
            done.wait(60 + count / 100)
            elapsed = time.perf_counter() - started
    finally:
        server.stop()
        wms.close()
    if len(seen) < count:
        raise SystemExit(f"raw: only {len(seen)} of {count} shipped callbacks arrived")
    return {"raw_orders_per_s": round(count / elapsed, 1)}


def _raw_message(n: int) -> OutboxMessage:
    order = paid_order(n)
    order.id, order.warehouse = n + 1, WAREHOUSE
    from orderhub.domain.fulfilment import outbound_payload

    return OutboxMessage(
        id=n + 1,
        message_id=str(uuid.uuid4()),
        target=f"wms:{WAREHOUSE}",
        kind="wms.outbound.create",
        payload=outbound_payload(order),
        attempts=0,
        created_at=datetime.now(UTC),
        order_id=n + 1,
    )


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ORDERS} orders (CI size)")
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--serve-wms", metavar="CALLBACK_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_wms:
        serve_wms(args.serve_wms)
        return 0
    count = args.orders or int(
        os.environ.get("ORDERHUB_BENCH_ORDERS", QUICK_ORDERS if args.quick else FULL_ORDERS)
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        directory = Path(tmp)
        log(f"raw: {count} outbound orders through the WMS simulator, no OrderHub")
        raw = run_raw(count)
        log(f"raw: {raw['raw_orders_per_s']} orders/s")
        port = free_port()
        settings = settings_for(directory / "bench.db", Fernet.generate_key().decode())
        with wms_process(f"http://127.0.0.1:{port}/api/v1/wms/{WAREHOUSE}/callbacks") as url:
            log(f"service: preparing {count} paid orders (reserved, allocated, in the outbox)")
            paying = prepare(settings, url, count)
            log(f"service: paying ran at {paying:.0f} orders/s; starting orderhub serve")
            service = run_service(settings, port, count, directory)
        log(
            f"service: {service['orders_per_s']} orders/s, {service['deliveries_per_s']} "
            "deliveries/s"
        )
    result = {
        "orders": count,
        **service,
        **raw,
        "service_vs_raw": round(service["orders_per_s"] / raw["raw_orders_per_s"], 3),
        "paying_orders_per_s": round(paying, 1),
        "goal_orders_per_s": GOAL_ORDERS_PER_S,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
