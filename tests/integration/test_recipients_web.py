"""The console's recipients pages: the list, adding one, changing one (the secret never shown,
a robot's credential masked), sending a test notice, who may do what, and the Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orderhub.app import create_app
from orderhub.bootstrap import Hub
from orderhub.integrations.notifications.receivers import LocalReceivers
from orderhub.services import notifications
from orderhub.web import i18n
from orderhub.web.notifications import KIND_LABELS
from tests.conftest import console_hub
from tests.integration.notifications_kit import WEBHOOK_SECRET, start_receivers
from tests.integration.test_web_channels import SETUP, csrf, sign_in, text_of

PASSWORD = "correct horse"
ROLES = ("admin", "supervisor", "operator", "customer_service")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def local() -> Iterator[LocalReceivers]:
    with start_receivers() as receivers:
        yield receivers


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with console_hub(tmp_path, ROLES, PASSWORD) as hub:
        yield hub


@pytest.fixture
def browser(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
        yield client


def test_an_admin_adds_changes_and_tests_a_webhook_and_its_secret_never_appears(
    hub: Hub, browser: TestClient, local: LocalReceivers
) -> None:
    sign_in(browser, "admin")
    form = {
        "code": "erp-hook",
        "name": "ERP",
        "kind": "webhook",
        "address": local.webhook("erp", secret=WEBHOOK_SECRET),
        "secret": WEBHOOK_SECRET,
        "csrftoken": csrf(browser),
    }
    refused = browser.post("/recipients", data={**form, "secret": ""})
    assert refused.status_code == 422 and "needs a secret" in text_of(refused.text)
    assert 'value="ERP"' in refused.text  # the rest of the form is kept
    added = browser.post("/recipients", data=form, headers=HTMX)
    assert added.status_code == 200 and "Recipient erp-hook added." in added.text

    tested = browser.post("/recipients/erp-hook/test", data={"csrftoken": form["csrftoken"]})
    assert "The test notice was delivered." in tested.text
    assert len(local.desk.messages("webhook", "erp")) == 1

    saved = browser.post(
        "/recipients/erp-hook",
        data={**form, "name": "ERP inbox", "address": "", "secret": "", "enabled": "false"},
    )
    assert saved.status_code == 200 and "Recipient erp-hook saved." in saved.text
    stored = notifications.get_recipient(hub.uow.read_only(), "erp-hook", actor=SETUP)
    # Empty address and secret fields keep the stored ones.
    assert (stored.name, stored.enabled, stored.secret) == ("ERP inbox", False, WEBHOOK_SECRET)
    assert stored.address == form["address"]
    for page in (refused, added, tested, saved, browser.get("/recipients")):
        assert WEBHOOK_SECRET not in page.text


def test_a_refused_test_notice_shows_the_channels_answer_and_code(
    hub: Hub, browser: TestClient, local: LocalReceivers
) -> None:
    notifications.add_recipient(
        hub.uow(),
        actor=SETUP,
        code="ding",
        name="DingTalk",
        kind="dingtalk",
        address=local.dingtalk("token-ding", secret="SECright"),
        secret="SECwrong",
    )
    sign_in(browser, "admin")
    page = browser.get("/recipients/ding")
    assert "access_token=toke…" in page.text and "token-ding" not in page.text
    tested = browser.post("/recipients/ding/test", data={"csrftoken": csrf(browser)})
    text = text_of(tested.text)
    assert "The test notice was refused." in text and "sign not match" in text
    assert "(310000)" in text


def test_an_operator_reads_recipients_without_forms_and_is_refused_changes(
    hub: Hub, browser: TestClient
) -> None:
    notifications.add_recipient(
        hub.uow(), actor=SETUP, code="ops", name="Ops", kind="email", address="ops@example.com"
    )
    sign_in(browser, "operator")
    listed = browser.get("/recipients").text
    assert "ops@example.com" in listed and 'action="/recipients"' not in listed
    assert 'href="/recipients"' in listed  # in the navigation
    detail = browser.get("/recipients/ops").text
    assert 'action="/recipients/ops"' not in detail and "/test" not in detail
    token = csrf(browser)
    assert browser.post("/recipients", data={"code": "x", "csrftoken": token}).status_code == 403
    assert browser.post("/recipients/ops/test", data={"csrftoken": token}).status_code == 403


def test_a_role_without_recipient_read_has_no_link_and_no_page(browser: TestClient) -> None:
    sign_in(browser, "customer_service")
    assert 'href="/recipients"' not in browser.get("/orders").text
    assert browser.get("/recipients").status_code == 403


def test_the_recipients_pages_speak_chinese(hub: Hub, browser: TestClient) -> None:
    notifications.add_recipient(
        hub.uow(), actor=SETUP, code="ops", name="Ops", kind="email", address="ops@example.com"
    )
    sign_in(browser, "admin")
    browser.get("/lang/zh_CN", params={"next": "/recipients"})
    listed = browser.get("/recipients").text
    assert "告警接收人" in listed and "添加接收人" in listed
    assert "发送测试通知" in browser.get("/recipients/ops").text
    zh = i18n.translations("zh_CN")
    assert [label for label in KIND_LABELS.values() if zh.gettext(label) == label] == []
