"""Composition root: builds the engine, the unit-of-work factory and the adapters in one place.

Nothing is created at import time; the API, the console, the CLI and the tests call `bootstrap`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import structlog
from sqlalchemy import Engine

from orderhub.config import Settings
from orderhub.passwords import Argon2Hasher
from orderhub.services.ports import Clock, PasswordHasher
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

    def close(self) -> None:
        self.engine.dispose()


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
    return Hub(
        settings=settings,
        engine=engine,
        uow=SqlUnitOfWorkFactory(engine, clock),
        hasher=hasher
        or Argon2Hasher(
            time_cost=settings.argon2_time_cost, memory_cost_kib=settings.argon2_memory_cost_kib
        ),
        secret_key=secret,
    )
