"""`orderhub warehouses list | add | set` and `orderhub outbox counts | list | show | retry`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderhub.bootstrap import Hub, bootstrap
from orderhub.cli import app
from orderhub.config import Settings
from orderhub.domain.warehouses import WmsCredentials
from tests.integration.test_api_fulfilment_ops import put_messages

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        "ORDERHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ORDERHUB_CREDENTIALS_KEY_FILE": str(tmp_path / "credentials.key"),
        "ORDERHUB_LOG_LEVEL": "WARNING",
        "ORDERHUB_SECRET_KEY": "cli-test",
        # Wide enough that Rich keeps each table cell (a URL, an error) on one line.
        "COLUMNS": "240",
    }
    assert runner.invoke(app, ["migrate"], env=values).exit_code == 0
    return values


def _run(env: dict[str, str], *args: str, given: str | None = None) -> str:
    result = runner.invoke(app, list(args), env=env, input=given)
    assert result.exit_code == 0, result.output
    return result.output


@contextmanager
def _hub(env: dict[str, str]) -> Iterator[Hub]:
    """A hub on the CLI's database, to set up or check what the commands cannot show."""
    settings = Settings(
        database_url=env["ORDERHUB_DATABASE_URL"],
        credentials_key_file=env["ORDERHUB_CREDENTIALS_KEY_FILE"],
        log_level="WARNING",
    )
    hub = bootstrap(settings)
    try:
        yield hub
    finally:
        hub.close()


def _messages(env: dict[str, str], statuses: list[tuple[str, str]]) -> list[int]:
    with _hub(env) as hub:
        return put_messages(hub, statuses)


def test_a_warehouse_added_with_its_wms_asks_for_the_secret_and_never_prints_it(
    env: dict[str, str],
) -> None:
    added = _run(
        env,
        "warehouses",
        "add",
        "WH-EAST",
        "--name",
        "East",
        "--wms",
        "qimen",
        "--url",
        "http://127.0.0.1:9/router",
        "--app-key",
        "east-key",
        "--customer-id",
        "C001",
        "--rate",
        "20",
        given="east-secret\n",
    )
    assert "added warehouse WH-EAST (East): WMS qimen at http://127.0.0.1:9/router" in added
    assert "east-secret" not in added
    listed = _run(env, "warehouses", "list")
    assert "WH-EAST" in listed and "east-key" in listed and "east-secret" not in listed
    assert "disabled" in _run(env, "warehouses", "set", "WH-EAST", "--disabled")
    changed = _run(env, "warehouses", "set", "WH-EAST", "--new-secret", given="s3cr3t-two\n")
    assert "s3cr3t-two" not in changed
    with _hub(env) as hub, hub.uow.read_only() as uow:
        assert uow.warehouses.get("WH-EAST").credentials == WmsCredentials(
            "east-key", "s3cr3t-two", "C001"
        )


def test_a_manual_warehouse_needs_no_secret_and_bad_input_exits_2_with_the_reason(
    env: dict[str, str],
) -> None:
    assert "no WMS" in _run(env, "warehouses", "add", "WH-MAIN", "--name", "Main")
    bad = runner.invoke(
        app,
        ["warehouses", "add", "WH-X", "--wms", "qimen", "--url", "ftp://x"],
        env=env,
        input="s\n",
    )
    assert bad.exit_code == 2 and "not an http(s) URL" in bad.output
    twice = runner.invoke(app, ["warehouses", "add", "WH-MAIN"], env=env)
    assert twice.exit_code == 2 and "already exists" in twice.output
    nothing = runner.invoke(app, ["warehouses", "set", "WH-MAIN"], env=env)
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
    missing = runner.invoke(app, ["warehouses", "set", "WH-NONE", "--disabled"], env=env)
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_the_outbox_commands_count_list_show_and_replay_a_dead_message(
    env: dict[str, str],
) -> None:
    assert "the outbox is empty" in _run(env, "outbox", "counts")
    dead, delivered = _messages(env, [("wms:WH-EAST", "dead"), ("wms:WH-EAST", "delivered")])
    counts = _run(env, "outbox", "counts")
    assert "wms:WH-EAST" in counts and "dead" in counts

    listed = _run(env, "outbox", "list", "--status", "dead")
    assert str(dead) in listed and "connection refused" in listed
    assert "wms:WH-EAST" in _run(env, "outbox", "list", "--order", "1000")

    shown = _run(env, "outbox", "show", str(dead))
    assert "SO-0" in shown and "test-worker" in shown and "dead after 1 tries" in shown

    assert "pending again" in _run(env, "outbox", "retry", str(dead))
    assert "pending after 0 tries" in _run(env, "outbox", "show", str(dead))

    refused = runner.invoke(app, ["outbox", "retry", str(delivered)], env=env)
    assert refused.exit_code == 2 and "is delivered" in refused.output
    unknown = runner.invoke(app, ["outbox", "list", "--status", "lost"], env=env)
    assert unknown.exit_code == 2 and "unknown status 'lost'" in unknown.output
    missing = runner.invoke(app, ["outbox", "show", "424242"], env=env)
    assert missing.exit_code == 2 and "does not exist" in missing.output
