"""Runs each shop's pull when it is due, and a reconciliation now and then.

Thin: the jobs are the services' use cases; this only decides when. One thread is enough for
the embedded default; `orderhub worker` runs the same loop as its own process.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import structlog

from orderhub.bootstrap import Hub
from orderhub.domain.alerts import AlertPolicy
from orderhub.domain.shops import Shop
from orderhub.services.bottlenecks import settle
from orderhub.services.channel_sync import pull_shop, reconcile_shop
from orderhub.services.fulfilment.parcels import merge_waiting
from orderhub.services.fulfilment.warehouse_reports import pull_stock
from orderhub.services.sla import check_sla, send_notices
from orderhub.services.stock_push import refresh_listings
from orderhub.worker.relay import Relay
from orderhub.worker.stock_push import StockPusher

log = structlog.get_logger()


class Scheduler:
    def __init__(
        self,
        hub: Hub,
        *,
        tick_s: float = 1.0,
        reconcile_every_s: float = 3600.0,
        reconcile_window: timedelta = timedelta(days=2),
    ) -> None:
        self.hub, self.tick_s = hub, tick_s
        self.reconcile_every_s, self.reconcile_window = reconcile_every_s, reconcile_window
        self._stop = threading.Event()
        self._reconciled: dict[str, datetime] = {}
        self._stock_pulled: dict[str, datetime] = {}
        self._listings_synced: dict[str, datetime] = {}
        self._sla_checked: datetime | None = None
        self._thread: threading.Thread | None = None
        settings = hub.settings
        self.relay = Relay(
            hub.uow,
            hub.deliveries,
            batch=settings.outbox_batch,
            lease_s=settings.outbox_lease_s,
            policy=hub.retry_policy(),
            poll_s=settings.outbox_poll_s,
        )
        self._relay_thread: threading.Thread | None = None
        self.stock_pusher = StockPusher(
            hub.uow, interval_s=settings.stock_push_interval_s, planned=self.relay.wake
        )
        self._push_thread: threading.Thread | None = None

    def run_due(self) -> int:
        """Run what is due now; returns how many jobs ran (for tests and the CLI)."""
        with self.hub.uow.read_only() as uow:
            shops = [s for s in uow.shops.list() if s.enabled]
            now = uow.clock.now()
        ran = 0
        for shop in shops:
            if shop.last_sync_at is None or now - shop.last_sync_at >= timedelta(
                seconds=shop.settings.interval_s
            ):
                report = pull_shop(
                    self.hub.uow,
                    self.hub.channels,
                    shop.code,
                    review_required=self.hub.settings.review_required,
                )
                log.info(
                    "pulled",
                    shop=shop.code,
                    payloads=report.payloads,
                    outcomes=dict(report.outcomes),
                    error=report.error,
                )
                ran += 1
            last = self._reconciled.get(shop.code)
            if last is None or (now - last).total_seconds() >= self.reconcile_every_s:
                self._reconciled[shop.code] = now
                reconcile_shop(
                    self.hub.uow,
                    self.hub.channels,
                    shop.code,
                    since=now - self.reconcile_window,
                    until=now,
                    review_required=self.hub.settings.review_required,
                )
                ran += 1
        ran += self._pull_stock(now) + self._sync_listings(shops, now) + self._merge()
        return ran + self._check_sla(now) + self._settle_stays()

    def _check_sla(self, now: datetime) -> int:
        """The SLA rules every ORDERHUB_SLA_CHECK_INTERVAL_S; alerts whose digest window closed
        become notices every tick (a read when nothing waits)."""
        settings = self.hub.settings
        if settings.sla_check_interval_s <= 0:
            return 0
        policy = AlertPolicy(settings.alert_digest_window_s, settings.alert_digest_threshold)
        last = self._sla_checked
        due = last is None or (now - last).total_seconds() >= settings.sla_check_interval_s
        try:
            if due:
                self._sla_checked = now
                report = check_sla(self.hub.uow, policy=policy)
            else:
                report = send_notices(self.hub.uow, policy=policy)
        except Exception:
            log.exception("sla check failed; trying again next time")
            return 0
        if report.raised or report.escalated or report.resolved:
            log.info(
                "sla checked",
                raised=report.raised,
                escalated=report.escalated,
                resolved=report.resolved,
                notices=report.notices,
            )
        if report.notices:
            self.relay.wake()
        return 1 if report.raised or report.escalated or report.resolved or report.notices else 0

    def _settle_stays(self) -> int:
        """Stays ended since the last tick into the dwell report's tables (a read when none)."""
        try:
            moved = settle(self.hub.uow)
        except Exception:
            log.exception("settling stays failed; trying again next tick")
            return 0
        return 1 if moved else 0

    def _merge(self) -> int:
        """The merge round (ORDERHUB_AUTO_MERGE): one buyer's orders waiting for the same
        receiver in one warehouse leave in one parcel."""
        if not self.hub.settings.auto_merge:
            return 0
        made = merge_waiting(self.hub.uow)
        if made:
            log.info("merged waiting orders", parcels=made)
        return len(made)

    def _sync_listings(self, shops: list[Shop], now: datetime) -> int:
        every = self.hub.settings.listing_sync_interval_s
        if not self.hub.settings.push_stock:
            return 0
        ran = 0
        for shop in shops:
            last = self._listings_synced.get(shop.code)
            if last is not None and (every <= 0 or (now - last).total_seconds() < every):
                continue
            self._listings_synced[shop.code] = now
            try:
                report = refresh_listings(self.hub.uow, self.hub.channels, shop.code)
            except Exception:
                log.exception("listing sync failed; trying again next time", shop=shop.code)
                continue
            log.info("listings synced", shop=shop.code, listings=report.listings)
            ran += 1
        return ran

    def _pull_stock(self, now: datetime) -> int:
        every = self.hub.settings.stock_pull_interval_s
        if every <= 0:
            return 0
        with self.hub.uow.read_only() as uow:
            pulled = [w.code for w in uow.warehouses.list() if w.enabled and w.wms != "none"]
        ran = 0
        for code in pulled:
            last = self._stock_pulled.get(code)
            if last is not None and (now - last).total_seconds() < every:
                continue
            self._stock_pulled[code] = now
            try:
                outcomes = pull_stock(self.hub.uow, self.hub.wms, code)
            except Exception:
                log.exception("stock pull failed; trying again next time", warehouse=code)
                continue
            log.info("stock pulled", warehouse=code, reports=len(outcomes))
            ran += 1
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:
                log.exception("worker tick failed; retrying next tick")
            self._stop.wait(self.tick_s)

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._loop, name="orderhub-worker", daemon=True)
        self._thread.start()
        self._relay_thread = threading.Thread(
            target=self.relay.run, args=(self._stop,), name="orderhub-relay", daemon=True
        )
        self._relay_thread.start()
        if self.hub.settings.push_stock:
            self._push_thread = threading.Thread(
                target=self.stock_pusher.run,
                args=(self._stop,),
                name="orderhub-stock-push",
                daemon=True,
            )
            self._push_thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        for thread in (self._thread, self._relay_thread, self._push_thread):
            if thread is not None:
                thread.join(timeout_s)
        self.relay.close()
