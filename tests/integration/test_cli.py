"""The `orderhub` command on a throwaway SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderhub.cli import app
from orderhub.storage.database import MIGRATIONS

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "ORDERHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ORDERHUB_ARGON2_TIME_COST": "1",
        "ORDERHUB_ARGON2_MEMORY_COST_KIB": "8192",
        "ORDERHUB_LOG_LEVEL": "WARNING",
        "ORDERHUB_SECRET_KEY": "cli-test",
        "ORDERHUB_CREDENTIALS_KEY_FILE": str(tmp_path / "credentials.key"),
        "COLUMNS": "200",  # Rich tables as wide as a desktop terminal
    }


def test_serve_refuses_an_unmigrated_database_naming_the_fix(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["serve"], env=env)
    assert result.exit_code == 2
    assert "run `orderhub migrate`" in result.output
    assert "none (empty)" in result.output


def test_migrate_then_migrate_again_is_a_no_op(env: dict[str, str]) -> None:
    first = runner.invoke(app, ["migrate"], env=env)
    head = sorted(p.name[:4] for p in MIGRATIONS.glob("versions/0*.py"))[-1]
    assert first.exit_code == 0 and f"schema empty -> {head}" in first.output
    again = runner.invoke(app, ["migrate"], env=env)
    assert again.exit_code == 0 and "already at schema" in again.output


def test_create_user_and_token_then_refuse_a_duplicate(env: dict[str, str]) -> None:
    runner.invoke(app, ["migrate"], env=env)
    made = runner.invoke(
        app, ["create-user", "lin", "--role", "operator", "--password", "s3cret-pass"], env=env
    )
    assert made.exit_code == 0 and "created user lin (operator)" in made.output
    token = runner.invoke(app, ["create-token", "lin", "--name", "erp"], env=env)
    assert token.exit_code == 0 and token.output.strip().startswith("oh_")
    again = runner.invoke(
        app, ["create-user", "lin", "--role", "operator", "--password", "s3cret-pass"], env=env
    )
    assert again.exit_code == 2 and "already exists" in again.output
    bad_role = runner.invoke(
        app, ["create-user", "max", "--role", "king", "--password", "s3cret-pass"], env=env
    )
    assert bad_role.exit_code == 2 and "role 'king' does not exist" in bad_role.output


def test_demo_loads_orders_in_many_states_once(env: dict[str, str]) -> None:
    runner.invoke(app, ["migrate"], env=env)
    loaded = runner.invoke(app, ["demo", "--orders", "60"], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert "loaded 60 demo orders" in loaded.output
    assert "password orderhub-demo" in loaded.output
    again = runner.invoke(app, ["demo", "--orders", "60"], env=env)
    assert "already loaded" in again.output

    from sqlalchemy import create_engine, text

    engine = create_engine(env["ORDERHUB_DATABASE_URL"])
    with engine.connect() as conn:
        statuses = {row[0] for row in conn.execute(text("SELECT DISTINCT status FROM orders"))}
        channels = {row[0] for row in conn.execute(text("SELECT DISTINCT channel FROM orders"))}
        events = conn.execute(text("SELECT count(*) FROM order_events")).scalar_one()
    engine.dispose()
    assert len(statuses) >= 6 and len(channels) >= 4
    assert events > 60


def test_version_prints_the_version(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["version"], env=env)
    assert result.exit_code == 0 and result.output.startswith("orderhub 0.")


def test_stock_commands_take_goods_in_correct_counts_and_show_the_ledger(
    env: dict[str, str],
) -> None:
    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    run("migrate")
    run("skus", "add", "MUG-350", "--title", "马克杯")
    assert "on hand 8" in run(
        "stock",
        "receive",
        "MUG-350",
        "--warehouse",
        "WH-HZ",
        "--quantity",
        "8",
        "--reason",
        "delivery 12",
    )
    assert "available 7" in run(
        "stock", "adjust", "MUG-350", "--warehouse", "WH-HZ", "--delta", "-1", "--reason", "broken"
    )
    assert "MUG-350" in run("stock", "list")
    assert "delivery 12" in run("stock", "history", "MUG-350")
    refused = runner.invoke(
        app,
        [
            "stock",
            "adjust",
            "MUG-350",
            "--warehouse",
            "WH-HZ",
            "--delta",
            "-9",
            "--reason",
            "count",
        ],
        env=env,
    )
    assert refused.exit_code == 2 and "below what is reserved" in refused.output
