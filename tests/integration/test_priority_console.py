"""The console and priority: the priority rules in words on /rules, their dry run, an order's
score with the reason beside it, and the queue page's priority with waiting; in Chinese too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orderhub.app import create_app
from orderhub.bootstrap import Hub
from orderhub.domain.orders import PaymentStatus
from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind
from orderhub.services import orders, rules
from tests.conftest import console_hub
from tests.factories import an_order
from tests.integration.test_web_channels import PASSWORD, SETUP, csrf, sign_in, text_of

HTMX = {"HX-Request": "true"}
VIP = Rule("VIP buyer", {"field": "tags", "op": "contains", "value": "VIP"}, {"weight": 50})
PRESALE = Rule("presale", {"field": "order_type", "op": "eq", "value": "presale"}, {"weight": -10})


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with console_hub(tmp_path, ("admin", "operator"), PASSWORD) as hub:
        rules.save_rules(
            hub.uow(), RuleSet(RuleSetKind.PRIORITY, (VIP, PRESALE), {"base": 5}), actor=SETUP
        )
        yield hub


@pytest.fixture
def browser(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
        yield client


def _vip_order(hub: Hub) -> int:
    made = orders.create_order(
        hub.uow(),
        an_order(payment_status=PaymentStatus.PAID, tags=("VIP",)),
        actor=SETUP,
        review_required=True,
    )
    assert made.order.id is not None
    return made.order.id


def test_the_rules_page_shows_priority_rules_with_their_weights_and_the_base(
    browser: TestClient,
) -> None:
    sign_in(browser, "operator")
    text = text_of(browser.get("/rules").text)
    priority = text[text.index("Priority rules version 1") :]
    assert "every rule that matches adds its weight to the base" in priority
    assert "1 VIP buyer Tags contains VIP adds +50" in priority
    assert "2 presale Order type is presale adds -10" in priority
    # The base counts for every order, whichever rules match.
    assert "Default every order base 5" in priority


def test_the_order_page_shows_the_score_and_why(hub: Hub, browser: TestClient) -> None:
    order_id = _vip_order(hub)
    sign_in(browser, "operator")
    text = text_of(browser.get(f"/orders/{order_id}").text)
    assert "Priority 55 priority 55 = base 5, VIP buyer +50 (priority rules v1)" in text
    assert "Priority set" in text  # the timeline entry


def test_a_priority_dry_run_shows_each_order_s_score_now_and_proposed(
    hub: Hub, browser: TestClient
) -> None:
    order_id = _vip_order(hub)
    sign_in(browser, "operator")
    form = browser.get("/rules/priority/dry-run")
    assert form.status_code == 200 and "&#34;VIP buyer&#34;" in form.text
    heavier = json.dumps(
        {"rules": [{"name": "VIP buyer", "condition": VIP.condition, "outcome": {"weight": 80}}]}
        | {"default": {"base": 0}}
    )
    tried = browser.post(
        "/rules/priority/dry-run",
        data={"rules": heavier, "last": "10", "csrftoken": csrf(browser)},
        headers=HTMX,
    )
    assert tried.status_code == 200, tried.text
    text = text_of(tried.text)
    assert "1 of 1 orders would be decided differently." in text
    assert (
        f"#{order_id} Would change Priority 55 priority 55 = base 5, VIP buyer +50 "
        "Priority 80 priority 80 = VIP buyer +80"
    ) in text
    refused = browser.post(
        "/rules/priority/dry-run",
        data={
            "rules": json.dumps(
                {"rules": [{**VIP.__dict__, "outcome": {"weight": 500}}], "default": {}}
            ),
            "csrftoken": csrf(browser),
        },
        headers=HTMX,
    )
    assert refused.status_code == 422
    assert "weight 500 is out of range; use -100 to 100" in text_of(refused.text)


def test_the_priority_pages_speak_chinese(hub: Hub, browser: TestClient) -> None:
    order_id = _vip_order(hub)
    sign_in(browser, "admin")
    browser.get("/lang/zh_CN", params={"next": "/rules"})
    text = text_of(browser.get("/rules").text)
    assert "优先级规则" in text and "加 +50" in text and "基础分 5" in text
    assert "优先级已设定" in text_of(browser.get(f"/orders/{order_id}").text)
