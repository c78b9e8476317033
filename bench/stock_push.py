"""Stock push benchmark: from a stock change to every simulated channel listing showing it.

Set-up (not timed): a fresh SQLite database (the project's migration) with the catalogue, a
warehouse with stock, one shop per channel (Taobao, JD, PDD, Shopify simulators in their own
process), each with its own stock rule, and an API token. `orderhub serve` then runs in its own
process, as in production: its worker reads every shop's listings, pushes their first figures,
and from then on plans changed SKUs every ORDERHUB_STOCK_PUSH_INTERVAL_S and relays the updates.

  service   rounds of bursts: in each round every plain SKU gets BURST goods-in through the
            REST API at once (threads, one change each), so each SKU and the combo built from two
            of them change BURST times in a fraction of a second. After the round the bench
            waits until every listing shows its shop's figure. A sample is one listing in one
            round: from the moment the round's last change for that listing's SKU (or a
            component) was sent, to the simulator's time of the update that brought the final
            figure. channel_calls_per_change = stock calls the simulators received in the
            measured rounds / stock changes made.
  raw       the same clients, signing and HTTP with no OrderHub: each listing's figure set by a
            direct stock call; a sample is from the call's start to the simulator's update time.
            Its p50 is the floor the channel round trip sets; `p50_vs_raw` compares.

Progress goes to stderr; the last line of stdout is one JSON object. Exit 1 when a listing did
not reach its figure. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from benchkit import free_port, simulators
from orderhub.bootstrap import bootstrap
from orderhub.config import Settings
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.shops import Credentials, SyncSettings
from orderhub.domain.stock_push import StockRule, available_for, shown
from orderhub.integrations.channels.registry import ShopConnection, channel
from orderhub.integrations.channels.simkit import CATALOGUE, COMBOS
from orderhub.integrations.channels.simulate import SIM_ACCESS_TOKEN, SIM_APP_KEY, SIM_APP_SECRET
from orderhub.permissions import permissions_of
from orderhub.services import accounts, inventory, shops, stock_push, warehouses
from orderhub.services.demo import load_catalogue
from orderhub.storage.database import make_engine, migrate

FULL_ROUNDS, QUICK_ROUNDS = 30, 4
BURST = 10
WAREHOUSE = "WH-BENCH"
OPENING = 1_000
SKUS = [sku for sku, _, _, _ in CATALOGUE if sku not in COMBOS]
ADMIN = Actor(
    id="bench",
    name="bench",
    kind=ActorKind.SYSTEM,
    role="admin",
    permissions=permissions_of("admin"),
)
RULES = {  # a different rule per shop, so every shape of the formula is exercised
    "taobao": StockRule("", percent=50, buffer=5),
    "jd": StockRule("", percent=10, minimum=20),
    "pdd": StockRule(""),
    "shopify": StockRule("", percent=80, buffer=3, minimum=1),
}
HERE = Path(__file__).resolve().parent


def log(message: str) -> None:
    print(f"[stock_push] {message}", file=sys.stderr, flush=True)


def listings_of(url: str) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{url}/_sim/listings", timeout=30)
    response.raise_for_status()
    return {x["channel_sku"]: x for x in response.json()["listings"] if not x["removed"]}


def stock_calls(urls: Mapping[str, str]) -> int:
    return sum(
        httpx.get(f"{u}/_sim/listings", timeout=30).json()["stock_calls"] for u in urls.values()
    )


# --- set-up --------------------------------------------------------------------------------------


def settings_for(database: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{database}",
        credentials_key=Fernet.generate_key().decode(),
        secret_key="bench",
        log_level="WARNING",
        stock_pull_interval_s=0,
    )


def prepare(settings: Settings, urls: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """Catalogue, warehouse, stock, shops and their rules; returns the shop codes and a token."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    hub = bootstrap(settings)
    try:
        load_catalogue(
            hub.uow, actor=ADMIN, combos=COMBOS, products=[(s, t) for s, t, _, _ in CATALOGUE]
        )
        warehouses.create_warehouse(hub.uow(), hub.wms, actor=ADMIN, code=WAREHOUSE, name="bench")
        for sku in SKUS:
            inventory.receive(
                hub.uow(),
                actor=ADMIN,
                sku=sku,
                warehouse=WAREHOUSE,
                quantity=OPENING,
                reason="open",
            )
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
                # No orders to pull here: pulls stay out of the way of the measurement.
                settings=SyncSettings(interval_s=3600, max_attempts=3, rate_per_s=2000),
            )
            stock_push.save_stock_rule(hub.uow(), replace(RULES[name], shop=code), actor=ADMIN)
            codes[name] = code
        user = accounts.create_user(
            hub.uow(), hub.hasher, username="bench", password="bench-password-1", role="admin"
        )
        assert user.id is not None
        token = accounts.issue_token(hub.uow(), actor=ADMIN, user_id=user.id, name="bench").token
        return codes, token
    finally:
        hub.close()


