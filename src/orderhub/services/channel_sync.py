"""Keeping the pool in step with each shop: incremental pulls and reconciliation.

A pull asks the channel for orders modified since the shop's cursor, minus an overlap window
(rows a channel commits late carry an earlier modified time; repeats are ignored by the ingest),
page by page, and moves the cursor only when every page is in. Reconciliation compares the
channel's own list of orders with the pool and the quarantine, backfills what is missing, and
proves completeness: channel total = in pool + in quarantine.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from orderhub.domain.actors import Actor
from orderhub.permissions import Permission, require
from orderhub.services.channel_ingest import ingest_payloads
from orderhub.services.ports import ChannelConnector, ChannelUnavailable, UnitOfWorkFactory

log = structlog.get_logger()


@dataclass
class PullReport:
    shop: str
    since: datetime
    until: datetime
    pages: int = 0
    payloads: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    error: str | None = None


def pull_shop(
    uows: UnitOfWorkFactory,
    connector: ChannelConnector,
    shop_code: str,
    *,
    review_required: bool,
    until: datetime | None = None,
    actor: Actor | None = None,
) -> PullReport:
    """One incremental pull of a shop; the cursor moves only when the whole window is in.

    `actor` None is the worker's schedule; a person or a token must hold channel.sync.
    """
    if actor is not None:
        require(actor, Permission.CHANNEL_SYNC)
    with uows.read_only() as uow:
        shop = uow.shops.get(shop_code)
        now = uow.clock.now()
    until = until or now
    start = shop.cursor_at or until - timedelta(seconds=shop.settings.initial_lookback_s)
    since = start - timedelta(seconds=shop.settings.overlap_s)
    report = PullReport(shop.code, since, until)
    client, mapping = connector.client(shop), connector.mapping(shop.channel)
    page: str | None = None
    try:
        while True:
            got = client.fetch_changed(since, until, page)
            report.pages += 1
            report.payloads += len(got.payloads)
            for result in ingest_payloads(
                uows,
                channel=shop.channel,
                shop=shop.code,
                mapping=mapping,
                payloads=got.payloads,
                source="pull",
                review_required=review_required,
            ):
                report.outcomes[result.outcome] += 1
            page = got.next_page
            if page is None:
                break
    except ChannelUnavailable as error:
        report.error = str(error)
        log.warning("pull failed; the cursor stays", shop=shop.code, error=report.error)
    with uows() as uow:
        uow.shops.record_sync(
            shop.code,
            at=uow.clock.now(),
            cursor_at=None if report.error else until,
            error=report.error,
        )
        uow.commit()
    return report


@dataclass
class ReconcileReport:
    shop: str
    since: datetime
    until: datetime
    channel_total: int = 0
    in_pool: int = 0
    in_quarantine: int = 0
    missing: list[str] = field(default_factory=list)
    backfilled: list[str] = field(default_factory=list)
    still_missing: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.error is None and self.channel_total == self.in_pool + self.in_quarantine


def reconcile_shop(
    uows: UnitOfWorkFactory,
    connector: ChannelConnector,
    shop_code: str,
    *,
    since: datetime,
    until: datetime | None = None,
    review_required: bool,
    actor: Actor | None = None,
) -> ReconcileReport:
    """Compare the channel's orders in [since, until) with the pool, backfill the missing."""
    if actor is not None:
        require(actor, Permission.CHANNEL_SYNC)
    with uows.read_only() as uow:
        shop = uow.shops.get(shop_code)
        until = until or uow.clock.now()
    report = ReconcileReport(shop.code, since, until)
    client, mapping = connector.client(shop), connector.mapping(shop.channel)
    numbers: list[str] = []
    try:
        numbers = sorted(set(client.list_order_numbers(since, until)))
        report.channel_total = len(numbers)
        pooled, quarantined = _accounted(uows, shop.channel, shop.code, numbers)
        report.missing = [n for n in numbers if n not in pooled and n not in quarantined]
        for no in report.missing:
            payload = client.fetch_order(no)
            if payload is not None:
                ingest_payloads(
                    uows,
                    channel=shop.channel,
                    shop=shop.code,
                    mapping=mapping,
                    payloads=[payload],
                    source="reconcile",
                    review_required=review_required,
                )
    except ChannelUnavailable as error:
        report.error = str(error)
    pooled, quarantined = _accounted(uows, shop.channel, shop.code, numbers)
    report.in_pool, report.in_quarantine = len(pooled), len(quarantined - pooled)
    report.backfilled = [n for n in report.missing if n in pooled or n in quarantined]
    report.still_missing = [n for n in report.missing if n not in report.backfilled]
    log.info(
        "reconciled",
        shop=shop.code,
        channel_total=report.channel_total,
        in_pool=report.in_pool,
        in_quarantine=report.in_quarantine,
        backfilled=len(report.backfilled),
        still_missing=len(report.still_missing),
    )
    return report


def _accounted(
    uows: UnitOfWorkFactory, channel: str, shop: str, numbers: list[str]
) -> tuple[set[str], set[str]]:
    with uows.read_only() as uow:
        pooled = uow.orders.known_numbers(channel, shop, numbers)
        quarantined = uow.quarantine.open_numbers(channel, shop) & set(numbers)
    return pooled, quarantined
