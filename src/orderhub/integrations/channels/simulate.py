"""Every channel's simulator on 127.0.0.1, with orders flowing at a steady rate (demo, load)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import structlog

from orderhub.integrations.channels.registry import SimulatorOptions, channels
from orderhub.integrations.channels.simkit import RunningServer

log = structlog.get_logger()
SIM_APP_KEY, SIM_APP_SECRET, SIM_ACCESS_TOKEN = "sim-app-key", "sim-app-secret", "sim-access-token"
# Where `orderhub serve --simulators` puts them, one port per channel in name order.
DEMO_SIMULATOR_PORT = 9101


def simulator_urls(first_port: int = DEMO_SIMULATOR_PORT) -> dict[str, str]:
    """The URL each channel's simulator gets from `start_simulators(first_port=...)`."""
    return {
        name: f"http://127.0.0.1:{first_port + offset}"
        for offset, name in enumerate(sorted(channels()))
    }


def restart_safe_serial(at: float | None = None) -> int:
    """Where a restarted simulator starts numbering: 100,000 numbers per minute of the clock
    (wrapping after about a week), so orders of an earlier run kept in the database are not
    numbered again unless that run made 100,000 orders for every minute between the starts."""
    minute = int((time.time() if at is None else at) // 60)
    return minute % 10_000 * 100_000


def start_simulators(
    *,
    first_port: int = 9101,
    rate_per_s: float = 0.0,
    webhook_url: Callable[[str], str | None] | None = None,
    number_from: int = 0,
) -> dict[str, RunningServer]:
    """Start each known channel's simulator on consecutive ports (free ones when `first_port` is
    0); with `rate_per_s` > 0, a
    thread makes that many new orders a second on each and moves some older ones on.
    `number_from`: each numbers its orders after it (`restart_safe_serial()` for the demo)."""
    running: dict[str, RunningServer] = {}
    for offset, (name, spec) in enumerate(sorted(channels().items())):
        options = SimulatorOptions(
            app_key=SIM_APP_KEY,
            app_secret=SIM_APP_SECRET,
            access_token=SIM_ACCESS_TOKEN,
            seed=100 + offset,
            webhook_url=webhook_url(name) if webhook_url else None,
        )
        port = first_port + offset if first_port else 0  # 0: any free port
        simulator = spec.make_simulator(options)
        if number_from:
            simulator.state.store.number_from(number_from)
        running[name] = RunningServer(simulator, port=port).start()
    if rate_per_s > 0:
        threading.Thread(
            target=_flow, args=(running, rate_per_s), daemon=True, name="simulated-orders"
        ).start()
    return running


def _flow(running: dict[str, RunningServer], rate_per_s: float) -> None:
    """About `rate_per_s` new orders a second per channel, in one call a second."""
    stop = threading.Event()
    with httpx.Client(timeout=10) as client:
        carry = 0.0
        while not stop.wait(1.0):
            carry += rate_per_s
            count, carry = int(carry), carry - int(carry)
            for name, server in running.items():
                try:
                    if count:
                        client.post(f"{server.url}/_sim/orders", json={"count": count})
                    client.post(
                        f"{server.url}/_sim/advance", json={"count": max(1, count), "ship": False}
                    )
                except httpx.HTTPError as error:
                    log.warning("simulated order flow failed", channel=name, error=repr(error))