def expected(available: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """What each channel's listings should show: {channel: {channel_sku: quantity}}."""
    per_warehouse = {sku: {WAREHOUSE: n} for sku, n in available.items()}
    return {
        name: {
            sku: shown(available_for(sku, rule, per_warehouse, COMBOS), rule)
            for sku, _, _, _ in CATALOGUE
        }
        for name, rule in RULES.items()
    }


def wait_until_shown(
    urls: Mapping[str, str], want: dict[str, dict[str, int]], timeout_s: float
) -> dict[str, dict[str, dict[str, Any]]]:
    deadline = time.monotonic() + timeout_s
    while True:
        seen = {name: listings_of(url) for name, url in urls.items()}
        wrong = [
            f"{name}/{sku}: {seen[name][sku]['quantity']} (want {q})"
            for name, skus in want.items()
            for sku, q in skus.items()
            if seen[name][sku]["quantity"] != q
        ]
        if not wrong:
            return seen
        if time.monotonic() > deadline:
            raise SystemExit(f"listings did not reach their figures: {wrong[:8]}")
        time.sleep(0.02)


# --- service -------------------------------------------------------------------------------------


def serve(settings: Settings, port: int, directory: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **{
            f"ORDERHUB_{k.upper()}": str(v)
            for k, v in settings.model_dump().items()
            if v is not None
        },
    }
    log_file = (directory / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "orderhub"), "serve", "--port", str(port)],
        env=env,
        stdout=log_file,
        stderr=log_file,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"orderhub serve exited; see {directory / 'serve.log'}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("orderhub serve did not start in 60 s")


def _changer(api: httpx.Client, last_sent: dict[str, float]) -> Callable[[str], None]:
    def change(sku: str) -> None:
        last_sent[sku] = time.time()  # the latest send per SKU wins (set before the call)
        api.post(
            "/api/v1/stock/receive",
            json={"sku": sku, "warehouse": WAREHOUSE, "quantity": 1, "reason": "bench"},
        ).raise_for_status()

    return change


def run_service(
    urls: Mapping[str, str], port: int, token: str, rounds: int
) -> tuple[list[float], int, int]:
    """Returns the latency samples (ms), the changes made and the channel calls they caused."""
    available = {sku: OPENING for sku in SKUS}
    log("waiting for the first push of every listing")
    wait_until_shown(urls, expected(available), timeout_s=120)
    headers = {"Authorization": f"Bearer {token}"}
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30)
    samples: list[float] = []
    calls_before, changes = stock_calls(urls), 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for n in range(rounds):
            last_sent: dict[str, float] = {}
            change = _changer(api, last_sent)
            before = {name: listings_of(url) for name, url in urls.items()}
            list(pool.map(change, [sku for _ in range(BURST) for sku in SKUS]))
            changes += BURST * len(SKUS)
            for sku in SKUS:
                available[sku] += BURST
            seen = wait_until_shown(urls, expected(available), timeout_s=60)
            for name in urls:
                for sku, listing in seen[name].items():
                    parts = [c.sku for c in COMBOS[sku]] if sku in COMBOS else [sku]
                    changed_at = max(last_sent[p] for p in parts)
                    if listing["updates"] == before[name][sku]["updates"]:
                        continue  # the figure did not move for this shop (its rule's rounding)
                    samples.append(max(0.0, listing["updated_at"] - changed_at) * 1000)
            log(f"round {n + 1}/{rounds}: {len(samples)} samples so far")
    api.close()
    return samples, changes, stock_calls(urls) - calls_before


