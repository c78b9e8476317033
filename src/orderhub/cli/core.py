"""The `orderhub` command: serve, migrate, users and tokens, demo data, version."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from orderhub import __version__
from orderhub.bootstrap import Hub, bootstrap
from orderhub.config import Settings
from orderhub.domain.accounts import User
from orderhub.errors import OrderHubError
from orderhub.permissions import ROLE_NAMES
from orderhub.services import accounts
from orderhub.services.demo import DEMO_PASSWORD, DEMO_USERS, MovableClock, load_demo
from orderhub.services.ports import FlowPolicy
from orderhub.storage.database import current_revision, head_revision, make_engine, migrate
from orderhub.storage.uow import SqlUnitOfWorkFactory

app = typer.Typer(
    help="OrderHub: one order pool for every sales channel.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def _fail(detail: str) -> typer.Exit:
    # soft_wrap: a command in the message must stay on one line to be copied.
    err.print(f"[red]error:[/red] {detail}", soft_wrap=True)
    return typer.Exit(2)


def _hub(settings: Settings | None = None) -> Hub:
    try:
        return bootstrap(settings or Settings())
    except OrderHubError as error:
        raise _fail(error.detail) from None


@app.command("version")
def version() -> None:
    """Print the OrderHub version."""
    console.print(f"orderhub {__version__}")


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database named by ORDERHUB_DATABASE_URL to the current schema."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        before = current_revision(engine)
        migrate(engine)
        after = head_revision(engine)
    finally:
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"{where} is already at schema {after}")
    else:
        console.print(f"{where}: schema {before or 'empty'} -> {after}")


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="default ORDERHUB_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default ORDERHUB_PORT")] = None,
    workers: Annotated[int, typer.Option(help="processes (PostgreSQL only)")] = 1,
    simulators: Annotated[
        bool, typer.Option(help="also serve the channel simulators the demo shops pull from")
    ] = False,
) -> None:
    """Serve the API (/api/v1, OpenAPI at /docs) and the console, with the worker beside them."""
    import uvicorn

    from orderhub.app import create_app
    from orderhub.worker.scheduler import Scheduler

    hub = _hub()
    host = host or hub.settings.host
    port = port or hub.settings.port
    if simulators:
        from orderhub.integrations.channels.simulate import (
            DEMO_SIMULATOR_PORT,
            restart_safe_serial,
            start_simulators,
        )

        running = start_simulators(
            first_port=DEMO_SIMULATOR_PORT,
            rate_per_s=hub.settings.simulator_rate,
            webhook_url=lambda name: f"http://{host}:{port}/api/v1/webhooks/{name}/{name}-demo",
            # the database keeps the orders of the simulators' earlier runs
            number_from=restart_safe_serial(),
        )
        for name, server in running.items():
            console.print(f"simulator {name}: {server.url}")
        console.print(f"simulator WMS: {_start_demo_wms(hub, f'http://{host}:{port}')}")
    console.print(f"OrderHub {__version__} on http://{host}:{port}/  (API docs: /docs)")
    if workers > 1:
        hub.close()
        uvicorn.run(
            "orderhub.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
        )
        return
    scheduler = Scheduler(hub).start() if hub.settings.worker_enabled else None
    try:
        uvicorn.run(create_app(hub), host=host, port=port, access_log=False)
    finally:
        if scheduler is not None:
            scheduler.stop()


def _start_demo_wms(hub: Hub, orderhub_url: str) -> str:
    """The demo warehouse's simulated WMS, holding the stock OrderHub holds for it."""
    import httpx

    from orderhub.integrations.wms.simulate import DEMO_WAREHOUSE, start_demo_wms

    server = start_demo_wms(orderhub_url)
    with hub.uow.read_only() as uow:
        levels = uow.inventory.levels(warehouse=DEMO_WAREHOUSE, limit=10_000)
    if levels:
        httpx.put(f"{server.url}/_sim/stock", json={lv.sku: lv.on_hand for lv in levels})
    return server.url


