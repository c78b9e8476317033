"""Engines for SQLite (embedded default) and PostgreSQL; the check that the schema is current."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

from orderhub.errors import DatabaseNotMigrated

MIGRATIONS = Path(__file__).parent / "migrations"
# Execution option that makes a SQLite transaction take the write lock at BEGIN, so two writers
# queue on the busy timeout instead of failing when one upgrades a read lock.
WRITE = "orderhub_write"
# One in-process queue per SQLite engine for those write transactions (see `write_turn`).
_WRITE_TURNS: weakref.WeakKeyDictionary[Engine, tuple[threading.RLock, float]] = (
    weakref.WeakKeyDictionary()
)


def make_engine(
    url: str, *, sqlite_synchronous: str = "FULL", busy_timeout_ms: int = 5000, **kwargs: Any
) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below, not the driver, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(
            "BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN"
        )

    _WRITE_TURNS[engine] = (threading.RLock(), busy_timeout_ms / 1000)
    return engine


@contextmanager
def write_turn(engine: Engine) -> Iterator[None]:
    """Wait for this process's turn to write to a SQLite engine; no-op on other databases.

    SQLite has one writer at a time, and a thread refused the lock waits in SQLite's busy handler,
    which sleeps and polls (1, 2, 5, 10... ms): under load most of the time goes to sleeping
    threads while the lock is free. Threads of one process queue on a Python lock instead and are
    woken the moment it is released; other processes still meet the busy timeout at BEGIN
    IMMEDIATE. Past the busy timeout the thread goes on to BEGIN and lets SQLite decide, as before.
    """
    turn = _WRITE_TURNS.get(engine)
    if turn is None:
        yield
        return
    lock, timeout_s = turn
    acquired = lock.acquire(timeout=timeout_s)
    try:
        yield
    finally:
        if acquired:
            lock.release()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def ensure_migrated(engine: Engine) -> None:
    """Refuse to run on a schema older (or newer) than the code, naming the fix."""
    current, head = current_revision(engine), head_revision(engine)
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseNotMigrated(
            f"the database {where} is at schema revision {current or 'none (empty)'} but this "
            f"OrderHub needs {head}; run `orderhub migrate` (with the same ORDERHUB_DATABASE_URL) "
            "and start again"
        )
