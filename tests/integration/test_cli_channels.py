"""`orderhub shops | sync | reconcile | quarantine | skus` against a real simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from orderhub.cli import app
from orderhub.integrations.channels.registry import SimulatorOptions, channel
from orderhub.integrations.channels.simkit import CATALOGUE, RunningServer

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        "ORDERHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ORDERHUB_CREDENTIALS_KEY_FILE": str(tmp_path / "credentials.key"),
        "ORDERHUB_LOG_LEVEL": "WARNING",
        "ORDERHUB_SECRET_KEY": "cli-test",
    }
    assert runner.invoke(app, ["migrate"], env=values).exit_code == 0
    return values


@pytest.fixture
def jd() -> Iterator[RunningServer]:
    server = RunningServer(
        channel("jd").make_simulator(
            SimulatorOptions(app_key="k", app_secret="s", access_token="t")
        )
    ).start()
    yield server
    server.stop()


def _run(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_shop_added_from_the_cli_syncs_reconciles_and_can_be_disabled(
    env: dict[str, str], jd: RunningServer
) -> None:
    for sku, title, _, _ in CATALOGUE:
        _run(env, "skus", "add", sku, "--title", title)
    _run(
        env,
        "shops",
        "add",
        "jd-main",
        "--channel",
        "jd",
        "--base-url",
        jd.url,
        "--app-key",
        "k",
        "--app-secret",
        "s",
        "--access-token",
        "t",
    )
    httpx.post(f"{jd.url}/_sim/orders", json={"count": 12})
    assert "jd-main: " in _run(env, "sync", "--shop", "jd-main")
    output = _run(env, "reconcile", "--shop", "jd-main", "--since", "1h")
    assert "complete" in output and "in quarantine 0" in output
    assert "jd-main" in _run(env, "shops", "list")
    assert "disabled" in _run(env, "shops", "set", "jd-main", "--disabled")
    refused = runner.invoke(app, ["shops", "set", "jd-main"], env=env)
    assert refused.exit_code == 2 and "nothing to change" in refused.output


@pytest.mark.parametrize("name", ["taobao", "jd", "pdd", "shopify"])
def test_a_wrong_secret_fails_the_sync_with_the_channels_reason_and_keeps_it_on_the_shop(
    env: dict[str, str], name: str
) -> None:
    server = RunningServer(
        channel(name).make_simulator(
            SimulatorOptions(app_key="k", app_secret="s", access_token="t")
        )
    ).start()
    try:
        _run(
            env,
            "shops",
            "add",
            "bad",
            "--channel",
            name,
            "--base-url",
            server.url,
            "--app-key",
            "k",
            "--app-secret",
            "wrong",
            "--access-token",
            "wrong",
        )
        result = runner.invoke(app, ["sync", "--shop", "bad"], env=env)
    finally:
        server.stop()
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a clean refusal, not a crash
    assert "error:" in result.output
    assert "error" in _run(env, "shops", "list").lower()


def test_a_duration_that_is_not_one_is_explained(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["reconcile", "--shop", "x", "--since", "two days"], env=env)
    assert result.exit_code == 2 and "write e.g. 30m, 12h or 2d" in result.output
