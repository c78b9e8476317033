"""Composition root: builds the engine, the unit-of-work factory and the adapters in one place.

Nothing is created at import time; the API, the console, the CLI and the tests call `bootstrap`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

import structlog
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from orderhub.config import Settings
from orderhub.domain.notifications import Recipient
from orderhub.domain.shops import Shop
from orderhub.domain.warehouses import Warehouse
from orderhub.integrations.channels.connect import Channels
from orderhub.integrations.delivery import Deliveries
from orderhub.integrations.notifications import Notifiers, NotifySettings, SmtpSettings
from orderhub.integrations.wms.connect import Wms
from orderhub.passwords import Argon2Hasher
from orderhub.services.fulfilment.deliveries import RetryPolicy
from orderhub.services.ports import Clock, FlowPolicy, PasswordHasher, Sender
from orderhub.storage.database import ensure_migrated, make_engine
from orderhub.storage.uow import SqlUnitOfWorkFactory


@dataclass
class Hub:
    """Everything an entry point needs to run use cases."""

    settings: Settings
    engine: Engine
    uow: SqlUnitOfWorkFactory
    hasher: PasswordHasher
    secret_key: str
    channels: Channels
    wms: Wms
    deliveries: Deliveries
    notifiers: Notifiers

    def retry_policy(self) -> RetryPolicy:
        s = self.settings
        return RetryPolicy(s.outbox_max_attempts, s.outbox_backoff_base_s, s.outbox_backoff_max_s)

    def close(self) -> None:
        self.deliveries.close()
        self.wms.close()
        self.engine.dispose()


def flow_policy(settings: Settings) -> FlowPolicy:
    return FlowPolicy(
        reserve_stock=settings.reserve_stock,
        auto_allocate=settings.auto_allocate,
        default_warehouse=settings.default_warehouse,
        publish_events=bool(settings.nats_url),
        split_by_stock=settings.split_by_stock,
        auto_merge=settings.auto_merge,
        push_stock=settings.push_stock,
        priority_aging_per_min=settings.priority_aging_per_min,
    )


def notify_settings(settings: Settings) -> NotifySettings:
    return NotifySettings(
        smtp=SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            ssl=settings.smtp_ssl,
            timeout_s=settings.smtp_timeout_s,
        ),
        public_url=settings.public_url or f"http://{settings.host}:{settings.port}",
        timeout_s=settings.notify_timeout_s,
    )


def _deliveries(
    settings: Settings,
    uows: SqlUnitOfWorkFactory,
    channels: Channels,
    wms: Wms,
    notifiers: Notifiers,
) -> Deliveries:
    def warehouse(code: str) -> Warehouse:
        with uows.read_only() as uow:
            return uow.warehouses.get(code)

    def shop(code: str) -> Shop:
        with uows.read_only() as uow:
            return uow.shops.get(code)

    def recipient(code: str) -> Recipient:
        with uows.read_only() as uow:
            return uow.recipients.get(code)

    events = None
    if settings.nats_url:
        url = settings.nats_url

        def events() -> Sender:
            from orderhub.integrations.events.nats import NatsEventSender

            return NatsEventSender(
                url, stream=settings.nats_stream, subject_prefix=settings.nats_subject_prefix
            )

    return Deliveries(
        wms=wms,
        channels=channels,
        warehouse=warehouse,
        shop=shop,
        events=events,
        recipient=recipient,
        notifiers=notifiers,
    )


def configure_logging(settings: Settings) -> None:
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        # Plain tracebacks: one readable block per error, no boxes of local variables.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
        ),
    )


def credentials_cipher(settings: Settings) -> Fernet:
    """The key for shop credentials: the setting, else the key file (made once, owner-only)."""
    if settings.credentials_key:
        return Fernet(settings.credentials_key.encode())
    path = Path(settings.credentials_key_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)
        structlog.get_logger().warning(
            "made a new key for shop credentials; keep it with the database backups",
            key_file=str(path.resolve()),
        )
    return Fernet(path.read_bytes().strip())


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
    check_schema: bool = True,
) -> Hub:
    settings = settings or Settings()
    configure_logging(settings)
    engine = make_engine(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    if check_schema:
        try:
            ensure_migrated(engine)
        except Exception:
            engine.dispose()
            raise
    secret = settings.secret_key
    if not secret:
        secret = secrets.token_urlsafe(32)
        structlog.get_logger().warning(
            "ORDERHUB_SECRET_KEY is not set; using a random key, so sign-ins end when the server "
            "restarts"
        )
    uows = SqlUnitOfWorkFactory(
        engine, clock, credentials_cipher(settings), flow=flow_policy(settings)
    )
    channels = Channels(Path(settings.mapping_dir) if settings.mapping_dir else None)
    wms = Wms()
    notifiers = Notifiers(notify_settings(settings))
    return Hub(
        settings=settings,
        engine=engine,
        uow=uows,
        hasher=hasher
        or Argon2Hasher(
            time_cost=settings.argon2_time_cost, memory_cost_kib=settings.argon2_memory_cost_kib
        ),
        secret_key=secret,
        channels=channels,
        wms=wms,
        deliveries=_deliveries(settings, uows, channels, wms, notifiers),
        notifiers=notifiers,
    )
