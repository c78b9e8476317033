"""The console's alerts inbox (/alerts), the order page's open alerts and the SLA rules on the
rules page, through HTTP: what they show, who may act, their Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orderhub.app import create_app
from orderhub.bootstrap import Hub
from orderhub.domain.alerts import AlertPolicy
from orderhub.domain.orders import OrderType, PaymentStatus
from orderhub.services import notifications
from orderhub.services import orders as order_service
from orderhub.services.alerts import list_alerts
from orderhub.services.rules import proposed, save_rules
from orderhub.services.sla import check_sla
from orderhub.web import alerts as alert_pages
from orderhub.web import i18n
from tests.conftest import console_hub
from tests.factories import T0, an_order
from tests.integration.test_web_channels import SETUP, csrf, sign_in, text_of
from tests.unit.fakes import FakeClock

PASSWORD = "correct horse"
ROLES = ("admin", "operator", "warehouse", "agent")
RULE = {
    "name": "cross-border review 4h",
    "condition": {"field": "order_type", "op": "eq", "value": "cross_border"},
    "outcome": {
        "state": "pending_review",
        "after": "4h",
        "severity": "critical",
        "recipients": ["ops-lead"],
        "escalate_after": "8h",
        "escalate_to": ["ops-lead"],
    },
}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with console_hub(tmp_path, ROLES, PASSWORD) as hub:
        clock = FakeClock(T0)
        hub.uow.clock = clock
        notifications.add_recipient(
            hub.uow(), actor=SETUP, code="ops-lead", name="Ops", kind="email", address="o@x.cn"
        )
        save_rules(hub.uow(), proposed("sla", [RULE], {}), actor=SETUP)
        for n in range(3):
            draft = an_order(
                channel_order_no=f"CB-{n}",
                order_type=OrderType.CROSS_BORDER,
                payment_status=PaymentStatus.PAID,
            )
            order_service.create_order(hub.uow(), draft, actor=SETUP, review_required=True)
        clock.advance(hours=5)
        check_sla(hub.uow, policy=AlertPolicy(digest_window_s=0))
        yield hub


@pytest.fixture
def browser(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
        yield client


def test_the_inbox_lists_open_alerts_with_their_order_rule_and_wait(
    hub: Hub, browser: TestClient
) -> None:
    sign_in(browser, "operator")
    assert 'href="/alerts"' in browser.get("/orders").text
    page = browser.get("/alerts")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "CB-0" in text and "CB-2" in text and "cross-border review 4h v1" in text
    assert "Critical" in text and "Pending review" in text and "5 hr" in text
    assert "Open 3" in text and ">Acknowledge</button>" in page.text
    filtered = text_of(browser.get("/alerts", params={"rule": "another rule"}).text)
    assert "No alerts here." in filtered


def test_acknowledging_and_resolving_from_the_inbox(hub: Hub, browser: TestClient) -> None:
    sign_in(browser, "operator")
    first, second, third = sorted(a.id for a in list_alerts(hub.uow.read_only(), actor=SETUP))
    done = browser.post(
        f"/alerts/{first}/acknowledge",
        data={"csrftoken": csrf(browser), "back": "/alerts?status=open"},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/alerts?status=open")
    assert f"Alert {first} acknowledged" in browser.get("/alerts?status=open").text
    browser.post(
        "/alerts/bulk",
        data={
            "csrftoken": csrf(browser),
            "action": "resolve",
            "alert_ids": [str(second), str(third)],
            "note": "called the customs broker",
        },
    )
    resolved = text_of(browser.get("/alerts?status=resolved").text)
    assert "called the customs broker" in resolved and "by hand" in resolved
    statuses = {a.id: a.status.value for a in list_alerts(hub.uow.read_only(), actor=SETUP)}
    assert statuses == {first: "acknowledged", second: "resolved", third: "resolved"}


def test_warehouse_staff_see_alerts_without_buttons_and_agents_not_at_all(hub: Hub) -> None:
    [alert, *_] = list_alerts(hub.uow.read_only(), actor=SETUP)
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
        sign_in(client, "warehouse")
        page = client.get("/alerts")
        assert page.status_code == 200 and "CB-0" in page.text
        assert ">Acknowledge</button>" not in page.text and 'id="bulk-form"' not in page.text
        refused = client.post(f"/alerts/{alert.id}/acknowledge", data={"csrftoken": csrf(client)})
        assert refused.status_code == 403
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
        sign_in(client, "agent")
        assert client.get("/alerts").status_code == 403
        assert 'href="/alerts"' not in client.get("/orders").text


def test_the_order_page_shows_its_open_alerts(hub: Hub, browser: TestClient) -> None:
    [alert, *_] = list_alerts(hub.uow.read_only(), actor=SETUP)
    sign_in(browser, "operator")
    text = text_of(browser.get(f"/orders/{alert.order_id}").text)
    assert "Open alerts" in text and "cross-border review 4h" in text
    assert "waiting in Pending review since 2026-11-11 00:00:00 UTC" in text


def test_the_rules_page_shows_sla_rules_in_words(hub: Hub, browser: TestClient) -> None:
    sign_in(browser, "operator")
    text = text_of(browser.get("/rules").text)
    assert "SLA alert rules version 1" in text
    assert "in Pending review longer than 4h: critical to ops-lead; after 8h to ops-lead" in text
    tried = browser.get("/rules/sla/dry-run")
    assert tried.status_code == 200


def test_the_inbox_speaks_chinese(hub: Hub, browser: TestClient) -> None:
    sign_in(browser, "operator")
    browser.get("/lang/zh_CN", params={"next": "/alerts"})
    text = text_of(browser.get("/alerts").text)
    assert "告警" in text and "待审核" in text
    zh = i18n.translations("zh_CN")
    names = [v for table in alert_pages.labels().values() for v in table.values()]
    assert [name for name in names if zh.gettext(name) == name] == []
