"""A real console server and Debian's Chromium for the browser tests.

The server runs in a daemon thread on a socket bound here (so no port race), on its own SQLite
file, with one operator and a few orders. Never `playwright install`: the tests drive
/usr/bin/chromium.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright

from orderhub.app import create_app
from orderhub.bootstrap import bootstrap
from orderhub.config import Settings
from orderhub.domain.actors import Actor
from orderhub.permissions import permissions_of
from orderhub.services import accounts, orders
from orderhub.storage.database import make_engine, migrate
from tests.conftest import CHEAP_HASHER, TEST_CREDENTIALS_KEY, unavailable
from tests.factories import an_order

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OPERATOR, PASSWORD = "operator", "correct horse"
ORDER_NOS = ("E2E-1001", "E2E-1002", "E2E-1003")
SETUP = Actor(id="setup", name="setup", role="admin", permissions=permissions_of("admin"))


@dataclass(frozen=True)
class Console:
    base_url: str
    order_ids: dict[str, int]


class _Server(uvicorn.Server):
    """uvicorn.Server that says when it is listening, so the fixture waits on an event."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'console.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    hub = bootstrap(
        Settings(
            database_url=url,
            secret_key="e2e-secret",
            log_level="WARNING",
            credentials_key=TEST_CREDENTIALS_KEY,
            # The console walk-through is about the order flow, not stock or the warehouse.
            reserve_stock=False,
            auto_allocate=False,
        ),
        hasher=CHEAP_HASHER,
    )
    accounts.create_user(
        hub.uow(), hub.hasher, username=OPERATOR, password=PASSWORD, role="operator"
    )
    order_ids: dict[str, int] = {}
    for no in ORDER_NOS:
        created = orders.create_order(
            hub.uow(), an_order(channel_order_no=no), actor=SETUP, review_required=True
        )
        assert created.order.id is not None
        order_ids[no] = created.order.id

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(create_app(hub), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    if not server.ready.wait(timeout=15) or not server.started:
        server.should_exit = True
        pytest.fail("the console server did not start within 15 s; see its log above")
    try:
        yield Console(f"http://127.0.0.1:{port}", order_ids)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def require_chromium() -> None:
    if not CHROMIUM.exists():
        unavailable(
            f"{CHROMIUM} is missing; install it with "
            "`apt-get install -y --no-install-recommends chromium fonts-noto-cjk` "
            "(never `playwright install`)"
        )


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
