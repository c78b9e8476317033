"""Recipients through the API (/api/v1/recipients) and the CLI (`orderhub recipients`): added,
listed, changed and tested, each behind its permission; the secret is never answered back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from orderhub.bootstrap import Hub
from orderhub.cli import app
from orderhub.integrations.notifications.receivers import LocalReceivers
from tests.conftest import ApiUser
from tests.integration.notifications_kit import (
    DINGTALK_SECRET,
    WEBHOOK_SECRET,
    notify_hub,
    notify_settings,
    outbox_rows,
    start_receivers,
)

UserFor = Callable[[str], ApiUser]
runner = CliRunner()


@pytest.fixture
def local() -> Iterator[LocalReceivers]:
    with start_receivers() as receivers:
        yield receivers


@pytest.fixture
def hub(database_url: str, local: LocalReceivers) -> Iterator[Hub]:
    """Overrides conftest's hub: the same, with alert email going to the local SMTP server."""
    with notify_hub(database_url, local) as made:
        yield made


def _webhook(local: LocalReceivers, secret: str = WEBHOOK_SECRET) -> dict[str, object]:
    return {
        "code": "erp-hook",
        "name": "ERP alerts",
        "kind": "webhook",
        "address": local.webhook("erp", secret=WEBHOOK_SECRET),
        "secret": secret,
    }


def test_an_admin_adds_a_recipient_whose_secret_is_answered_only_as_has_secret(
    api: TestClient, user_for: UserFor, local: LocalReceivers
) -> None:
    admin = user_for("admin").headers
    added = api.post("/api/v1/recipients", json=_webhook(local), headers=admin)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["has_secret"] is True and body["enabled"] is True
    assert WEBHOOK_SECRET not in added.text
    listed = api.get("/api/v1/recipients", headers=admin).json()
    assert [r["code"] for r in listed] == ["erp-hook"]
    assert WEBHOOK_SECRET not in api.get("/api/v1/recipients/erp-hook", headers=admin).text


def test_a_robots_address_is_answered_masked_and_a_patch_changes_only_what_is_given(
    api: TestClient, user_for: UserFor, local: LocalReceivers
) -> None:
    admin = user_for("admin").headers
    address = local.dingtalk("robot-token-123", secret=DINGTALK_SECRET)
    api.post(
        "/api/v1/recipients",
        json={
            "code": "ding-ops",
            "name": "Ops group",
            "kind": "dingtalk",
            "address": address,
            "secret": DINGTALK_SECRET,
        },
        headers=admin,
    ).raise_for_status()
    shown = api.get("/api/v1/recipients/ding-ops", headers=admin).json()
    assert shown["address"].endswith("access_token=robo…")

    patched = api.patch(
        "/api/v1/recipients/ding-ops", json={"enabled": False, "name": "Ops"}, headers=admin
    )
    assert patched.status_code == 200
    assert (patched.json()["enabled"], patched.json()["name"]) == (False, "Ops")
    assert patched.json()["has_secret"] is True  # not given: kept
    removed = api.patch("/api/v1/recipients/ding-ops", json={"secret": ""}, headers=admin)
    assert removed.json()["has_secret"] is False


def test_bad_recipients_are_refused_saying_what_to_write(
    api: TestClient, user_for: UserFor, local: LocalReceivers
) -> None:
    admin = user_for("admin").headers
    sms = api.post("/api/v1/recipients", json={**_webhook(local), "kind": "sms"}, headers=admin)
    assert sms.status_code == 422 and "webhook" in sms.text
    wecom = api.post(
        "/api/v1/recipients",
        json={"code": "wc", "name": "WeCom", "kind": "wecom", "address": "https://x.example/"},
        headers=admin,
    )
    assert wecom.status_code == 422 and wecom.json()["field"] == "address"
    assert "/cgi-bin/webhook/send?key=" in wecom.json()["detail"]
    unsigned = api.post("/api/v1/recipients", json=_webhook(local, secret=""), headers=admin)
    assert unsigned.status_code == 422 and unsigned.json()["field"] == "secret"
    api.post("/api/v1/recipients", json=_webhook(local), headers=admin).raise_for_status()
    again = api.post("/api/v1/recipients", json=_webhook(local), headers=admin)
    assert again.status_code == 409 and "orderhub recipients set erp-hook" in again.json()["detail"]
    missing = api.get("/api/v1/recipients/nobody", headers=admin)
    assert (
        missing.status_code == 404 and "orderhub recipients add nobody" in missing.json()["detail"]
    )