# --- raw: the same calls with no OrderHub ---------------------------------------------------


def run_raw(urls: Mapping[str, str], rounds: int) -> list[float]:
    samples: list[float] = []
    for name, url in urls.items():
        client = channel(name).make_client(
            ShopConnection(
                shop=f"{name}-raw",
                base_url=url,
                app_key=SIM_APP_KEY,
                app_secret=SIM_APP_SECRET,
                access_token=SIM_ACCESS_TOKEN,
                timeout_s=10,
                max_attempts=3,
                rate_per_s=2000,
            )
        )
        listings = client.listings()
        try:
            for n in range(rounds):
                for listing in listings:
                    started = time.time()
                    client.set_stock(listing.ids, 5_000 + n)
                    updated = listings_of(url)[listing.channel_sku]["updated_at"]
                    samples.append(max(0.0, updated - started) * 1000)
        finally:
            getattr(client, "close", lambda: None)()
    return samples


def uncoalesced_per_change() -> float:
    """Listings one change of a plain SKU touches on average (its own and its combos', per shop)."""
    touched = [
        1 + sum(any(p.sku == sku for p in parts) for parts in COMBOS.values()) for sku in SKUS
    ]
    return len(RULES) * sum(touched) / len(touched)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"CI size: {QUICK_ROUNDS} rounds")
    parser.add_argument("--rounds", type=int, help=f"rounds of bursts (default {FULL_ROUNDS})")
    opts = parser.parse_args()
    rounds = opts.rounds or (QUICK_ROUNDS if opts.quick else FULL_ROUNDS)
    with tempfile.TemporaryDirectory(prefix="orderhub-stock-push-") as tmp, simulators() as urls:
        directory = Path(tmp)
        settings = settings_for(directory / "orderhub.db")
        log(f"preparing: {len(urls)} shops, {len(CATALOGUE)} listings each")
        _, token = prepare(settings, urls)
        port = free_port()
        server = serve(settings, port, directory)
        try:
            samples, changes, calls = run_service(urls, port, token, rounds)
        finally:
            server.terminate()
            server.wait(20)
        raw = run_raw(urls, max(1, rounds // 2))
    p50, p99 = percentile(samples, 50), percentile(samples, 99)
    raw_p50 = percentile(raw, 50)
    result = {
        "bench": "stock_push",
        "rounds": rounds,
        "burst_per_sku": BURST,
        "changes": changes,
        "samples": len(samples),
        "stock_push_p50_ms": p50,
        "stock_push_p99_ms": p99,
        "stock_push_mean_ms": round(statistics.fmean(samples), 1),
        "channel_calls": calls,
        "channel_calls_per_change": round(calls / changes, 3),
        # One call per listing touched by each change, as an unbatched push would make.
        "uncoalesced_calls_per_change": round(uncoalesced_per_change(), 3),
        "raw_call_p50_ms": raw_p50,
        "raw_call_p99_ms": percentile(raw, 99),
        "p50_vs_raw": round(p50 / raw_p50, 1) if raw_p50 else None,
        "push_interval_s": settings.stock_push_interval_s,
        "relay_poll_s": settings.outbox_poll_s,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
