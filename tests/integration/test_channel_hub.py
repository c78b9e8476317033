"""Every channel into one pool through real simulators over HTTP, with faults: nothing lost,
nothing doubled, nothing moved backwards, and reconcile proves it.

Size: ORDERHUB_CHANNEL_TEST_ORDERS orders per channel (CI runs a small size that still hits every
fault; bench/channels.py runs the full size).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from orderhub.app import create_app
from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor, ActorKind
from orderhub.domain.shops import Credentials, SyncSettings
from orderhub.integrations.channels.registry import channels
from orderhub.integrations.channels.simkit import CATALOGUE, COMBOS, RunningServer
from orderhub.integrations.channels.simulate import (
    SIM_ACCESS_TOKEN,
    SIM_APP_KEY,
    SIM_APP_SECRET,
    start_simulators,
)
from orderhub.permissions import permissions_of
from orderhub.services import shops
from orderhub.services.channel_sync import pull_shop, reconcile_shop
from orderhub.services.demo import load_catalogue
from orderhub.storage.tables import channel_payloads, orders

ORDERS = int(os.environ.get("ORDERHUB_CHANNEL_TEST_ORDERS", "30"))
ADMIN = Actor(
    id="test", name="test", kind=ActorKind.SYSTEM, role="admin", permissions=permissions_of("admin")
)
FAULTS = {
    "rate_429": 0.15,
    "rate_500": 0.15,
    "rate_timeout": 0.03,
    "timeout_s": 1.2,
    "duplicate": 0.2,
    "out_of_order": 0.2,
    "late_commit": 0.1,
    "late_commit_s": 20,
    "drop_webhook": 0.3,
}
EVERY_FAULT = {
    "rate_429",
    "rate_500",
    "rate_timeout",
    "duplicate",
    "out_of_order",
    "late_commit",
    "drop_webhook",
}
NO_FAULTS = {
    name: 0.0
    for name in (
        "rate_429",
        "rate_500",
        "rate_timeout",
        "duplicate",
        "out_of_order",
        "late_commit",
        "drop_webhook",
    )
}


@pytest.fixture
def orderhub(hub: Hub) -> Iterator[RunningServer]:
    """OrderHub itself on real HTTP, so push channels can deliver their webhooks to it."""
    server = RunningServer(create_app(hub)).start()
    yield server
    server.stop()


@pytest.fixture
def simulators(orderhub: RunningServer) -> Iterator[dict[str, RunningServer]]:
    running = start_simulators(
        first_port=0, webhook_url=lambda name: f"{orderhub.url}/api/v1/webhooks/{name}/{name}-test"
    )
    yield running
    for server in running.values():
        server.stop()


def _faults_met(simulators: dict[str, RunningServer]) -> set[str]:
    met: set[str] = set()
    for server in simulators.values():
        met |= {k for k, n in _sim(server, "GET", "faults")["hits"].items() if n}
    return met


def _sim(server: RunningServer, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{server.url}/_sim/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def _catalogue(hub: Hub) -> None:
    """The simulators' SKUs, SET-TEA-MUG a combo of the tea and the mug."""
    load_catalogue(
        hub.uow,
        actor=ADMIN,
        combos=COMBOS,
        products=[(sku, title) for sku, title, _, _ in CATALOGUE],
    )


def _shops(hub: Hub, running: dict[str, RunningServer]) -> dict[str, str]:
    codes = {}
    for name, server in running.items():
        code = f"{name}-test"
        shops.create_shop(
            hub.uow(),
            hub.channels,
            actor=ADMIN,
            code=code,
            channel=name,
            name=code,
            base_url=server.url,
            credentials=Credentials(SIM_APP_KEY, SIM_APP_SECRET, SIM_ACCESS_TOKEN),
            settings=SyncSettings(
                overlap_s=60,
                initial_lookback_s=3600,
                timeout_s=1.0,
                max_attempts=12,
                rate_per_s=500,
            ),
        )
        codes[name] = code
    return codes


def _pull_all(hub: Hub, codes: dict[str, str]) -> dict[str, Any]:
    reports = {}
    for name, code in codes.items():
        reports[name] = pull_shop(hub.uow, hub.channels, code, review_required=True)
        assert reports[name].error is None, reports[name].error
    return reports


