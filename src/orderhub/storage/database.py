"""Engines for SQLite (embedded default) and PostgreSQL; the check that the schema is current."""

from __future__ import annotations

import json
import threading
import weakref
from pathlib import Path
from typing import Any

import orjson
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


class WriterQueue:
    """This process's queue for the one SQLite writer; `writer_queue` says why it exists."""

    def __init__(self, timeout_s: float) -> None:
        # Re-entrant, so a nested write in one thread fails on SQLite's busy timeout as before
        # instead of waiting here for ever.
        self._lock = threading.RLock()
        self._timeout_s = timeout_s

    def enter(self) -> bool:
        """Wait for our turn; False when the busy timeout passed first (then SQLite decides)."""
        return self._lock.acquire(timeout=self._timeout_s)

    def leave(self) -> None:
        self._lock.release()


_WRITER_QUEUES: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The in-process queue for write transactions on a SQLite engine; None on other databases.

    SQLite has one writer at a time, and a thread refused the lock waits in SQLite's busy handler,
    which sleeps and polls (1, 2, 5, 10... ms): under load much of the time goes to sleeping
    threads while the lock is free. Threads of one process queue on a Python lock instead and are
    woken the moment it is released; other processes still meet the busy timeout at BEGIN
    IMMEDIATE.
    """
    return _WRITER_QUEUES.get(engine)


def json_text(value: Any) -> str:
    """JSON columns' text: orjson where it gives what `json.dumps` gives, `json.dumps` otherwise.

    The passthrough options make orjson refuse what json refuses (datetimes, dataclasses), and
    str/int/dict subclasses (enums) go to json too; so do big ints and non-str keys.
    """
    try:
        return orjson.dumps(value, option=_JSON_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value)


_JSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def make_engine(
    url: str, *, sqlite_synchronous: str = "FULL", busy_timeout_ms: int = 5000, **kwargs: Any
) -> Engine:
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", json_text)
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
        # Straight to the driver: BEGIN takes no parameters and returns no rows, and this skips
        # the statement machinery (a quarter of SQLAlchemy's per-order overhead on this path).
        # sqlite3's own errors (e.g. "database is locked" past the busy timeout) surface as-is.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

    _WRITER_QUEUES[engine] = WriterQueue(busy_timeout_ms / 1000)
    return engine


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
