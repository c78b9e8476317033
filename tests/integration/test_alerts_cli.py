"""`orderhub alerts check | list | show | ack | resolve` on a throwaway SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderhub.bootstrap import bootstrap
from orderhub.cli import app
from orderhub.config import Settings
from orderhub.domain.orders import OrderType, PaymentStatus
from orderhub.services import notifications
from orderhub.services import orders as order_service
from orderhub.services.rules import proposed, save_rules
from orderhub.storage.database import make_engine, migrate
from tests.conftest import CHEAP_HASHER, SETUP_ADMIN, TEST_CREDENTIALS_KEY
from tests.factories import an_order
from tests.unit.fakes import FakeClock

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    settings = Settings(
        database_url=url,
        credentials_key=TEST_CREDENTIALS_KEY,
        log_level="WARNING",
        secret_key="cli-test",
        reserve_stock=False,  # no stock here: the orders wait in review, not in out_of_stock
    )
    hub = bootstrap(settings, hasher=CHEAP_HASHER)
    # Two orders that went into review five hours ago, and a rule that wants them out in four.
    hub.uow.clock = FakeClock(datetime.now(UTC) - timedelta(hours=5))
    try:
        notifications.add_recipient(
            hub.uow(),
            actor=SETUP_ADMIN,
            code="ops-lead",
            name="Ops lead",
            kind="email",
            address="lead@example.com",
        )
        rule = {
            "name": "review 4h",
            "condition": {"field": "order_type", "op": "eq", "value": "cross_border"},
            "outcome": {"state": "pending_review", "after": "4h", "recipients": ["ops-lead"]},
        }
        save_rules(hub.uow(), proposed("sla", [rule], {}), actor=SETUP_ADMIN)
        for n in range(2):
            draft = an_order(
                channel_order_no=f"CB-{n}",
                order_type=OrderType.CROSS_BORDER,
                payment_status=PaymentStatus.PAID,
            )
            order_service.create_order(hub.uow(), draft, actor=SETUP_ADMIN, review_required=True)
    finally:
        hub.close()
    return {
        "ORDERHUB_DATABASE_URL": url,
        "ORDERHUB_CREDENTIALS_KEY": TEST_CREDENTIALS_KEY,
        "ORDERHUB_LOG_LEVEL": "WARNING",
        "ORDERHUB_SECRET_KEY": "cli-test",
        "COLUMNS": "200",
    }


def test_check_raises_the_alerts_then_they_are_listed_acknowledged_and_resolved(
    env: dict[str, str],
) -> None:
    checked = runner.invoke(app, ["alerts", "check"], env=env)
    assert checked.exit_code == 0, checked.output
    assert "raised 2, escalated 0, resolved 0" in checked.output
    listed = runner.invoke(app, ["alerts", "list"], env=env)
    assert listed.exit_code == 0
    assert "CB-0" in listed.output and "CB-1" in listed.output and "review 4h" in listed.output
    acked = runner.invoke(app, ["alerts", "ack", "1"], env=env)
    assert acked.exit_code == 0 and "alert 1 acknowledged" in acked.output
    resolved = runner.invoke(app, ["alerts", "resolve", "1", "2", "--note", "shipped"], env=env)
    assert resolved.exit_code == 0
    assert "alert 1 resolved" in resolved.output and "alert 2 resolved" in resolved.output
    again = runner.invoke(app, ["alerts", "resolve", "1"], env=env)
    assert again.exit_code == 2 and "alert 1 was resolved" in again.output
    shown = runner.invoke(app, ["alerts", "show", "2"], env=env)
    assert "by rule 'review 4h' v1" in shown.output and "resolved" in shown.output
    assert "alert to ops-lead" in shown.output


def test_an_unknown_status_is_refused_naming_the_statuses(env: dict[str, str]) -> None:
    answer = runner.invoke(app, ["alerts", "list", "--status", "late"], env=env)
    assert answer.exit_code == 2
    assert "use one of open, acknowledged, resolved" in answer.output