@app.command("create-user")
def create_user(
    username: str,
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(ROLE_NAMES)}")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    display_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user who signs in to the console (and may create API tokens)."""
    hub = _hub()
    try:
        user = accounts.create_user(
            hub.uow(),
            hub.hasher,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    finally:
        hub.close()
    console.print(f"created user {user.username} ({user.role}), id {user.id}")


@app.command("create-token")
def create_token(username: str, name: Annotated[str, typer.Option(help="what uses it")]) -> None:
    """Issue an API token acting as USERNAME; it is printed once."""
    hub = _hub()
    try:
        with hub.uow() as uow:
            user = uow.users.by_username(username)
        if user is None or user.id is None:
            raise _fail(f"no user '{username}'; create it with `orderhub create-user` first")
        issued = accounts.issue_token(
            hub.uow(), actor=accounts.actor_for(user), user_id=user.id, name=name
        )
    except OrderHubError as error:
        raise _fail(error.detail) from None
    finally:
        hub.close()
    console.print(issued.token)


@app.command("demo")
def demo(
    orders: Annotated[
        int | None, typer.Option(help="how many orders (default ORDERHUB_DEMO_ORDERS)")
    ] = None,
    seed: int = 2026,
) -> None:
    """Load demo users and a week of orders across channels and states (once per database)."""
    settings = Settings()
    count = settings.demo_orders if orders is None else orders
    # Demo data is not precious: skip the per-commit fsync so it loads in seconds.
    hub = _hub(settings.model_copy(update={"sqlite_synchronous": "NORMAL"}))
    try:
        with hub.uow() as uow:
            loaded = uow.users.by_username("admin") is not None
        if loaded:
            console.print("demo data is already loaded; nothing to do")
            _print_logins()
            return
        admin = None
        for username, role in DEMO_USERS.items():
            user = accounts.create_user(
                hub.uow(), hub.hasher, username=username, password=DEMO_PASSWORD, role=role
            )
            admin = user if role == "admin" else admin
        assert admin is not None
        now = datetime.now(UTC)
        clock = MovableClock(now)
        columns = (
            TextColumn("demo orders"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task("orders", total=count)
            # The week of history replays each order's path by hand: no stock is reserved for
            # it and nothing is handed to a warehouse; new orders from the simulators are.
            history = FlowPolicy(reserve_stock=False, auto_allocate=False)
            summary = load_demo(
                SqlUnitOfWorkFactory(hub.engine, clock, flow=history),
                clock,
                count=count,
                now=now,
                actor=accounts.actor_for(admin),
                seed=seed,
                progress=lambda done: progress.update(task, completed=done),
            )
    finally:
        hub.close()
    channels = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_channel.items()))
    console.print(f"loaded {summary.orders} demo orders ({channels})")
    shops = _demo_channels(settings)
    console.print(
        f"demo shops {', '.join(shops)} pull from the simulators of `orderhub serve --simulators`"
    )
    _print_logins()


def _demo_channels(settings: Settings) -> list[str]:
    from orderhub.domain.shops import Credentials
    from orderhub.integrations.channels.simkit import CATALOGUE, COMBOS
    from orderhub.integrations.channels.simulate import (
        SIM_ACCESS_TOKEN,
        SIM_APP_KEY,
        SIM_APP_SECRET,
        simulator_urls,
    )
    from orderhub.integrations.wms.simulate import (
        DEMO_WAREHOUSE,
        SIM_WMS_CREDENTIALS,
        demo_wms_url,
    )
    from orderhub.services.demo import load_demo_channels, load_demo_warehouse

    hub = _hub(settings)
    try:
        codes = load_demo_channels(
            hub.uow,
            hub.channels,
            actor=accounts.actor_for(_admin(hub)),
            products=[(sku, title) for sku, title, _, _ in CATALOGUE],
            combos=COMBOS,
            simulators=simulator_urls(),
            credentials=Credentials(SIM_APP_KEY, SIM_APP_SECRET, SIM_ACCESS_TOKEN),
        )
        load_demo_warehouse(
            hub.uow,
            hub.wms,
            actor=accounts.actor_for(_admin(hub)),
            code=DEMO_WAREHOUSE,
            base_url=demo_wms_url(),
            credentials=SIM_WMS_CREDENTIALS,
            stock={sku: 500 for sku, _, _, _ in CATALOGUE if sku not in COMBOS},
        )
        return codes
    finally:
        hub.close()


def _admin(hub: Hub) -> User:
    with hub.uow.read_only() as uow:
        user = uow.users.by_username("admin")
    assert user is not None
    return user


def _print_logins() -> None:
    names = ", ".join(DEMO_USERS)
    console.print(
        f"demo sign-in: users {names}; password [bold]{DEMO_PASSWORD}[/bold]", soft_wrap=True
    )


if __name__ == "__main__":
    app()
