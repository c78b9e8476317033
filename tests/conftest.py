"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable), hubs and API clients."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from orderhub.app import create_app
from orderhub.bootstrap import Hub, bootstrap
from orderhub.config import Settings
from orderhub.domain.actors import Actor
from orderhub.passwords import Argon2Hasher
from orderhub.permissions import permissions_of
from orderhub.services import accounts
from orderhub.storage.database import make_engine, migrate
from orderhub.storage.tables import metadata

PG_HOST, PG_PORT = "127.0.0.1", 5432
# argon2 at its real cost takes ~90 ms a hash; tests that make users use a cheap one.
CHEAP_HASHER = Argon2Hasher(time_cost=1, memory_cost_kib=8192)
# Shop credentials in tests are encrypted with a key made per run, never a file in the tree.
TEST_CREDENTIALS_KEY = Fernet.generate_key().decode()
# Whoever sets a test up: an admin, so it can issue tokens for users of any role.
SETUP_ADMIN = Actor(id="setup", name="setup", role="admin", permissions=permissions_of("admin"))


def _postgres_up() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=2):
            return True
    except OSError:
        return False


def unavailable(message: str) -> NoReturn:
    """A needed service or tool is missing: CI fails loudly, a developer's run skips with why."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_postgres() -> None:
    if not _postgres_up():
        unavailable(
            f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}; start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway database for this run, dropped at the end."""
    require_postgres()
    import psycopg

    name = f"orderhub_test_{uuid.uuid4().hex[:10]}"
    admin = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'orderhub.db'}"


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


def wipe(engine: Engine) -> None:
    # A simulator of the test before may still be calling back (a WMS retrying a callback the
    # stopped server never answered): its write can deadlock with TRUNCATE on PostgreSQL, which
    # aborts one side. The wipe then simply goes again.
    for attempt in Retrying(
        retry=retry_if_exception_type(OperationalError),
        stop=stop_after_attempt(5),
        wait=wait_fixed(0.2),
        reraise=True,
    ):
        with attempt, engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                names = ", ".join(t.name for t in metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    """A hub on a migrated, empty database."""
    settings = Settings(
        credentials_key=TEST_CREDENTIALS_KEY,
        database_url=database_url,
        secret_key="test-secret",
        log_level="WARNING",
        review_required=True,
        # Stock and the warehouse hand-off are off here; the fulfilment tests switch them on.
        reserve_stock=False,
        auto_allocate=False,
    )
    hub = bootstrap(settings, hasher=CHEAP_HASHER)
    wipe(hub.engine)
    yield hub
    hub.close()


@dataclass
class ApiUser:
    id: int
    username: str
    headers: dict[str, str]


@pytest.fixture
def api(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


@pytest.fixture
def user_for(hub: Hub) -> Callable[[str], ApiUser]:
    """user_for("operator") -> a user of that role and bearer-token headers acting as them."""
    made: dict[str, ApiUser] = {}

    def make(role: str) -> ApiUser:
        if role not in made:
            user = accounts.create_user(
                hub.uow(), hub.hasher, username=f"{role}-user", password="correct horse", role=role
            )
            assert user.id is not None
            token = accounts.issue_token(
                hub.uow(), actor=SETUP_ADMIN, user_id=user.id, name="tests"
            ).token
            made[role] = ApiUser(user.id, user.username, {"Authorization": f"Bearer {token}"})
        return made[role]

    return make


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    for item in items:
        if "tests/e2e" in str(Path(str(item.fspath)).as_posix()):
            item.add_marker(pytest.mark.browser)


@contextmanager
def console_hub(tmp_path: Path, roles: Sequence[str], password: str) -> Iterator[Hub]:
    """A hub on a fresh SQLite file with one user per role, named after the role (console tests
    sign in as people; the API tests above use tokens)."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    settings = Settings(
        credentials_key=TEST_CREDENTIALS_KEY,
        database_url=url,
        secret_key="test-secret",
        log_level="WARNING",
        review_required=True,
        # Stock and the warehouse hand-off are off here; the fulfilment tests switch them on.
        reserve_stock=False,
        auto_allocate=False,
    )
    hub = bootstrap(settings, hasher=CHEAP_HASHER)
    for role in roles:
        accounts.create_user(hub.uow(), hub.hasher, username=role, password=password, role=role)
    try:
        yield hub
    finally:
        hub.close()
