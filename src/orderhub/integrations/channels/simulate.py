"""Every channel's simulator on 127.0.0.1, with orders flowing at a steady rate (demo, load)."""

from __future__ import annotations

import threading
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


def start_simulators(
    *,
    first_port: int = 9101,
    rate_per_s: float = 0.0,
    webhook_url: Callable[[str], str | None] | None = None,
) -> dict[str, RunningServer]:
    """Start each known channel's simulator on consecutive ports (free ones when `first_port` is
    0); with `rate_per_s` > 0, a
    thread makes that many new orders a second on each and moves some older ones on."""
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
        running[name] = RunningServer(spec.make_simulator(options), port=port).start()
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
