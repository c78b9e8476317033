"""The console's rules pages (the rules in force, versions, one version, the difference between
two) and a warehouse's queue page, through HTTP: what they show, who may see them, their
Chinese."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orderhub.app import create_app
from orderhub.bootstrap import Hub
from orderhub.domain.rule_sets import Rule, RuleSet, RuleSetKind
from orderhub.domain.rules import FIELDS, OPERATORS
from orderhub.services import rules, warehouses
from orderhub.web import i18n
from orderhub.web import rules as rule_pages
from tests.conftest import console_hub
from tests.integration.test_warehouse_queues import fill_queues
from tests.integration.test_web_channels import SETUP, csrf, sign_in, text_of

PASSWORD = "correct horse"
ROLES = ("admin", "operator", "warehouse", "customer_service", "agent")
HTMX = {"HX-Request": "true"}

LIVE = Rule(
    "live stream",
    {
        "all": [
            {"field": "tags", "op": "contains", "value": "#LIVE2026"},
            {"not": {"field": "buyer_note", "op": "not_empty"}},
        ]
    },
    {"warehouse": "WH-LIVE", "queue": "live"},
)
NORTH = Rule(
    "north",
    {"field": "province", "op": "in", "value": ["北京市", "天津市"]},
    {"warehouse": "WH-MAIN", "queue": "north"},
)
BIG = Rule(
    "big amount",
    {"field": "paid_total", "op": "between", "value": [500000, 900000]},
    {"decision": "exception", "reason_code": "risk", "reason": "check the buyer"},
)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with console_hub(tmp_path, ROLES, PASSWORD) as hub:
        yield hub


@pytest.fixture
def browser(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
        yield client


def _save(hub: Hub, kind: RuleSetKind, *found: Rule, default: dict[str, Any], notes: str) -> None:
    rules.save_rules(hub.uow(), RuleSet(kind, found, default, notes=notes), actor=SETUP)


def _two_routing_versions(hub: Hub) -> None:
    for code in ("WH-MAIN", "WH-LIVE"):
        warehouses.create_warehouse(hub.uow(), hub.wms, actor=SETUP, code=code, name=code)
    main = {"warehouse": "WH-MAIN"}
    _save(hub, RuleSetKind.ROUTING, LIVE, default=main, notes="live launch")
    _save(hub, RuleSetKind.ROUTING, NORTH, LIVE, default={"warehouse": "WH-LIVE"}, notes="north")


def test_the_rules_page_shows_each_kind_in_force_in_words_with_its_default(
    hub: Hub, browser: TestClient
) -> None:
    _two_routing_versions(hub)
    _save(hub, RuleSetKind.REVIEW, BIG, default={"decision": "approve"}, notes="")
    sign_in(browser, "operator")
    shown = browser.get("/rules")
    assert shown.status_code == 200
    text = text_of(shown.text)
    assert "Routing rules version 2" in text and "by user:setup" in text
    routing = text[text.index("Routing rules version 2") :]
    # In order, conditions in words, groups nested, then the default.
    assert routing.index("north") < routing.index("live stream") < routing.index("Default")
    assert "1 north Receiver's province is one of 北京市 , 天津市 Warehouse WH-MAIN" in routing
    assert "all of Tags contains #LIVE2026 not Buyer note is not empty" in routing
    assert "Default no rule above matched Warehouse WH-LIVE · queue default" in routing
    assert "Amount paid (minor units) is between 500000 and 900000" in text
    assert "Exception Risk — check the buyer" in text
    assert 'href="/rules/routing/diff"' in shown.text  # what changed in version 2
    assert 'href="/rules/review/diff"' not in shown.text  # version 1 changed nothing yet


def test_the_rules_page_says_when_no_rules_are_saved(hub: Hub, browser: TestClient) -> None:
    sign_in(browser, "customer_service")
    text = text_of(browser.get("/rules").text)
    assert "No review rules are saved: people review every order." in text
    assert "No routing rules are saved" in text


def test_the_versions_page_lists_who_saved_each_and_links_one_version_and_its_changes(
    hub: Hub, browser: TestClient
) -> None:
    _two_routing_versions(hub)
    sign_in(browser, "operator")
    listed = browser.get("/rules/routing/versions")
    assert listed.status_code == 200
    text = text_of(listed.text)
    assert "live launch" in text and "north" in text and "in force" in text
    assert 'href="/rules/routing/versions/1"' in listed.text
    assert 'href="/rules/routing/diff?to=2"' in listed.text
    assert 'action="/rules/routing/diff"' in listed.text  # compare two chosen versions
    one = text_of(browser.get("/rules/routing/versions/1").text)
    assert "version 1" in one and "live stream" in one and "north" not in one.split("Default")[0]
    missing = browser.get("/rules/routing/versions/9")
    assert missing.status_code == 404 and "saved versions: 1, 2" in text_of(missing.text)


def test_the_diff_page_marks_added_moved_and_changed_rules_and_the_default(
    hub: Hub, browser: TestClient
) -> None:
    _two_routing_versions(hub)
    sign_in(browser, "operator")
    shown = browser.get("/rules/routing/diff")
    assert shown.status_code == 200
    text = text_of(shown.text)
    assert "version 1 → 2" in text
    assert "1 added, 0 removed, 0 changed." in text and "The default changed." in text
    assert "Added 1 north" in text
    assert "Unchanged 1 → 2 live stream" in text  # shifted down, not moved among the kept
    assert (
        "Changed — Default no rule above matched "
        "Before Warehouse WH-MAIN · queue default After Warehouse WH-LIVE · queue default"
    ) in text
    assert "Notes Before live launch After north" in text
    # Under htmx the compare form swaps only the diff; from nothing, every rule is added.
    first = browser.get("/rules/routing/diff", params={"from": 0, "to": 1}, headers=HTMX)
    assert first.text.startswith('<div id="rules-diff-main"')
    assert "version 1, the first" in text_of(first.text)
    assert "1 added, 0 removed, 0 changed." in text_of(first.text)
    same = text_of(browser.get("/rules/routing/diff", params={"from": 2, "to": 2}).text)
    assert "Both versions decide the same." in same


def test_the_rules_pages_and_their_link_are_only_for_roles_with_rule_read(hub: Hub) -> None:
    for role, allowed in (("operator", True), ("warehouse", False), ("agent", False)):
        with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
            sign_in(client, role)
            assert ('href="/rules"' in client.get("/orders").text) == allowed, role
            for path in (
                "/rules",
                "/rules/routing/versions",
                "/rules/review/diff",
                "/rules/review/dry-run",
            ):
                expected = (200, 404) if allowed else (403,)
                assert client.get(path).status_code in expected, (role, path)


def test_every_field_and_operator_of_the_rule_language_has_words() -> None:
    assert set(rule_pages.FIELD) == set(FIELDS)
    operators = {op for ops in OPERATORS.values() for op in ops}
    assert operators <= set(rule_pages.OPERATOR)


def test_the_queue_page_counts_per_queue_and_lists_orders_by_priority(
    hub: Hub, browser: TestClient
) -> None:
    ids = fill_queues(hub)
    sign_in(browser, "warehouse")
    assert 'href="/warehouses/WH-LIVE/queue"' in browser.get("/warehouses/WH-LIVE").text
    shown = browser.get("/warehouses/WH-LIVE/queue")
    assert shown.status_code == 200
    text = text_of(shown.text)
    # queue, out of stock, allocated, sent, picking, total, longest wait (about 3 hours).
    assert "live 0 1 1 0 2 3 hr" in text
    assert text.index(f"#{ids['Q-SENT']}") < text.index(f"#{ids['Q-ALLOC']}")
    main = text_of(browser.get("/warehouses/WH-MAIN/queue", params={"queue": "default"}).text)
    assert "Q-PICK" in main and "Q-SHORT" in main and "Out of stock" in main
    assert "Q-SHIPPED" not in main and "Q-REVIEW" not in main
    empty = text_of(browser.get("/warehouses/WH-MAIN/queue", params={"queue": "slow"}).text)
    assert "Nothing waits here." in empty
    assert browser.get("/warehouses/WH-NOPE/queue").status_code == 404


def test_the_queue_page_needs_warehouse_read(hub: Hub) -> None:
    fill_queues(hub)
    with TestClient(create_app(hub), headers={"Accept-Language": "en"}) as client:
        sign_in(client, "agent")
        assert client.get("/warehouses/WH-MAIN/queue").status_code == 403


def test_the_rules_and_queue_pages_speak_chinese(hub: Hub, browser: TestClient) -> None:
    fill_queues(hub)
    sign_in(browser, "admin")
    browser.get("/lang/zh_CN", params={"next": "/rules"})
    text = text_of(browser.get("/rules").text)
    assert "路由规则" in text and "审核规则" in text and "标签 包含 #LIVE2026" in text
    assert "仓库 WH-LIVE" in text
    assert "新增" in text_of(browser.get("/rules/routing/diff").text)
    assert "试运行这些规则" in browser.get("/rules/routing/dry-run").text
    assert "等待" in text_of(browser.get("/warehouses/WH-LIVE/queue").text)
    zh = i18n.translations("zh_CN")
    names = [
        *rule_pages.KIND.values(),
        *rule_pages.KIND_MEANING.values(),
        *rule_pages.NONE_SAVED.values(),
        *rule_pages.FIELD.values(),
        *rule_pages.OPERATOR.values(),
        *rule_pages.CHANGE.values(),
        *rule_pages.PART.values(),
    ]
    assert [name for name in names if zh.gettext(name) == name] == []


def test_a_dry_run_starts_from_the_rules_in_force_and_marks_the_orders_that_would_change(
    hub: Hub, browser: TestClient
) -> None:
    ids = fill_queues(hub)
    sign_in(browser, "operator")
    form = browser.get("/rules/routing/dry-run")
    assert form.status_code == 200 and "&#34;live stream&#34;" in form.text  # the rules in force
    everything_to_main = json.dumps({"rules": [], "default": {"warehouse": "WH-MAIN"}})
    tried = browser.post(
        "/rules/routing/dry-run",
        data={"rules": everything_to_main, "last": "50", "csrftoken": csrf(browser)},
        headers=HTMX,
    )
    assert tried.status_code == 200 and tried.text.startswith('<div id="rules-dry-run-main"')
    text = text_of(tried.text)
    # The two live-stream orders leave WH-LIVE; the others stay where they are.
    assert f"2 of {len(ids)} orders would be decided differently." in text
    assert (
        f"#{ids['Q-SENT']} Would change live stream Warehouse WH-LIVE · queue live "
        "Default Warehouse WH-MAIN · queue default"
    ) in text
    assert rules.rules_in_force(hub.uow.read_only(), RuleSetKind.ROUTING, actor=SETUP) is not None
    assert len(rules.rule_versions(hub.uow.read_only(), RuleSetKind.ROUTING, actor=SETUP)) == 1


def test_a_dry_run_of_bad_rules_says_what_is_wrong_and_keeps_the_text(
    hub: Hub, browser: TestClient
) -> None:
    sign_in(browser, "operator")
    token = csrf(browser)
    not_json = browser.post(
        "/rules/routing/dry-run", data={"rules": '{"rules": [', "csrftoken": token}
    )
    assert not_json.status_code == 422
    assert "the rules are not valid JSON" in text_of(not_json.text)
    assert "{&#34;rules&#34;: [" in not_json.text
    unknown = json.dumps({"rules": [], "default": {"warehouse": "WH-NOPE"}})
    refused = browser.post("/rules/routing/dry-run", data={"rules": unknown, "csrftoken": token})
    assert refused.status_code == 422 and "'WH-NOPE', which does not exist" in text_of(refused.text)
    wrong_shape = browser.post("/rules/routing/dry-run", data={"rules": "[]", "csrftoken": token})
    assert wrong_shape.status_code == 422 and "write the rules as" in text_of(wrong_shape.text)
    few = json.dumps({"rules": [], "default": {"decision": "approve"}})
    bad_last = browser.post(
        "/rules/review/dry-run", data={"rules": few, "last": "lots", "csrftoken": token}
    )
    assert bad_last.status_code == 422 and "'lots' is not a number" in text_of(bad_last.text)
    assert browser.post("/rules/review/dry-run", data={"rules": few}).status_code == 403  # no CSRF
