"""`orderhub parcels split | list | merge | unmerge | never-merge | merge-waiting`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderhub.bootstrap import bootstrap
from orderhub.cli import app
from orderhub.config import Settings
from orderhub.integrations.channels.simkit import CATALOGUE, COMBOS
from orderhub.services.demo import load_catalogue, load_demo_warehouse
from tests.integration.fulfilment_kit import ADMIN, SKUS, WMS_CREDENTIALS
from tests.integration.parcels.conftest import paid_order

runner = CliRunner()
A = SKUS[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        "ORDERHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ORDERHUB_CREDENTIALS_KEY_FILE": str(tmp_path / "credentials.key"),
        "ORDERHUB_LOG_LEVEL": "WARNING",
        "ORDERHUB_REVIEW_REQUIRED": "false",
        "ORDERHUB_DEFAULT_WAREHOUSE": "WH-T",
        "COLUMNS": "240",
    }
    assert runner.invoke(app, ["migrate"], env=values).exit_code == 0
    return values


def _run(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_splits_lists_merges_and_unmerges(env: dict[str, str]) -> None:
    settings = Settings(
        database_url=env["ORDERHUB_DATABASE_URL"],
        credentials_key_file=env["ORDERHUB_CREDENTIALS_KEY_FILE"],
        default_warehouse="WH-T",
        review_required=False,
    )
    hub = bootstrap(settings)
    try:
        load_catalogue(
            hub.uow, actor=ADMIN, combos=COMBOS, products=[(s, t) for s, t, _, _ in CATALOGUE]
        )
        for code in ("WH-T", "WH-U"):
            load_demo_warehouse(
                hub.uow,
                hub.wms,
                actor=ADMIN,
                code=code,
                base_url="http://127.0.0.1:9",  # never called: nothing is relayed here
                credentials=WMS_CREDENTIALS,
                stock={A: 10},
            )
        split = paid_order(hub, [(A, 3)])
        first, second = paid_order(hub, [(A, 1)]), paid_order(hub, [(A, 1)])
    finally:
        hub.close()

    out = _run(
        env, "parcels", "split", str(split.id), "--parcel", f"{A}=1", "--parcel", f"WH-U:{A}=2"
    )
    assert f"OH{split.id:010d}-1" in out and f"OH{split.id:010d}-2" in out
    assert "WH-U" in _run(env, "parcels", "list", str(split.id))
    bad = runner.invoke(app, ["parcels", "split", str(split.id), "--parcel", "nonsense"], env=env)
    assert bad.exit_code == 2 and "is not [WAREHOUSE:]SKU=QTY" in bad.output

    merged = _run(env, "parcels", "merge", str(first.id), str(second.id))
    number = next(word for word in merged.split() if word.startswith("OM"))
    assert "go on alone" in _run(env, "parcels", "unmerge", number)
    assert "0 merged parcels" in _run(env, "parcels", "merge-waiting")  # never_merge now
    _run(env, "parcels", "never-merge", str(first.id), "--off")
    _run(env, "parcels", "never-merge", str(second.id), "--off")
    assert "1 merged parcels" in _run(env, "parcels", "merge-waiting")