def test_an_operator_reads_recipients_but_may_not_add_or_test_them(
    api: TestClient, user_for: UserFor, local: LocalReceivers
) -> None:
    api.post(
        "/api/v1/recipients", json=_webhook(local), headers=user_for("supervisor").headers
    ).raise_for_status()
    operator = user_for("operator").headers
    assert api.get("/api/v1/recipients", headers=operator).status_code == 200
    refused = api.post("/api/v1/recipients", json=_webhook(local), headers=operator)
    assert refused.status_code == 403 and refused.json()["permission"] == "recipient.manage"
    tested = api.post("/api/v1/recipients/erp-hook/test", headers=operator)
    assert tested.status_code == 403
    agent = api.get("/api/v1/recipients", headers=user_for("agent").headers)
    assert agent.status_code == 403 and agent.json()["permission"] == "recipient.read"


def test_a_test_notice_goes_out_at_once_and_answers_what_the_channel_said(
    api: TestClient, hub: Hub, user_for: UserFor, local: LocalReceivers
) -> None:
    admin = user_for("admin").headers
    api.post("/api/v1/recipients", json=_webhook(local), headers=admin).raise_for_status()
    api.post(
        "/api/v1/recipients",
        json={
            "code": "ding-wrong",
            "name": "DingTalk, wrong secret",
            "kind": "dingtalk",
            "address": local.dingtalk("t-1", secret=DINGTALK_SECRET),
            "secret": "SECsomething-else",
            "enabled": False,
        },
        headers=admin,
    ).raise_for_status()

    delivered = api.post("/api/v1/recipients/erp-hook/test", headers=admin).json()
    assert delivered["outcome"] == "delivered"
    (message,) = local.desk.messages("webhook", "erp")
    assert message.body["notice"]["title"] == "OrderHub test notice for ERP alerts"
    refused = api.post("/api/v1/recipients/ding-wrong/test", headers=admin).json()
    assert (refused["outcome"], refused["code"]) == ("refused", "310000")
    assert outbox_rows(hub, "erp-hook") == []  # a test notice is not an alert: nothing kept


@pytest.fixture
def env(tmp_path: Path, local: LocalReceivers) -> dict[str, str]:
    values = {
        "ORDERHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ORDERHUB_CREDENTIALS_KEY_FILE": str(tmp_path / "credentials.key"),
        "ORDERHUB_LOG_LEVEL": "WARNING",
        "ORDERHUB_SECRET_KEY": "cli-test",
        "COLUMNS": "240",
        **{f"ORDERHUB_{k.upper()}": str(v) for k, v in notify_settings(local).items()},
    }
    assert runner.invoke(app, ["migrate"], env=values).exit_code == 0
    return values


def _run(env: dict[str, str], *args: str, given: str | None = None) -> str:
    result = runner.invoke(app, ["recipients", *args], env=env, input=given)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_adds_lists_changes_and_tests_recipients(
    env: dict[str, str], local: LocalReceivers
) -> None:
    added = _run(env, "add", "ops-lead", "--kind", "email", "--address", "lead@ops.example.com")
    assert "added recipient ops-lead (ops-lead): email lead@ops.example.com, enabled" in added
    hook = local.webhook("cli", secret=WEBHOOK_SECRET)
    # A webhook's secret is asked for (hidden), never taken from the command line.
    _run(env, "add", "hook", "--kind", "webhook", "--address", hook, given=f"{WEBHOOK_SECRET}\n")

    listed = _run(env, "list")
    assert "ops-lead" in listed and "hook" in listed and WEBHOOK_SECRET not in listed
    assert "delivered to ops-lead" in _run(env, "test", "ops-lead")
    assert [m.subject for m in local.mailbox.messages] == [
        "[INFO] OrderHub test notice for ops-lead"
    ]
    assert "delivered to hook" in _run(env, "test", "hook")
    assert "disabled" in _run(env, "set", "ops-lead", "--disabled")

    wrong = runner.invoke(
        app, ["recipients", "add", "wc", "--kind", "wecom", "--address", "x"], env=env
    )
    assert wrong.exit_code == 2 and "/cgi-bin/webhook/send?key=" in wrong.output
    nothing = runner.invoke(app, ["recipients", "set", "hook"], env=env)
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
