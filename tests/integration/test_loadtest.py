"""`orderhub loadtest` against a server started here: a tiny double11 run in its own process.

The server is the real app with its worker (pulls, relay, stock push) in this process, the four
channel simulators (Shopify pushing signed webhooks to it) and a Qimen WMS simulator that ships
only when the load test's warehouse hands ask it to. The load test itself runs as the command
does, in a subprocess (Locust monkey-patches sockets: never inside pytest).
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from orderhub.app import create_app
from orderhub.bootstrap import Hub, bootstrap
from orderhub.config import Settings
from orderhub.domain.shops import Credentials, SyncSettings
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.integrations.channels.simulate import (
    SIM_ACCESS_TOKEN,
    SIM_APP_KEY,
    SIM_APP_SECRET,
    start_simulators,
)
from orderhub.services import accounts, shops
from orderhub.storage.database import make_engine, migrate
from orderhub.storage.tables import orders
from orderhub.worker.scheduler import Scheduler
from tests.conftest import CHEAP_HASHER, SETUP_ADMIN, TEST_CREDENTIALS_KEY
from tests.integration.fulfilment_kit import (
    ADMIN,
    SKUS,
    WAREHOUSE,
    WMS_CREDENTIALS,
    set_up_books,
    sim,
    start_wms,
)

# Looked up, never imported: importing Locust would monkey-patch this very process.
if importlib.util.find_spec("locust") is None:
    pytest.skip("the load test needs Locust: pip install -e '.[load]'", allow_module_level=True)

ORDERHUB = [sys.executable, "-c", "from orderhub.cli import app; app()"]


@dataclass
class Server:
    url: str
    token: str
    hub: Hub


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path / 'orderhub.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    settings = Settings(
        database_url=url,
        credentials_key=TEST_CREDENTIALS_KEY,
        secret_key="test-secret",
        log_level="WARNING",
        review_required=True,  # the load test's review desk approves
        reserve_stock=True,
        auto_allocate=True,
        default_warehouse=WAREHOUSE,
        stock_pull_interval_s=0,
        listing_sync_interval_s=0,
    )
    hub = bootstrap(settings, hasher=CHEAP_HASHER)
    orderhub = RunningServer(create_app(hub), port=_free_port())
    channels = start_simulators(
        first_port=0,
        webhook_url=lambda name: f"{orderhub.url}/api/v1/webhooks/{name}/{name}-lt",
    )
    orderhub.start()
    # The WMS takes orders and waits: only the load test's warehouse hands ship them.
    wms = start_wms(
        f"{orderhub.url}/api/v1/wms/{WAREHOUSE}/callbacks", pick_after_s=600, ship_after_s=600
    )
    set_up_books(hub, wms.url, stock=0)
    sim(wms, "PUT", "stock", {sku: 100 for sku in SKUS})  # reported to OrderHub as a count
    sim(wms, "POST", "flush")
    for name, channel in channels.items():
        shops.create_shop(
            hub.uow(),
            hub.channels,
            actor=ADMIN,
            code=f"{name}-lt",
            channel=name,
            name=f"{name} load test shop",
            base_url=channel.url,
            credentials=Credentials(SIM_APP_KEY, SIM_APP_SECRET, SIM_ACCESS_TOKEN),
            settings=SyncSettings(interval_s=5, overlap_s=30, initial_lookback_s=600),
        )
    admin = accounts.create_user(
        hub.uow(), hub.hasher, username="lt-admin", password="x" * 12, role="admin"
    )
    assert admin.id is not None
    token = accounts.issue_token(hub.uow(), actor=SETUP_ADMIN, user_id=admin.id, name="lt")
    scheduler = Scheduler(hub).start()
    yield Server(orderhub.url, token.token, hub)
    scheduler.stop()
    for running in (orderhub, wms, *channels.values()):
        running.stop()
    hub.close()


def _loadtest(*options: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ORDERHUB, "loadtest", *options],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def test_a_tiny_double11_run_places_pays_ships_and_judges_against_the_target(
    server: Server,
) -> None:
    # 17,280 orders a day x 5 = 1 order a second, for 8 seconds
    done = _loadtest(
        "--profile",
        "double11",
        "--url",
        server.url,
        "--token",
        server.token,
        "--daily-orders",
        "17280",
        "--minutes",
        str(8 / 60),
        "--drain-s",
        "30",
        "--wms-secret",
        WMS_CREDENTIALS.secret,
        "--target-orders-per-s",
        "0.5",
        "--target-p99-ms",
        "5000",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    orders = result["orders"]
    assert orders["created"] >= 7 and orders["paid"] == orders["created"]
    assert orders["shipment_callbacks"] == orders["created"]
    assert orders["in_orderhub"] == orders["created"]
    assert orders["shipped_in_orderhub"] == orders["created"], result["backlog"]
    assert result["drained"] is True
    assert result["errors"] == [] and result["all_requests"]["failures"] == 0
    assert result["backlog"]["by_status"] == {"shipped": orders["created"]}
    assert result["backlog"]["waiting"] == 0 and result["backlog"]["quarantined"]["count"] == 0
    # every SKU counted up to what the run needs before it started
    assert set(result["restocked"]) == set(SKUS)
    named = {r["name"] for r in result["requests"]}
    assert "orderhub: deliveryorder.confirm" in named
    assert "orderhub: approve batch" in named
    verdict = result["verdict"]
    throughput = next(c for c in verdict["checks"] if c["name"] == "throughput")
    assert throughput["target"] == 0.5
    assert throughput["measured"] == round(orders["shipped_in_orderhub"] / result["load_s"], 3)
    assert verdict["passed"] is True


def test_an_unreachable_server_is_exit_2_with_how_to_start_it() -> None:
    done = _loadtest("--url", f"http://127.0.0.1:{_free_port()}", "--token", "x", timeout_s=60)
    assert done.returncode == 2
    assert "not reachable" in done.stderr and "make run" in done.stderr


def test_a_wrong_wms_secret_stops_the_run_before_any_order_is_placed(server: Server) -> None:
    done = _loadtest(
        "--url", server.url, "--token", server.token, "--wms-secret", "not-the-secret", "--json"
    )
    assert done.returncode == 2
    assert "refused a signed callback" in done.stderr and "--wms-secret" in done.stderr
    assert done.stdout == ""
    with server.hub.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(orders)).scalar_one() == 0