def test_every_channel_order_lands_once_despite_faults_and_reconcile_proves_it(
    hub: Hub, simulators: dict[str, RunningServer]
) -> None:
    assert set(simulators) == set(channels())
    _catalogue(hub)
    codes = _shops(hub, simulators)
    for server in simulators.values():
        _sim(server, "POST", "orders", {"count": ORDERS})
        _sim(server, "PUT", "faults", FAULTS)
    first = _pull_all(hub, codes)
    for server in simulators.values():
        _sim(server, "POST", "advance", {"count": ORDERS})
        _sim(server, "POST", "orders", {"count": ORDERS // 3})
    second = _pull_all(hub, codes)
    for server in simulators.values():
        _sim(server, "POST", "advance", {"count": ORDERS})
    _pull_all(hub, codes)
    # At a small size a rare fault may not have come up yet: go on until every one has.
    for _ in range(20):
        if _faults_met(simulators) >= EVERY_FAULT:
            break
        for server in simulators.values():
            _sim(server, "POST", "orders", {"count": 5})
            _sim(server, "POST", "advance", {"count": 5})
        _pull_all(hub, codes)
    assert _faults_met(simulators) >= EVERY_FAULT, _faults_met(simulators)
    # Orders the channel commits so late that even the overlap window misses them: only
    # reconciliation finds them.
    for server in simulators.values():
        _sim(server, "PUT", "faults", {**NO_FAULTS, "late_commit": 1.0, "late_commit_s": 900})
        _sim(server, "POST", "orders", {"count": 3})
        _sim(server, "PUT", "faults", NO_FAULTS)
    _pull_all(hub, codes)

    with hub.uow.read_only() as uow:
        now = uow.clock.now()
    for name, code in codes.items():
        truth = _sim(simulators[name], "GET", "orders")["orders"]
        listed = {no for no, order in truth.items() if order["visible"]}
        report = reconcile_shop(
            hub.uow,
            hub.channels,
            code,
            since=now - timedelta(hours=2),
            until=now + timedelta(minutes=1),
            review_required=True,
        )
        assert report.error is None
        assert report.channel_total == len(listed), name
        assert report.complete, (name, report.still_missing)
        assert report.in_pool + report.in_quarantine == report.channel_total
        late = {no for no in sorted(truth)[-3:] if no in listed}  # committed 15 min back
        if channels()[name].webhook is None:
            assert set(report.backfilled) == late, (name, report)  # only reconcile finds them
        else:
            assert set(report.backfilled) <= late, (name, report)  # or their webhook did
        _assert_latest_versions_applied(hub, name, code, truth)
        _assert_never_backwards(hub, name, code)
    ignored = sum(r.outcomes["ignored"] for r in [*first.values(), *second.values()])
    assert ignored > 0, "the injected duplicates and stale versions were ignored, and counted"
    with hub.engine.connect() as conn:
        pushed = conn.execute(
            select(func.count())
            .select_from(channel_payloads)
            .where(channel_payloads.c.source == "webhook")
        ).scalar_one()
    assert pushed > 0, "Shopify's webhooks reached OrderHub; the dropped ones came by the pull"


def _assert_latest_versions_applied(
    hub: Hub, channel: str, code: str, truth: dict[str, Any]
) -> None:
    from datetime import datetime

    with hub.engine.connect() as conn:
        rows = conn.execute(
            select(orders.c.channel_order_no, orders.c.channel_modified_at).where(
                orders.c.channel == channel, orders.c.shop == code
            )
        ).all()
    assert len(rows) == len({r[0] for r in rows})  # no order twice
    applied = {r[0]: r[1] for r in rows}
    for no, state in truth.items():
        if no in applied:
            # Channels give modified times to the second (Shopify to the second too).
            latest = datetime.fromisoformat(state["modified_at"]).replace(microsecond=0)
            assert applied[no].replace(microsecond=0) == latest, (channel, no)


def _assert_never_backwards(hub: Hub, channel: str, code: str) -> None:
    with hub.engine.connect() as conn:
        rows = conn.execute(
            select(channel_payloads.c.channel_order_no, channel_payloads.c.modified_at)
            .where(
                channel_payloads.c.channel == channel,
                channel_payloads.c.shop == code,
                channel_payloads.c.outcome.in_(["created", "updated"]),
            )
            .order_by(channel_payloads.c.id)
        ).all()
    last: dict[str, Any] = {}
    for no, modified_at in rows:
        assert no not in last or modified_at > last[no], (channel, no)
        last[no] = modified_at
